/** The Preview step's screen: the latest preview and full-dataset jobs with their results, the preview's examples. */
import { toJobJson } from "../jobs/schemas.ts";
import type { JobRow } from "../jobs/table.ts";
import type { JobView } from "../jobs/schemas.ts";
import type { ExampleView } from "../datasets/review-schemas.ts";
import { generationPayload, generationResultSchema, type GenerationResult as GenerationJobResult } from "./job-schemas.ts";
import { previewAdvice, type PreviewAdvice } from "./preview-advice.ts";
import { GENERATE_JOB, PREVIEW_JOB, type GenerationService } from "./service.ts";

/** A generation job's counts as the Preview step shows them. */
type GenerationResult = Pick<GenerationJobResult, "produced" | "valid" | "duplicates_removed" | "dedup" | "filtered" | "seconds" | "requests" | "examples_per_second" | "target" | "stopped" | "chunks_total" | "chunks_exhausted">;
/** The Preview step: the preview and full-dataset jobs with their results, the preview's examples, advice. */
export type PreviewData = {
  previewJob?: JobView & { result?: GenerationResult | null };
  fullJob?: JobView & { result?: GenerationResult | null };
  previewExamples: ExampleView[];
  chunkCount: number;
  /** Set when most of the preview was refused: the likely cause and what to try. */
  advice?: PreviewAdvice | null;
};

const withResult = (j: JobRow | undefined) => (j ? { ...toJobJson(j), result: j.result ? generationResultSchema.parse(j.result) : null } : undefined);

export const previewStepLoader =
  (generation: GenerationService) =>
  (projectId: string): PreviewData => {
    const previewRow = generation.latestJob(projectId, PREVIEW_JOB);
    const previewJob = withResult(previewRow);
    const previewExamples = generation.previewExamples(projectId);
    const settled = previewJob?.status === "success";
    const model = previewRow ? (generationPayload.safeParse(previewRow.payload).data?.model ?? null) : null;
    return {
      previewJob,
      fullJob: withResult(generation.latestJob(projectId, GENERATE_JOB)),
      previewExamples,
      chunkCount: generation.chunkCount(projectId),
      advice: settled ? previewAdvice(previewExamples, previewJob.result?.filtered ?? {}, model) : null,
    };
  };
