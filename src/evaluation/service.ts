/**
 * The judged evaluation: did the model learn the documents? Held-out questions (the
 * eval split, which holds whole documents out of training) are answered by the base
 * and the tuned model, then graded by an LLM judge (job.ts). Closed-book asks without
 * the passage; with_context gives it, as the spec's Q&A trains. General questions
 * shipped with the app check that the tuned model did not forget what the base knew.
 */
import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { evaluations } from "./table.ts";
import type { ExampleStore } from "../datasets/example-store.ts";
import type { Backend } from "../generation/backends.ts";
import type { JobQueue } from "../jobs/queue.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { ProjectService } from "../projects/service.ts";
import type { TrainingService } from "../training/service.ts";
import type { TrainerClient } from "../training/trainer-client.ts";
import { registerEvaluationJob } from "./job.ts";
import { parentJudge, preferenceRoundScore } from "./before-after.ts";
import { strongerThan, strongestModel } from "./controls.ts";
import { EVALUATION_JOB, storedEvaluationSchema, type EvaluateInput, type EvaluationMode, type EvaluationView } from "./schemas.ts";

export { EVALUATION_JOB, EVALUATION_MODES, evaluateInput, FORGETTING_DROP, type EvaluateInput, type EvaluationMode, type EvaluationView, type Forgetting } from "./schemas.ts";
const DEFAULT_SAMPLES = 40;

export function createEvaluationService(deps: {
  db: Db;
  queue: JobQueue;
  projects: ProjectService;
  training: TrainingService;
  examples: ExampleStore;
  backends: Backend[];
  trainer: TrainerClient;
  /** The export service: puts scorecard.md into a report already exported. */
  reports: { refreshReport: (runId: string) => void };
  logger: Logger;
  /** The installed models that can chat (embedding models left out): judge candidates. */
  chatModels: () => Promise<string[]>;
  /** BM25 over the project's document chunks (documents service): the retrieval arm. */
  retrieve: (projectId: string, query: string, k: number) => { text: string }[];
  /** Installed models' parameter counts (the default judge is the largest). */
  modelParameters?: () => Promise<Record<string, number | null>>;
  random?: () => number;
  now?: () => number;
}) {
  const { db } = deps;
  registerEvaluationJob({ ...deps, getRun: deps.training.getRun, random: deps.random ?? Math.random, now: deps.now ?? Date.now });

  return {
    async start(projectId: string, input: EvaluateInput) {
      const project = deps.projects.get(projectId);
      const run = deps.training.latestSuccess(projectId);
      if (deps.queue.active(projectId, [EVALUATION_JOB])) throw new AppError(409, "evaluation_running", "An evaluation is already running for this project.");
      // The default judge is the strongest installed model, not the generation model by habit.
      const installed = await deps.chatModels().catch(() => [] as string[]);
      const parameters = await (deps.modelParameters?.() ?? Promise.resolve({})).catch(() => ({}));
      // A preference round is judged by its starting run's judge while installed: two judges' grades do not compare.
      const sameJudge = parentJudge(db, run);
      const judgeModel = input.judge_model ?? (sameJudge && installed.includes(sameJudge) ? sameJudge : null) ?? strongestModel(installed, parameters) ?? project.config.generation_model;
      if (!judgeModel) throw new AppError(409, "no_models", "No judge model: Ollama has none installed. Install one with `ollama pull llama3.1:8b`, then try again.");
      const mode = input.mode ?? (project.taskType === "qa" && project.config.qa_context !== "closed_book" ? "with_context" : "closed_book");
      return deps.queue.enqueue(EVALUATION_JOB, projectId, { runId: run.id, judgeModel, samples: input.samples ?? DEFAULT_SAMPLES, mode, strongerJudge: strongerThan(judgeModel, installed, parameters) });
    },

    /**
     * After each successful run of a project whose data an LLM server generated (the
     * judge is the strongest installed model): never throws, a training that succeeded
     * stays a success.
     */
    afterTraining(projectId: string): void {
      if (!deps.projects.get(projectId).config.generation_model) return;
      this.start(projectId, {}).catch((err) => deps.logger.warn("evaluation not started after training", { project_id: projectId, error: (err as Error).message }));
    },

    /** The latest evaluation (of one mode when asked), or null. */
    latest(projectId: string, mode?: EvaluationMode): EvaluationView | null {
      deps.projects.get(projectId);
      const row = db
        .select()
        .from(evaluations)
        .where(and(eq(evaluations.projectId, projectId), mode ? eq(evaluations.mode, mode) : undefined))
        .orderBy(desc(evaluations.createdAt))
        .get();
      if (!row) return null;
      const stored = storedEvaluationSchema.parse({ summary: row.summary, items: row.items, forgetting: row.forgetting ?? null });
      const { judge_check, retrieval, ...summary } = stored.summary;
      const run = deps.training.getRun(row.runId);
      return {
        run_id: row.runId,
        judge_model: row.judgeModel,
        mode: row.mode,
        summary,
        items: stored.items,
        forgetting: stored.forgetting,
        judge_check: judge_check ?? null,
        retrieval: retrieval ?? null,
        preference_round: run ? preferenceRoundScore(db, run, row.mode, row.judgeModel, stored.items, stored.forgetting?.tuned_score ?? null) : null,
        created_at: new Date(row.createdAt).toISOString(),
      };
    },
  };
}

export type EvaluationService = ReturnType<typeof createEvaluationService>;
