/**
 * The worker: claims jobs group by group up to each group's limit, runs their handler
 * with an AbortSignal and a renewed lease, and records how each one ended.
 */
import type { z } from "zod";
import type { JobRow } from "./table.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { JobStore } from "./store.ts";
import type { GpuLease } from "./gpu-lease.ts";

export class JobError extends Error {
  constructor(
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = "JobError";
  }
}

export type JobContext<P> = {
  job: JobRow;
  payload: P;
  signal: AbortSignal;
  /** Records progress (0–100) and a message; also renews the lease. */
  progress: (pct: number, message?: string) => void;
  /**
   * Stores the result so far (e.g. counts after each batch), so a job stopped halfway
   * still reports what it did. The handler's return value is the final result.
   */
  saveResult: (result: Record<string, unknown>) => void;
};

export type JobDefinition<S extends z.ZodType> = {
  payload: S;
  group: string;
  maxAttempts?: number;
  /** What to do with a job found `running` at start: requeue it (default) or fail it. */
  onRestart?: "requeue" | "fail";
  run: (ctx: JobContext<z.infer<S>>) => Promise<unknown>;
};

export const INTERRUPTED_MESSAGE = "Interrupted: the server stopped while this job was running.";

type Running = { controller: AbortController; done: Promise<void>; group: string };

export type Worker = ReturnType<typeof createWorker>;

export function createWorker(opts: {
  store: JobStore;
  definitions: Map<string, JobDefinition<z.ZodType>>;
  groupLimits: Record<string, number>;
  logger: Logger;
  now: () => number;
  leaseMs: number;
  backoffMs: number;
  gpu: GpuLease;
}) {
  const { store, definitions, now, leaseMs } = opts;
  const running = new Map<string, Running>();
  let stopping = false;
  let ticking = false;

  const typesOf = (group: string) => [...definitions].filter(([, d]) => d.group === group).map(([t]) => t);

  /** Why the handler stopped, turned into the job's final (or retry) state. */
  function settleFailure(job: JobRow, def: JobDefinition<z.ZodType>, error: unknown, signal: AbortSignal) {
    const at = now();
    if (signal.aborted && signal.reason === "shutdown") {
      if (def.onRestart === "fail") store.update(job.id, { status: "failed", finishedAt: at, leaseExpiresAt: null, errorMessage: INTERRUPTED_MESSAGE });
      // Left for the next start: not the job's fault.
      else store.update(job.id, { status: "queued", leaseExpiresAt: null, progressMessage: "Waiting: the server restarted." });
      return;
    }
    if (signal.aborted || (error instanceof DOMException && error.name === "AbortError")) {
      store.update(job.id, { status: "cancelled", finishedAt: at, leaseExpiresAt: null, progressMessage: "Cancelled." });
      return;
    }
    const expected = error instanceof JobError || error instanceof AppError;
    const message = expected ? error.message : `Unexpected error: ${(error as Error)?.message ?? String(error)}`;
    if (!expected) opts.logger.error("job failed unexpectedly", { job_id: job.id, type: job.type, error: (error as Error)?.stack ?? String(error) });
    const retry = error instanceof JobError && error.retryable && job.attempts < (def.maxAttempts ?? job.maxAttempts);
    if (retry) store.update(job.id, { status: "retrying", runAfter: at + opts.backoffMs * 2 ** (job.attempts - 1), errorMessage: message, leaseExpiresAt: null });
    else store.update(job.id, { status: "failed", finishedAt: at, errorMessage: message, leaseExpiresAt: null });
  }

  function contextFor(job: JobRow, payload: unknown, signal: AbortSignal): JobContext<unknown> {
    let lastWrite = 0;
    return {
      job,
      payload,
      signal,
      progress: (pct, message) => {
        // Progress can come thousands of times a second; the row needs a few per second.
        const t = now();
        if (t - lastWrite < 100 && pct < 100) return;
        lastWrite = t;
        store.update(job.id, { progressPct: Math.max(0, Math.min(100, pct)), progressMessage: message ?? null, leaseExpiresAt: t + leaseMs });
      },
      saveResult: (result) => void store.update(job.id, { result }),
    };
  }

  async function runHandler(job: JobRow, def: JobDefinition<z.ZodType>, controller: AbortController) {
    await null;
    try {
      const parsed = def.payload.safeParse(job.payload);
      if (!parsed.success) throw new JobError(`The job's payload is invalid: ${parsed.error.issues[0]?.message ?? "unknown problem"}.`);
      const result = await def.run(contextFor(job, parsed.data, controller.signal));
      if (controller.signal.aborted) throw controller.signal.reason;
      store.update(job.id, { status: "success", progressPct: 100, result: (result ?? null) as JobRow["result"], finishedAt: now(), leaseExpiresAt: null, errorMessage: null });
    } catch (error) {
      settleFailure(store.get(job.id) ?? job, def, error, controller.signal);
    }
  }

  function launch(job: JobRow, group: string) {
    const def = definitions.get(job.type)!;
    const controller = new AbortController();
    const renew = setInterval(() => store.update(job.id, { leaseExpiresAt: now() + leaseMs }), Math.max(50, leaseMs / 3));
    const entry: Running = { controller, group, done: Promise.resolve() };
    // Registered before the handler starts, so even a handler that fails synchronously
    // is removed from `running` after it was added, never before.
    running.set(job.id, entry);
    if (group === "gpu") opts.gpu.takeForJob(job.id);
    entry.done = runHandler(job, def, controller).finally(() => {
      clearInterval(renew);
      if (group === "gpu") opts.gpu.releaseJob(job.id);
      running.delete(job.id);
      if (!stopping) queueMicrotask(tick);
    });
  }

  function tick() {
    if (stopping || ticking) return;
    ticking = true;
    try {
      for (const [group, limit] of Object.entries(opts.groupLimits)) {
        const types = typesOf(group);
        let busy = [...running.values()].filter((r) => r.group === group).length;
        while (types.length > 0 && busy < limit) {
          const job = store.claim(types, [...running.keys()], now(), leaseMs);
          if (!job) break;
          launch(job, group);
          busy++;
        }
      }
    } finally {
      ticking = false;
    }
  }

  return {
    tick,
    typesOf,
    isRunning: (id: string) => running.has(id),
    abort: (id: string, reason: string) => running.get(id)?.controller.abort(reason),
    busy: () => running.size > 0,
    /** Resolves when any running handler ends. */
    anyDone: () => Promise.race([...running.values()].map((r) => r.done)),
    resume() {
      stopping = false;
    },
    /** Stops claiming, aborts running handlers with "shutdown" and waits for them. */
    async stop() {
      stopping = true;
      for (const r of running.values()) r.controller.abort("shutdown");
      await Promise.allSettled([...running.values()].map((r) => r.done));
    },
  };
}
