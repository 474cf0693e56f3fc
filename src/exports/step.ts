/** The Export step's screen: the run's summary, the files made, the latest export job. */
import type { JobService } from "../jobs/service.ts";
import { toJobJson } from "../jobs/schemas.ts";
import type { ExportData } from "../../views/wizard/steps/ExportStep.tsx";
import { EVALUATION_JOB, type EvaluationService } from "../evaluation/service.ts";
import { EXPORT_JOB, type ExportService } from "./service.ts";

/** The latest evaluation and, when it asked with the passage, its closed-book twin from the same run. */
function withTwin(evaluation: EvaluationService, projectId: string) {
  const latest = evaluation.latest(projectId);
  const twin = latest?.mode === "with_context" ? evaluation.latest(projectId, "closed_book") : null;
  return { evaluation: latest, closedBook: twin && twin.run_id === latest!.run_id ? twin : null };
}

export const exportStepLoader =
  (exportsService: ExportService, jobs: JobService, evaluation: EvaluationService) =>
  (projectId: string): ExportData => {
    const job = jobs.latest(projectId, EXPORT_JOB);
    const evaluationJob = jobs.latest(projectId, EVALUATION_JOB);
    return {
      summary: exportsService.summary(projectId),
      files: exportsService.files(projectId),
      job: job ? toJobJson(job) : undefined,
      ...withTwin(evaluation, projectId),
      evaluationJob: evaluationJob ? toJobJson(evaluationJob) : undefined,
    };
  };
