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
import { contentHash, validateFields } from "./validate.ts";

/** Search totals stop counting here ("more than 1,000"): counting every match of a common word is what makes search slow. */
export const SEARCH_COUNT_CAP = 1_000;
const DEFAULT_MAX_SEQ = 2048;

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

export function createReviewService(deps: { db: Db; projects: ProjectService; duplicatesRemoved: (projectId: string) => number; now?: () => number }) {
  const sqlite: Database = deps.db.$client;
  const now = deps.now ?? Date.now;

  function where(projectId: string, f: Pick<ReviewFilter, "split" | "valid">, alias = "e") {
    const clauses = [`${alias}.project_id = ?`];
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
            .query("select (select token_count from examples where project_id = ?1 and split = ?2 and is_valid = 1 order by token_count asc limit 1) as lo, (select token_count from examples where project_id = ?1 and split = ?2 and is_valid = 1 order by token_count desc limit 1) as hi")
            .get(projectId, name) as { lo: number; hi: number })
        : { lo: null, hi: null };
      return { count, avg_tokens: count ? Math.round((valid!.tokens / count) * 10) / 10 : 0, min_tokens: mm.lo, max_tokens: mm.hi };
    };
    const total = rows.reduce((n, r) => n + r.n, 0);
    const valid = rows.filter((r) => r.is_valid === 1).reduce((n, r) => n + r.n, 0);
    const limit = maxSeq(projectId);
    const over = sqlite.query("select count(*) as n from examples where project_id = ? and token_count > ?").get(projectId, limit) as { n: number };
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

  function page(projectId: string, f: ReviewFilter): ReviewPage {
    deps.projects.get(projectId);
    const { total, capped } = count(projectId, f);
    const pages = Math.max(1, Math.ceil(total / f.page_size));
    const m = matching(projectId, f);
    const offset = (f.page - 1) * f.page_size;
    let ids: { r: number }[];
    if (!capped && offset > total / 2 && offset < total) {
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
    const r = sqlite.query(`select ${COLUMNS} from examples where id = ? and project_id = ?`).get(exampleId, projectId) as Record<string, unknown> | null;
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

    deleteIds(projectId: string, ids: string[]): number {
      deps.projects.get(projectId);
      let deleted = 0;
      sqlite.transaction(() => {
        for (let i = 0; i < ids.length; i += 500) {
          const slice = ids.slice(i, i + 500);
          deleted += sqlite.run(`delete from examples where project_id = ? and id in (${slice.map(() => "?").join(",")})`, [projectId, ...slice]).changes;
        }
      })();
      return deleted;
    },

    deleteMatching(projectId: string, f: Pick<ReviewFilter, "split" | "valid" | "q">): number {
      deps.projects.get(projectId);
      const m = matching(projectId, { ...f, sort: "created", page: 1, page_size: 50 });
      return sqlite.run(`delete from examples where rowid in (select e.rowid from ${m.from} where ${m.where})`, m.params).changes;
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
      sqlite.run(
        "update examples set instruction = ?, input = ?, output = ?, split = ?, is_valid = ?, validation_error = ?, token_count = ?, prompt_token_count = ?, token_count_approx = ?, content_hash = ?, updated_at = ? where id = ?",
        [fields.instruction, fields.input, fields.output, patch.split ?? e.split, isValid ? 1 : 0, reason, tokens.count, tokens.prompt, tokens.approx ? 1 : 0, contentHash(fields), now(), exampleId],
      );
      return get(projectId, exampleId);
    },

    /** Valid examples of a split, in batches, for the exports. */
    *exportRows(projectId: string, split: "train" | "eval" | "all"): Generator<ExampleRow[]> {
      deps.projects.get(projectId);
      let after = 0;
      for (;;) {
        const rows = sqlite
          .query(`select rowid as r, ${COLUMNS} from examples where project_id = ? and is_valid = 1 and split ${split === "all" ? "in ('train', 'eval')" : "= ?"} and rowid > ? order by rowid limit 1000`)
          .all(...(split === "all" ? [projectId, after] : [projectId, split, after])) as Record<string, unknown>[];
        if (rows.length === 0) return;
        after = rows.at(-1)!.r as number;
        yield rows.map(toRow);
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
