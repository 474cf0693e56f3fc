/**
 * Documents and dataset files of a project: receiving uploads (streamed to disk,
 * typed by content, de-duplicated by SHA-256), listing, deleting with everything
 * derived from them, and extracting documents into chunks as a job.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { extname, join } from "node:path";
import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { chunks, files, type FileRow } from "../db/schema.ts";
import type { ExampleStore } from "../datasets/example-store.ts";
import { projectDir } from "../lib/data-dir.ts";
import { AppError, notFound } from "../lib/errors.ts";
import type { JobQueue } from "../jobs/queue.ts";
import { JobError } from "../jobs/queue.ts";
import type { ProjectService } from "../projects/service.ts";
import { chunkBlocks, DEFAULT_CHUNKING, type ChunkCursor } from "./chunker.ts";
import { plainTextSections } from "./extract.ts";
import { extractSectionsInChild, type ExtractedSection } from "./extract-child.ts";
import { fileDetailsSchema, fileKindSchema, MAX_FILE_BYTES, type FileKind } from "./schemas.ts";
import { MIME, sniffType, type SniffedType } from "./sniff.ts";
import { receiveMultipart } from "./upload.ts";

/** Uploads cut by a crash or kill leave `.incoming/*.part` files: nothing can finish them. */
function removeIncomingLeftovers(projectsDir: string) {
  if (!existsSync(projectsDir)) return;
  for (const project of readdirSync(projectsDir)) {
    rmSync(join(projectsDir, project, "uploads", ".incoming"), { recursive: true, force: true });
  }
}

/** A chunk of a ready document, with what a generation prompt cites. */
export type ReadyChunk = { id: string; text: string; fileId: string; filename: string; pageStart: number | null; headingPath: string | null; tokenCount: number };

export type UploadError = { filename: string; error_code: string; detail: string; status: number };
export type DocumentService = ReturnType<typeof createDocumentService>;

export const EXTRACT_JOB = "document_extract";
export const IMPORT_JOB = "dataset_import";

export function createDocumentService(deps: {
  db: Db;
  dataDir: string;
  queue: JobQueue;
  projects: ProjectService;
  examples: ExampleStore;
  maxFileBytes?: number;
  now?: () => number;
  diskGuard?: () => void;
}) {
  const { db, dataDir, queue } = deps;
  const now = deps.now ?? Date.now;
  const uploadsDir = (projectId: string) => join(projectDir(dataDir, projectId), "uploads");

  function get(projectId: string, fileId: string): FileRow {
    const row = db.select().from(files).where(and(eq(files.id, fileId), eq(files.projectId, projectId))).get();
    if (!row) throw notFound("File", "file_not_found");
    return row;
  }

  const byId = (fileId: string): FileRow | undefined => db.select().from(files).where(eq(files.id, fileId)).get();
  const pathOf = (f: FileRow) => join(uploadsDir(f.projectId), f.storedName);
  removeIncomingLeftovers(join(dataDir, "projects"));

  /** In batches: one statement per thousands of chunks would pass SQLite's variable limit. */
  function insertChunks(file: FileRow, made: ReturnType<typeof chunkBlocks>, first: number) {
    for (let i = 0; i < made.length; i += 500) {
      db.insert(chunks)
        .values(made.slice(i, i + 500).map((c, j) => ({ id: crypto.randomUUID(), projectId: file.projectId, fileId: file.id, ordinal: first + i + j, ...c })))
        .run();
    }
  }

  /** Other capabilities (dataset import) change a file's status through here. */
  function setFile(id: string, changes: Partial<typeof files.$inferInsert>) {
    const details = changes.details ? fileDetailsSchema.parse(changes.details) : changes.details;
    db.update(files).set({ ...changes, details }).where(eq(files.id, id)).run();
  }

  queue.register(EXTRACT_JOB, {
    payload: z.object({ fileId: z.string() }),
    group: "cpu",
    maxAttempts: 1,
    run: async ({ payload, progress }) => {
      const file = byId(payload.fileId);
      if (!file) return { skipped: "file deleted" };
      try {
        progress(5, `Reading ${file.filename}`);
        const type = file.details?.type as SniffedType;
        // Section by section, a 50 MB file never sits in memory as chunks whole; PDF and
        // DOCX are read in a child process (extract-child.ts), off the event loop.
        const sections: Iterable<ExtractedSection & { encoding?: string }> | AsyncIterable<ExtractedSection> =
          type === "text" ? plainTextSections(await Bun.file(pathOf(file)).bytes(), file.filename) : extractSectionsInChild(type, pathOf(file), file.filename);
        const cursor: ChunkCursor = { headings: [], offset: 0 };
        let chunkCount = 0;
        let charCount = 0;
        let pageCount: number | null = null;
        let encoding: string | undefined;
        let warnings: string[] = [];
        // Idempotent: a rerun (after a crash) replaces the chunks it had written.
        db.delete(chunks).where(eq(chunks.fileId, file.id)).run();
        for await (const section of sections) {
          if (section.meta) {
            pageCount = section.meta.pageCount;
            warnings = [...section.meta.warnings];
            encoding = section.meta.encoding;
          }
          if ("encoding" in section && section.encoding) encoding = section.encoding;
          const made = chunkBlocks(section.blocks, DEFAULT_CHUNKING, cursor);
          charCount += section.blocks.reduce((n, b) => n + b.text.length, 0);
          insertChunks(file, made, chunkCount);
          chunkCount += made.length;
          // Each section leaves megabytes of short-lived strings: collect them now rather
          // than letting the heap (and RSS) grow to several times the file's size; then
          // let waiting requests in before the next section.
          if (type === "text") Bun.gc(true);
          await new Promise((r) => setImmediate(r));
          progress(Math.min(95, 10 + (85 * cursor.offset) / Math.max(1, file.sizeBytes)), `Chunking: ${chunkCount} chunks`);
        }
        if (type === "text" && encoding === "windows-1252") warnings.push("The file is not UTF-8; it was read as Windows-1252.");
        setFile(file.id, {
          status: "ready",
          pageCount,
          charCount,
          errorCode: null,
          errorMessage: null,
          details: { type, encoding, chunks: chunkCount, warnings },
        });
        return { chunks: chunkCount, pages: pageCount, chars: charCount };
      } catch (err) {
        const e = err instanceof AppError ? err : new AppError(422, "extraction_failed", `${file.filename} could not be read.`);
        setFile(file.id, { status: "failed", errorCode: e.code, errorMessage: e.message });
        throw new JobError(e.message);
      }
    },
  });

  async function accept(projectId: string, kind: FileKind, f: Awaited<ReturnType<typeof receiveMultipart>>["files"][number]) {
    if (f.tooLarge) throw new AppError(413, "file_too_large", `${f.filename} is larger than ${Math.round((deps.maxFileBytes ?? MAX_FILE_BYTES) / 1024 / 1024)} MB, the limit per file.`);
    const type = sniffType(f.head, f.filename, kind);
    const id = crypto.randomUUID();
    const storedName = `${id}${extname(f.filename).toLowerCase()}`;
    // Claim the content hash first, in one synchronous step: of identical uploads sent
    // at once exactly one inserts, the others get the 409 and their temp file goes.
    const claimed = db
      .insert(files)
      .values({ id, projectId, filename: f.filename, storedName, kind, status: "extracting", mimeType: MIME[type], sizeBytes: f.size, sha256: f.sha256, details: { type }, createdAt: now() })
      .onConflictDoNothing()
      .returning({ id: files.id })
      .get();
    if (!claimed) {
      const existing = db.select().from(files).where(and(eq(files.projectId, projectId), eq(files.kind, kind), eq(files.sha256, f.sha256))).get();
      throw new AppError(409, "duplicate_file", `${f.filename} was already uploaded${existing ? ` (as “${existing.filename}”)` : ""}.`);
    }
    try {
      await rename(f.tempPath, join(uploadsDir(projectId), storedName));
    } catch (err) {
      db.delete(files).where(eq(files.id, id)).run();
      throw err;
    }
    queue.enqueue(kind === "raw_doc" ? EXTRACT_JOB : IMPORT_JOB, projectId, { fileId: id });
    return get(projectId, id);
  }

  return {
    get,
    byId,
    setFile,
    pathOf,

    /** The chunks of the project's ready documents, in document order: what generation reads. */
    readyChunks(projectId: string): ReadyChunk[] {
      return db
        .select({ id: chunks.id, text: chunks.text, fileId: chunks.fileId, filename: files.filename, pageStart: chunks.pageStart, headingPath: chunks.headingPath, tokenCount: chunks.tokenCount })
        .from(chunks)
        .innerJoin(files, eq(files.id, chunks.fileId))
        .where(and(eq(chunks.projectId, projectId), eq(files.status, "ready")))
        .orderBy(asc(files.createdAt), asc(chunks.ordinal))
        .all();
    },

    list(projectId: string): FileRow[] {
      deps.projects.get(projectId);
      return db.select().from(files).where(eq(files.projectId, projectId)).orderBy(asc(files.createdAt)).all();
    },

    async upload(projectId: string, request: Request): Promise<{ accepted: FileRow[]; errors: UploadError[] }> {
      deps.projects.get(projectId);
      deps.diskGuard?.();
      const received = await receiveMultipart(request, join(uploadsDir(projectId), ".incoming"), deps.maxFileBytes);
      // Whatever happens next, no temp file outlives the request (accepted ones were moved).
      try {
        const kind = fileKindSchema.safeParse(received.fields.kind ?? "raw_doc");
        if (!kind.success) throw new AppError(422, "validation_error", "kind must be raw_doc (documents) or dataset_upload (a ready dataset).");
        if (received.files.length === 0) throw new AppError(422, "no_files", "No file was sent: attach one or more files in the `files` field.");
        const accepted: FileRow[] = [];
        const errors: UploadError[] = [];
        for (const f of received.files) {
          try {
            accepted.push(await accept(projectId, kind.data, f));
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            errors.push({ filename: f.filename, error_code: err.code, detail: err.message, status: err.status });
          }
        }
        return { accepted, errors };
      } finally {
        await Promise.all(received.files.map((f) => rm(f.tempPath, { force: true })));
      }
    },

    /** The file, its chunks and every example made from them or imported from it. */
    async remove(projectId: string, fileId: string): Promise<void> {
      const file = get(projectId, fileId);
      db.transaction((tx) => {
        deps.examples.deleteForChunks(tx.select({ id: chunks.id }).from(chunks).where(eq(chunks.fileId, fileId)).all().map((c) => c.id));
        tx.delete(files).where(eq(files.id, fileId)).run();
      });
      for (const jobId of queue.activeWithPayload("fileId", fileId)) queue.cancel(jobId);
      await rm(pathOf(file), { force: true });
    },

  };
}
