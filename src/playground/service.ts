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
import type { Db } from "../db/client.ts";
import { jobs } from "../db/schema.ts";
import { AppError } from "../lib/errors.ts";
import { readLines } from "../lib/lines.ts";
import type { Logger } from "../lib/logger.ts";
import { projectTokenCounter } from "../models/tokenizer.ts";
import type { ProjectService } from "../projects/service.ts";
import type { TrainerSettings } from "../training/supervisor.ts";
import type { TrainingService } from "../training/service.ts";
import { and, eq, inArray } from "drizzle-orm";

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

export type PlayEvent = { event: "token"; text: string } | { event: "done"; tokens: number; seconds: number } | { event: "error"; detail: string; error_code: string };

/** Jobs that hold the GPU: the playground waits for them. */
const GPU_JOBS = ["training", "training_probe"];
const workerLine = z.union([
  z.object({ event: z.literal("ready"), device: z.string() }),
  z.object({ event: z.literal("progress") }).passthrough(),
  z.object({ event: z.literal("token"), id: z.string(), text: z.string() }),
  z.object({ event: z.literal("done"), id: z.string(), tokens: z.number(), seconds: z.number(), stopped: z.boolean() }),
  z.object({ event: z.literal("error"), id: z.string().nullable().optional(), error_code: z.string(), message: z.string(), advice: z.string().nullable().optional() }),
]);
type WorkerLine = z.infer<typeof workerLine>;

/** One `serve` process: a line router, and a lock so requests run one at a time. */
class Worker {
  private listeners = new Map<string, (e: WorkerLine) => void>();
  private lock: Promise<void> = Promise.resolve();
  readonly ready: Promise<void>;
  exited = false;
  private failure: string | null = null;

  constructor(private readonly proc: ReturnType<typeof Bun.spawn>, onExit: () => void) {
    let resolveReady!: () => void;
    let rejectReady!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((resolveReady = res), (rejectReady = rej)));
    this.ready.catch(() => {});
    void (async () => {
      for await (const line of readLines(proc.stdout as ReadableStream<Uint8Array>)) {
        const parsed = workerLine.safeParse(JSON.parse(line));
        if (!parsed.success) continue;
        const e = parsed.data;
        if (e.event === "ready") resolveReady();
        else if (e.event === "error" && !e.id) this.failure = e.message;
        else if (e.event === "token" || e.event === "done" || e.event === "error") this.listeners.get(e.id ?? "")?.(e);
      }
    })().catch(() => {});
    void proc.exited.then(() => {
      this.exited = true;
      rejectReady(new Error(this.failure ?? "the playground worker stopped while loading the model"));
      for (const l of this.listeners.values()) l({ event: "error", id: null, error_code: "worker_stopped", message: this.failure ?? "The playground worker stopped." });
      onExit();
    });
  }

  /** The request's events, in order, until done or error. */
  async *ask(request: object & { id: string }): AsyncGenerator<WorkerLine> {
    let release!: () => void;
    const previous = this.lock;
    this.lock = new Promise((r) => (release = r));
    await previous;
    try {
      const queue: WorkerLine[] = [];
      let wake: (() => void) | null = null;
      this.listeners.set(request.id, (e) => {
        queue.push(e);
        wake?.();
      });
      const stdin = this.proc.stdin as import("bun").FileSink;
      stdin.write(`${JSON.stringify(request)}\n`);
      stdin.flush();
      for (;;) {
        while (queue.length) {
          const e = queue.shift()!;
          yield e;
          if (e.event === "done" || e.event === "error") return;
        }
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      this.listeners.delete(request.id);
      release();
    }
  }

  stop() {
    this.proc.kill("SIGTERM");
  }
}

export function createPlaygroundService(deps: {
  db: Db;
  projects: ProjectService;
  training: TrainingService;
  examples: ExampleStore;
  trainer: TrainerSettings;
  trainerEnv: (projectId: string) => Record<string, string>;
  ollamaHost: string | null;
  logger: Logger;
  idleSeconds?: number;
}) {
  const workers = new Map<string, Worker>();


  function gpuBusy(): boolean {
    return deps.db.select({ id: jobs.id }).from(jobs).where(and(inArray(jobs.type, GPU_JOBS), eq(jobs.status, "running"))).all().length > 0;
  }

  function worker(projectId: string, runDir: string): Worker {
    const existing = workers.get(runDir);
    if (existing && !existing.exited) return existing;
    const proc = Bun.spawn([...deps.trainer.command, "serve", "--run", runDir, "--idle-seconds", String(deps.idleSeconds ?? 600)], {
      cwd: deps.trainer.cwd,
      env: { ...process.env, PYTHONUNBUFFERED: "1", ...deps.trainer.env, ...deps.trainerEnv(projectId) },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "ignore",
    });
    const w = new Worker(proc, () => workers.get(runDir) === w && workers.delete(runDir));
    workers.set(runDir, w);
    return w;
  }

  async function* local(projectId: string, input: PlaygroundInput): AsyncGenerator<PlayEvent> {
    const run = deps.training.latestSuccess(projectId);
    if (gpuBusy()) throw new AppError(409, "gpu_busy", "Training is using the GPU right now: the playground's local models are back when it ends (Ollama models still answer).");
    const w = worker(projectId, run.outputDir);
    try {
      await w.ready;
    } catch (err) {
      yield { event: "error", detail: `The tuned model could not be loaded: ${(err as Error).message}`, error_code: "worker_failed" };
      return;
    }
    const request = { id: crypto.randomUUID(), messages: input.messages, target: input.target, max_new_tokens: input.max_new_tokens ?? 256, temperature: input.temperature ?? 0.7 };
    for await (const e of w.ask(request)) {
      if (e.event === "token") yield { event: "token", text: e.text };
      else if (e.event === "done") yield { event: "done", tokens: e.tokens, seconds: e.seconds };
      else if (e.event === "error") yield { event: "error", detail: e.message, error_code: e.error_code };
    }
  }

  async function* ollama(input: PlaygroundInput): AsyncGenerator<PlayEvent> {
    if (!deps.ollamaHost) throw new AppError(409, "ollama_not_configured", "No Ollama is configured: set OLLAMA_HOST.");
    const client = new Ollama({ host: deps.ollamaHost });
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
    /** Checks what can be refused before streaming starts (the route answers those as JSON errors). */
    precheck(projectId: string, input: PlaygroundInput) {
      if (input.target.startsWith("ollama:")) {
        deps.projects.get(projectId);
        if (!deps.ollamaHost) throw new AppError(409, "ollama_not_configured", "No Ollama is configured: set OLLAMA_HOST.");
        return;
      }
      deps.training.latestSuccess(projectId);
      if (gpuBusy()) throw new AppError(409, "gpu_busy", "Training is using the GPU right now: the playground's local models are back when it ends (Ollama models still answer).");
    },
    stream(projectId: string, input: PlaygroundInput): AsyncGenerator<PlayEvent> {
      return input.target.startsWith("ollama:") ? ollama(input) : local(projectId, input);
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
