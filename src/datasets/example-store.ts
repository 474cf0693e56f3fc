/**
 * Writes to the `examples` table from other capabilities go through here: generation
 * adds examples, documents remove those made from a deleted file, training reads token
 * statistics. Review and import (this folder) use it too for the shared moves.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { SQLQueryBindings } from "bun:sqlite";
import type { Db } from "../db/client.ts";
import { examples, type ExampleRow } from "./tables.ts";

export type NewExample = typeof examples.$inferInsert;
export type ExampleStore = ReturnType<typeof createExampleStore>;
/** Per document: its parts (chunks), how many gave examples, and the distinct questions per part. */
export type DocumentCoverage = { file_id: string; filename: string; parts: number; parts_used: number; questions: number; min: number; median: number; max: number };
/** An eval example with its document and source passage (chunk text; null for imported rows). */
export type HeldOutExample = { id: string; instruction: string; input: string; output: string; fileId: string | null; filename: string | null; source: string | null };

const BATCH = 500;

/**
 * A row deleted in Review waits in `examples_deleted` for the purge (drizzle/0009):
 * every read of examples keeps to live rows with this condition.
 */
export const liveRow = (alias = "examples") => `${alias}.rowid not in (select example_rowid from examples_deleted)`;
const LIVE = liveRow();

/** Columns of a bulk insert, each read from a new row (drizzle's defaults applied by hand). */
const BULK_COLUMNS: [string, (row: NewExample, now: number) => SQLQueryBindings][] = [
  ["id", (r) => r.id],
  ["project_id", (r) => r.projectId],
  ["split", (r) => r.split],
  ["instruction", (r) => r.instruction],
  ["input", (r) => r.input ?? ""],
  ["output", (r) => r.output],
  ["is_valid", (r) => (r.isValid ? 1 : 0)],
  ["validation_error", (r) => r.validationError ?? null],
  ["token_count", (r) => r.tokenCount ?? 0],
  ["token_count_approx", (r) => (r.tokenCountApprox === false ? 0 : 1)],
  ["prompt_token_count", (r) => r.promptTokenCount ?? null],
  ["grounding_score", (r) => r.groundingScore ?? null],
  ["chunk_id", (r) => r.chunkId ?? null],
  ["file_id", (r) => r.fileId ?? null],
  ["source_line", (r) => r.sourceLine ?? null],
  ["job_id", (r) => r.jobId ?? null],
  ["generator_model", (r) => r.generatorModel ?? null],
  ["prompt_version", (r) => r.promptVersion ?? null],
  ["kind", (r) => r.kind ?? "example"],
  ["content_hash", (r) => r.contentHash ?? null],
  ["created_at", (r, now) => r.createdAt ?? now],
  ["updated_at", (r, now) => r.updatedAt ?? now],
];
const TRAINABLE = ["train", "eval"] as const;

export function createExampleStore(db: Db) {
  const sqlite = db.$client;
  const live = (projectId: string) => and(eq(examples.projectId, projectId), sql.raw(LIVE));
  const trainable = (projectId: string) => and(live(projectId), eq(examples.isValid, true), inArray(examples.split, [...TRAINABLE]));
  const countTrainable = (projectId: string): number => db.select({ n: sql<number>`count(*)` }).from(examples).where(trainable(projectId)).get()!.n;

  return {
    /** Inserts in batches; call inside a transaction to keep them with other writes. */
    insert(rows: NewExample[]): void {
      for (let i = 0; i < rows.length; i += BATCH) db.insert(examples).values(rows.slice(i, i + BATCH)).run();
    },

    /**
     * A large insert (an import): the per-row FTS and count trigger is dropped for the
     * insert and put back from its own stored SQL, then the new rows are indexed and
     * counted in two statements (a third of the time: even a trigger that does nothing
     * costs ~20 µs a row). DDL is transactional in SQLite: call inside a transaction, so
     * a failure or crash brings the trigger back and nothing sees the rows half done.
     */
    bulkInsert(rows: NewExample[]): void {
      const after = (sqlite.query("select coalesce(max(rowid), 0) as r from examples").get() as { r: number }).r;
      const trigger = (sqlite.query("select sql from sqlite_master where type = 'trigger' and name = 'examples_ai'").get() as { sql: string }).sql;
      sqlite.run("drop trigger examples_ai");
      try {
        const insert = sqlite.prepare(`insert into examples (${BULK_COLUMNS.map(([c]) => c).join(", ")}) values (${BULK_COLUMNS.map(() => "?").join(", ")})`);
        const now = Date.now();
        for (const row of rows) insert.run(...BULK_COLUMNS.map(([, read]) => read(row, now)));
      } finally {
        sqlite.run(trigger);
      }
      // New rowids are past the largest one: the rows just written are exactly these.
      sqlite.run("insert into examples_fts(rowid, instruction, input, output) select rowid, instruction, input, output from examples not indexed where rowid > ?", [after]);
      // The counts from the rows in hand: a GROUP BY over them would sort them again.
      const counts = new Map<string, { projectId: string; split: string; isValid: number; n: number; tokens: number }>();
      for (const r of rows) {
        const key = `${r.projectId}\u0000${r.split}\u0000${r.isValid ? 1 : 0}`;
        const c = counts.get(key) ?? counts.set(key, { projectId: r.projectId, split: r.split, isValid: r.isValid ? 1 : 0, n: 0, tokens: 0 }).get(key)!;
        c.n++;
        c.tokens += r.tokenCount ?? 0;
      }
      const upsert = sqlite.prepare(
        "insert into example_counts(project_id, split, is_valid, n, tokens) values (?, ?, ?, ?, ?) on conflict(project_id, split, is_valid) do update set n = n + excluded.n, tokens = tokens + excluded.tokens",
      );
      for (const c of counts.values()) upsert.run(c.projectId, c.split, c.isValid, c.n, c.tokens);
    },

    deleteForFile: (fileId: string) => void db.delete(examples).where(eq(examples.fileId, fileId)).run(),

    deleteForChunks(chunkIds: string[]): void {
      for (let i = 0; i < chunkIds.length; i += BATCH) db.delete(examples).where(inArray(examples.chunkId, chunkIds.slice(i, i + BATCH))).run();
    },

    deletePreview: (projectId: string) => void db.delete(examples).where(and(eq(examples.projectId, projectId), eq(examples.split, "preview"))).run(),

    preview: (projectId: string): ExampleRow[] =>
      db.select().from(examples).where(and(live(projectId), eq(examples.split, "preview"))).orderBy(asc(examples.createdAt)).all(),

    /** What one job already wrote: a resumed generation recounts its work per chunk. */
    writtenByJob: (jobId: string) => db.select({ chunkId: examples.chunkId, isValid: examples.isValid }).from(examples).where(and(eq(examples.jobId, jobId), sql.raw(LIVE))).all(),

    /** The project's valid examples' text and hash, for duplicate checks (preview rows only when asked). */
    validTexts: (projectId: string, withPreview: boolean) =>
      db
        .select({ instruction: examples.instruction, input: examples.input, output: examples.output, hash: examples.contentHash })
        .from(examples)
        .where(and(live(projectId), eq(examples.isValid, true), withPreview ? sql`1=1` : sql`${examples.split} != 'preview'`))
        .all(),

    countTrainable,

    /** The 95th percentile of valid train/eval examples' token counts (null with none). */
    p95Tokens(projectId: string): number | null {
      const n = countTrainable(projectId);
      if (n === 0) return null;
      const row = sqlite
        .query(`select token_count as t from examples where project_id = ? and is_valid = 1 and ${LIVE} and split in ('train', 'eval') order by token_count limit 1 offset ?`)
        .get(projectId, Math.min(n - 1, Math.floor(n * 0.95))) as { t: number };
      return row.t;
    },

    /**
     * How valid examples of `splits` fare at a max_seq_length, by the trainer's rule:
     * whole, cut (the answer loses its end) or dropped (the prompt alone fills the
     * window); and the tokens a pass over them trains on.
     */
    fitAt(projectId: string, maxSeq: number, splits: readonly ("train" | "eval")[] = TRAINABLE) {
      const list = splits.map(() => "?").join(", ");
      const row = sqlite
        .query(
          `select count(*) as n, coalesce(sum(token_count <= ?1), 0) as fit,
             coalesce(sum(coalesce(prompt_token_count, 0) >= min(?1, token_count)), 0) as dropped,
             coalesce(max(token_count), 0) as maxTokens, coalesce(sum(min(token_count, ?1)), 0) as windowTokens
           from examples where project_id = ?2 and is_valid = 1 and ${LIVE} and split in (${list})`,
        )
        .get(maxSeq, projectId, ...splits) as { n: number; fit: number; dropped: number; maxTokens: number; windowTokens: number };
      return { ...row, truncated: row.n - row.fit - row.dropped };
    },

    /** The token count at each quantile (0–1) of valid train/eval examples, ascending. */
    tokenQuantiles(projectId: string, quantiles: number[]): (number | null)[] {
      const n = countTrainable(projectId);
      const at = sqlite.query(`select token_count as t from examples where project_id = ? and is_valid = 1 and ${LIVE} and split in ('train', 'eval') order by token_count limit 1 offset ?`);
      return quantiles.map((q) => (n === 0 ? null : (at.get(projectId, Math.min(n - 1, Math.floor(n * q))) as { t: number }).t));
    },

    /** `n` valid train examples spread from the shortest to the longest (a readiness sample). */
    /**
     * Up to `n` valid eval examples, taken in turn from each document so every one is
     * covered, with the chunk each was written from (SQL picks them: an eval split can
     * hold 100k rows). The judged evaluation's held-out questions.
     */
    heldOutByDocument(projectId: string, n: number): HeldOutExample[] {
      return sqlite
        .query(
          `select id, instruction, input, output, fileId, filename, source from (
             select e.id, e.instruction, e.input, e.output, e.file_id as fileId, f.filename, c.text as source, e.rowid as r,
                    row_number() over (partition by e.file_id order by e.rowid) as k
             from examples e left join files f on f.id = e.file_id left join chunks c on c.id = e.chunk_id
             where e.project_id = ? and e.split = 'eval' and e.is_valid = 1 and ${liveRow("e")})
           order by k, fileId, r limit ?`,
        )
        .all(projectId, n) as HeldOutExample[];
    },

    /**
     * Per document: how many of its parts (chunks) gave valid train/eval examples, and how
     * many distinct questions each gave (min, median, max): where generation covered the
     * document and where it did not.
     */
    coverageByDocument(projectId: string): DocumentCoverage[] {
      const rows = sqlite
        .query(
          `select f.id as fileId, f.filename, (select count(*) from chunks c where c.file_id = f.id) as parts,
                  (select group_concat(n) from (select count(*) as n from examples e
                     where e.file_id = f.id and e.is_valid = 1 and e.split in ('train', 'eval') and ${liveRow("e")}
                     group by e.chunk_id)) as counts
           from files f where f.project_id = ? and f.kind = 'raw_doc' order by f.created_at`,
        )
        .all(projectId) as { fileId: string; filename: string; parts: number; counts: string | null }[];
      return rows.map((r) => {
        const counts = (r.counts ?? "").split(",").filter(Boolean).map(Number).sort((a, b) => a - b);
        return {
          file_id: r.fileId,
          filename: r.filename,
          parts: r.parts,
          parts_used: counts.length,
          questions: counts.reduce((a, b) => a + b, 0),
          min: counts[0] ?? 0,
          median: counts.length ? counts[Math.floor((counts.length - 1) / 2)]! : 0,
          max: counts.at(-1) ?? 0,
        };
      });
    },

    spreadSample(projectId: string, n: number): ExampleRow[] {
      const count = db.select({ n: sql<number>`count(*)` }).from(examples).where(and(live(projectId), eq(examples.isValid, true), eq(examples.split, "train"))).get()!.n;
      const offsets = [...new Set(Array.from({ length: Math.min(n, count) }, (_, k) => (n === 1 ? 0 : Math.round((k * (count - 1)) / (n - 1)))))];
      return offsets.map(
        (offset) =>
          db.select().from(examples).where(and(live(projectId), eq(examples.isValid, true), eq(examples.split, "train"))).orderBy(asc(examples.tokenCount), asc(examples.id)).limit(1).offset(offset).get()!,
      );
    },

    /** Rows counted before prompt tokens were kept, a batch at a time (readiness fills them in). */
    uncountedPrompts: (projectId: string, limit: number) =>
      sqlite.query(`select rowid as r, instruction, input, output from examples where project_id = ? and ${LIVE} and prompt_token_count is null limit ?`).all(projectId, limit) as { r: number; instruction: string; input: string; output: string }[],

    setCounts(rows: { r: number; count: number; prompt: number; approx: boolean }[]): void {
      const update = sqlite.prepare("update examples set token_count = ?, prompt_token_count = ?, token_count_approx = ? where rowid = ?");
      sqlite.transaction(() => {
        for (const row of rows) update.run(row.count, row.prompt, row.approx ? 1 : 0, row.r);
      })();
    },
  };
}
