/** The `evaluations` table (owner: evaluation, its job writes and its service reads). */
import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt } from "../db/columns.ts";
import { projects } from "../projects/table.ts";

/**
 * A judged evaluation of a run (src/evaluation): base and tuned answers to held-out
 * questions graded by an LLM, the scorecard computed from the verdicts, and the
 * forgetting check on general questions shipped with the app.
 */
export const evaluations = sqliteTable("evaluations", {
  id: text("id").primaryKey(),
  projectId: text("project_id")
    .notNull()
    .references(() => projects.id, { onDelete: "cascade" }),
  runId: text("run_id").notNull(),
  judgeModel: text("judge_model").notNull(),
  mode: text("mode", { enum: ["closed_book", "with_context"] }).notNull(),
  summary: text("summary", { mode: "json" }).$type<unknown>().notNull(),
  items: text("items", { mode: "json" }).$type<unknown>().notNull(),
  forgetting: text("forgetting", { mode: "json" }).$type<unknown>(),
  createdAt: createdAt(),
});

