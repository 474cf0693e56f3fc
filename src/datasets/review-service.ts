/**
 * The Review step's reads and writes over examples: stats (review-stats.ts), pages of 50
 * whatever the filter (review-pages.ts), batch delete and edit with re-validation
 * (review-edits.ts), over one set of filter queries (review-query.ts).
 */
import type { Db } from "../db/client.ts";
import type { ProjectService } from "../projects/service.ts";
import { createReviewEdits } from "./review-edits.ts";
import { createReviewPages } from "./review-pages.ts";
import { createReviewQuery } from "./review-query.ts";
import { createReviewStats } from "./review-stats.ts";

export { SEARCH_COUNT_CAP } from "./review-query.ts";
export type { DatasetStats, ReviewPage } from "./review-schemas.ts";
export type { ExampleText } from "./review-pages.ts";

export function createReviewService(deps: {
  db: Db;
  projects: ProjectService;
  duplicatesRemoved: (projectId: string) => number;
  /** Generation's duplicates by how they were found (exact, word overlap, meaning). */
  duplicatesByKind?: (projectId: string) => { exact: number; near: number; semantic: number };
  /** Asks for the background purge of soft-deleted rows. */
  purge: () => void;
  now?: () => number;
}) {
  const sqlite = deps.db.$client;
  const query = createReviewQuery(sqlite);
  const edits = { count: 0 };
  const pages = createReviewPages({ sqlite, projects: deps.projects, query, edits });
  return {
    ...createReviewStats({ sqlite, projects: deps.projects, duplicatesRemoved: deps.duplicatesRemoved, duplicatesByKind: deps.duplicatesByKind }),
    ...pages,
    ...createReviewEdits({ sqlite, projects: deps.projects, query, get: pages.get, edits, purge: deps.purge, now: deps.now ?? Date.now }),
  };
}

export type ReviewService = ReturnType<typeof createReviewService>;
