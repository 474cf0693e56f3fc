/**
 * "Run in Ollama": one job takes the latest successful run into Ollama and checks it.
 *
 *   1. the trainer's `ollama-prepare`: the Go template and stops from the model's own
 *      chat template, and the tuned model's greedy answers to held-out prompts;
 *   2. the lane: the adapter over the matching Ollama base (Llama, Mistral, Gemma, base
 *      confirmed with /api/show), else merged weights (`export --merge`), quantized;
 *   3. the files as blobs, then /api/create with its streamed status as progress;
 *   4. the parity check (parity.ts), kept in <run>/ollama/publish.json and report.md.
 * Everything goes through Ollama's HTTP API at OLLAMA_HOST, never its CLI.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { and, eq } from "drizzle-orm";
import { Ollama } from "ollama";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { artifacts } from "../db/schema.ts";
import type { ReviewService } from "../datasets/review-service.ts";
import { JobError, type JobContext, type JobQueue } from "../jobs/queue.ts";
import { projectDir } from "../lib/data-dir.ts";
import { AppError } from "../lib/errors.ts";
import { boundedFetch } from "../lib/bounded-fetch.ts";
import type { Logger } from "../lib/logger.ts";
import { readLines } from "../lib/lines.ts";
import type { ProjectService } from "../projects/service.ts";
import { ollamaPrepareFileSchema } from "../training/events.ts";
import { runTrainer, type TrainerSettings } from "../training/supervisor.ts";
import type { TrainingService } from "../training/service.ts";
import { ADAPTER_FAMILIES, baseMismatch, OLLAMA_LIBRARY } from "./ollama-bases.ts";
import { errorText, ollamaDown, pushBlob } from "./blobs.ts";
import { parityMarkdown, parityVerdicts, type OllamaAnswer } from "./parity.ts";

export const PUBLISH_JOB = "ollama_publish";
const PARITY_PROMPTS = 5;
const PARITY_TOKENS = 64;

export const publishInputSchema = z
  .object({
    name: z
      .string()
      .min(1, "Name the Ollama model.")
      .max(80, "At most 80 characters.")
      .regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)?(:[a-zA-Z0-9._-]+)?$/, "Lower-case letters, digits, '.', '_' and '-', an optional namespace/ and :tag."),
    base: z.string().min(1).max(200).optional().meta({ description: "An installed Ollama model to put the adapter on (default: the one matching the training base)" }),
    lane: z.enum(["adapter", "merged"]).optional().meta({ description: "adapter (default where Ollama applies the adapter) or merged weights" }),
    quantize: z.enum(["q4_K_M", "q8_0", "none"]).optional().meta({ description: "merged lane only; default q4_K_M" }),
  })
  .strict();
export type PublishInput = z.infer<typeof publishInputSchema>;

export const publishRecordSchema = z.object({
  model: z.string(),
  lane: z.enum(["adapter", "merged"]),
  base: z.string().nullable(),
  quantize: z.string().nullable(),
  lane_note: z.string().nullable(),
  verdicts: z.array(z.object({ check: z.string(), ok: z.boolean(), summary: z.string(), advice: z.string().nullable() })),
  run_id: z.string(),
  created_at: z.string(),
});
export type PublishRecord = z.infer<typeof publishRecordSchema>;

type Deps = {
  db: Db;
  queue: JobQueue;
  projects: ProjectService;
  training: TrainingService;
  review: ReviewService;
  dataDir: string;
  ollamaHost: string | null;
  trainer: TrainerSettings;
  trainerEnv: (projectId: string) => Record<string, string>;
  logger: Logger;
};

const payloadSchema = publishInputSchema.extend({ runId: z.string(), projectId: z.string() });

export function createPublishService(deps: Deps) {
  const folder = (outputDir: string) => join(outputDir, "ollama");


  async function trainer(ctx: JobContext<unknown>, projectId: string, args: string[], from: number, to: number) {
    const result = await runTrainer({
      trainer: { ...deps.trainer, env: { ...deps.trainer.env, ...deps.trainerEnv(projectId) } },
      args,
      signal: ctx.signal,
      logger: deps.logger,
      handlers: { onEvent: (e) => void (e.event === "progress" && ctx.progress(from + ((to - from) * e.progress_pct) / 100, e.message)), onStderr: () => {} },
    });
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (result.exitCode !== 0) throw new JobError(result.lastError ? `${result.lastError.message}${result.lastError.advice ? ` ${result.lastError.advice}` : ""}` : result.spawnError ?? `The trainer failed (exit code ${result.exitCode}).`);
  }

  /** Held-out prompts: the eval split first, then train, spread over the set. */
  function parityPrompts(projectId: string) {
    const pick: { id: string; messages: { role: string; content: string }[] }[] = [];
    for (const split of ["eval", "train"] as const) {
      for (const batch of deps.review.exportRows(projectId, split)) {
        for (const e of batch) {
          if (pick.length >= PARITY_PROMPTS) break;
          const user = e.input?.trim() ? `${e.instruction.trim()}\n\n${e.input.trim()}` : e.instruction.trim();
          pick.push({ id: `p${pick.length + 1}`, messages: [{ role: "user", content: user }] });
        }
      }
      if (pick.length >= PARITY_PROMPTS) break;
    }
    return pick;
  }

  /** The adapter lane's base: the user's pick, else the library names installed; null with the reasons when none matches. */
  async function findBase(client: Ollama, projectId: string, asked: string | undefined): Promise<{ base: string | null; why: string[] }> {
    const info = deps.projects.get(projectId).modelInfo!;
    const facts = { modelType: info.model_type, numParameters: info.num_parameters, vocabSize: info.dims?.vocabSize ?? null };
    if (!ADAPTER_FAMILIES.has(info.model_type)) return { base: null, why: [`Ollama applies safetensors adapters to Llama, Mistral and Gemma models; this one is ${info.model_type}`] };
    const candidates = asked ? [asked] : (OLLAMA_LIBRARY[info.model_id] ?? []);
    if (!candidates.length) return { base: null, why: [`no Ollama library model is known for ${info.model_id}: pick an installed base`] };
    const why: string[] = [];
    for (const name of candidates) {
      const mismatch = await baseMismatch(client, name, facts);
      if (!mismatch) return { base: name, why };
      why.push(mismatch);
    }
    return { base: null, why };
  }

  /** POST /api/create, streamed: each status line becomes the job's message. */
  async function create(ctx: JobContext<unknown>, base: string, body: Record<string, unknown>) {
    const res = await boundedFetch()(`${base}/api/create`, { method: "POST", body: JSON.stringify({ ...body, stream: true }), signal: ctx.signal }).catch((err) => {
      throw ollamaDown(base, err);
    });
    if (!res.ok || !res.body) throw new JobError(`Ollama could not create the model: ${await errorText(res)}`);
    let last = "";
    for await (const line of readLines(res.body)) {
      const status = JSON.parse(line) as { status?: string; error?: string };
      if (status.error) throw new JobError(`Ollama could not create the model: ${status.error}`);
      if (status.status) ctx.progress(85, `Ollama: ${(last = status.status)}`);
    }
    if (last !== "success") throw new JobError(`Ollama stopped creating the model before it finished (last status: ${last || "none"}).`);
  }

  async function run(ctx: JobContext<z.infer<typeof payloadSchema>>) {
    const p = ctx.payload;
    const runRow = deps.training.getRun(p.runId);
    if (!runRow) return { skipped: "run deleted" };
    const host = deps.ollamaHost!;
    const client = new Ollama({ host, fetch: boundedFetch() });
    const dir = folder(runRow.outputDir);
    mkdirSync(dir, { recursive: true });

    ctx.progress(2, "reading the chat template");
    const prompts = parityPrompts(p.projectId);
    writeFileSync(join(dir, "prompts.jsonl"), prompts.map((q) => JSON.stringify(q)).join("\n") + "\n");
    await trainer(ctx, p.projectId, ["ollama-prepare", "--run", runRow.outputDir, "--prompts", join(dir, "prompts.jsonl"), "--out", join(dir, "prepared.json"), "--max-new-tokens", String(PARITY_TOKENS)], 2, 30);
    const prepared = ollamaPrepareFileSchema.parse(JSON.parse(readFileSync(join(dir, "prepared.json"), "utf8")));
    if (!prepared.template) throw new JobError(`This model's chat template cannot be written in Ollama's form: ${prepared.template_unsupported}. A generic template would make it talk nonsense, so nothing was published.`);

    const found = p.lane === "merged" ? { base: null, why: ["the merged lane was asked for"] } : await findBase(client, p.projectId, p.base);
    if (p.lane === "adapter" && !found.base) throw new JobError(`No Ollama base matches the training base: ${found.why.join("; ")}. Install the base in Ollama at full precision, name it in "base", or use the merged lane.`);
    const lane = found.base ? "adapter" : "merged";
    const quantize = lane === "merged" ? (p.quantize ?? "q4_K_M") : null;

    let files: string[];
    if (lane === "adapter") {
      files = ["adapter_model.safetensors", "adapter_config.json"].map((f) => join(runRow.outputDir, "adapter", f));
    } else {
      const out = join(dir, "export");
      await trainer(ctx, p.projectId, ["export", "--run", runRow.outputDir, "--out", out, "--merge"], 30, 50);
      files = readdirSync(join(out, "merged")).sort().map((f) => join(out, "merged", f)).filter((f) => statSync(f).isFile());
    }
    const total = files.reduce((n, f) => n + statSync(f).size, 0);
    let done = 0;
    const digests: Record<string, string> = {};
    for (const file of files) {
      const before = done;
      digests[basename(file)] = await pushBlob(host, file, (sent) => ctx.progress(50 + (30 * (before + sent)) / Math.max(1, total), `uploading ${basename(file)}`), ctx.signal);
      done += statSync(file).size;
    }
    await create(ctx, host, {
      model: p.name,
      ...(lane === "adapter" ? { from: found.base, adapters: digests } : { files: digests, ...(quantize !== "none" ? { quantize } : {}) }),
      template: prepared.template,
      parameters: { stop: prepared.stops },
    });

    ctx.progress(90, "parity check");
    const chat: OllamaAnswer[] = [];
    const raw: OllamaAnswer[] = [];
    // Greedy, as the tuned model answered: Ollama's default repeat penalty (1.1) would change the answers.
    const options = { temperature: 0, top_k: 1, repeat_penalty: 1, presence_penalty: 0, frequency_penalty: 0, num_predict: PARITY_TOKENS };
    for (const [i, q] of prepared.prompts.entries()) {
      const c = await client.chat({ model: p.name, messages: prompts[i]!.messages, stream: false, options });
      chat.push({ text: c.message.content.trim(), doneReason: c.done_reason });
      const r = await client.generate({ model: p.name, prompt: q.rendered, raw: true, stream: false, options });
      raw.push({ text: (r.response ?? "").trim(), doneReason: r.done_reason });
    }
    const verdicts = parityVerdicts({ prompts: prepared.prompts, chat, raw, specialTokens: prepared.special_tokens, stops: prepared.stops, quantize });
    const record: PublishRecord = {
      model: p.name,
      lane,
      base: found.base,
      quantize,
      lane_note: lane === "merged" && p.lane !== "merged" ? `Merged weights, because the adapter lane needs its base in Ollama: ${found.why.join("; ")}.` : null,
      verdicts,
      run_id: runRow.id,
      created_at: new Date().toISOString(),
    };
    writeFileSync(join(dir, "publish.json"), JSON.stringify(record, null, 2));
    const section = parityMarkdown(p.name, lane, quantize, verdicts);
    writeFileSync(join(dir, "parity.md"), section);
    // An export made before publishing gets the section too (the next export reads parity.md).
    for (const a of deps.db.select().from(artifacts).where(and(eq(artifacts.runId, runRow.id), eq(artifacts.filename, "report.md"))).all()) {
      const path = join(projectDir(deps.dataDir, runRow.projectId), a.relativePath);
      if (existsSync(path)) writeFileSync(path, withSection(readFileSync(path, "utf8"), section));
    }
    const passed = verdicts.filter((v) => v.ok).length;
    // The job's last word is the result, not the last file uploaded.
    ctx.progress(100, `Published as ${p.name} (${lane === "adapter" ? `adapter over ${found.base}` : `merged, ${quantize}`}): ${passed} of ${verdicts.length} parity checks pass.`);
    return { model: p.name, lane, ok: passed === verdicts.length };
  }

  deps.queue.register(PUBLISH_JOB, { payload: payloadSchema, group: "gpu", maxAttempts: 1, onRestart: "fail", run });

  return {
    start(projectId: string, input: PublishInput) {
      const run = deps.training.latestSuccess(projectId);
      if (!deps.ollamaHost) throw new AppError(409, "ollama_not_configured", "No Ollama is configured: set OLLAMA_HOST to the Ollama that should run the model.");
      return deps.queue.enqueue(PUBLISH_JOB, projectId, { ...input, runId: run.id, projectId });
    },
    /** The latest successful run's publication, or null. */
    latest(projectId: string): PublishRecord | null {
      const run = deps.training.runs(projectId).find((r) => r.status === "success");
      const file = run ? join(folder(run.outputDir), "publish.json") : null;
      if (!file || !existsSync(file)) return null;
      const parsed = publishRecordSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
      return parsed.success ? parsed.data : null;
    },
  };
}

/** report.md with its "Running in Ollama" section replaced (or added). */
export function withSection(report: string, section: string): string {
  const start = report.indexOf("## Running in Ollama");
  if (start < 0) return `${report.trimEnd()}\n\n${section}`;
  const next = report.indexOf("\n## ", start + 3);
  return `${report.slice(0, start)}${section.trimEnd()}\n${next < 0 ? "" : report.slice(next)}`;
}

export type PublishService = ReturnType<typeof createPublishService>;
