/** The Model step's screen beyond the resolved model: its weights, the download, the cache. */
import { toJobJson } from "../jobs/schemas.ts";
import type { JobService } from "../jobs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ModelData } from "../../views/wizard/steps/WeightsPanel.tsx";
import { DOWNLOAD_JOB, type WeightsService } from "./weights-service.ts";

export const modelStepLoader =
  (projects: ProjectService, weights: WeightsService, jobs: JobService) =>
  (projectId: string): ModelData | null => {
    if (!projects.get(projectId).modelInfo) return null;
    const job = jobs.latest(projectId, DOWNLOAD_JOB);
    return { weights: weights.state(projectId), job: job ? toJobJson(job) : undefined, cached: weights.cached() };
  };
