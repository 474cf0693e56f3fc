/** The Export step's screen: the run's summary, the files made, the latest export job. */
import type { JobService } from "../jobs/service.ts";
import { toJobJson } from "../jobs/schemas.ts";
import type { ExportData } from "../../views/wizard/steps/ExportStep.tsx";
import { EVALUATION_JOB, type EvaluationService } from "../evaluation/service.ts";
import { EXPORT_JOB, type ExportService } from "./service.ts";

export const exportStepLoader =
  (exportsService: ExportService, jobs: JobService, evaluation: EvaluationService) =>
  (projectId: string): ExportData => {
    const job = jobs.latest(projectId, EXPORT_JOB);
    const evaluationJob = jobs.latest(projectId, EVALUATION_JOB);
    return {
      summary: exportsService.summary(projectId),
      files: exportsService.files(projectId),
      job: job ? toJobJson(job) : undefined,
      evaluation: evaluation.latest(projectId),
      evaluationJob: evaluationJob ? toJobJson(evaluationJob) : undefined,
    };
  };
