/** The Review step's screen: stats, one page of examples, and the filter from the URL. */
import type { ReviewData } from "../../views/wizard/steps/ReviewStep.tsx";
import { reviewFilterSchema } from "./review-schemas.ts";
import type { ReviewService } from "./review-service.ts";

export const reviewStepLoader =
  (review: ReviewService) =>
  (projectId: string, query: Record<string, string>): ReviewData => {
    const filter = reviewFilterSchema.parse(query);
    return { stats: review.stats(projectId), page: review.page(projectId, filter), filter };
  };
