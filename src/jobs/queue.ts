/**
 * The job queue: jobs persist in SQLite (store.ts), an in-process worker (worker.ts)
 * claims them with a lease, runs them with an AbortSignal, and records every outcome.
 *
 * - A running job's lease is renewed while it runs; a lease that expires means the
 *   worker died and the job is claimed again.
 * - On start, jobs left `running` by a crash are requeued (or failed, for types that
 *   cannot resume that way, like training, which resumes from its checkpoint instead).
 * - Failures: a JobError says whether to retry; retries back off exponentially up to
 *   max_attempts. Cancel aborts the handler's signal; the job ends `cancelled`.
 * - Concurrency is per group (one GPU job at a time, generation apart from extraction).
 * Capabilities register their handlers; this module knows none of them.
 */
import type { z } from "zod";
import type { Db } from "../db/client.ts";
import type { JobRow } from "./table.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { createJobStore } from "./store.ts";
import { createGpuLease } from "./gpu-lease.ts";
import { createWorker, INTERRUPTED_MESSAGE, type JobDefinition } from "./worker.ts";

export { JobError, type JobContext, type JobDefinition } from "./worker.ts";

export type QueueOptions = {
  db: Db;
  logger: Logger;
  now?: () => number;
  leaseMs?: number;
  pollMs?: number;
  backoffMs?: number;
  groups?: Record<string, number>;
};

export type JobQueue = ReturnType<typeof createJobQueue>;

export function createJobQueue(opts: QueueOptions) {
  const now = opts.now ?? Date.now;
  const pollMs = opts.pollMs ?? 500;
  const groupLimits = { gpu: 1, generation: 1, cpu: 2, download: 1, ...opts.groups };
  const definitions = new Map<string, JobDefinition<z.ZodType>>();
  const store = createJobStore(opts.db);
  const gpu = createGpuLease();
  const worker = createWorker({ store, definitions, groupLimits, logger: opts.logger, now, leaseMs: opts.leaseMs ?? 30_000, backoffMs: opts.backoffMs ?? 2_000, gpu });
  let timer: ReturnType<typeof setInterval> | null = null;

  return {
    register<S extends z.ZodType>(type: string, def: JobDefinition<S>) {
      if (!(def.group in groupLimits)) throw new Error(`unknown job group ${def.group}`);
      definitions.set(type, def as unknown as JobDefinition<z.ZodType>);
    },

    /** Who holds the GPU (jobs of the `gpu` group, and shares such as the playground's worker). */
    gpu,
    get: store.get,
    latest: store.latest,
    active: store.active,
    activeIds: store.activeIds,
    activeWithPayload: store.activeWithPayload,
    sumResultField: store.sumResultField,

    enqueue(type: string, projectId: string | null, payload: unknown, o: { maxAttempts?: number } = {}): JobRow {
      const def = definitions.get(type);
      if (!def) throw new Error(`no handler registered for job type ${type}`);
      const row = store.insert({ id: crypto.randomUUID(), projectId, type, payload: payload as JobRow["payload"], maxAttempts: o.maxAttempts ?? def.maxAttempts ?? 3, createdAt: now() });
      if (timer) queueMicrotask(worker.tick);
      return row;
    },

    /** Cancels a queued job at once, or asks a running one to stop. */
    cancel(id: string): JobRow {
      const job = store.get(id);
      if (!job) throw new AppError(404, "job_not_found", "Job not found.");
      if (job.status === "queued" || job.status === "retrying") {
        return store.update(id, { status: "cancelled", finishedAt: now(), progressMessage: "Cancelled." })!;
      }
      if (job.status === "running") {
        store.update(id, { cancelRequested: true, progressMessage: "Cancelling…" });
        worker.abort(id, "cancel");
        return store.get(id)!;
      }
      throw new AppError(409, "job_finished", `This job has already ended (${job.status}).`);
    },

    /** Puts back jobs a crash left `running`; call once before start(). */
    recover(): number {
      let count = 0;
      for (const job of store.running()) {
        if (worker.isRunning(job.id)) continue;
        if (definitions.get(job.type)?.onRestart === "fail") {
          store.update(job.id, { status: "failed", finishedAt: now(), errorMessage: INTERRUPTED_MESSAGE, leaseExpiresAt: null });
        } else {
          store.update(job.id, { status: "queued", leaseExpiresAt: null, progressMessage: "Resuming after a restart…" });
        }
        count++;
      }
      return count;
    },

    start() {
      worker.resume();
      if (!timer) timer = setInterval(worker.tick, pollMs);
      queueMicrotask(worker.tick);
    },

    /** Stops claiming, aborts running handlers (they are requeued) and waits for them. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await worker.stop();
    },

    /** Tests and scripts: run until nothing is queued, retrying or running (waits out backoffs). */
    async runUntilEmpty(timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        worker.tick();
        if (worker.busy()) {
          await worker.anyDone();
          continue;
        }
        if (store.countWaiting([...definitions.keys()]) === 0) return;
        if (Date.now() > deadline) throw new Error("runUntilEmpty timed out");
        await Bun.sleep(5);
      }
    },

    /** 1-based place of a queued job among the queued jobs of its group (0 when not queued). */
    queuePosition(jobId: string): number {
      const job = store.get(jobId);
      if (!job || (job.status !== "queued" && job.status !== "retrying")) return 0;
      return store.countAhead(job, worker.typesOf(definitions.get(job.type)?.group ?? "")) + 1;
    },
  };
}
