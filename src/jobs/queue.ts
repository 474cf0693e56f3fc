/**
 * The job queue: jobs persist in SQLite, an in-process worker claims them in a
 * transaction with a lease, runs them with an AbortSignal, and records every outcome.
 *
 * - Claim: one UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING, so two ticks can never
 *   take the same job. A running job's lease is renewed while it runs; a lease that
 *   expires means the worker died and the job is claimed again.
 * - On start, jobs left `running` by a crash are requeued (or failed, for types that
 *   cannot resume that way, like training, which resumes from its checkpoint instead).
 * - Failures: a JobError says whether to retry; retries back off exponentially up to
 *   max_attempts. Cancel aborts the handler's signal; the job ends `cancelled`.
 * - Concurrency is per group (one GPU job at a time, generation apart from extraction).
 * Capabilities register their handlers; this module knows none of them.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { z } from "zod";
import type { Db } from "../db/client.ts";
import { jobs, type JobRow } from "../db/schema.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";

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
};

export type JobDefinition<S extends z.ZodType> = {
  payload: S;
  group: string;
  maxAttempts?: number;
  /** What to do with a job found `running` at start: requeue it (default) or fail it. */
  onRestart?: "requeue" | "fail";
  run: (ctx: JobContext<z.infer<S>>) => Promise<unknown>;
};

export type QueueOptions = {
  db: Db;
  logger: Logger;
  now?: () => number;
  leaseMs?: number;
  pollMs?: number;
  backoffMs?: number;
  groups?: Record<string, number>;
};

type Running = { controller: AbortController; done: Promise<void>; group: string };

export type JobQueue = ReturnType<typeof createJobQueue>;

export function createJobQueue(opts: QueueOptions) {
  const { db, logger } = opts;
  const now = opts.now ?? Date.now;
  const leaseMs = opts.leaseMs ?? 30_000;
  const pollMs = opts.pollMs ?? 500;
  const backoffMs = opts.backoffMs ?? 2_000;
  const groupLimits = { gpu: 1, generation: 1, cpu: 2, ...opts.groups };
  const definitions = new Map<string, JobDefinition<z.ZodType>>();
  const running = new Map<string, Running>();
  const listeners = new Set<(job: JobRow) => void>();
  let timer: ReturnType<typeof setInterval> | null = null;
  let stopping = false;
  let ticking = false;

  const get = (id: string) => db.select().from(jobs).where(eq(jobs.id, id)).get();

  function update(id: string, changes: Partial<typeof jobs.$inferInsert>): JobRow | undefined {
    const row = db.update(jobs).set(changes).where(eq(jobs.id, id)).returning().get();
    if (row) for (const l of listeners) l(row);
    return row;
  }

  function typesOf(group: string): string[] {
    return [...definitions].filter(([, d]) => d.group === group).map(([t]) => t);
  }

  function claim(group: string): JobRow | undefined {
    const types = typesOf(group);
    if (types.length === 0) return undefined;
    const at = now();
    const placeholders = types.map(() => "?").join(",");
    const row = db.$client
      .query(
        `update jobs set status = 'running', attempts = attempts + 1, lease_expires_at = ?, started_at = coalesce(started_at, ?),
           cancel_requested = 0
         where id = (
           select id from jobs
           where type in (${placeholders})
             and ((status in ('queued', 'retrying') and run_after <= ?) or (status = 'running' and lease_expires_at < ?))
             and id not in (${[...running.keys()].map(() => "?").join(",") || "''"})
           order by created_at, rowid limit 1)
         returning id`,
      )
      .get(at + leaseMs, at, ...types, at, at, ...running.keys()) as { id: string } | null;
    if (!row) return undefined;
    const job = get(row.id)!;
    for (const l of listeners) l(job);
    return job;
  }

  function finish(job: JobRow, def: JobDefinition<z.ZodType>, error: unknown, signal: AbortSignal) {
    const at = now();
    if (signal.aborted && signal.reason === "shutdown") {
      if (def.onRestart === "fail") {
        update(job.id, { status: "failed", finishedAt: at, leaseExpiresAt: null, errorMessage: "Interrupted: the server stopped while this job was running." });
      } else {
        // Left for the next start: not the job's fault.
        update(job.id, { status: "queued", leaseExpiresAt: null, progressMessage: "Waiting: the server restarted." });
      }
      return;
    }
    if (signal.aborted || (error instanceof DOMException && error.name === "AbortError")) {
      update(job.id, { status: "cancelled", finishedAt: at, leaseExpiresAt: null, progressMessage: "Cancelled." });
      return;
    }
    const message = error instanceof JobError || error instanceof AppError ? error.message : `Unexpected error: ${(error as Error)?.message ?? String(error)}`;
    if (!(error instanceof JobError || error instanceof AppError)) {
      logger.error("job failed unexpectedly", { job_id: job.id, type: job.type, error: (error as Error)?.stack ?? String(error) });
    }
    const retry = error instanceof JobError && error.retryable && job.attempts < (def.maxAttempts ?? job.maxAttempts);
    if (retry) {
      update(job.id, { status: "retrying", runAfter: at + backoffMs * 2 ** (job.attempts - 1), errorMessage: message, leaseExpiresAt: null });
    } else {
      update(job.id, { status: "failed", finishedAt: at, errorMessage: message, leaseExpiresAt: null });
    }
  }

  function launch(job: JobRow, group: string) {
    const def = definitions.get(job.type)!;
    const controller = new AbortController();
    const renew = setInterval(() => update(job.id, { leaseExpiresAt: now() + leaseMs }), Math.max(50, leaseMs / 3));
    const entry: Running = { controller, group, done: Promise.resolve() };
    // Registered before the handler starts, so even a handler that fails synchronously
    // is removed from `running` after it was added, never before.
    running.set(job.id, entry);
    entry.done = (async () => {
      await null;
      try {
        const parsed = def.payload.safeParse(job.payload);
        if (!parsed.success) throw new JobError(`The job's payload is invalid: ${parsed.error.issues[0]?.message ?? "unknown problem"}.`);
        let lastWrite = 0;
        const result = await def.run({
          job,
          payload: parsed.data,
          signal: controller.signal,
          progress: (pct, message) => {
            // Progress can come thousands of times a second; the row needs a few per second.
            const t = now();
            if (t - lastWrite < 100 && pct < 100) return;
            lastWrite = t;
            update(job.id, { progressPct: Math.max(0, Math.min(100, pct)), progressMessage: message ?? null, leaseExpiresAt: t + leaseMs });
          },
        });
        if (controller.signal.aborted) throw controller.signal.reason;
        update(job.id, {
          status: "success",
          progressPct: 100,
          result: (result ?? null) as never,
          finishedAt: now(),
          leaseExpiresAt: null,
          errorMessage: null,
        });
      } catch (error) {
        finish(get(job.id) ?? job, def, error, controller.signal);
      } finally {
        clearInterval(renew);
        running.delete(job.id);
        if (!stopping) queueMicrotask(tick);
      }
    })();
  }

  function tick() {
    if (stopping || ticking) return;
    ticking = true;
    try {
      for (const [group, limit] of Object.entries(groupLimits)) {
        let busy = [...running.values()].filter((r) => r.group === group).length;
        while (busy < limit) {
          const job = claim(group);
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
    register<S extends z.ZodType>(type: string, def: JobDefinition<S>) {
      if (!(def.group in groupLimits)) throw new Error(`unknown job group ${def.group}`);
      definitions.set(type, def as unknown as JobDefinition<z.ZodType>);
    },

    get,

    enqueue(type: string, projectId: string | null, payload: unknown, o: { maxAttempts?: number } = {}): JobRow {
      const def = definitions.get(type);
      if (!def) throw new Error(`no handler registered for job type ${type}`);
      const row = db
        .insert(jobs)
        .values({ id: crypto.randomUUID(), projectId, type, payload: payload as never, maxAttempts: o.maxAttempts ?? def.maxAttempts ?? 3, createdAt: now() })
        .returning()
        .get();
      for (const l of listeners) l(row);
      if (timer) queueMicrotask(tick);
      return row;
    },

    /** Cancels a queued job at once, or asks a running one to stop. */
    cancel(id: string): JobRow {
      const job = get(id);
      if (!job) throw new AppError(404, "job_not_found", "Job not found.");
      if (job.status === "queued" || job.status === "retrying") {
        return update(id, { status: "cancelled", finishedAt: now(), progressMessage: "Cancelled." })!;
      }
      if (job.status === "running") {
        const r = running.get(id);
        update(id, { cancelRequested: true, progressMessage: "Cancelling…" });
        r?.controller.abort("cancel");
        return get(id)!;
      }
      throw new AppError(409, "job_finished", `This job has already ended (${job.status}).`);
    },

    /** Puts back jobs a crash left `running`; call once before start(). */
    recover(): number {
      let count = 0;
      const stale = db.select().from(jobs).where(eq(jobs.status, "running")).all();
      for (const job of stale) {
        if (running.has(job.id)) continue;
        const def = definitions.get(job.type);
        if (def?.onRestart === "fail") {
          update(job.id, { status: "failed", finishedAt: now(), errorMessage: "Interrupted: the server stopped while this job was running.", leaseExpiresAt: null });
        } else {
          update(job.id, { status: "queued", leaseExpiresAt: null, progressMessage: "Resuming after a restart…" });
        }
        count++;
      }
      return count;
    },

    start() {
      stopping = false;
      if (!timer) timer = setInterval(tick, pollMs);
      queueMicrotask(tick);
    },

    /** Stops claiming, aborts running handlers (they are requeued) and waits for them. */
    async stop(): Promise<void> {
      stopping = true;
      if (timer) clearInterval(timer);
      timer = null;
      for (const r of running.values()) r.controller.abort("shutdown");
      await Promise.allSettled([...running.values()].map((r) => r.done));
    },

    /** Tests and scripts: run until nothing is queued, retrying or running (waits out backoffs). */
    async runUntilEmpty(timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        tick();
        if (running.size > 0) {
          await Promise.race([...running.values()].map((r) => r.done));
          continue;
        }
        const waiting = db
          .select({ n: sql<number>`count(*)` })
          .from(jobs)
          .where(and(inArray(jobs.status, ["queued", "retrying"]), inArray(jobs.type, [...definitions.keys()])))
          .get()!.n;
        if (waiting === 0) return;
        if (Date.now() > deadline) throw new Error("runUntilEmpty timed out");
        await Bun.sleep(5);
      }
    },

    /** Ids of unfinished jobs whose payload has `field` = `value` (e.g. the file they work on). */
    activeWithPayload(field: string, value: string): string[] {
      return (
        db.$client
          .query(`select id from jobs where status in ('queued', 'running', 'retrying') and json_extract(payload, '$.' || ?) = ?`)
          .all(field, value) as { id: string }[]
      ).map((r) => r.id);
    },

    onChange(listener: (job: JobRow) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** 1-based place of a queued job among the queued jobs of its group (0 when not queued). */
    queuePosition(jobId: string): number {
      const job = get(jobId);
      if (!job || (job.status !== "queued" && job.status !== "retrying")) return 0;
      const types = typesOf(definitions.get(job.type)?.group ?? "");
      const ahead = db.$client
        .query(`select count(*) as n from jobs where status in ('queued', 'retrying', 'running') and type in (${types.map(() => "?").join(",")}) and (created_at < ? or status = 'running') and id != ?`)
        .get(...types, job.createdAt, jobId) as { n: number };
      return ahead.n + 1;
    },
  };
}
