/**
 * Pages of 50 whatever the filter and however deep, one example, its neighbours and its
 * source, and the valid rows in batches for the exports and the trainer.
 */
import type { Database } from "bun:sqlite";
import type { ExampleRow } from "./tables.ts";
import { notFound } from "../lib/errors.ts";
import type { ProjectService } from "../projects/service.ts";
import { ftsQuery, type ReviewFilter, type ReviewPage } from "./review-schemas.ts";
import { COLUMNS, directional, LIVE, toRow, type FilterRows, type ReviewQuery } from "./review-query.ts";

const ANCHOR_EVERY = 1000;

/** An example as the exports and the trainer read it (the id, kind and chunk for retrieval-aware training, raft.ts). */
export type ExampleText = Pick<ExampleRow, "id" | "kind" | "chunkId" | "instruction" | "input" | "output">;

/** `edits` counts text edits (edits.ts bumps it): anchors are rebuilt when it moves. */
export function createReviewPages(deps: { sqlite: Database; projects: ProjectService; query: ReviewQuery; edits: { count: number } }) {
  const { sqlite, query } = deps;
  const { where, matching, count } = query;
  /**
   * Where every ANCHOR_EVERY-th row of a filter sits in creation order, so a page deep in
   * a million rows starts from the nearest anchor instead of stepping over half a million
   * index entries (35 ms). Built in one pass, kept until the rows the filter sees change:
   * new rows (the largest rowid), deletes and moves (the counts), edits (`edits`).
   */
  const anchors = new Map<string, { fingerprint: string; at: { c: number; r: number }[] }>();
  function anchorsFor(projectId: string, f: ReviewFilter): { c: number; r: number }[] {
    const key = `${projectId}|${f.split}|${f.valid}|${f.kind}`;
    const counts = sqlite.query("select split, is_valid, n from example_counts where project_id = ? order by 1, 2").all(projectId);
    const top = (sqlite.query("select max(rowid) as r from examples").get() as { r: number | null }).r;
    const fingerprint = JSON.stringify([counts, top, deps.edits.count]);
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
   * `size` rows after skipping `skip` from an anchor, in two index seeks: the rows that
   * share the anchor's creation time (an import writes thousands in one millisecond)
   * from its rowid on, then the later ones. A row-value seek would use only the time.
   */
  function fromAnchor(m: FilterRows, anchor: { c: number; r: number }, skip: number, size: number): { r: number }[] {
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
    page,
    get,
    neighbours,

    /** The text of a split's valid examples, in batches, for the exports and the trainer. */
    *exportRows(projectId: string, split: "train" | "eval" | "all"): Generator<ExampleText[]> {
      deps.projects.get(projectId);
      // A walk along the rowid, batch after batch: through a project index SQLite would
      // sort every match again for each batch (1.2 MB/s at a million rows).
      const query = sqlite.query(
        `select rowid as r, id, kind, chunk_id as chunkId, instruction, input, output from examples not indexed where rowid > ?1 and project_id = ?2 and is_valid = 1 and ${LIVE} and split ${split === "all" ? "in ('train', 'eval')" : "= ?3"} order by rowid limit 2000`,
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
