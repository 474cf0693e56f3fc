/**
 * One generation job (preview or full dataset), as named steps: recount what the job
 * already wrote (a resumed run), plan quotas per chunk and the eval split, run request
 * workers per backend, top up chunks that gave too little, then settle the status.
 * It can stop anywhere (crash, kill -9, cancel) and resume without duplicating or
 * losing examples: every accepted batch is one transaction tagged with the job id.
 */
import { MIN_VALID_EXAMPLES } from "../datasets/validate.ts";
import type { Db } from "../db/client.ts";
import type { ExampleStore } from "../datasets/example-store.ts";
import type { ReadyChunk } from "../documents/service.ts";
import { JobError, type JobContext } from "../jobs/queue.ts";
import type { Logger } from "../lib/logger.ts";
import { projectTokenCounter } from "../models/tokenizer.ts";
import type { ProjectService } from "../projects/service.ts";
import type { Backend, GenerationConfig } from "./backends.ts";
import { GenerationState } from "./generation-state.ts";
import type { GenerationPayload, GenerationResult } from "./job-schemas.ts";

export type GenerationJobDeps = {
  db: Db;
  examples: ExampleStore;
  readyChunks: (projectId: string) => ReadyChunk[];
  backends: Backend[];
  config: GenerationConfig & { groundingThreshold: number };
  projects: ProjectService;
  logger: Logger;
  now: () => number;
};

export function createGenerationJob(deps: GenerationJobDeps) {
  return async function run(ctx: JobContext<GenerationPayload>): Promise<GenerationResult> {
    const { payload } = ctx;
    const project = deps.projects.get(payload.projectId);
    const all = deps.readyChunks(payload.projectId).filter((c) => !payload.fileId || c.fileId === payload.fileId);
    if (all.length === 0) throw new JobError("There is no extracted text to generate from: upload a document first.");
    const preview = payload.mode === "preview";
    if (!preview) deps.projects.transition(payload.projectId, "generation_started");
    const state = new GenerationState(deps, ctx, project.taskType ?? "instruction", projectTokenCounter(project.modelInfo), all);
    const started = deps.now();
    await state.prepareSemantic();
    await state.runWorkers();
    await state.topUp();
    if (state.fatal) throw state.fatal;
    if (!preview) deps.projects.transition(payload.projectId, deps.examples.countTrainable(payload.projectId) >= MIN_VALID_EXAMPLES ? "dataset_ready" : "dataset_too_small");
    return state.result((deps.now() - started) / 1000);
  };
}

