/** The `projects` table (owner: projects/service.ts). */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt } from "../db/columns.ts";
import type { ModelInfo } from "../models/schemas.ts";
import type { ProjectConfig } from "./schemas.ts";
import type { ProjectHardware } from "../training/schemas.ts";

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    /** Null until the Task step is answered. */
    taskType: text("task_type", { enum: ["instruction", "qa"] }),
    baseModelId: text("base_model_id"),
    /** Set by the Model step. */
    modelInfo: text("model_info", { mode: "json" }).$type<ModelInfo>(),
    status: text("status", {
      enum: ["draft", "uploading", "chunking", "generating", "ready_to_train", "training", "evaluating", "completed", "failed"],
    })
      .notNull()
      .default("draft"),
    /** Per-project settings (generation model, training config...). */
    config: text("config", { mode: "json" }).$type<ProjectConfig>().notNull().default(sql`'{}'`),
    /** The last hardware check made for this project, with its VRAM estimate. */
    hardwareInfo: text("hardware_info", { mode: "json" }).$type<ProjectHardware>(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull().default(sql`(unixepoch('subsec') * 1000)`),
  },
  (t) => [index("projects_created_at_idx").on(t.createdAt)],
);

export type ProjectRow = typeof projects.$inferSelect;
