/** "Run in Ollama": queue the publish job (job.ts) for the latest successful run, and read back its record. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../lib/errors.ts";
import { registerPublishJob, type PublishDeps } from "./job.ts";
import { PUBLISH_JOB, publishFolder, publishRecordSchema, type PublishInput, type PublishRecord } from "./schemas.ts";

export { PUBLISH_JOB, publishInputSchema, publishRecordSchema, type PublishInput, type PublishRecord } from "./schemas.ts";

export function createPublishService(deps: PublishDeps) {
  registerPublishJob(deps);

  return {
    start(projectId: string, input: PublishInput) {
      const run = deps.training.latestSuccess(projectId);
      if (!deps.ollamaHost) throw new AppError(409, "ollama_not_configured", "No Ollama is configured: set OLLAMA_HOST to the Ollama that should run the model.");
      return deps.queue.enqueue(PUBLISH_JOB, projectId, { ...input, runId: run.id, projectId });
    },
    /** The latest successful run's publication, or null. */
    latest(projectId: string): PublishRecord | null {
      const run = deps.training.latestSuccessful(projectId);
      const file = run ? join(publishFolder(run.outputDir), "publish.json") : null;
      if (!file || !existsSync(file)) return null;
      const parsed = publishRecordSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
      return parsed.success ? parsed.data : null;
    },
  };
}

export type PublishService = ReturnType<typeof createPublishService>;
