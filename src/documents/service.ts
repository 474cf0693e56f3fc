/**
 * Documents and dataset files of a project: receiving uploads (streamed to disk,
 * typed by content, de-duplicated by SHA-256), listing, deleting with everything
 * derived from them, and extracting documents into chunks as a job.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { extname, join } from "node:path";
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { chunks, files, type FileRow } from "./tables.ts";
import type { ExampleStore } from "../datasets/example-store.ts";
import { projectDir } from "../lib/data-dir.ts";
import { AppError, notFound } from "../lib/errors.ts";
import type { JobQueue } from "../jobs/queue.ts";
import type { ProjectService } from "../projects/service.ts";
import { fileDetailsSchema, fileKindSchema, MAX_FILE_BYTES, type FileKind } from "./schemas.ts";
import { MIME, sniffType } from "./sniff.ts";
import { receiveMultipart } from "./upload.ts";
import { EXTRACT_JOB, registerExtractJob } from "./extract-job.ts";

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

export { EXTRACT_JOB };
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

  /** Other capabilities (dataset import) change a file's status through here. */
  function setFile(id: string, changes: Partial<typeof files.$inferInsert>) {
    const details = changes.details ? fileDetailsSchema.parse(changes.details) : changes.details;
    db.update(files).set({ ...changes, details }).where(eq(files.id, id)).run();
  }

  registerExtractJob({ db, queue, projects: deps.projects, byId, pathOf, setFile });

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
    if (kind === "raw_doc") deps.projects.transition(projectId, "extraction_queued");
    return get(projectId, id);
  }

  async function receiveAndAccept(projectId: string, request: Request): Promise<{ accepted: FileRow[]; errors: UploadError[] }> {
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

    /**
     * The `k` chunks of the project's ready documents that best match `query` by BM25
     * (SQLite FTS5 over chunks, any of the query's words): the scorecard's retrieval arm.
     */
    retrieve(projectId: string, query: string, k: number): ReadyChunk[] {
      const words = [...new Set((query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 1))].slice(0, 32);
      if (words.length === 0 || k <= 0) return [];
      return db.$client
        .query(
          `select c.id, c.text, c.file_id as fileId, f.filename, c.page_start as pageStart, c.heading_path as headingPath, c.token_count as tokenCount
           from chunks_fts join chunks c on c.rowid = chunks_fts.rowid join files f on f.id = c.file_id
           where chunks_fts match ? and c.project_id = ? and f.status = 'ready'
           order by bm25(chunks_fts) limit ?`,
        )
        .all(words.map((w) => `"${w}"`).join(" OR "), projectId, k) as ReadyChunk[];
    },

    list(projectId: string): FileRow[] {
      deps.projects.get(projectId);
      return db.select().from(files).where(eq(files.projectId, projectId)).orderBy(asc(files.createdAt)).all();
    },

    async upload(projectId: string, request: Request): Promise<{ accepted: FileRow[]; errors: UploadError[] }> {
      deps.projects.get(projectId);
      deps.diskGuard?.();
      // A draft is `uploading` while the bytes arrive; its documents' extraction makes it `chunking`.
      deps.projects.transition(projectId, "upload_started");
      try {
        return await receiveAndAccept(projectId, request);
      } finally {
        deps.projects.transition(projectId, "upload_abandoned");
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
