/** The `examples` table and its soft-delete list (owner: datasets, through example-store.ts and the review service). */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt } from "../db/columns.ts";
import { projects } from "../projects/table.ts";
import { files, chunks } from "../documents/tables.ts";

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
    /** "note": a study note (a restatement to learn from, answered to "Tell me about …"); "example": anything else. */
    kind: text("kind", { enum: ["example", "note"] }).notNull().default("example"),
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

export type ExampleRow = typeof examples.$inferSelect;
