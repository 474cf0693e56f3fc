/**
 * One generation job (preview or full dataset), as named steps: recount what the job
 * already wrote (a resumed run), plan quotas per chunk and the eval split, run request
 * workers per backend, top up chunks that gave too little, then settle the status.
 * It can stop anywhere (crash, kill -9, cancel) and resume without duplicating or
 * losing examples: every accepted batch is one transaction tagged with the job id.
 */
import type { ExampleFields } from "../datasets/shapes.ts";
import type { ExampleStore, NewExample } from "../datasets/example-store.ts";
import { contentHash, exampleColumns, MIN_VALID_EXAMPLES, validateFields } from "../datasets/validate.ts";
import type { Db } from "../db/client.ts";
import { approxTokens } from "../documents/chunker.ts";
import type { ReadyChunk } from "../documents/service.ts";
import { JobError, type JobContext } from "../jobs/queue.ts";
import type { Logger } from "../lib/logger.ts";
import { projectTokenCounter } from "../models/tokenizer.ts";
import type { ProjectService } from "../projects/service.ts";
import { qaRecipeOf, type QaContext, type TaskType } from "../projects/schemas.ts";
import type { Backend, GenerationConfig } from "./backends.ts";
import { AdaptiveLimit } from "./limiter.ts";
import { evalSplit, planQuotas } from "./plan.ts";
import { PROMPTS, renderPrompt } from "./prompts.ts";
import { requestKind } from "./question-kinds.ts";
import { embeddingText, SemanticIndex } from "./semantic-dedup.ts";
import { secondLook } from "./answerability.ts";
import { groundingScore, NearDuplicateIndex, refusalReason } from "./quality.ts";
import { CUT_OFF, exampleJsonSchema, parseExamples, replyTokenBudget } from "./repair.ts";
import { generationResultSchema, type GenerationPayload, type GenerationResult } from "./job-schemas.ts";

const PER_REQUEST = 3;
const PARSE_RETRIES = 2;
/** A chunk whose requests came back with nothing new this many times in a row is done: its questions stopped being new. */
const STALE_AFTER = 2;

export type GenerationJobDeps = {
  db: Db;
  examples: ExampleStore;
  readyChunks: (projectId: string) => ReadyChunk[];
  backends: Backend[];
  config: GenerationConfig & { groundingThreshold: number };
  projects: ProjectService;
  logger: Logger;
  now: () => number;
};

export function createGenerationJob(deps: GenerationJobDeps) {
  return async function run(ctx: JobContext<GenerationPayload>): Promise<GenerationResult> {
    const { payload } = ctx;
    const project = deps.projects.get(payload.projectId);
    const all = deps.readyChunks(payload.projectId).filter((c) => !payload.fileId || c.fileId === payload.fileId);
    if (all.length === 0) throw new JobError("There is no extracted text to generate from: upload a document first.");
    const preview = payload.mode === "preview";
    if (!preview) deps.projects.transition(payload.projectId, "generation_started");
    const state = new GenerationState(deps, ctx, project.taskType ?? "instruction", projectTokenCounter(project.modelInfo), all);
    const started = deps.now();
    await state.prepareSemantic();
    await state.runWorkers();
    await state.topUp();
    if (state.fatal) throw state.fatal;
    if (!preview) deps.projects.transition(payload.projectId, deps.examples.countTrainable(payload.projectId) >= MIN_VALID_EXAMPLES ? "dataset_ready" : "dataset_too_small");
    return state.result((deps.now() - started) / 1000);
  };
}

/** The counters and queues of one run, and the steps that move them. */
class GenerationState {
  readonly preview: boolean;
  readonly doneByChunk = new Map<string, number>();
  produced = 0;
  valid = 0;
  duplicatesRemoved: number;
  duplicatesByKind: { exact: number; near: number; semantic: number };
  filtered: Record<string, number>;
  /** Near-duplicates by meaning: the embedding model and its index; null: word overlap only (`dedup` says why). */
  private embeddingModel: string | null;
  private readonly semantic = new SemanticIndex();
  private dedup: string;
  requests: number;
  fatal: Error | null = null;
  private readonly nearDuplicates = new NearDuplicateIndex();
  /** The project's valid examples when the job started (duplicates are checked against them). */
  private readonly existing: { instruction: string; input: string; output: string; hash: string | null }[];
  private readonly hashes = new Set<string>();
  private readonly quotas: Map<string, number>;
  private readonly chunkById: Map<string, ReadyChunk>;
  private readonly splitOf: (c: ReadyChunk) => "train" | "eval";
  private readonly pending: string[];
  private readonly failures = new Map<string, number>();
  private readonly maxRequests: number;
  /** Closed-book Q&A leaves the passage out of the examples' input. */
  private readonly qaContext: QaContext;
  /** The study_notes recipe: every third request of a chunk writes study notes. */
  private readonly notes: boolean;
  private readonly keptNotes = new Map<string, string[]>();
  /** One adaptive limit per endpoint, kept across the top-up rounds. */
  private readonly limits: Map<Backend, AdaptiveLimit>;
  private consecutiveTransportErrors = 0;
  private extraRound = false;
  /** Q&A: the questions kept per chunk (listed in its next request), requests made per chunk (the kind rotates), examples asked for in flight per chunk, and chunks whose questions stopped being new. */
  private readonly kept = new Map<string, string[]>();
  private readonly asked = new Map<string, number>();
  private readonly inFlightFor = new Map<string, number>();
  private readonly staleRuns = new Map<string, number>();
  private readonly exhausted = new Set<string>();
  /** The next passage of the same document (the `linked` kind's second passage). */
  private readonly neighbourOf = new Map<string, ReadyChunk>();

  constructor(
    private readonly deps: GenerationJobDeps,
    private readonly ctx: JobContext<GenerationPayload>,
    private readonly task: TaskType,
    private readonly countTokens: ReturnType<typeof projectTokenCounter>,
    private readonly all: ReadyChunk[],
  ) {
    const { payload, job } = ctx;
    this.preview = payload.mode === "preview";
    const config = deps.projects.get(payload.projectId).config;
    this.qaContext = config.qa_context ?? "with_context";
    this.notes = task === "qa" && qaRecipeOf(config) === "study_notes";
    this.recountOwnWork(job.id);
    this.existing = deps.examples.validTexts(payload.projectId, this.preview);
    for (const e of this.existing) {
      this.nearDuplicates.check(e);
      if (e.hash) this.hashes.add(e.hash);
    }
    this.quotas = planQuotas(all, payload.target, PER_REQUEST);
    this.chunkById = new Map(all.map((c) => [c.id, c]));
    this.splitOf = evalSplit(all, this.quotas);
    const saved = generationResultSchema.parse(job.result ?? {});
    this.duplicatesRemoved = saved.duplicates_removed;
    this.duplicatesByKind = { ...saved.duplicates_by_kind };
    this.embeddingModel = payload.embeddingModel ?? null;
    this.dedup = this.embeddingModel ? `embeddings (${this.embeddingModel})` : "word overlap only: no embedding model is installed (e.g. `ollama pull nomic-embed-text`)";
    this.filtered = saved.filtered;
    this.requests = saved.requests;
    all.forEach((c, i) => all[i + 1]?.fileId === c.fileId && this.neighbourOf.set(c.id, all[i + 1]!));
    // Q&A: a chunk gets one pending request per PER_REQUEST examples planned, interleaved across
    // chunks, so a short document still fills the server (each request asks another kind).
    const slots = [...this.quotas].filter(([id, q]) => this.done(id) < q).map(([id, q]) => ({ id, n: this.task === "qa" ? Math.ceil((q - this.done(id)) / PER_REQUEST) : 1 }));
    this.pending = [];
    for (let round = 0; slots.some((s) => s.n > round); round++) for (const s of slots) if (s.n > round) this.pending.push(s.id);
    // A second look is one more request per example written.
    this.maxRequests = this.requests + payload.target * (payload.answerabilityModel ? 6 : 3) + 20;
    this.limits = new Map(deps.backends.map((b) => [b, new AdaptiveLimit(deps.config.concurrency)]));
  }

  /** What this job already wrote (a resumed run): counted, and per chunk. */
  private recountOwnWork(jobId: string) {
    for (const e of this.deps.examples.writtenByJob(jobId)) {
      this.produced++;
      if (e.isValid) this.valid++;
      if (e.chunkId && (this.preview || e.isValid)) this.doneByChunk.set(e.chunkId, this.done(e.chunkId) + 1);
    }
  }

  private done = (chunkId: string) => this.doneByChunk.get(chunkId) ?? 0;
  private left = (chunkId: string) => (this.quotas.get(chunkId) ?? 0) - this.done(chunkId);
  private count = () => (this.preview ? this.produced : this.valid);
  private get target() {
    return this.ctx.payload.target;
  }
  private canContinue = () => !this.fatal && this.count() < this.target && this.requests < this.maxRequests;

  private report() {
    const n = this.count();
    const duplicates = this.duplicatesRemoved ? ` · ${this.duplicatesRemoved} duplicates removed` : "";
    this.ctx.progress((100 * n) / this.target, `${n}/${this.target} examples${duplicates} · ${this.inFlight()}`);
  }

  /** "6 in flight", or per endpoint: "3 endpoints, 6/4/8 in flight". */
  private inFlight(): string {
    const counts = [...this.limits.values()].map((l) => l.inFlight);
    return counts.length === 1 ? `${counts[0]} in flight` : `${counts.length} endpoints, ${counts.join("/")} in flight`;
  }

  /** Filters, checks and stores one answer's examples in one transaction with the job's counts. */
  private accept(chunk: ReadyChunk, items: ExampleFields[], source: string, note: boolean, vectors: number[][] | null, looks: (string | null)[]) {
    const rows: NewExample[] = [];
    const counted = () => rows.filter((r) => this.preview || r.isValid).length;
    let duplicates = 0;
    for (const [i, f] of items.entries()) {
      if (this.count() + counted() >= this.target) break;
      if (this.left(chunk.id) - counted() <= 0 && !this.extraRound) break;
      const hash = contentHash(f);
      const kind = this.hashes.has(hash) ? "exact" : this.nearDuplicates.check(f) >= 0 ? "near" : vectors?.[i] && this.semantic.isDuplicate(vectors[i]!) ? "semantic" : null;
      if (kind) {
        this.duplicatesRemoved++;
        this.duplicatesByKind[kind]++;
        duplicates++;
        continue;
      }
      this.hashes.add(hash);
      rows.push(this.toRow(chunk, f, hash, source, note, looks[i] ?? null));
    }
    // Questions stop being new: after STALE_AFTER answers in a row with nothing new, the chunk is done.
    if (rows.length === 0 && duplicates > 0) {
      const stale = (this.staleRuns.get(chunk.id) ?? 0) + 1;
      this.staleRuns.set(chunk.id, stale);
      if (stale >= STALE_AFTER) this.exhausted.add(chunk.id);
    } else if (rows.length) this.staleRuns.set(chunk.id, 0);
    if (rows.length === 0) return;
    const kept = note ? this.keptNotes : this.kept;
    kept.set(chunk.id, [...(kept.get(chunk.id) ?? []), ...rows.map((r) => r.instruction)]);
    this.deps.db.transaction(() => {
      this.deps.examples.insert(rows);
      this.ctx.saveResult({ duplicates_removed: this.duplicatesRemoved, duplicates_by_kind: this.duplicatesByKind, dedup: this.dedup, filtered: this.filtered, requests: this.requests });
    });
    for (const r of rows) {
      this.produced++;
      if (r.isValid) this.valid++;
      if (this.preview || r.isValid) this.doneByChunk.set(chunk.id, this.done(chunk.id) + 1);
    }
  }

  private toRow(chunk: ReadyChunk, f: ExampleFields, hash: string, source: string, note: boolean, look: string | null): NewExample {
    const grounding = groundingScore(f.output, source);
    const reason =
      validateFields(f) ??
      refusalReason(f) ??
      (grounding < this.deps.config.groundingThreshold ? `not grounded in its source (${Math.round(grounding * 100)}% of the answer's words are in the chunk)` : null) ??
      look;
    if (reason) {
      // Counted by kind: the percentage in parentheses varies per example.
      const kind = reason.replace(/\s*\(.*\)$/, "");
      this.filtered[kind] = (this.filtered[kind] ?? 0) + 1;
    }
    const { payload, job } = this.ctx;
    return {
      id: crypto.randomUUID(),
      projectId: payload.projectId,
      jobId: job.id,
      chunkId: chunk.id,
      fileId: chunk.fileId,
      split: this.preview ? "preview" : this.splitOf(chunk),
      ...exampleColumns(f, reason, this.countTokens(f), hash),
      groundingScore: Math.round(grounding * 1000) / 1000,
      generatorModel: payload.model,
      promptVersion: note ? PROMPTS.notes.version : PROMPTS[this.task].version,
      kind: note ? "note" : "example",
    };
  }

  /**
   * One request for `count` examples of a chunk, with retries for transport and parse
   * failures; Q&A asks for the chunk's next kind of question and lists those already kept.
   * The text the answers must rest on comes back with them (the chunk, and its neighbour
   * for a `linked` question).
   */
  private async ask(backend: Backend, chunk: ReadyChunk, count: number): Promise<{ items: ExampleFields[]; source: string; note: boolean } | null> {
    const limit = this.limits.get(backend)!;
    const { signal, payload, job } = this.ctx;
    const where = (c: ReadyChunk) => `${c.filename}${c.pageStart ? `, page ${c.pageStart}` : ""}`;
    const neighbour = this.neighbourOf.get(chunk.id) ?? null;
    const n = this.asked.get(chunk.id) ?? 0;
    this.asked.set(chunk.id, n + 1);
    const spec = this.task === "qa" ? requestKind(n, neighbour !== null, this.notes) : null;
    const kind = spec?.kind;
    const note = spec?.notes === true;
    const linked = kind?.id === "linked" && neighbour !== null;
    const source = linked ? `${chunk.text}\n\n${neighbour.text}` : chunk.text;
    const prompt = renderPrompt(note ? "notes" : this.task, { count, source: where(chunk), chunk: chunk.text, kind, kept: (note ? this.keptNotes : this.kept).get(chunk.id), neighbour: linked ? { source: where(neighbour), text: neighbour.text } : null });
    const numCtx = Math.max(8192, Math.ceil((approxTokens(prompt) + count * 400 + 512) / 1024) * 1024);
    for (let attempt = 0; attempt <= PARSE_RETRIES; attempt++) {
      this.requests++;
      let raw: string;
      let truncated = false;
      const sent = performance.now();
      try {
        ({ content: raw, truncated } = await backend.chat({ model: payload.model, prompt, schema: exampleJsonSchema(this.task, count), numCtx, maxTokens: replyTokenBudget(this.task, count), signal }));
        limit.observe({ ms: performance.now() - sent, ok: true });
        this.consecutiveTransportErrors = 0;
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        limit.observe({ ms: performance.now() - sent, ok: false });
        if (err instanceof JobError && !err.retryable) return this.stop(err);
        if (++this.consecutiveTransportErrors >= 5) return this.stop(new JobError((err as Error).message, true));
        this.deps.logger.warn("generation request failed", { job_id: job.id, error: (err as Error).message });
        await Bun.sleep(Math.min(2000, 100 * 2 ** attempt));
        continue;
      }
      // A note is learnt without its passage, whatever the questions' context.
      const parsed = truncated ? CUT_OFF : parseExamples(raw, this.task, source, note ? "closed_book" : this.qaContext);
      if (typeof parsed !== "string") return { items: parsed, source, note };
      if (attempt === PARSE_RETRIES) this.filtered[parsed] = (this.filtered[parsed] ?? 0) + 1;
    }
    return null;
  }

  private stop(error: Error): null {
    this.fatal = error;
    return null;
  }

  /** A request loop: once its endpoint has a free slot, takes the next chunk with work left. */
  private async worker(backend: Backend) {
    const limit = this.limits.get(backend)!;
    while (this.canContinue()) {
      if (this.ctx.signal.aborted) throw this.ctx.signal.reason;
      await limit.acquire();
      const id = this.canContinue() ? this.pending.shift() : undefined;
      if (!id) return limit.release();
      const chunk = this.chunkById.get(id)!;
      // What the chunk still needs beyond the requests already in flight for it.
      const open = this.left(id) - (this.inFlightFor.get(id) ?? 0);
      if (this.exhausted.has(id) || (open <= 0 && !this.extraRound)) {
        limit.release();
        continue;
      }
      const count = Math.min(PER_REQUEST, Math.max(1, open), this.target - this.count());
      this.inFlightFor.set(id, (this.inFlightFor.get(id) ?? 0) + count);
      let answer: { items: ExampleFields[]; source: string; note: boolean } | null;
      try {
        answer = await this.ask(backend, chunk, count);
      } finally {
        limit.release();
        this.inFlightFor.set(id, this.inFlightFor.get(id)! - count);
      }
      if (answer) this.accept(chunk, answer.items, answer.source, answer.note, await this.embed(answer.items), await this.secondLooks(backend, answer.items, answer.source));
      if (this.left(id) - (this.inFlightFor.get(id) ?? 0) > 0 && !this.exhausted.has(id) && !this.pending.includes(id)) {
        const fails = (this.failures.get(id) ?? 0) + (answer ? 0 : 1);
        this.failures.set(id, fails);
        if (fails < 3) this.pending.push(id);
      }
      this.report();
    }
  }

  /** The examples' vectors for the check by meaning; null (and word overlap from then on) when the model fails. */
  private async embed(items: { instruction: string; output: string }[]): Promise<number[][] | null> {
    if (!this.embeddingModel || items.length === 0) return null;
    try {
      return await this.deps.backends[0]!.embed(this.embeddingModel, items.map(embeddingText), this.ctx.signal);
    } catch (err) {
      if (this.ctx.signal.aborted) throw this.ctx.signal.reason;
      this.dedup = `word overlap only: the embedding model ${this.embeddingModel} failed (${(err as Error).message})`;
      this.deps.logger.warn("embeddings failed: near-duplicates by word overlap only", { job_id: this.ctx.job.id, error: (err as Error).message });
      this.embeddingModel = null;
      return null;
    }
  }

  /** The second look at each example (answerability.ts), when asked: one more call each, on the same endpoint. */
  private async secondLooks(backend: Backend, items: ExampleFields[], source: string): Promise<(string | null)[]> {
    const model = this.ctx.payload.answerabilityModel;
    if (!model) return [];
    const looks: (string | null)[] = [];
    for (const f of items) {
      this.requests++;
      looks.push(await secondLook(backend, model, source, f, this.ctx.signal));
    }
    return looks;
  }

  /** The project's kept examples, embedded once before the workers start (in batches). */
  async prepareSemantic() {
    if (!this.embeddingModel) return;
    const kept = this.existing;
    for (let i = 0; i < kept.length && this.embeddingModel; i += 64) {
      const vectors = await this.embed(kept.slice(i, i + 64));
      for (const v of vectors ?? []) this.semantic.add(v);
    }
  }

  /** Up to `concurrency` loops per backend (its adaptive limit gates them), sharing one queue of chunks. */
  runWorkers() {
    return Promise.all(this.deps.backends.flatMap((b) => Array.from({ length: this.deps.config.concurrency }, () => this.worker(b))));
  }

  /** Chunks that gave fewer valid examples than planned: top up from any chunk. */
  async topUp() {
    this.extraRound = true;
    for (let round = 0; round < 5 && this.canContinue(); round++) {
      const open = this.all.filter((c) => !this.exhausted.has(c.id));
      if (open.length === 0) break;
      this.pending.push(...open.map((c) => c.id));
      for (const c of open) this.quotas.set(c.id, this.done(c.id) + PER_REQUEST);
      await this.runWorkers();
    }
  }

  result(seconds: number): GenerationResult {
    return {
      produced: this.produced,
      valid: this.valid,
      invalid: this.produced - this.valid,
      duplicates_removed: this.duplicatesRemoved,
      duplicates_by_kind: this.duplicatesByKind,
      dedup: this.dedup,
      filtered: this.filtered,
      requests: this.requests,
      seconds,
      examples_per_second: seconds > 0 ? this.produced / seconds : null,
      chunks_total: this.all.length,
      chunks_used: this.doneByChunk.size,
      chunks_exhausted: this.exhausted.size,
    };
  }
}
