/** FileInfo (PRODUCT.md) and the upload limits. */
import { z } from "zod";
import type { FileRow } from "../db/schema.ts";

export const MAX_FILE_BYTES = 50 * 1024 * 1024;
export const MAX_FILES_PER_REQUEST = 20;

export const FILE_KINDS = ["raw_doc", "dataset_upload"] as const;
export type FileKind = (typeof FILE_KINDS)[number];
export const fileKindSchema = z.enum(FILE_KINDS, { error: "kind must be raw_doc (documents) or dataset_upload (a ready dataset)." });

export type FileDetails = {
  type?: string;
  encoding?: string;
  chunks?: number;
  warnings?: string[];
  imported?: number;
  invalid?: number;
  first_errors?: string[];
  summary?: string;
  shape?: string;
  columns?: string[];
  sample?: Record<string, unknown>;
};

export function toFileJson(f: FileRow) {
  const details = (f.details ?? {}) as FileDetails;
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
