/**
 * Writes to the `examples` table from other capabilities go through here: generation
 * adds examples, documents remove those made from a deleted file, training reads token
 * statistics. Review and import (this folder) use it too for the shared moves.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { examples, type ExampleRow } from "../db/schema.ts";

export type NewExample = typeof examples.$inferInsert;
export type ExampleStore = ReturnType<typeof createExampleStore>;

const BATCH = 500;
const TRAINABLE = ["train", "eval"] as const;

export function createExampleStore(db: Db) {
  const sqlite = db.$client;
  const trainable = (projectId: string) => and(eq(examples.projectId, projectId), eq(examples.isValid, true), inArray(examples.split, [...TRAINABLE]));
  const countTrainable = (projectId: string): number => db.select({ n: sql<number>`count(*)` }).from(examples).where(trainable(projectId)).get()!.n;

  return {
    /** Inserts in batches; call inside a transaction to keep them with other writes. */
    insert(rows: NewExample[]): void {
      for (let i = 0; i < rows.length; i += BATCH) db.insert(examples).values(rows.slice(i, i + BATCH)).run();
    },

    deleteForFile: (fileId: string) => void db.delete(examples).where(eq(examples.fileId, fileId)).run(),

    deleteForChunks(chunkIds: string[]): void {
      for (let i = 0; i < chunkIds.length; i += BATCH) db.delete(examples).where(inArray(examples.chunkId, chunkIds.slice(i, i + BATCH))).run();
    },

    deletePreview: (projectId: string) => void db.delete(examples).where(and(eq(examples.projectId, projectId), eq(examples.split, "preview"))).run(),

    preview: (projectId: string): ExampleRow[] =>
      db.select().from(examples).where(and(eq(examples.projectId, projectId), eq(examples.split, "preview"))).orderBy(asc(examples.createdAt)).all(),

    /** What one job already wrote: a resumed generation recounts its work per chunk. */
    writtenByJob: (jobId: string) => db.select({ chunkId: examples.chunkId, isValid: examples.isValid }).from(examples).where(eq(examples.jobId, jobId)).all(),

    /** The project's valid examples' text and hash, for duplicate checks (preview rows only when asked). */
    validTexts: (projectId: string, withPreview: boolean) =>
      db
        .select({ instruction: examples.instruction, input: examples.input, output: examples.output, hash: examples.contentHash })
        .from(examples)
        .where(and(eq(examples.projectId, projectId), eq(examples.isValid, true), withPreview ? sql`1=1` : sql`${examples.split} != 'preview'`))
        .all(),

    countTrainable,

    /** The 95th percentile of valid train/eval examples' token counts (null with none). */
    p95Tokens(projectId: string): number | null {
      const n = countTrainable(projectId);
      if (n === 0) return null;
      const row = sqlite
        .query("select token_count as t from examples where project_id = ? and is_valid = 1 and split in ('train', 'eval') order by token_count limit 1 offset ?")
        .get(projectId, Math.min(n - 1, Math.floor(n * 0.95))) as { t: number };
      return row.t;
    },

    /** Valid train examples and their mean tokens; how many train/eval ones are over maxSeq. */
    lengthStats(projectId: string, maxSeq: number): { train: number; avgTokens: number; over: number } {
      const { n: train, avg } = sqlite
        .query("select count(*) as n, coalesce(avg(token_count), 0) as avg from examples where project_id = ? and split = 'train' and is_valid = 1")
        .get(projectId) as { n: number; avg: number };
      const { n: over } = sqlite
        .query("select count(*) as n from examples where project_id = ? and is_valid = 1 and split in ('train', 'eval') and token_count > ?")
        .get(projectId, maxSeq) as { n: number };
      return { train, avgTokens: avg, over };
    },
  };
}
