/** The `jobs` table (owner: jobs/store.ts). */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt } from "../db/columns.ts";
import { projects } from "../projects/table.ts";

export const jobs = sqliteTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    /** Null for machine-wide jobs (a hardware check outside a project). */
    projectId: text("project_id").references(() => projects.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    status: text("status", { enum: ["queued", "running", "success", "failed", "retrying", "cancelled"] })
      .notNull()
      .default("queued"),
    progressPct: real("progress_pct").notNull().default(0),
    progressMessage: text("progress_message"),
    /** Parsed by the job type's own schema when the worker runs it. */
    payload: text("payload", { mode: "json" }).$type<unknown>().notNull().default(sql`'{}'`),
    /** The handler's return value (each job type documents its own). */
    result: text("result", { mode: "json" }).$type<Record<string, unknown>>(),
    errorMessage: text("error_message"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(3),
    /** A running job whose lease has expired was abandoned by a crashed worker. */
    leaseExpiresAt: integer("lease_expires_at"),
    runAfter: integer("run_after").notNull().default(0),
    cancelRequested: integer("cancel_requested", { mode: "boolean" }).notNull().default(false),
    createdAt: createdAt(),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
  },
  (t) => [index("jobs_status_idx").on(t.status, t.runAfter), index("jobs_project_idx").on(t.projectId, t.createdAt)],
);

export type JobRow = typeof jobs.$inferSelect;
