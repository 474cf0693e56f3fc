/** A preference round's run, scored against the run it started from (scorecard.ts `beforeAfter`). */
import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import type { TrainingRunRow } from "../training/tables.ts";
import { beforeAfter, type BeforeAfter, type JudgedItem } from "./scorecard.ts";
import { storedEvaluationSchema, type EvaluationMode } from "./schemas.ts";
import { evaluations } from "./table.ts";

/**
 * Null for a run that is not a preference round, or whose starting run has no evaluation
 * of this mode by the same judge (grades of two judges do not compare).
 */
export function preferenceRoundScore(db: Db, run: Pick<TrainingRunRow, "config">, mode: EvaluationMode, judgeModel: string, items: JudgedItem[], forgettingAfter: number | null): BeforeAfter | null {
  const round = run.config.preference;
  if (!round) return null;
  const row = db
    .select()
    .from(evaluations)
    .where(and(eq(evaluations.runId, round.parent_run_id), eq(evaluations.mode, mode), eq(evaluations.judgeModel, judgeModel)))
    .orderBy(desc(evaluations.createdAt))
    .get();
  if (!row) return null;
  const before = storedEvaluationSchema.parse({ summary: row.summary, items: row.items, forgetting: row.forgetting ?? null });
  return beforeAfter(round.parent_run_id, before.items, items, new Set(round.question_ids), { before: before.forgetting?.tuned_score ?? null, after: forgettingAfter });
}

/** The judge of the starting run's latest evaluation: a round's scorecard asks it again, so before and after compare. */
export function parentJudge(db: Db, run: Pick<TrainingRunRow, "config">): string | null {
  const round = run.config.preference;
  if (!round) return null;
  return db.select({ judge: evaluations.judgeModel }).from(evaluations).where(eq(evaluations.runId, round.parent_run_id)).orderBy(desc(evaluations.createdAt)).get()?.judge ?? null;
}
