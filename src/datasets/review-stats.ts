/** The Review step's stats, from the trigger-kept aggregates (example_counts). */
import type { Database } from "bun:sqlite";
import type { ProjectService } from "../projects/service.ts";
import { LIVE } from "./review-query.ts";
import type { DatasetStats } from "./review-schemas.ts";

type SplitStats = DatasetStats["by_split"]["train"];

const DEFAULT_MAX_SEQ = 2048;


export function createReviewStats(deps: { sqlite: Database; projects: ProjectService; duplicatesRemoved: (projectId: string) => number; duplicatesByKind?: (projectId: string) => DatasetStats["duplicates_by_kind"] }) {
  const { sqlite } = deps;
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
      duplicates_by_kind: deps.duplicatesByKind?.(projectId) ?? { exact: 0, near: 0, semantic: 0 },
      over_max_length: over.n,
      max_seq_length: limit,
    };
  }

  return { stats };
}
