/**
 * Dataset generation: a preview of 10 examples, then the full dataset, written by a
 * local LLM from the project's chunks. Runs as a job that can stop anywhere (crash,
 * kill -9, cancel) and resume without duplicating or losing examples: every accepted
 * batch is one transaction tagged with the job id, and a resumed run recounts what
 * its job already wrote per chunk.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { chunks, examples, files, jobs, type JobRow } from "../db/schema.ts";
import type { ExampleFields } from "../datasets/shapes.ts";
import { contentHash, exampleColumns, validateFields } from "../datasets/validate.ts";
import { approxTokens } from "../documents/chunker.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { JobError, type JobContext, type JobQueue } from "../jobs/queue.ts";
import type { ProjectService } from "../projects/service.ts";
import { MIN_VALID_EXAMPLES } from "../wizard/steps.ts";
import type { Backend, GenerationConfig } from "./backends.ts";
import { planQuotas } from "./plan.ts";
import { PROMPTS, renderPrompt } from "./prompts.ts";
import { projectTokenCounter } from "../models/tokenizer.ts";
import { groundingScore, NearDuplicateIndex, refusalReason } from "./quality.ts";
import { exampleJsonSchema, parseExamples } from "./repair.ts";

export const PREVIEW_JOB = "dataset_preview";
export const GENERATE_JOB = "dataset_generate";
export const PREVIEW_SIZE = 10;
export const DEFAULT_TARGET = 2000;
const PER_REQUEST = 3;
const EVAL_RATIO = 0.1;
const splitRank = (key: string) => new Bun.CryptoHasher("sha1").update(`42:${key}`).digest().readUInt32BE(0);
const PARSE_RETRIES = 2;

export const generateInput = z
  .object({
    model: z.string().trim().min(1).max(200).optional(),
    target: z.coerce.number().int().min(10, "The target must be at least 10 examples.").max(100_000, "The target must be at most 100,000 examples.").optional(),
  })
  .strict();

const payloadSchema = z.object({ projectId: z.string(), mode: z.enum(["preview", "full"]), model: z.string(), target: z.number().int().positive() });
type Payload = z.infer<typeof payloadSchema>;

type ChunkRow = { id: string; text: string; fileId: string; filename: string; pageStart: number | null; headingPath: string | null; tokenCount: number };

export type GenerationService = ReturnType<typeof createGenerationService>;

export function createGenerationService(deps: {
  db: Db;
  queue: JobQueue;
  backends: Backend[];
  config: GenerationConfig & { groundingThreshold: number };
  projects: ProjectService;
  logger: Logger;
  now?: () => number;
}) {
  const { db, backends, config } = deps;
  const now = deps.now ?? Date.now;

  function projectChunks(projectId: string): ChunkRow[] {
    return db
      .select({ id: chunks.id, text: chunks.text, fileId: chunks.fileId, filename: files.filename, pageStart: chunks.pageStart, headingPath: chunks.headingPath, tokenCount: chunks.tokenCount })
      .from(chunks)
      .innerJoin(files, eq(files.id, chunks.fileId))
      .where(and(eq(chunks.projectId, projectId), eq(files.status, "ready")))
      .orderBy(asc(files.createdAt), asc(chunks.ordinal))
      .all();
  }

  async function run(ctx: JobContext<Payload>) {
    const { payload, job, signal } = ctx;
    const project = deps.projects.get(payload.projectId);
    const task = project.taskType ?? "instruction";
    const countTokens = projectTokenCounter(project.modelInfo);
    const all = projectChunks(payload.projectId);
    if (all.length === 0) throw new JobError("There is no extracted text to generate from: upload a document first.");
    const started = now();
    const preview = payload.mode === "preview";
    if (!preview) deps.projects.setStatus(payload.projectId, "generating");

    // What this job already wrote (a resumed run) and what the project already has.
    const mine = db.select({ chunkId: examples.chunkId, isValid: examples.isValid }).from(examples).where(eq(examples.jobId, job.id)).all();
    const doneByChunk = new Map<string, number>();
    let produced = 0;
    let valid = 0;
    for (const e of mine) {
      produced++;
      if (e.isValid) valid++;
      if (e.chunkId && (preview || e.isValid)) doneByChunk.set(e.chunkId, (doneByChunk.get(e.chunkId) ?? 0) + 1);
    }
    const dedup = new NearDuplicateIndex();
    const hashes = new Set<string>();
    const existing = db
      .select({ instruction: examples.instruction, input: examples.input, output: examples.output, hash: examples.contentHash })
      .from(examples)
      .where(and(eq(examples.projectId, payload.projectId), eq(examples.isValid, true), preview ? sql`1=1` : sql`${examples.split} != 'preview'`))
      .all();
    for (const e of existing) {
      dedup.check(e);
      if (e.hash) hashes.add(e.hash);
    }
    const quotas = planQuotas(all, payload.target, PER_REQUEST);
    const chunkById = new Map(all.map((c) => [c.id, c]));
    // Eval examples come from whole documents (or, with few documents, whole chunks) that
    // train never sees, chosen by a seeded hash so a resumed run picks the same ones.
    const groupByFile = new Set(all.map((c) => c.fileId)).size >= 5;
    const groupOf = (c: ChunkRow) => (groupByFile ? c.fileId : c.id);
    const groups = [...new Set(all.filter((c) => quotas.has(c.id)).map(groupOf))].sort((a, b) => splitRank(a) - splitRank(b));
    const evalGroups = new Set(groups.length >= 2 ? groups.slice(0, Math.max(1, Math.round(groups.length * EVAL_RATIO))) : []);
    const result = (job.result as { duplicates_removed?: number; filtered?: Record<string, number>; requests?: number } | null) ?? {};
    let duplicatesRemoved = result.duplicates_removed ?? 0;
    const filtered: Record<string, number> = result.filtered ?? {};
    let requests = result.requests ?? 0;
    const countOf = () => (preview ? produced : valid);
    const pending = [...quotas].filter(([id, q]) => (doneByChunk.get(id) ?? 0) < q).map(([id]) => id);
    const failures = new Map<string, number>();
    const maxRequests = requests + payload.target * 3 + 20;
    let consecutiveTransportErrors = 0;
    let fatal: Error | null = null;

    const report = () =>
      ctx.progress((100 * countOf()) / payload.target, `${countOf()}/${payload.target} examples${duplicatesRemoved ? ` · ${duplicatesRemoved} duplicates removed` : ""}`);

    function accept(chunk: ChunkRow, items: ExampleFields[]) {
      const rows: (typeof examples.$inferInsert)[] = [];
      for (const f of items) {
        const remainingChunk = (quotas.get(chunk.id) ?? 0) - (doneByChunk.get(chunk.id) ?? 0);
        if (countOf() + rows.filter((r) => preview || r.isValid).length >= payload.target) break;
        if (remainingChunk - rows.filter((r) => preview || r.isValid).length <= 0 && !extraRound) break;
        const hash = contentHash(f);
        if (hashes.has(hash) || dedup.check(f) >= 0) {
          duplicatesRemoved++;
          continue;
        }
        hashes.add(hash);
        const grounding = groundingScore(f.output, chunk.text);
        const reason =
          validateFields(f) ??
          refusalReason(f) ??
          (grounding < config.groundingThreshold ? `not grounded in its source (${Math.round(grounding * 100)}% of the answer's words are in the chunk)` : null);
        if (reason) {
          // Counted by kind: the percentage in parentheses varies per example.
          const kind = reason.replace(/\s*\(.*\)$/, "");
          filtered[kind] = (filtered[kind] ?? 0) + 1;
        }
        rows.push({
          id: crypto.randomUUID(),
          projectId: payload.projectId,
          jobId: job.id,
          chunkId: chunk.id,
          fileId: chunk.fileId,
          split: preview ? "preview" : evalGroups.has(groupOf(chunk)) ? "eval" : "train",
          ...exampleColumns(f, reason, countTokens(f), hash),
          groundingScore: Math.round(grounding * 1000) / 1000,
          generatorModel: payload.model,
          promptVersion: PROMPTS[task].version,
        });
      }
      if (rows.length === 0) return;
      db.transaction((tx) => {
        tx.insert(examples).values(rows).run();
        tx.update(jobs).set({ result: { duplicates_removed: duplicatesRemoved, filtered, requests } }).where(eq(jobs.id, job.id)).run();
      });
      for (const r of rows) {
        produced++;
        if (r.isValid) valid++;
        if (preview || r.isValid) doneByChunk.set(chunk.id, (doneByChunk.get(chunk.id) ?? 0) + 1);
      }
    }

    let extraRound = false;
    async function ask(backend: Backend, chunk: ChunkRow, count: number): Promise<ExampleFields[] | null> {
      const prompt = renderPrompt(task, { count, source: `${chunk.filename}${chunk.pageStart ? `, page ${chunk.pageStart}` : ""}`, chunk: chunk.text });
      const numCtx = Math.max(8192, Math.ceil((approxTokens(prompt) + count * 400 + 512) / 1024) * 1024);
      for (let attempt = 0; attempt <= PARSE_RETRIES; attempt++) {
        requests++;
        let raw: string;
        try {
          raw = await backend.chat({ model: payload.model, prompt, schema: exampleJsonSchema(task, count), numCtx, signal });
          consecutiveTransportErrors = 0;
        } catch (err) {
          if (signal.aborted) throw signal.reason;
          if (err instanceof JobError && !err.retryable) {
            fatal = err;
            return null;
          }
          if (++consecutiveTransportErrors >= 5) {
            fatal = new JobError((err as Error).message, true);
            return null;
          }
          deps.logger.warn("generation request failed", { job_id: job.id, error: (err as Error).message });
          await Bun.sleep(Math.min(2000, 100 * 2 ** attempt));
          continue;
        }
        const parsed = parseExamples(raw, task, chunk.text);
        if (typeof parsed !== "string") return parsed;
        if (attempt === PARSE_RETRIES) filtered[parsed] = (filtered[parsed] ?? 0) + 1;
      }
      return null;
    }

    // Workers: `concurrency` per endpoint, each taking the next chunk with work left.
    async function worker(backend: Backend) {
      while (!fatal && countOf() < payload.target && requests < maxRequests) {
        if (signal.aborted) throw signal.reason;
        const id = pending.shift();
        if (!id) return;
        const chunk = chunkById.get(id)!;
        const left = (quotas.get(id) ?? 0) - (doneByChunk.get(id) ?? 0);
        const items = await ask(backend, chunk, Math.min(PER_REQUEST, Math.max(1, left), payload.target - countOf()));
        if (items) accept(chunk, items);
        const stillLeft = (quotas.get(id) ?? 0) - (doneByChunk.get(id) ?? 0);
        if (stillLeft > 0) {
          const fails = (failures.get(id) ?? 0) + (items ? 0 : 1);
          failures.set(id, fails);
          if (fails < 3) pending.push(id);
        }
        report();
      }
    }
    const runWorkers = () => Promise.all(backends.flatMap((b) => Array.from({ length: config.concurrency }, () => worker(b))));
    await runWorkers();
    // Chunks that gave fewer valid examples than planned: top up from any chunk.
    if (!fatal && countOf() < payload.target && requests < maxRequests) {
      extraRound = true;
      for (let round = 0; round < 5 && countOf() < payload.target && !fatal && requests < maxRequests; round++) {
        pending.push(...all.map((c) => c.id));
        for (const c of all) quotas.set(c.id, (doneByChunk.get(c.id) ?? 0) + PER_REQUEST);
        await runWorkers();
      }
    }
    if (fatal) throw fatal;
    const seconds = (now() - started) / 1000;
    if (!preview) {
      const validTotal = db
        .select({ n: sql<number>`count(*)` })
        .from(examples)
        .where(and(eq(examples.projectId, payload.projectId), eq(examples.isValid, true), inArray(examples.split, ["train", "eval"])))
        .get()!.n;
      deps.projects.setStatus(payload.projectId, validTotal >= MIN_VALID_EXAMPLES ? "ready_to_train" : "draft");
    }
    return {
      produced,
      valid,
      invalid: produced - valid,
      duplicates_removed: duplicatesRemoved,
      filtered,
      requests,
      seconds,
      examples_per_second: seconds > 0 ? produced / seconds : null,
      chunks_total: all.length,
      chunks_used: [...doneByChunk.keys()].length,
    };
  }

  for (const type of [PREVIEW_JOB, GENERATE_JOB]) {
    deps.queue.register(type, { payload: payloadSchema, group: "generation", maxAttempts: 3, run });
  }

  async function listModels(): Promise<string[]> {
    const lists = await Promise.all(backends.map((b) => b.listModels()));
    return [...new Set(lists.flat())].sort();
  }

  async function start(projectId: string, mode: "preview" | "full", input: z.infer<typeof generateInput>): Promise<JobRow> {
    const project = deps.projects.get(projectId);
    if (projectChunks(projectId).length === 0) {
      throw new AppError(409, "no_documents", "Upload at least one document and wait for its text to be extracted first.");
    }
    const active = db
      .select()
      .from(jobs)
      .where(and(eq(jobs.projectId, projectId), inArray(jobs.type, [PREVIEW_JOB, GENERATE_JOB]), inArray(jobs.status, ["queued", "running", "retrying"])))
      .get();
    if (active) throw new AppError(409, "generation_running", "A generation is already running for this project; wait for it or cancel it.");
    const saved = (project.config as { generation_model?: string }).generation_model;
    let model = input.model ?? saved;
    if (!model) {
      const models = await listModels();
      if (models.length === 0) throw new AppError(409, "no_models", "Ollama has no models installed. Install one with `ollama pull llama3.1:8b`, then try again.");
      model = models[0]!;
    }
    deps.projects.updateConfig(projectId, { generation_model: model });
    if (mode === "preview") db.delete(examples).where(and(eq(examples.projectId, projectId), eq(examples.split, "preview"))).run();
    const target = mode === "preview" ? PREVIEW_SIZE : (input.target ?? DEFAULT_TARGET);
    return deps.queue.enqueue(mode === "preview" ? PREVIEW_JOB : GENERATE_JOB, projectId, { projectId, mode, model, target });
  }

  return {
    listModels,
    start,
    latestJob(projectId: string, type: string): JobRow | undefined {
      return db.select().from(jobs).where(and(eq(jobs.projectId, projectId), eq(jobs.type, type))).orderBy(sql`${jobs.createdAt} desc`).limit(1).get();
    },
    previewExamples(projectId: string) {
      return db.select().from(examples).where(and(eq(examples.projectId, projectId), eq(examples.split, "preview"))).orderBy(asc(examples.createdAt)).all();
    },
    chunkCount(projectId: string): number {
      return projectChunks(projectId).length;
    },
  };
}
