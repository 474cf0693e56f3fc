/** The Export step's screen: the run's summary, the files made, the latest export job. */
import type { JobService } from "../jobs/service.ts";
import { toJobJson } from "../jobs/schemas.ts";
import type { JobView } from "../jobs/schemas.ts";
import type { EvaluationView } from "../evaluation/schemas.ts";
import type { ArtifactView, ExportSummaryView } from "./schemas.ts";
import type { OllamaData } from "../publish/schemas.ts";
import { EVALUATION_JOB, type EvaluationService } from "../evaluation/service.ts";
import { EXPORT_JOB, type ExportService } from "./service.ts";
import { PUBLISH_JOB, type PublishService } from "../publish/service.ts";
import type { ProjectService } from "../projects/service.ts";
import { MIN_PREFERENCE_PAIRS, type PreferenceCounts } from "../preferences/schemas.ts";

/** The Export step: the run and its files, the export job, the judged scorecard, Run in Ollama. */
export type ExportData = {
  summary: ExportSummaryView;
  files: ArtifactView[];
  job?: JobView;
  evaluation: EvaluationView | null;
  /** With the passage: the same questions asked without it. */
  closedBook: EvaluationView | null;
  evaluationJob?: JobView;
  ollama: OllamaData;
  /** The user's preference pairs, for "Improve with feedback". */
  feedback: { counts: PreferenceCounts; minPairs: number };
};

/** The latest evaluation and, when it asked with the passage, its closed-book twin from the same run. */
function withTwin(evaluation: EvaluationService, projectId: string) {
  const latest = evaluation.latest(projectId);
  const twin = latest?.mode === "with_context" ? evaluation.latest(projectId, "closed_book") : null;
  return { evaluation: latest, closedBook: twin && twin.run_id === latest!.run_id ? twin : null };
}

/** The "Run in Ollama" panel: its job, its last result, a name to start from. */
export function ollamaView(jobs: JobService, publish: PublishService, projects: ProjectService, projectId: string, error?: string) {
  const job = jobs.latest(projectId, PUBLISH_JOB);
  const slug = projects.get(projectId).name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "model";
  return { job: job ? toJobJson(job) : undefined, record: publish.latest(projectId), defaultName: `ftf-${slug}`, error };
}

export const exportStepLoader =
  (exportsService: ExportService, jobs: JobService, evaluation: EvaluationService, publish: PublishService, projects: ProjectService, preferenceCounts: (projectId: string) => PreferenceCounts) =>
  (projectId: string): ExportData => {
    const job = jobs.latest(projectId, EXPORT_JOB);
    const evaluationJob = jobs.latest(projectId, EVALUATION_JOB);
    return {
      summary: exportsService.summary(projectId),
      files: exportsService.files(projectId),
      job: job ? toJobJson(job) : undefined,
      ...withTwin(evaluation, projectId),
      evaluationJob: evaluationJob ? toJobJson(evaluationJob) : undefined,
      ollama: ollamaView(jobs, publish, projects, projectId),
      feedback: { counts: preferenceCounts(projectId), minPairs: MIN_PREFERENCE_PAIRS },
    };
  };
