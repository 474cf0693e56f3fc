/**
 * The playground: chat with the tuned model and the base side by side, token by token.
 *
 * `tuned` and `base` run in one long-lived trainer worker per run (`serve`: base +
 * adapter loaded once, the adapter switched off for `base`), requests one at a time,
 * the worker exiting by itself after idle minutes. `ollama:<name>` streams from
 * Ollama's /api/chat. While a training run (or a probe) holds the GPU, local targets
 * are refused. A reply the user corrects can become a training example.
 */
import { Ollama } from "ollama";
import { z } from "zod";
import type { ExampleStore } from "../datasets/example-store.ts";
import { contentHash, exampleColumns, validateFields } from "../datasets/validate.ts";
import { AppError } from "../lib/errors.ts";
import { boundedFetch } from "../lib/bounded-fetch.ts";
import type { Logger } from "../lib/logger.ts";
import { projectTokenCounter } from "../models/tokenizer.ts";
import type { ProjectService } from "../projects/service.ts";
import type { TrainerClient } from "../training/trainer-client.ts";
import type { TrainingService } from "../training/service.ts";
import type { GpuLease } from "../jobs/gpu-lease.ts";
import { approxTokens } from "../documents/chunker.ts";
import type { ChatMessage } from "../models/chat-encoding.ts";
import { projectChatTokenizer } from "../models/tokenizer.ts";
import type { ModelInfo } from "../models/schemas.ts";
import { fitConversation, promptBudget } from "./context.ts";
import { REPLY_ENDS, type ServeAsk } from "../training/serve-protocol.ts";
import { Worker } from "./worker.ts";

/** Room between the app's count and the worker's exact one (a template's generation prompt, a BOS). */
const PROMPT_SLACK = 64;

/** The rendered prompt's tokens with the base model's chat tokenizer; a word count where there is none. */
function promptTokenCounter(info: ModelInfo | null): (m: ChatMessage[]) => number {
  // Words, or characters for text without spaces (a pasted blob), whichever says more.
  const approx = (m: ChatMessage[]) => m.reduce((n, x) => n + Math.max(approxTokens(x.content), Math.ceil(x.content.length / 3)) + 8, 0);
  const tokenizer = projectChatTokenizer(info);
  if (!tokenizer) return approx;
  return (m) => {
    try {
      return tokenizer.encode(m).ids.length;
    } catch {
      return approx(m);
    }
  };
}

const message = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string().min(1, "A message cannot be empty.").max(20_000, "At most 20,000 characters a message.") }).strict();

export const playgroundInputSchema = z
  .object({
    messages: z.array(message).min(1, "Send at least one message.").max(50, "At most 50 messages.").refine((m) => m.at(-1)?.role === "user", "The last message must be the user's."),
    target: z.string().regex(/^(tuned|base|ollama:[A-Za-z0-9._:/-]{1,120})$/, 'target is "tuned", "base" or "ollama:<model>".'),
    max_new_tokens: z.number().int().min(1).max(2048).optional(),
    temperature: z.number().min(0).max(2).optional(),
  })
  .strict();
export type PlaygroundInput = z.infer<typeof playgroundInputSchema>;

export const saveExampleSchema = z
  .object({
    messages: z.array(message).min(1).max(50).refine((m) => m.at(-1)?.role === "user", "The conversation must end with the user's message."),
    reply: z.string().trim().min(1, "The corrected reply is empty.").max(20_000),
  })
  .strict();

/**
 * `done`: `ended` says why the reply ended (the model stopped, the token limit, the time
 * limit, a cancel); `dropped_turns`, how many of the oldest messages were left out to
 * fit the model's context (local targets).
 */
export type PlayEvent =
  | { event: "token"; text: string }
  | { event: "done"; tokens: number; seconds: number; ended?: ReplyEnd; dropped_turns?: number }
  | { event: "error"; detail: string; error_code: string };
type ReplyEnd = (typeof REPLY_ENDS)[number];

/** How long one local reply may take before the worker stops it (its own check). */
export const REPLY_TIME_LIMIT_S = 120;

export function createPlaygroundService(deps: {
  projects: ProjectService;
  training: TrainingService;
  examples: ExampleStore;
  trainer: TrainerClient;
  ollamaHost: string | null;
  /** The queue's GPU lease: the worker holds a share, refused while a GPU job runs and stopped when one starts. */
  gpu: GpuLease;
  logger: Logger;
  idleSeconds?: number;
}) {
  const workers = new Map<string, Worker>();
  const GPU_BUSY = "A training run (or another job that needs the GPU) is using it right now: the playground's local models are back when it ends (Ollama models still answer).";

  const refuseWhileGpuBusy = () => {
    if (deps.gpu.heldByJob()) throw new AppError(409, "gpu_busy", GPU_BUSY);
  };

  function worker(projectId: string, runDir: string): Worker {
    const existing = workers.get(runDir);
    if (existing && !existing.exited) return existing;
    let w: Worker | null = null;
    const release = deps.gpu.share(`playground ${runDir}`, () => w?.stop("A job that needs the GPU started, so the playground's model was unloaded; it is back when that job ends."));
    if (!release) throw new AppError(409, "gpu_busy", GPU_BUSY);
    const settings = deps.trainer.settingsFor(projectId);
    const proc = Bun.spawn(deps.trainer.serveArgs(runDir, deps.idleSeconds ?? 600), {
      cwd: settings.cwd,
      env: { ...process.env, PYTHONUNBUFFERED: "1", FTF_SUPERVISOR_PID: String(process.pid), ...settings.env },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "ignore",
    });
    w = new Worker(proc, () => {
      release();
      if (workers.get(runDir) === w) workers.delete(runDir);
    });
    workers.set(runDir, w);
    return w;
  }

  /** A local request made ready before streaming: the run, and the conversation fitted to the model's context. */
  function prepareLocal(projectId: string, input: PlaygroundInput) {
    const run = deps.training.latestSuccess(projectId);
    refuseWhileGpuBusy();
    const info = deps.projects.get(projectId).modelInfo;
    const maxNew = input.max_new_tokens ?? 256;
    const budget = promptBudget(info?.dims?.contextLength ?? null, maxNew);
    return { runDir: run.outputDir, maxNew, budget, fitted: fitConversation(input.messages, budget, promptTokenCounter(info)) };
  }

  async function* local(projectId: string, input: PlaygroundInput, prepared: ReturnType<typeof prepareLocal>, signal?: AbortSignal): AsyncGenerator<PlayEvent> {
    const { fitted, maxNew } = prepared;
    const w = worker(projectId, prepared.runDir);
    try {
      await w.ready;
    } catch (err) {
      yield { event: "error", detail: `The tuned model could not be loaded: ${(err as Error).message}`, error_code: "worker_failed" };
      return;
    }
    const request: ServeAsk = {
      id: crypto.randomUUID(),
      messages: fitted.messages,
      target: input.target === "base" ? "base" : "tuned",
      max_new_tokens: maxNew,
      temperature: input.temperature ?? 0.7,
      time_limit_seconds: REPLY_TIME_LIMIT_S,
      // The worker's own check, with its exact tokenizer: the fit above may have counted approximately.
      max_prompt_tokens: prepared.budget + PROMPT_SLACK,
    };
    for await (const e of w.ask(request, signal)) {
      if (e.event === "token") yield { event: "token", text: e.text };
      else if (e.event === "done") yield { event: "done", tokens: e.tokens, seconds: e.seconds, ended: e.ended ?? (e.stopped ? "stop" : "length"), dropped_turns: fitted.dropped };
      else if (e.event === "error") yield { event: "error", detail: e.message, error_code: e.error_code };
    }
  }

  async function* ollama(input: PlaygroundInput, signal?: AbortSignal): AsyncGenerator<PlayEvent> {
    if (!deps.ollamaHost) throw new AppError(409, "ollama_not_configured", "No Ollama is configured: set OLLAMA_HOST.");
    const client = new Ollama({ host: deps.ollamaHost, fetch: boundedFetch({ signal, timeoutMs: REPLY_TIME_LIMIT_S * 1000 }) });
    const started = performance.now();
    let tokens = 0;
    try {
      const stream = await client.chat({ model: input.target.slice("ollama:".length), messages: input.messages, stream: true, options: { temperature: input.temperature ?? 0.7, num_predict: input.max_new_tokens ?? 256 } });
      for await (const part of stream) {
        if (part.message?.content) {
          tokens++;
          yield { event: "token", text: part.message.content };
        }
        if (part.done) tokens = part.eval_count ?? tokens;
      }
    } catch (err) {
      yield { event: "error", detail: `Ollama: ${(err as Error).message}`, error_code: "ollama_failed" };
      return;
    }
    yield { event: "done", tokens, seconds: Math.round(performance.now() - started) / 1000 };
  }

  return {
    /**
     * Everything that can be refused before streaming starts (the route answers those as
     * JSON errors: no run, GPU busy, a message too long for the model), then the reply's
     * events; `signal` aborts when the client goes away (the worker is told to cancel).
     */
    start(projectId: string, input: PlaygroundInput, signal?: AbortSignal): AsyncGenerator<PlayEvent> {
      if (input.target.startsWith("ollama:")) {
        deps.projects.get(projectId);
        if (!deps.ollamaHost) throw new AppError(409, "ollama_not_configured", "No Ollama is configured: set OLLAMA_HOST.");
        return ollama(input, signal);
      }
      return local(projectId, input, prepareLocal(projectId, input), signal);
    },
    /** A corrected reply as a training example (split train, provenance "playground"). */
    saveExample(projectId: string, body: z.infer<typeof saveExampleSchema>) {
      const project = deps.projects.get(projectId);
      const turns = body.messages.filter((m) => m.role !== "system");
      const last = turns.at(-1)!.content;
      const context = turns.slice(0, -1).map((m) => `${m.role === "user" ? "User" : "Assistant"}: ${m.content}`).join("\n\n");
      const f = { instruction: last, input: context, output: body.reply };
      const reason = validateFields(f);
      if (reason) throw new AppError(422, "invalid_example", `This example cannot be saved: ${reason}.`);
      const id = crypto.randomUUID();
      deps.examples.insert([{ id, projectId, split: "train", ...exampleColumns(f, null, projectTokenCounter(project.modelInfo)(f), contentHash(f)), generatorModel: "playground", promptVersion: null }]);
      return { example_id: id, split: "train" as const };
    },
    close() {
      for (const w of workers.values()) w.stop();
      workers.clear();
    },
  };
}

export type PlaygroundService = ReturnType<typeof createPlaygroundService>;
