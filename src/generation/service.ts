/**
 * Dataset generation: a preview of 10 examples, then the full dataset, written by a
 * local LLM from the project's chunks. The job itself is in job.ts; this service
 * starts it (one generation per project at a time) and answers what the Preview
 * step shows.
 */
import { z } from "zod";
import type { JobRow } from "../jobs/table.ts";
import { AppError } from "../lib/errors.ts";
import type { JobQueue } from "../jobs/queue.ts";
import { createGenerationJob, type GenerationJobDeps } from "./job.ts";
import { generationPayload } from "./job-schemas.ts";
import { isEmbeddingModel, pickEmbeddingModel } from "./semantic-dedup.ts";
import { strongestModel } from "../models/parameter-count.ts";

export const PREVIEW_JOB = "dataset_preview";
export const GENERATE_JOB = "dataset_generate";
export const GENERATION_JOBS = [PREVIEW_JOB, GENERATE_JOB];
export const PREVIEW_SIZE = 10;
export const DEFAULT_TARGET = 2000;

export const generateInput = z
  .object({
    model: z.string().trim().min(1).max(200).optional(),
    target: z.coerce.number().int().min(10, "The target must be at least 10 examples.").max(100_000, "The target must be at most 100,000 examples.").optional(),
    /** Only from this document (the scorecard's "generate more from this document"). */
    file_id: z.string().trim().min(1).max(100).optional(),
    /** The embedding model of the near-duplicate check by meaning (default: an installed embedding model; "none": word overlap only). */
    embedding_model: z.string().trim().min(1).max(200).optional(),
    /** A second look at each example by a model (does its passage answer it, does the answer say what the passage says): one more call per example. */
    answerability_check: z.boolean().optional(),
  })
  .strict();

export type GenerationService = ReturnType<typeof createGenerationService>;

/** What the job needs, plus the queue it runs on; `now` defaults to the clock. */
export function createGenerationService(deps: Omit<GenerationJobDeps, "now"> & { queue: JobQueue; now?: () => number }) {
  const run = createGenerationJob({ ...deps, now: deps.now ?? Date.now });
  for (const type of GENERATION_JOBS) deps.queue.register(type, { payload: generationPayload, group: "generation", maxAttempts: 3, run });

  async function listModels(): Promise<string[]> {
    const lists = await Promise.all(deps.backends.map((b) => b.listModels()));
    return [...new Set(lists.flat())].sort();
  }

  /** The installed models that can write, judge and chat: the embedding models left out. */
  async function chatModels(): Promise<string[]> {
    return (await listModels()).filter((m) => !isEmbeddingModel(m));
  }

  async function start(projectId: string, mode: "preview" | "full", input: z.infer<typeof generateInput>): Promise<JobRow> {
    const project = deps.projects.get(projectId);
    if (input.file_id && !deps.readyChunks(projectId).some((c) => c.fileId === input.file_id)) {
      throw new AppError(404, "file_not_found", "That document is not in this project, or its text is not extracted yet.");
    }
    if (deps.readyChunks(projectId).length === 0) {
      throw new AppError(409, "no_documents", "Upload at least one document and wait for its text to be extracted first.");
    }
    if (deps.queue.active(projectId, GENERATION_JOBS)) throw new AppError(409, "generation_running", "A generation is already running for this project; wait for it or cancel it.");
    const installed = await listModels().catch(() => [] as string[]);
    let model = input.model ?? project.config.generation_model;
    if (!model) {
      // Listed once above; asked again only when that failed or found none (its error is the user's sentence).
      const models = installed.length ? installed : await listModels();
      if (models.length === 0) throw new AppError(409, "no_models", "Ollama has no models installed. Install one with `ollama pull llama3.1:8b`, then try again.");
      // An embedding model cannot write examples: the first model that is not one.
      model = models.find((m) => !isEmbeddingModel(m)) ?? models[0]!;
    }
    // Near-duplicates by meaning: the asked embedding model, the project's, else one installed ("none": word overlap only).
    const asked = input.embedding_model ?? project.config.embedding_model;
    const embeddingModel = asked === "none" ? null : (asked ?? pickEmbeddingModel(installed));
    deps.projects.updateConfig(projectId, { generation_model: model, ...(input.embedding_model ? { embedding_model: input.embedding_model } : {}) });
    if (mode === "preview") deps.examples.deletePreview(projectId);
    const target = mode === "preview" ? PREVIEW_SIZE : (input.target ?? DEFAULT_TARGET);
    // The second look reads with the judge's model: the strongest installed (not an embedding model), else the generation model.
    const wantsLook = input.answerability_check ?? project.config.answerability_check ?? false;
    const readers = installed.filter((m) => !isEmbeddingModel(m));
    const answerabilityModel = wantsLook ? (strongestModel(readers, await modelParameters().catch(() => ({}))) ?? model) : null;
    if (input.answerability_check !== undefined) deps.projects.updateConfig(projectId, { answerability_check: input.answerability_check });
    return deps.queue.enqueue(mode === "preview" ? PREVIEW_JOB : GENERATE_JOB, projectId, { projectId, mode, model, target, embeddingModel, answerabilityModel, ...(input.file_id ? { fileId: input.file_id } : {}) });
  }

  /** Parameter counts of the installed models where a backend says them (the default judge is the largest). */
  async function modelParameters(): Promise<Record<string, number | null>> {
    const maps = await Promise.all(deps.backends.map((b) => b.modelParameters?.() ?? Promise.resolve({})));
    return Object.assign({}, ...maps);
  }

  return {
    listModels,
    chatModels,
    modelParameters,
    start,
    latestJob: (projectId: string, type: string): JobRow | undefined => deps.queue.latest(projectId, type),
    previewExamples: deps.examples.preview,
    chunkCount: (projectId: string): number => deps.readyChunks(projectId).length,
    /** Near-duplicates dropped by every generation of the project (Review's stats). */
    duplicatesRemoved: (projectId: string): number => deps.queue.sumResultField(projectId, GENERATION_JOBS, "duplicates_removed"),
    /** The same, by how they were found: the same words, word overlap (MinHash), the same meaning (embeddings). */
    duplicatesByKind: (projectId: string) => ({
      exact: deps.queue.sumResultField(projectId, GENERATION_JOBS, "duplicates_by_kind.exact"),
      near: deps.queue.sumResultField(projectId, GENERATION_JOBS, "duplicates_by_kind.near"),
      semantic: deps.queue.sumResultField(projectId, GENERATION_JOBS, "duplicates_by_kind.semantic"),
    }),
  };
}
