/**
 * The Review step's SQL over live examples, shared by its stats, pages and edits: the
 * filter as a WHERE clause, the filter's rows in order (FTS5 for search, no ranking so a
 * word in every row stays cheap), and counts from the trigger-kept aggregates.
 */
import type { Database, SQLQueryBindings } from "bun:sqlite";
import type { ExampleRow } from "./tables.ts";
import { liveRow } from "./example-store.ts";
import { ftsQuery, type ReviewFilter } from "./review-schemas.ts";

/** Search totals stop counting here ("more than 1,000"): counting every match of a common word is what makes search slow. */
export const SEARCH_COUNT_CAP = 1_000;
export const LIVE = liveRow();

export const COLUMNS = `id, project_id as projectId, split, instruction, input, output, is_valid as isValid, validation_error as validationError,
  token_count as tokenCount, token_count_approx as tokenCountApprox, grounding_score as groundingScore, chunk_id as chunkId, file_id as fileId,
  source_line as sourceLine, job_id as jobId, generator_model as generatorModel, prompt_version as promptVersion, kind, content_hash as contentHash,
  created_at as createdAt, updated_at as updatedAt`;

export /** "a asc, b" → "a desc, b desc" when reversing (a column without a direction is ascending). */
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

export function toRow(r: Record<string, unknown>): ExampleRow {
  return { ...(r as unknown as ExampleRow), isValid: r.isValid === 1 || r.isValid === true, tokenCountApprox: r.tokenCountApprox === 1 || r.tokenCountApprox === true };
}

export type FilterRows = { from: string; where: string; params: SQLQueryBindings[]; order: string };

export function createReviewQuery(sqlite: Database) {
  function where(projectId: string, f: Pick<ReviewFilter, "split" | "valid"> & { kind?: ReviewFilter["kind"] }, alias = "e") {
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
    if (f.kind && f.kind !== "all") {
      clauses.push(`${alias}.kind = ?`);
      params.push(f.kind);
    }
    return { sql: clauses.join(" and "), params };
  }

  /** Rowids in filter order: through FTS when searching (no ranking), else through the indexes. */
  function matching(projectId: string, f: ReviewFilter): FilterRows {
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
    if (!ftsQuery(f.q) && f.kind === "all") {
      const rows = sqlite.query("select split, is_valid, n from example_counts where project_id = ?").all(projectId) as { split: string; is_valid: number; n: number }[];
      const total = rows
        .filter((r) => (f.split === "all" || r.split === f.split) && (f.valid === "all" || r.is_valid === (f.valid === "valid" ? 1 : 0)))
        .reduce((n, r) => n + r.n, 0);
      return { total, capped: false };
    }
    const m = matching(projectId, f);
    if (!ftsQuery(f.q)) {
      // A kind filter: notes are a share of a project's rows, counted exactly.
      return { total: (sqlite.query(`select count(*) as n from ${m.from} where ${m.where}`).get(...m.params) as { n: number }).n, capped: false };
    }
    const n = (sqlite.query(`select count(*) as n from (select 1 from ${m.from} where ${m.where} limit ${SEARCH_COUNT_CAP + 1})`).get(...m.params) as { n: number }).n;
    return { total: Math.min(n, SEARCH_COUNT_CAP), capped: n > SEARCH_COUNT_CAP };
  }

  return { where, matching, count };
}
export type ReviewQuery = ReturnType<typeof createReviewQuery>;
