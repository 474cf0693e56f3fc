/** The Model step's screen beyond the resolved model: its weights, the download, the cache. */
import { toJobJson } from "../jobs/schemas.ts";
import type { JobService } from "../jobs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { JobView } from "../jobs/schemas.ts";
import type { CachedModel, WeightsState } from "./schemas.ts";
import { DOWNLOAD_JOB, type WeightsService } from "./weights-service.ts";

/** The Model step's weights panel: the weights' state, the download job, the shared cache. */
export type ModelData = { weights: WeightsState; job?: JobView; cached: (CachedModel & { used_by: string[] })[] };

export const modelStepLoader =
  (projects: ProjectService, weights: WeightsService, jobs: JobService) =>
  (projectId: string): ModelData | null => {
    if (!projects.get(projectId).modelInfo) return null;
    const job = jobs.latest(projectId, DOWNLOAD_JOB);
    return { weights: weights.state(projectId), job: job ? toJobJson(job) : undefined, cached: weights.cached() };
  };
