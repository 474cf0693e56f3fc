/** The Review step's screen: stats, coverage per document, one page of examples, and the filter from the URL. */
import type { DocumentCoverage, ExampleStore } from "./example-store.ts";
import { reviewFilterSchema, type DatasetStats, type ReviewFilter, type ReviewPageView } from "./review-schemas.ts";
import type { ReviewService } from "./review-service.ts";

/** The Review step: the stats, how many distinct questions each document's parts gave, a page, the filter. */
export type ReviewData = { stats: DatasetStats; coverage: DocumentCoverage[]; page: ReviewPageView; filter: ReviewFilter };

export const reviewStepLoader =
  (review: ReviewService, examples: ExampleStore) =>
  (projectId: string, query: Record<string, string>): ReviewData => {
    const filter = reviewFilterSchema.parse(query);
    return { stats: review.stats(projectId), coverage: examples.coverageByDocument(projectId), page: review.page(projectId, filter), filter };
  };
