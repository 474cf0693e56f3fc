/** The Review step's writes: soft deletes (by id or by filter) and edits with re-validation. */
import type { Database, SQLQueryBindings } from "bun:sqlite";
import type { ExampleRow } from "./tables.ts";
import { AppError } from "../lib/errors.ts";
import { projectTokenCounter } from "../models/tokenizer.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ReviewFilter } from "./review-schemas.ts";
import { LIVE, type ReviewQuery } from "./review-query.ts";
import { contentHash, validateFields } from "./validate.ts";

export function createReviewEdits(deps: {
  sqlite: Database;
  projects: ProjectService;
  query: ReviewQuery;
  get: (projectId: string, exampleId: string) => ExampleRow;
  /** Bumped on each edit: the pages' anchors depend on it. */
  edits: { count: number };
  /** Asks for the background purge of soft-deleted rows. */
  purge: () => void;
  now: () => number;
}) {
  const { sqlite, query: { matching }, get, now } = deps;

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

  return {
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

    deleteMatching(projectId: string, f: Pick<ReviewFilter, "split" | "valid" | "q"> & { kind?: ReviewFilter["kind"] }): number {
      deps.projects.get(projectId);
      const m = matching(projectId, { kind: "all", ...f, sort: "created", page: 1, page_size: 50 });
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
      deps.edits.count++;
      sqlite.run(
        "update examples set instruction = ?, input = ?, output = ?, split = ?, is_valid = ?, validation_error = ?, token_count = ?, prompt_token_count = ?, token_count_approx = ?, content_hash = ?, updated_at = ? where id = ?",
        [fields.instruction, fields.input, fields.output, patch.split ?? e.split, isValid ? 1 : 0, reason, tokens.count, tokens.prompt, tokens.approx ? 1 : 0, contentHash(fields), now(), exampleId],
      );
      return get(projectId, exampleId);
    },

  };
}
