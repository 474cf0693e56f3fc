/** The `training_runs` and `run_metrics` tables (owner: training/run-store.ts). */
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt } from "../db/columns.ts";
import type { RunConfig } from "./schemas.ts";
import { projects } from "../projects/table.ts";
import { jobs } from "../jobs/table.ts";

export const trainingRuns = sqliteTable(
  "training_runs",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    jobId: text("job_id").references(() => jobs.id, { onDelete: "set null" }),
    status: text("status", { enum: ["queued", "running", "success", "failed", "cancelled", "interrupted"] })
      .notNull()
      .default("queued"),
    method: text("method", { enum: ["lora", "qlora"] }).notNull(),
    config: text("config", { mode: "json" }).$type<RunConfig>().notNull(),
    outputDir: text("output_dir").notNull(),
    finalTrainLoss: real("final_train_loss"),
    finalEvalLoss: real("final_eval_loss"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    createdAt: createdAt(),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
  },
  (t) => [index("training_runs_project_idx").on(t.projectId, t.createdAt)],
);

/** Every event the trainer emitted, in order: the SSE replay source. */
export const runMetrics = sqliteTable(
  "run_metrics",
  {
    runId: text("run_id")
      .notNull()
      .references(() => trainingRuns.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    event: text("event").notNull(),
    step: integer("step"),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("run_metrics_run_seq_idx").on(t.runId, t.seq)],
);

export type TrainingRunRow = typeof trainingRuns.$inferSelect;
