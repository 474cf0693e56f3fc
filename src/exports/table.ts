/** The `artifacts` table (owner: exports/service.ts). */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt } from "../db/columns.ts";
import { projects } from "../projects/table.ts";
import { trainingRuns } from "../training/tables.ts";

export const artifacts = sqliteTable(
  "artifacts",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    runId: text("run_id").references(() => trainingRuns.id, { onDelete: "cascade" }),
    /** Display and download name (adapter_model.safetensors, report.md...). */
    filename: text("filename").notNull(),
    /** Path relative to the project's folder in the data dir. */
    relativePath: text("relative_path").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("artifacts_project_idx").on(t.projectId)],
);

export type ArtifactRow = typeof artifacts.$inferSelect;
