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
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { Ollama } from "ollama";
import { z } from "zod";
import type { ReviewService } from "../datasets/review-service.ts";
import { JobError, type JobContext, type JobQueue } from "../jobs/queue.ts";
import { boundedFetch } from "../lib/bounded-fetch.ts";
import { readLines } from "../lib/lines.ts";
import type { ProjectService } from "../projects/service.ts";
import { ollamaPrepareFileSchema } from "../training/events.ts";
import type { TrainerCall, TrainerClient } from "../training/trainer-client.ts";
import type { TrainingService } from "../training/service.ts";
import { ADAPTER_FAMILIES, baseMismatch, OLLAMA_LIBRARY } from "./ollama-bases.ts";
import { errorText, ollamaDown, pushBlob } from "./blobs.ts";
import { parityMarkdown, parityVerdicts, type OllamaAnswer } from "./parity.ts";
import { PUBLISH_JOB, publishFolder, publishInputSchema, type PublishRecord } from "./schemas.ts";
import { createStatusLine } from "./reply-schemas.ts";
import { parseReply } from "../lib/external-reply.ts";

const PARITY_PROMPTS = 5;
const PARITY_TOKENS = 64;

export const publishPayload = publishInputSchema.extend({ runId: z.string(), projectId: z.string() });

/** What "Run in Ollama" needs, the service and its job alike. */
export type PublishDeps = {
  queue: JobQueue;
  projects: ProjectService;
  training: TrainingService;
  review: ReviewService;
  /** The export service: puts parity.md into a report already exported. */
  reports: { refreshReport: (runId: string) => void };
  /** Where Ollama answers (the service refuses to queue a job without one). */
  ollamaHost: string | null;
  trainer: TrainerClient;
};

export function registerPublishJob(deps: PublishDeps) {
  /** A trainer call whose progress fills [from, to] of the job's bar. */
  const within = (ctx: JobContext<unknown>, from: number, to: number): TrainerCall => ({ signal: ctx.signal, onProgress: (pct, message) => ctx.progress(from + ((to - from) * pct) / 100, message) });
  /** Stops the job on cancel or on the trainer's failure, in the trainer's words. */
  function settled(ctx: JobContext<unknown>, result: { failure: string | null }) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (result.failure) throw new JobError(result.failure);
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
      let status: z.infer<typeof createStatusLine>;
      try {
        status = parseReply(createStatusLine, JSON.parse(line), `Ollama at ${base}`);
      } catch (err) {
        throw new JobError(err instanceof SyntaxError ? `Ollama at ${base} sent a status line that is not JSON while creating the model.` : (err as Error).message);
      }
      if (status.error) throw new JobError(`Ollama could not create the model: ${status.error}`);
      if (status.status) ctx.progress(85, `Ollama: ${(last = status.status)}`);
    }
    if (last !== "success") throw new JobError(`Ollama stopped creating the model before it finished (last status: ${last || "none"}).`);
  }

  async function run(ctx: JobContext<z.infer<typeof publishPayload>>) {
    const p = ctx.payload;
    const runRow = deps.training.getRun(p.runId);
    if (!runRow) return { skipped: "run deleted" };
    const host = deps.ollamaHost!;
    const client = new Ollama({ host, fetch: boundedFetch() });
    const dir = publishFolder(runRow.outputDir);
    mkdirSync(dir, { recursive: true });

    ctx.progress(2, "reading the chat template");
    const prompts = parityPrompts(p.projectId);
    writeFileSync(join(dir, "prompts.jsonl"), prompts.map((q) => JSON.stringify(q)).join("\n") + "\n");
    settled(ctx, await deps.trainer.ollamaPrepare(p.projectId, runRow.outputDir, { prompts: join(dir, "prompts.jsonl"), out: join(dir, "prepared.json"), maxNewTokens: PARITY_TOKENS }, within(ctx, 2, 30)));
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
      settled(ctx, await deps.trainer.export(p.projectId, runRow.outputDir, { out, merge: true }, within(ctx, 30, 50)));
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
      // Ollama keeps each prompt's KV cache and reuses the longest common prefix, so a raw call right
      // after the chat computes only the last prompt token where the chat computed the whole prompt:
      // other float rounding, and at a near-tie another answer (1 prompt in 45 measured on long prompts).
      // A one-token chat first fills the cache, so the chat and the raw call compute alike, token for
      // token, and any difference left between them is the rendering's.
      await client.chat({ model: p.name, messages: prompts[i]!.messages, stream: false, options: { ...options, num_predict: 1 } });
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
      answers: prepared.prompts.map((q, i) => ({ id: q.id, prompt: prompts[i]!.messages.at(-1)!.content, tuned: q.answer, chat: chat[i]!.text, raw: raw[i]!.text })),
      run_id: runRow.id,
      created_at: new Date().toISOString(),
    };
    writeFileSync(join(dir, "publish.json"), JSON.stringify(record, null, 2));
    const section = parityMarkdown(p.name, lane, quantize, verdicts);
    writeFileSync(join(dir, "parity.md"), section);
    // An export made before publishing gets the section too (the next export reads parity.md).
    deps.reports.refreshReport(runRow.id);
    const passed = verdicts.filter((v) => v.ok).length;
    // The job's last word is the result, not the last file uploaded.
    ctx.progress(100, `Published as ${p.name} (${lane === "adapter" ? `adapter over ${found.base}` : `merged, ${quantize}`}): ${passed} of ${verdicts.length} parity checks pass.`);
    return { model: p.name, lane, ok: passed === verdicts.length };
  }

  deps.queue.register(PUBLISH_JOB, { payload: publishPayload, group: "gpu", maxAttempts: 1, onRestart: "fail", run });
}
