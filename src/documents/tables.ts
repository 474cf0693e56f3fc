/** The `files` and `chunks` tables (owner: documents/service.ts and its extract job). */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt } from "../db/columns.ts";
import type { FileDetails } from "./schemas.ts";
import { projects } from "../projects/table.ts";

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

export type FileRow = typeof files.$inferSelect;
