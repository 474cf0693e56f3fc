/**
 * The whole product's schema. Statuses are readable TEXT; timestamps are integer
 * milliseconds since the epoch (rendered as ISO strings at the API boundary).
 * Every row that belongs to a project cascades on project delete.
 */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
// JSON columns are typed by the schema of the capability that owns them; each parses
// with that schema before writing (type-only imports: no runtime cycle).
import type { FileDetails } from "../documents/schemas.ts";
import type { ModelInfo } from "../models/schemas.ts";
import type { ProjectConfig } from "../projects/schemas.ts";
import type { ProjectHardware, RunConfig } from "../training/schemas.ts";

const createdAt = () => integer("created_at").notNull().default(sql`(unixepoch('subsec') * 1000)`);

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

export const files = sqliteTable(
  "files",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    /** The name the user gave the file: display text only, never a path. */
    filename: text("filename").notNull(),
    /** Generated name under the project's folder in the data dir. */
    storedName: text("stored_name").notNull(),
    kind: text("kind", { enum: ["raw_doc", "dataset_upload"] }).notNull(),
    status: text("status", { enum: ["uploading", "extracting", "needs_mapping", "ready", "failed"] }).notNull().default("uploading"),
    mimeType: text("mime_type").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    sha256: text("sha256").notNull(),
    pageCount: integer("page_count"),
    charCount: integer("char_count"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    /** What extraction or import found: encoding, chunk count, imported/invalid rows, first errors. */
    details: text("details", { mode: "json" }).$type<FileDetails>(),
    createdAt: createdAt(),
  },
  (t) => [index("files_project_idx").on(t.projectId), uniqueIndex("files_project_sha_kind_idx").on(t.projectId, t.kind, t.sha256)],
);

export const chunks = sqliteTable(
  "chunks",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    fileId: text("file_id")
      .notNull()
      .references(() => files.id, { onDelete: "cascade" }),
    ordinal: integer("ordinal").notNull(),
    text: text("text").notNull(),
    pageStart: integer("page_start"),
    pageEnd: integer("page_end"),
    headingPath: text("heading_path"),
    charStart: integer("char_start").notNull(),
    charEnd: integer("char_end").notNull(),
    tokenCount: integer("token_count").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("chunks_file_idx").on(t.fileId, t.ordinal), index("chunks_project_idx").on(t.projectId)],
);

export const examples = sqliteTable(
  "examples",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    split: text("split", { enum: ["preview", "train", "eval"] }).notNull(),
    instruction: text("instruction").notNull(),
    input: text("input").notNull().default(""),
    output: text("output").notNull(),
    isValid: integer("is_valid", { mode: "boolean" }).notNull(),
    validationError: text("validation_error"),
    tokenCount: integer("token_count").notNull().default(0),
    /** True when no model tokenizer was available and the count is a heuristic. */
    tokenCountApprox: integer("token_count_approx", { mode: "boolean" }).notNull().default(true),
    /** Tokens before the answer (masked in training); null on rows counted before this was kept. */
    promptTokenCount: integer("prompt_token_count"),
    groundingScore: real("grounding_score"),
    /** Provenance: generated from a chunk, or imported from a dataset file at a line. */
    chunkId: text("chunk_id").references(() => chunks.id, { onDelete: "set null" }),
    fileId: text("file_id").references(() => files.id, { onDelete: "cascade" }),
    sourceLine: integer("source_line"),
    /** The generation job that wrote it: how a resumed job knows what it already made. */
    jobId: text("job_id"),
    generatorModel: text("generator_model"),
    promptVersion: text("prompt_version"),
    contentHash: text("content_hash"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull().default(sql`(unixepoch('subsec') * 1000)`),
  },
  // Few indexes on purpose: each one slows bulk deletes. The review indexes
  // (project, split, validity, tokens / created_at) are in drizzle/0003 and 0004.
  (t) => [index("examples_project_tokens_idx").on(t.projectId, t.tokenCount), index("examples_chunk_idx").on(t.chunkId)],
);

/**
 * Examples deleted in Review, waiting for the background purge: out of every read
 * (`liveRow`) and of the counts already. Triggers in drizzle/0009.
 */
export const examplesDeleted = sqliteTable("examples_deleted", {
  exampleRowid: integer("example_rowid").primaryKey(),
});

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

/** Machine-wide state that belongs to no project (the last hardware check, secrets). */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value", { mode: "json" }).$type<unknown>().notNull(),
  updatedAt: integer("updated_at").notNull().default(sql`(unixepoch('subsec') * 1000)`),
});

export type ProjectRow = typeof projects.$inferSelect;
export type FileRow = typeof files.$inferSelect;
export type ExampleRow = typeof examples.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type TrainingRunRow = typeof trainingRuns.$inferSelect;
export type ArtifactRow = typeof artifacts.$inferSelect;

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
