/** The `preferences` table (owner: preferences/service.ts). */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt } from "../db/columns.ts";
import { projects } from "../projects/table.ts";
import type { ChatTurn } from "./schemas.ts";

/**
 * A preference pair: for one prompt, the reply the user prefers (chosen) and one they
 * do not (rejected), with where the judgement was made and which model wrote each side.
 * A preference round (DPO) trains on them.
 */
export const preferences = sqliteTable(
  "preferences",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    source: text("source", { enum: ["playground_choice", "playground_correction", "scorecard"] }).notNull(),
    /** The conversation up to and including the user's last turn. */
    prompt: text("prompt", { mode: "json" }).$type<ChatTurn[]>().notNull(),
    chosen: text("chosen").notNull(),
    rejected: text("rejected").notNull(),
    /** Who wrote each reply: tuned, base, ollama:<name>, user (a correction), reference (the scorecard's answer). */
    chosenBy: text("chosen_by").notNull(),
    rejectedBy: text("rejected_by").notNull(),
    /** The run whose model wrote the replies, when known. */
    runId: text("run_id"),
    /** The scorecard's held-out question (an example id): left out of the round's before/after comparison. */
    questionId: text("question_id"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at"),
  },
  (t) => [index("preferences_project_idx").on(t.projectId, t.createdAt)],
);

export type PreferenceRow = typeof preferences.$inferSelect;
