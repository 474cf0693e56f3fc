/**
 * Importing a ready dataset (JSONL, JSON, CSV): every row is validated; valid rows
 * become examples, invalid ones are kept as invalid examples with their reason and
 * line, and the file gets a one-line summary ("1,942 imported, 58 invalid (…)").
 * When the columns are not recognised, the file waits for the user's mapping.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import type { FileRow } from "../documents/tables.ts";
import { projectTokenCounter } from "../models/tokenizer.ts";
import { IMPORT_JOB, type DocumentService } from "../documents/service.ts";
import { decodeText } from "../documents/text-decode.ts";
import { AppError } from "../lib/errors.ts";
import { formatCount } from "../lib/format.ts";
import { JobError, type JobQueue } from "../jobs/queue.ts";
import { parseDataset } from "./parse.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ExampleStore, NewExample } from "./example-store.ts";
import { columnMappingSchema, detectShape, rowToFields, type ColumnMapping, type Shape } from "./shapes.ts";
import { contentHash, exampleColumns, MIN_VALID_EXAMPLES, splitFor, validateFields } from "./validate.ts";

/** Rows checked between two progress reports. */
const PROGRESS_EVERY = 20_000;

export type ImportSummary = { imported: number; invalid: number; first_errors: string[]; summary: string; shape: string };

export type ImportService = ReturnType<typeof createImportService>;

export function createImportService(deps: { db: Db; queue: JobQueue; documents: DocumentService; examples: ExampleStore; projects: ProjectService }) {
  const { db, documents } = deps;

  /** Reads, checks and stores one file, telling `progress` where it is; the rows land in one transaction. */
  async function importFile(file: FileRow, mapping: ColumnMapping | undefined, progress: (pct: number, message: string) => void): Promise<ImportSummary | { needs_mapping: true }> {
    const type = file.details?.type as "jsonl" | "json" | "csv";
    const bytes = readFileSync(deps.documents.pathOf(file));
    const { text, encoding } = decodeText(bytes, file.filename);
    const parsed = parseDataset(type, text, file.filename);
    const valid = parsed.records.filter((r) => r.value !== undefined).map((r) => r.value);
    if (valid.length === 0 && parsed.records.length === 0) throw new AppError(422, "empty_file", `${file.filename} holds no rows.`);
    const shape: Shape | null = mapping ? { name: "mapped", mapping } : detectShape(valid.slice(0, 50));
    if (!shape) {
      const sample = valid.find((v) => typeof v === "object" && v !== null && !Array.isArray(v)) as Record<string, unknown> | undefined;
      documents.setFile(file.id, { status: "needs_mapping", details: { type, encoding, columns: parsed.columns, sample: sample ?? {} } });
      return { needs_mapping: true };
    }
    if (mapping) {
      const missing = [mapping.instruction, mapping.output, mapping.input].filter((c): c is string => !!c && !parsed.columns.includes(c));
      if (missing.length) throw new AppError(422, "unknown_column", `${file.filename} has no column ${missing.map((m) => `“${m}”`).join(", ")}.`);
    }
    const errors: string[] = [];
    const seen = new Map<string, number>();
    const countTokens = projectTokenCounter(deps.projects.get(file.projectId).modelInfo);
    const rows: NewExample[] = [];
    const total = parsed.records.length;
    for (const record of parsed.records) {
      if (rows.length % PROGRESS_EVERY === 0) {
        progress(10 + (60 * rows.length) / total, `${file.filename}: ${formatCount(rows.length)} of ${formatCount(total)} rows checked`);
        // Lets the progress reach the page (and other requests run) on a large file.
        await Bun.sleep(0);
      }
      const where = `${parsed.unit} ${record.line}`;
      const fields = record.error ?? rowToFields(record.value, shape);
      let reason = typeof fields === "string" ? fields : validateFields(fields);
      const f = typeof fields === "string" ? { instruction: "", input: "", output: "" } : fields;
      const hash = typeof fields === "string" ? null : contentHash(f);
      if (!reason && hash && seen.has(hash)) reason = `duplicate of ${parsed.unit} ${seen.get(hash)}`;
      if (hash && !seen.has(hash)) seen.set(hash, record.line);
      if (reason && errors.length < 5) errors.push(`${where}: ${reason}`);
      rows.push({
        id: crypto.randomUUID(),
        projectId: file.projectId,
        fileId: file.id,
        sourceLine: record.line,
        split: splitFor(`${file.id}:${record.line}`),
        ...exampleColumns(f, reason, countTokens(f), hash),
      });
    }
    const invalid = rows.filter((r) => !r.isValid).length;
    const imported = rows.length - invalid;
    const summary = `${formatCount(imported)} imported, ${formatCount(invalid)} invalid${errors.length ? ` (first errors: ${errors.join("; ")})` : ""}`;
    progress(70, `${file.filename}: writing ${formatCount(rows.length)} examples`);
    await Bun.sleep(0);
    db.transaction(() => {
      deps.examples.deleteForFile(file.id);
      deps.examples.bulkInsert(rows);
      documents.setFile(file.id, {
        status: "ready",
        errorCode: null,
        errorMessage: null,
        details: { type, encoding, shape: shape.name, imported, invalid, first_errors: errors, summary, columns: parsed.columns },
      });
    });
    // A large import leaves the WAL as big as its rows: fold it into the database now,
    // so the reads that follow (Review, export) do not go through the WAL index.
    db.$client.exec("PRAGMA wal_checkpoint(PASSIVE)");
    if (imported >= MIN_VALID_EXAMPLES) deps.projects.transition(file.projectId, "dataset_ready");
    return { imported, invalid, first_errors: errors, summary, shape: shape.name };
  }

  deps.queue.register(IMPORT_JOB, {
    payload: z.object({ fileId: z.string(), mapping: columnMappingSchema.optional() }),
    group: "cpu",
    maxAttempts: 1,
    run: async ({ payload, progress }) => {
      const file = documents.byId(payload.fileId);
      if (!file) return { skipped: "file deleted" };
      progress(5, `Reading ${file.filename}`);
      try {
        return await importFile(file, payload.mapping, progress);
      } catch (err) {
        const e = err instanceof AppError ? err : new AppError(422, "import_failed", `${file.filename} could not be imported.`);
        documents.setFile(file.id, { status: "failed", errorCode: e.code, errorMessage: e.message });
        throw new JobError(e.message);
      }
    },
  });

  return {
    /** The user said which column is which: import again with that mapping. */
    applyMapping(projectId: string, fileId: string, mapping: ColumnMapping): FileRow {
      const file = deps.documents.get(projectId, fileId);
      if (file.kind !== "dataset_upload") throw new AppError(409, "not_a_dataset", "Column mapping applies to dataset files only.");
      const columns = file.details?.columns ?? [];
      const missing = [mapping.instruction, mapping.output, mapping.input].filter((c): c is string => !!c && !columns.includes(c));
      if (missing.length) throw new AppError(422, "unknown_column", `${file.filename} has no column ${missing.map((m) => `“${m}”`).join(", ")}; its columns are ${columns.join(", ")}.`);
      documents.setFile(fileId, { status: "extracting" });
      deps.queue.enqueue(IMPORT_JOB, projectId, { fileId, mapping });
      return deps.documents.get(projectId, fileId);
    },
  };
}
