/**
 * One generation run's state (generation/job.ts runs it): counters, the queue of chunks,
 * the steps that move them (workers, top-up rounds) and what each answer's examples become.
 */
import type { ExampleFields } from "../datasets/shapes.ts";
import type { NewExample } from "../datasets/example-store.ts";
import { contentHash, exampleColumns, validateFields } from "../datasets/validate.ts";
import { approxTokens } from "../documents/chunker.ts";
import type { ReadyChunk } from "../documents/service.ts";
import { JobError, type JobContext } from "../jobs/queue.ts";
import { projectTokenCounter } from "../models/tokenizer.ts";
import { qaRecipeOf, type QaContext, type TaskType } from "../projects/schemas.ts";
import type { Backend } from "./backends.ts";
import { AdaptiveLimit } from "./limiter.ts";
import { evalSplit, planQuotas } from "./plan.ts";
import { PROMPTS } from "./prompts.ts";
import { ChunkRequests } from "./chunk-requests.ts";
import { DuplicateChecks } from "./duplicates.ts";
import { secondLooks } from "./answerability.ts";
import { groundingScore, refusalReason } from "./quality.ts";
import { CUT_OFF, exampleJsonSchema, parseExamples, replyTokenBudget } from "./repair.ts";
import { generationResultSchema, type GenerationPayload, type GenerationResult } from "./job-schemas.ts";
import type { GenerationJobDeps } from "./job.ts";


const PER_REQUEST = 3;
const PARSE_RETRIES = 2;

export /** The counters and queues of one run, and the steps that move them. */
class GenerationState {
  readonly preview: boolean;
  readonly doneByChunk = new Map<string, number>();
  produced = 0;
  valid = 0;
  filtered: Record<string, number>;
  /** Exact, word-overlap and by-meaning duplicate checks (duplicates.ts). */
  private readonly duplicates: DuplicateChecks;
  requests: number;
  fatal: Error | null = null;
  private readonly quotas: Map<string, number>;
  private readonly chunkById: Map<string, ReadyChunk>;
  private readonly splitOf: (c: ReadyChunk) => "train" | "eval";
  private readonly pending: string[];
  private readonly failures = new Map<string, number>();
  private readonly maxRequests: number;
  /** Closed-book Q&A leaves the passage out of the examples' input. */
  private readonly qaContext: QaContext;
  /** One adaptive limit per endpoint, kept across the top-up rounds. */
  private readonly limits: Map<Backend, AdaptiveLimit>;
  private consecutiveTransportErrors = 0;
  private extraRound = false;
  /** Examples asked for in flight per chunk (a chunk has several requests at once). */
  private readonly inFlightFor = new Map<string, number>();
  /** What each chunk is asked next, and which chunks are done (chunk-requests.ts). */
  private readonly chunks: ChunkRequests;

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
    this.chunks = new ChunkRequests(task, task === "qa" && qaRecipeOf(config) === "study_notes", all);
    this.recountOwnWork(job.id);
    this.quotas = planQuotas(all, payload.target, PER_REQUEST);
    this.chunkById = new Map(all.map((c) => [c.id, c]));
    this.splitOf = evalSplit(all, this.quotas);
    const saved = generationResultSchema.parse(job.result ?? {});
    this.duplicates = new DuplicateChecks(deps.backends[0]!, payload.embeddingModel ?? null, deps.examples.validTexts(payload.projectId, this.preview), saved.duplicates_by_kind, deps.logger, ctx.signal);
    this.filtered = saved.filtered;
    this.requests = saved.requests;
    // Q&A: a chunk gets one pending request per PER_REQUEST examples planned, interleaved across
    // chunks, so a short document still fills the server (each request asks another kind).
    const slots = [...this.quotas].filter(([id, q]) => this.done(id) < q).map(([id, q]) => ({ id, n: this.task === "qa" ? Math.ceil((q - this.done(id)) / PER_REQUEST) : 1 }));
    this.pending = [];
    for (let round = 0; slots.some((s) => s.n > round); round++) for (const s of slots) if (s.n > round) this.pending.push(s.id);
    // A guard against a model that writes nothing usable, not a pace: a small model needs
    // 3 to 4.5 requests per accepted example (SmolLM2-135M: npm run bench -- real-generation),
    // so 6 per example leaves it room. A second look is one more request per example written.
    this.maxRequests = this.requests + payload.target * (payload.answerabilityModel ? 12 : 6) + 20;
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
    const duplicates = this.duplicates.total ? ` · ${this.duplicates.total} duplicates removed` : "";
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
      if (this.duplicates.check(f, hash, vectors?.[i])) {
        duplicates++;
        continue;
      }
      rows.push(this.toRow(chunk, f, hash, source, note, looks[i] ?? null));
    }
    this.chunks.settled(chunk.id, note, rows.map((r) => r.instruction), duplicates);
    if (rows.length === 0) return;
    this.deps.db.transaction(() => {
      this.deps.examples.insert(rows);
      this.ctx.saveResult({ duplicates_removed: this.duplicates.total, duplicates_by_kind: this.duplicates.byKind, dedup: this.duplicates.how, filtered: this.filtered, requests: this.requests });
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
    const { prompt, source, note } = this.chunks.next(chunk, count);
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
      if (this.chunks.exhausted.has(id) || (open <= 0 && !this.extraRound)) {
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
      if (answer) this.accept(chunk, answer.items, answer.source, answer.note, await this.duplicates.embed(answer.items), await secondLooks(backend, this.ctx.payload.answerabilityModel, answer.items, answer.source, this.ctx.signal, () => this.requests++));
      if (this.left(id) - (this.inFlightFor.get(id) ?? 0) > 0 && !this.chunks.exhausted.has(id) && !this.pending.includes(id)) {
        const fails = (this.failures.get(id) ?? 0) + (answer ? 0 : 1);
        this.failures.set(id, fails);
        if (fails < 3) this.pending.push(id);
      }
      this.report();
    }
  }

  /** The project's kept examples, embedded once before the workers start. */
  prepareSemantic() {
    return this.duplicates.prepare();
  }

  /** Up to `concurrency` loops per backend (its adaptive limit gates them), sharing one queue of chunks. */
  runWorkers() {
    return Promise.all(this.deps.backends.flatMap((b) => Array.from({ length: this.deps.config.concurrency }, () => this.worker(b))));
  }

  /** Chunks that gave fewer valid examples than planned: top up from any chunk. */
  async topUp() {
    this.extraRound = true;
    for (let round = 0; round < 5 && this.canContinue(); round++) {
      const open = this.all.filter((c) => !this.chunks.exhausted.has(c.id));
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
      duplicates_removed: this.duplicates.total,
      duplicates_by_kind: this.duplicates.byKind,
      dedup: this.duplicates.how,
      filtered: this.filtered,
      requests: this.requests,
      seconds,
      examples_per_second: seconds > 0 ? this.produced / seconds : null,
      chunks_total: this.all.length,
      chunks_used: this.doneByChunk.size,
      chunks_exhausted: this.chunks.exhausted.size,
      target: this.target,
      stopped: this.count() >= this.target ? "target" : this.requests >= this.maxRequests ? "request_budget" : "documents_exhausted",
    };
  }
}
