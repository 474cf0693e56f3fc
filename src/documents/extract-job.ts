/**
 * The extraction job: a document's text, section by section, into chunks. While any
 * document of a draft project is extracted, the project is `chunking`.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { chunks, files, type FileRow } from "./tables.ts";
import { AppError } from "../lib/errors.ts";
import { JobError, type JobQueue } from "../jobs/queue.ts";
import type { ProjectService } from "../projects/service.ts";
import { chunkBlocks, DEFAULT_CHUNKING, type ChunkCursor } from "./chunker.ts";
import { plainTextSections } from "./extract.ts";
import { extractSectionsInChild, type ExtractedSection } from "./extract-child.ts";
import type { SniffedType } from "./sniff.ts";

export const EXTRACT_JOB = "document_extract";

type Deps = {
  db: Db;
  queue: JobQueue;
  projects: ProjectService;
  byId: (fileId: string) => FileRow | undefined;
  pathOf: (file: FileRow) => string;
  setFile: (id: string, changes: Partial<typeof files.$inferInsert>) => void;
};

/** In batches: one statement per thousands of chunks would pass SQLite's variable limit. */
function insertChunks(db: Db, file: FileRow, made: ReturnType<typeof chunkBlocks>, first: number) {
  for (let i = 0; i < made.length; i += 500) {
    db.insert(chunks)
      .values(made.slice(i, i + 500).map((c, j) => ({ id: crypto.randomUUID(), projectId: file.projectId, fileId: file.id, ordinal: first + i + j, ...c })))
      .run();
  }
}

export function registerExtractJob(deps: Deps) {
  deps.queue.register(EXTRACT_JOB, {
    payload: z.object({ fileId: z.string() }),
    group: "cpu",
    maxAttempts: 1,
    run: async ({ job: self, payload, progress }) => {
      const file = deps.byId(payload.fileId);
      if (!file) return { skipped: "file deleted" };
      try {
        progress(5, `Reading ${file.filename}`);
        const type = file.details?.type as SniffedType;
        // Section by section, a 50 MB file never sits in memory as chunks whole; PDF and
        // DOCX are read in a child process (extract-child.ts), off the event loop.
        const sections: Iterable<ExtractedSection & { encoding?: string }> | AsyncIterable<ExtractedSection> =
          type === "text" ? plainTextSections(await Bun.file(deps.pathOf(file)).bytes(), file.filename) : extractSectionsInChild(type, deps.pathOf(file), file.filename);
        const cursor: ChunkCursor = { headings: [], offset: 0 };
        let chunkCount = 0;
        let charCount = 0;
        let pageCount: number | null = null;
        let encoding: string | undefined;
        let warnings: string[] = [];
        // Idempotent: a rerun (after a crash) replaces the chunks it had written.
        deps.db.delete(chunks).where(eq(chunks.fileId, file.id)).run();
        for await (const section of sections) {
          if (section.meta) {
            pageCount = section.meta.pageCount;
            warnings = [...section.meta.warnings];
            encoding = section.meta.encoding;
          }
          if ("encoding" in section && section.encoding) encoding = section.encoding;
          const made = chunkBlocks(section.blocks, DEFAULT_CHUNKING, cursor);
          charCount += section.blocks.reduce((n, b) => n + b.text.length, 0);
          insertChunks(deps.db, file, made, chunkCount);
          chunkCount += made.length;
          // Each section leaves megabytes of short-lived strings: collect them now rather
          // than letting the heap (and RSS) grow to several times the file's size; then
          // let waiting requests in before the next section.
          if (type === "text") Bun.gc(true);
          await new Promise((r) => setImmediate(r));
          progress(Math.min(95, 10 + (85 * cursor.offset) / Math.max(1, file.sizeBytes)), `Chunking: ${chunkCount} chunks`);
        }
        if (type === "text" && encoding === "windows-1252") warnings.push("The file is not UTF-8; it was read as Windows-1252.");
        deps.setFile(file.id, {
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
        deps.setFile(file.id, { status: "failed", errorCode: e.code, errorMessage: e.message });
        throw new JobError(e.message);
      } finally {
        // The project was `chunking` for this file: back to draft when no other extraction is left.
        if (deps.queue.activeIds(file.projectId, [EXTRACT_JOB]).every((id) => id === self.id)) deps.projects.transition(file.projectId, "extraction_done");
      }
    },
  });

}
