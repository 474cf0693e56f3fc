/**
 * The training capability's tables: runs and their stored events. Every event is
 * inserted (numbered per run) before it is published to the live streams.
 */
import { existsSync, readdirSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { and, desc, eq, gt, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { runMetrics, trainingRuns, type TrainingRunRow } from "./tables.ts";
import { trainerEventSchema, type TrainerEvent } from "./events.ts";
import type { RunEvent, RunHub } from "./hub.ts";
import { ACTIVE_RUN_STATUSES } from "./schemas.ts";

/** Events after which a stream has nothing more to say. */
export const FINAL_EVENTS: ReadonlySet<string> = new Set(["complete", "error", "cancelled"]);
type EventOf<E extends TrainerEvent["event"]> = Extract<TrainerEvent, { event: E }>;
const isEvent = <E extends TrainerEvent["event"]>(e: TrainerEvent, name: E): e is EventOf<E> => e.event === name;

/** Events that draw the curve and the step counter: dropped past the checkpoint on resume. */
const STEP_EVENTS = ["log", "eval", "progress", "checkpoint"];

/** The highest `checkpoint-N` on disk: what `train --resume` continues from. */
export function checkpointStep(outputDir: string): number | null {
  const dir = join(outputDir, "checkpoints");
  if (!existsSync(dir)) return null;
  const steps = readdirSync(dir)
    .map((name) => /^checkpoint-(\d+)$/.exec(name)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number);
  return steps.length ? Math.max(...steps) : null;
}

/** Paths the trainer reports, made relative to the data dir: clients never see server paths. */
function withRelativePaths(e: TrainerEvent, dataDir: string): TrainerEvent {
  const rel = (p: string | null) => (p === null ? null : isAbsolute(p) ? relative(dataDir, p) : p);
  if (e.event === "checkpoint") return { ...e, path: rel(e.path)! };
  if (e.event === "cancelled") return { ...e, checkpoint_path: rel(e.checkpoint_path), adapter_path: rel(e.adapter_path) };
  if (e.event === "complete") return { ...e, adapter_path: rel(e.adapter_path) };
  return e;
}

export function createRunStore(deps: { db: Db; hub: RunHub; now: () => number; dataDir: string }) {
  const { db } = deps;
  const nextSeq = db.$client.query<{ seq: number }, [string]>("select coalesce(max(seq), 0) + 1 as seq from run_metrics where run_id = ?");

  function insert(runId: string, event: string, data: Record<string, unknown>) {
    const seq = nextSeq.get(runId)!.seq;
    const step = typeof data.step === "number" ? data.step : null;
    db.insert(runMetrics).values({ runId, seq, event, step, data, createdAt: deps.now() }).run();
    deps.hub.publish(runId, { seq, event, data });
  }

  return {
    get: (runId: string) => db.select().from(trainingRuns).where(eq(trainingRuns.id, runId)).get(),
    update: (runId: string, changes: Partial<typeof trainingRuns.$inferInsert>) => db.update(trainingRuns).set(changes).where(eq(trainingRuns.id, runId)).run(),
    insertRun: (row: typeof trainingRuns.$inferInsert) => db.insert(trainingRuns).values(row).run(),

    /** A trainer event: stored, then published. */
    record(runId: string, e: TrainerEvent) {
      const { event, ...data } = withRelativePaths(e, deps.dataDir);
      // An `error` also carries the API's error shape, so any client reads `detail`.
      if (e.event === "error") insert(runId, event, { ...data, detail: e.advice ? `${e.message} ${e.advice}` : e.message });
      else insert(runId, event, data);
    },
    /** An event the server adds to the stream (trainer stderr, evaluation phase). */
    recordServer: insert,
    /** Terminal events held until the run row is settled. */
    publishHeld(runId: string, events: TrainerEvent[]) {
      for (const e of events) this.record(runId, e);
    },

    /** On resume the curve continues from the checkpoint: later points would run backwards. */
    dropPointsAfterCheckpoint(run: TrainingRunRow) {
      const step = checkpointStep(run.outputDir) ?? 0;
      db.delete(runMetrics)
        .where(and(eq(runMetrics.runId, run.id), inArray(runMetrics.event, STEP_EVENTS), gt(runMetrics.step, step)))
        .run();
    },

    latestRun(projectId: string): TrainingRunRow | undefined {
      return db.select().from(trainingRuns).where(eq(trainingRuns.projectId, projectId)).orderBy(desc(trainingRuns.createdAt), desc(sql`rowid`)).limit(1).get();
    },
    runs(projectId: string): TrainingRunRow[] {
      return db.select().from(trainingRuns).where(eq(trainingRuns.projectId, projectId)).orderBy(desc(trainingRuns.createdAt), desc(sql`rowid`)).all();
    },
    activeRun(projectId: string): TrainingRunRow | undefined {
      return db.select().from(trainingRuns).where(and(eq(trainingRuns.projectId, projectId), inArray(trainingRuns.status, [...ACTIVE_RUN_STATUSES]))).get();
    },
    /** Nothing runs when the app starts: runs left running were cut by a crash or kill. */
    markRunningInterrupted() {
      db.update(trainingRuns).set({ status: "interrupted" }).where(eq(trainingRuns.status, "running")).run();
    },

    eventsAfter(runId: string, afterSeq: number): RunEvent[] {
      return db
        .select({ seq: runMetrics.seq, event: runMetrics.event, data: runMetrics.data })
        .from(runMetrics)
        .where(and(eq(runMetrics.runId, runId), gt(runMetrics.seq, afterSeq)))
        .orderBy(runMetrics.seq)
        .all() as RunEvent[];
    },
    /** The run's last stored event of this kind, parsed back with the protocol's schema. */
    lastEvent<E extends TrainerEvent["event"]>(runId: string, event: E): EventOf<E> | null {
      const row = db.select({ data: runMetrics.data }).from(runMetrics).where(and(eq(runMetrics.runId, runId), eq(runMetrics.event, event))).orderBy(desc(runMetrics.seq)).limit(1).get();
      const parsed = row ? trainerEventSchema.safeParse({ ...row.data, event }) : null;
      return parsed?.success && isEvent(parsed.data, event) ? parsed.data : null;
    },
    lossPoints(runId: string): [number, number][] {
      return (
        db.$client.query("select step, json_extract(data, '$.train_loss') as loss from run_metrics where run_id = ? and event = 'log' order by seq").all(runId) as { step: number; loss: number }[]
      ).map((p) => [p.step, p.loss]);
    },
  };
}

export type RunStore = ReturnType<typeof createRunStore>;
