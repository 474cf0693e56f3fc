/**
 * The Review step's reads and writes over examples: stats from the trigger-kept
 * aggregates, pages of 50 whatever the filter (FTS5 for search, no ranking so a word
 * in every row stays cheap), batch delete, edit with re-validation, and exports.
 */
import type { Database, SQLQueryBindings } from "bun:sqlite";
import type { Db } from "../db/client.ts";
import type { ExampleRow } from "../db/schema.ts";
import { projectTokenCounter } from "../models/tokenizer.ts";
import { AppError, notFound } from "../lib/errors.ts";
import type { ProjectService } from "../projects/service.ts";
import { ftsQuery, type ReviewFilter } from "./review-schemas.ts";
import { liveRow } from "./example-store.ts";
import { contentHash, validateFields } from "./validate.ts";

/** Search totals stop counting here ("more than 1,000"): counting every match of a common word is what makes search slow. */
export const SEARCH_COUNT_CAP = 1_000;
const DEFAULT_MAX_SEQ = 2048;
const ANCHOR_EVERY = 1000;
const LIVE = liveRow();

type SplitStats = { count: number; avg_tokens: number; min_tokens: number | null; max_tokens: number | null };
export type DatasetStats = {
  total: number;
  valid: number;
  invalid: number;
  by_split: { train: SplitStats; eval: SplitStats; preview: SplitStats };
  duplicates_removed: number;
  over_max_length: number;
  max_seq_length: number;
};

export type ExampleText = Pick<ExampleRow, "instruction" | "input" | "output">;
export type ReviewPage = { items: ExampleRow[]; total: number; total_is_capped: boolean; page: number; page_size: number; pages: number };

const COLUMNS = `id, project_id as projectId, split, instruction, input, output, is_valid as isValid, validation_error as validationError,
  token_count as tokenCount, token_count_approx as tokenCountApprox, grounding_score as groundingScore, chunk_id as chunkId, file_id as fileId,
  source_line as sourceLine, job_id as jobId, generator_model as generatorModel, prompt_version as promptVersion, content_hash as contentHash,
  created_at as createdAt, updated_at as updatedAt`;

/** "a asc, b" → "a desc, b desc" when reversing (a column without a direction is ascending). */
function directional(order: string, reverse: boolean): string {
  if (!reverse) return order;
  return order
    .split(",")
    .map((part) => {
      const p = part.trim();
      if (p.endsWith(" desc")) return p.replace(/ desc$/, " asc");
      if (p.endsWith(" asc")) return p.replace(/ asc$/, " desc");
      return `${p} desc`;
    })
    .join(", ");
}

function toRow(r: Record<string, unknown>): ExampleRow {
  return { ...(r as unknown as ExampleRow), isValid: r.isValid === 1 || r.isValid === true, tokenCountApprox: r.tokenCountApprox === 1 || r.tokenCountApprox === true };
}

export function createReviewService(deps: {
  db: Db;
  projects: ProjectService;
  duplicatesRemoved: (projectId: string) => number;
  /** Asks for the background purge of soft-deleted rows. */
  purge: () => void;
  now?: () => number;
}) {
  const sqlite: Database = deps.db.$client;
  const now = deps.now ?? Date.now;

  function where(projectId: string, f: Pick<ReviewFilter, "split" | "valid">, alias = "e") {
    const clauses = [`${alias}.project_id = ?`, liveRow(alias)];
    const params: SQLQueryBindings[] = [projectId];
    if (f.split !== "all") {
      clauses.push(`${alias}.split = ?`);
      params.push(f.split);
    }
    if (f.valid !== "all") {
      clauses.push(`${alias}.is_valid = ?`);
      params.push(f.valid === "valid" ? 1 : 0);
    }
    return { sql: clauses.join(" and "), params };
  }

  function maxSeq(projectId: string): number {
    return deps.projects.get(projectId).config.training?.max_seq_length ?? DEFAULT_MAX_SEQ;
  }

  function stats(projectId: string): DatasetStats {
    deps.projects.get(projectId);
    const rows = sqlite.query("select split, is_valid, n, tokens from example_counts where project_id = ?").all(projectId) as { split: string; is_valid: number; n: number; tokens: number }[];
    const split = (name: string): SplitStats => {
      const valid = rows.find((r) => r.split === name && r.is_valid === 1);
      const count = valid?.n ?? 0;
      const mm = count
        ? (sqlite
            .query(`select (select token_count from examples where project_id = ?1 and split = ?2 and is_valid = 1 and ${LIVE} order by token_count asc limit 1) as lo, (select token_count from examples where project_id = ?1 and split = ?2 and is_valid = 1 and ${LIVE} order by token_count desc limit 1) as hi`)
            .get(projectId, name) as { lo: number; hi: number })
        : { lo: null, hi: null };
      return { count, avg_tokens: count ? Math.round((valid!.tokens / count) * 10) / 10 : 0, min_tokens: mm.lo, max_tokens: mm.hi };
    };
    const total = rows.reduce((n, r) => n + r.n, 0);
    const valid = rows.filter((r) => r.is_valid === 1).reduce((n, r) => n + r.n, 0);
    const limit = maxSeq(projectId);
    const over = sqlite.query(`select count(*) as n from examples where project_id = ? and ${LIVE} and token_count > ?`).get(projectId, limit) as { n: number };
    return {
      total,
      valid,
      invalid: total - valid,
      by_split: { train: split("train"), eval: split("eval"), preview: split("preview") },
      duplicates_removed: deps.duplicatesRemoved(projectId),
      over_max_length: over.n,
      max_seq_length: limit,
    };
  }

  /** Rowids in filter order: through FTS when searching (no ranking), else through the indexes. */
  function matching(projectId: string, f: ReviewFilter) {
    const w = where(projectId, f);
    const fts = ftsQuery(f.q);
    // Creation order follows the (project, [split], [validity], created_at) indexes: no sort step.
    const order = f.sort === "tokens_asc" ? "e.token_count asc, e.rowid" : f.sort === "tokens_desc" ? "e.token_count desc, e.rowid desc" : "e.created_at, e.rowid";
    if (fts) {
      // FTS5 yields matches in rowid order, so creation order costs no sort here.
      const ftsOrder = f.sort === "created" ? "examples_fts.rowid" : order;
      return { from: `examples_fts join examples e on e.rowid = examples_fts.rowid`, where: `examples_fts match ? and ${w.sql}`, params: [fts, ...w.params], order: ftsOrder };
    }
    return { from: "examples e", where: w.sql, params: w.params, order };
  }

  function count(projectId: string, f: ReviewFilter): { total: number; capped: boolean } {
    if (!ftsQuery(f.q)) {
      const rows = sqlite.query("select split, is_valid, n from example_counts where project_id = ?").all(projectId) as { split: string; is_valid: number; n: number }[];
      const total = rows
        .filter((r) => (f.split === "all" || r.split === f.split) && (f.valid === "all" || r.is_valid === (f.valid === "valid" ? 1 : 0)))
        .reduce((n, r) => n + r.n, 0);
      return { total, capped: false };
    }
    const m = matching(projectId, f);
    const n = (sqlite.query(`select count(*) as n from (select 1 from ${m.from} where ${m.where} limit ${SEARCH_COUNT_CAP + 1})`).get(...m.params) as { n: number }).n;
    return { total: Math.min(n, SEARCH_COUNT_CAP), capped: n > SEARCH_COUNT_CAP };
  }

  /**
   * Where every ANCHOR_EVERY-th row of a filter sits in creation order, so a page deep in
   * a million rows starts from the nearest anchor instead of stepping over half a million
   * index entries (35 ms). Built in one pass, kept until the rows the filter sees change:
   * new rows (the largest rowid), deletes and moves (the counts), edits (`edits`).
   */
  const anchors = new Map<string, { fingerprint: string; at: { c: number; r: number }[] }>();
  let edits = 0;
  function anchorsFor(projectId: string, f: ReviewFilter): { c: number; r: number }[] {
    const key = `${projectId}|${f.split}|${f.valid}`;
    const counts = sqlite.query("select split, is_valid, n from example_counts where project_id = ? order by 1, 2").all(projectId);
    const top = (sqlite.query("select max(rowid) as r from examples").get() as { r: number | null }).r;
    const fingerprint = JSON.stringify([counts, top, edits]);
    const cached = anchors.get(key);
    if (cached?.fingerprint === fingerprint) return cached.at;
    const w = where(projectId, f);
    const at = sqlite
      .query(`select c, r from (select e.created_at as c, e.rowid as r, row_number() over (order by e.created_at, e.rowid) as k from examples e where ${w.sql}) where (k - 1) % ${ANCHOR_EVERY} = 0`)
      .all(...w.params) as { c: number; r: number }[];
    anchors.set(key, { fingerprint, at });
    return at;
  }

  /**
   * Takes the live rows `rowFilter` selects out of the counts and out of every read, in
   * two statements: their rowids go to `examples_deleted` (a few small pages), and the
   * rows themselves wait for the purge. Rewriting 10,000 rows spread over a million
   * dirties 10,000 pages (300 ms). Call inside a transaction.
   */
  function softDelete(projectId: string, rowFilter: string, params: SQLQueryBindings[]): number {
    sqlite.run(
      `update example_counts set n = example_counts.n - x.dn, tokens = example_counts.tokens - x.dt
       from (select split, is_valid, count(*) as dn, coalesce(sum(token_count), 0) as dt from examples where ${rowFilter} group by split, is_valid) as x
       where example_counts.project_id = ? and example_counts.split = x.split and example_counts.is_valid = x.is_valid`,
      [...params, projectId],
    );
    return sqlite.run(`insert into examples_deleted (example_rowid) select rowid from examples where ${rowFilter}`, params).changes;
  }

  /**
   * `size` rows after skipping `skip` from an anchor, in two index seeks: the rows that
   * share the anchor's creation time (an import writes thousands in one millisecond)
   * from its rowid on, then the later ones. A row-value seek would use only the time.
   */
  function fromAnchor(m: ReturnType<typeof matching>, anchor: { c: number; r: number }, skip: number, size: number): { r: number }[] {
    const want = skip + size;
    const tied = sqlite.query(`select e.rowid as r from ${m.from} where ${m.where} and e.created_at = ? and e.rowid >= ? order by e.rowid limit ?`).all(...m.params, anchor.c, anchor.r, want) as { r: number }[];
    const later =
      tied.length < want ? (sqlite.query(`select e.rowid as r from ${m.from} where ${m.where} and e.created_at > ? order by ${m.order} limit ?`).all(...m.params, anchor.c, want - tied.length) as { r: number }[]) : [];
    return [...tied, ...later].slice(skip);
  }

  function page(projectId: string, f: ReviewFilter): ReviewPage {
    deps.projects.get(projectId);
    const { total, capped } = count(projectId, f);
    const pages = Math.max(1, Math.ceil(total / f.page_size));
    const m = matching(projectId, f);
    const offset = (f.page - 1) * f.page_size;
    let ids: { r: number }[];
    if (!ftsQuery(f.q) && f.sort === "created" && offset >= ANCHOR_EVERY && offset < total) {
      const anchor = anchorsFor(projectId, f)[Math.floor(offset / ANCHOR_EVERY)];
      ids = anchor ? fromAnchor(m, anchor, offset % ANCHOR_EVERY, f.page_size) : [];
    } else if (!capped && offset > total / 2 && offset < total) {
      // Late pages are read from the other end, so the last page costs what the first does.
      const fromEnd = total - offset - f.page_size;
      const limit = fromEnd < 0 ? f.page_size + fromEnd : f.page_size;
      const rev = sqlite.query(`select e.rowid as r from ${m.from} where ${m.where} order by ${directional(m.order, true)} limit ? offset ?`).all(...m.params, limit, Math.max(0, fromEnd)) as { r: number }[];
      ids = rev.reverse();
    } else {
      ids = sqlite.query(`select e.rowid as r from ${m.from} where ${m.where} order by ${m.order} limit ? offset ?`).all(...m.params, f.page_size, offset) as { r: number }[];
    }
    let items: ExampleRow[] = [];
    if (ids.length) {
      const rows = sqlite.query(`select rowid as r, ${COLUMNS} from examples where rowid in (${ids.map(() => "?").join(",")})`).all(...ids.map((i) => i.r)) as Record<string, unknown>[];
      const byRowid = new Map(rows.map((r) => [r.r as number, toRow(r)]));
      items = ids.map((i) => byRowid.get(i.r)!);
    }
    return { items, total, total_is_capped: capped, page: f.page, page_size: f.page_size, pages };
  }

  function get(projectId: string, exampleId: string): ExampleRow {
    const r = sqlite.query(`select ${COLUMNS} from examples where id = ? and project_id = ? and ${LIVE}`).get(exampleId, projectId) as Record<string, unknown> | null;
    if (!r) throw notFound("Example", "example_not_found");
    return toRow(r);
  }

  /** The example before and after this one in the filter's order (for the modal's ← →). */
  function neighbours(projectId: string, exampleId: string, f: ReviewFilter): { prev: string | null; next: string | null } {
    const m = matching(projectId, { ...f, sort: "created" });
    const rowid = (sqlite.query("select rowid as r from examples where id = ?").get(exampleId) as { r: number } | null)?.r;
    if (rowid === undefined) return { prev: null, next: null };
    const prev = sqlite.query(`select e.id from ${m.from} where ${m.where} and e.rowid < ? order by e.rowid desc limit 1`).get(...m.params, rowid) as { id: string } | null;
    const next = sqlite.query(`select e.id from ${m.from} where ${m.where} and e.rowid > ? order by e.rowid asc limit 1`).get(...m.params, rowid) as { id: string } | null;
    return { prev: prev?.id ?? null, next: next?.id ?? null };
  }

  return {
    stats,
    page,
    get,
    neighbours,

    /**
     * Soft deletes: the rows are flagged (the counts leave them at once, every read skips
     * them) and the purge job removes them in the background. `+project_id` keeps SQLite
     * on the primary key: with 500 ids it would otherwise walk the project's index.
     */
    deleteIds(projectId: string, ids: string[]): number {
      deps.projects.get(projectId);
      let deleted = 0;
      sqlite.transaction(() => {
        for (let i = 0; i < ids.length; i += 500) {
          const slice = ids.slice(i, i + 500);
          deleted += softDelete(projectId, `id in (${slice.map(() => "?").join(",")}) and +project_id = ? and ${LIVE}`, [...slice, projectId]);
        }
      })();
      if (deleted) deps.purge();
      return deleted;
    },

    deleteMatching(projectId: string, f: Pick<ReviewFilter, "split" | "valid" | "q">): number {
      deps.projects.get(projectId);
      const m = matching(projectId, { ...f, sort: "created", page: 1, page_size: 50 });
      const deleted = sqlite.transaction(() => softDelete(projectId, `rowid in (select e.rowid from ${m.from} where ${m.where})`, m.params))();
      if (deleted) deps.purge();
      return deleted;
    },

    /** Edits are re-validated and re-counted; "valid" can only be set on an example that passes. */
    update(projectId: string, exampleId: string, patch: { instruction?: string; input?: string; output?: string; split?: "train" | "eval"; is_valid?: boolean }): ExampleRow {
      const e = get(projectId, exampleId);
      const fields = { instruction: patch.instruction ?? e.instruction, input: patch.input ?? e.input, output: patch.output ?? e.output };
      const textChanged = patch.instruction !== undefined || patch.input !== undefined || patch.output !== undefined;
      const problem = validateFields(fields);
      let isValid = e.isValid;
      let reason = e.validationError;
      if (patch.is_valid === true && problem) throw new AppError(422, "example_invalid", `This example cannot be marked valid: ${problem}.`);
      if (patch.is_valid === false) {
        isValid = false;
        reason = problem ?? "marked invalid by a reviewer";
      } else if (patch.is_valid === true || textChanged) {
        isValid = problem === null;
        reason = problem;
      }
      const tokens = projectTokenCounter(deps.projects.get(projectId).modelInfo)(fields);
      if (e.split === "preview" && patch.split) throw new AppError(409, "preview_example", "Preview examples stay in the preview; generate the full dataset for train and eval.");
      edits++;
      sqlite.run(
        "update examples set instruction = ?, input = ?, output = ?, split = ?, is_valid = ?, validation_error = ?, token_count = ?, prompt_token_count = ?, token_count_approx = ?, content_hash = ?, updated_at = ? where id = ?",
        [fields.instruction, fields.input, fields.output, patch.split ?? e.split, isValid ? 1 : 0, reason, tokens.count, tokens.prompt, tokens.approx ? 1 : 0, contentHash(fields), now(), exampleId],
      );
      return get(projectId, exampleId);
    },

    /** The text of a split's valid examples, in batches, for the exports and the trainer. */
    *exportRows(projectId: string, split: "train" | "eval" | "all"): Generator<ExampleText[]> {
      deps.projects.get(projectId);
      // A walk along the rowid, batch after batch: through a project index SQLite would
      // sort every match again for each batch (1.2 MB/s at a million rows).
      const query = sqlite.query(
        `select rowid as r, instruction, input, output from examples not indexed where rowid > ?1 and project_id = ?2 and is_valid = 1 and ${LIVE} and split ${split === "all" ? "in ('train', 'eval')" : "= ?3"} order by rowid limit 2000`,
      );
      let after = 0;
      for (;;) {
        const rows = (split === "all" ? query.all(after, projectId) : query.all(after, projectId, split)) as (ExampleText & { r: number })[];
        if (rows.length === 0) return;
        after = rows.at(-1)!.r;
        yield rows;
      }
    },

    chunkOf(exampleId: string): { text: string; filename: string; pageStart: number | null; pageEnd: number | null; headingPath: string | null } | null {
      return sqlite
        .query("select c.text, f.filename, c.page_start as pageStart, c.page_end as pageEnd, c.heading_path as headingPath from examples e join chunks c on c.id = e.chunk_id join files f on f.id = c.file_id where e.id = ?")
        .get(exampleId) as never;
    },

    sourceFile(exampleId: string): string | null {
      return (sqlite.query("select f.filename from examples e join files f on f.id = e.file_id where e.id = ?").get(exampleId) as { filename: string } | null)?.filename ?? null;
    },
  };
}

export type ReviewService = ReturnType<typeof createReviewService>;
