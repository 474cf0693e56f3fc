/** The Preview step's screen: the latest preview and full-dataset jobs with their results, the preview's examples. */
import { toJobJson } from "../jobs/schemas.ts";
import type { JobRow } from "../db/schema.ts";
import type { PreviewData } from "../../views/wizard/steps/PreviewStep.tsx";
import { generationResultSchema } from "./job-schemas.ts";
import { GENERATE_JOB, PREVIEW_JOB, type GenerationService } from "./service.ts";

const withResult = (j: JobRow | undefined) => (j ? { ...toJobJson(j), result: j.result ? generationResultSchema.parse(j.result) : null } : undefined);

export const previewStepLoader =
  (generation: GenerationService) =>
  (projectId: string): PreviewData => ({
    previewJob: withResult(generation.latestJob(projectId, PREVIEW_JOB)),
    fullJob: withResult(generation.latestJob(projectId, GENERATE_JOB)),
    previewExamples: generation.previewExamples(projectId),
    chunkCount: generation.chunkCount(projectId),
  });
