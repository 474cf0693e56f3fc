/** FileInfo (the spec's type, README's API table) and the upload limits. */
import { z } from "zod";
import type { FileRow } from "./tables.ts";

export const MAX_FILE_BYTES = 50 * 1024 * 1024;
export const MAX_FILES_PER_REQUEST = 20;

export const FILE_KINDS = ["raw_doc", "dataset_upload"] as const;
export type FileKind = (typeof FILE_KINDS)[number];
export const fileKindSchema = z.enum(FILE_KINDS, { error: "kind must be raw_doc (documents) or dataset_upload (a ready dataset)." });

/** What extraction or import found about a file (files.details). */
export const fileDetailsSchema = z.object({
  /** The sniffed type: pdf, docx, text, jsonl, json, csv. */
  type: z.string().optional(),
  encoding: z.string().optional(),
  chunks: z.number().optional(),
  warnings: z.array(z.string()).optional(),
  imported: z.number().optional(),
  invalid: z.number().optional(),
  first_errors: z.array(z.string()).optional(),
  summary: z.string().optional(),
  shape: z.string().optional(),
  columns: z.array(z.string()).optional(),
  sample: z.record(z.string(), z.unknown()).optional(),
});
export type FileDetails = z.infer<typeof fileDetailsSchema>;

/** The spec's FileInfo, as the API answers it. */
export const fileJsonSchema = z.object({
  id: z.string(),
  filename: z.string(),
  kind: z.enum(FILE_KINDS),
  status: z.enum(["uploading", "extracting", "needs_mapping", "ready", "failed"]),
  mime_type: z.string().nullable(),
  size_bytes: z.number().int(),
  sha256: z.string(),
  page_count: z.number().int().nullable(),
  char_count: z.number().int().nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  details: fileDetailsSchema,
  created_at: z.string(),
});
/** One file an upload refused, and why. */
export const uploadRefusalSchema = z.object({ filename: z.string(), error_code: z.string(), detail: z.string() });

export function toFileJson(f: FileRow) {
  const details: FileDetails = f.details ?? {};
  return {
    id: f.id,
    filename: f.filename,
    kind: f.kind,
    status: f.status,
    mime_type: f.mimeType,
    size_bytes: f.sizeBytes,
    sha256: f.sha256,
    page_count: f.pageCount,
    char_count: f.charCount,
    error_code: f.errorCode,
    error_message: f.errorMessage,
    details,
    created_at: new Date(f.createdAt).toISOString(),
  };
}

export type FileJson = ReturnType<typeof toFileJson>;

const MAX_NAME_LENGTH = 255;

/**
 * Display text only: no path parts, no control characters, bounded length; any script
 * is fine. A long name is shortened before its extension, which decides its type.
 */
export function displayName(raw: string | undefined): string {
  const base = (raw ?? "").split(/[\\/]/).pop() ?? "";
  let clean = base.replace(/[\u0000-\u001f\u007f]/g, "").trim();
  if (clean.length > MAX_NAME_LENGTH) {
    const ext = /\.[^.\s]{1,16}$/.exec(clean)?.[0] ?? "";
    clean = `${clean.slice(0, MAX_NAME_LENGTH - ext.length - 1).trimEnd()}…${ext}`;
  }
  return clean === "" || clean === "." || clean === ".." ? "unnamed" : clean;
}
