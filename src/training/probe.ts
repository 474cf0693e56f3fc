/**
 * "Measure on this GPU": the trainer's `probe` runs a few real steps at the planned
 * settings, longest batches first, and reports the measured peak VRAM and tokens/s (and
 * what it had to lower when the plan ran out of memory). The Train plan then scales its
 * estimate by measured ÷ estimated and takes its ETA from the measured rate.
 * One result per project, kept in <project>/probe/probe.json.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { JobError, type JobContext, type JobQueue } from "../jobs/queue.ts";
import { projectDir } from "../lib/data-dir.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { probeRecordSchema, type ProbeRecord, type TrainingConfig } from "./schemas.ts";
import type { TrainerClient } from "./trainer-client.ts";

export const PROBE_JOB = "training_probe";
const PROBE_STEPS = 6;

export { probeRecordSchema, type ProbeRecord } from "./schemas.ts";

type Deps = {
  queue: JobQueue;
  dataDir: string;
  trainer: TrainerClient;
  logger: Logger;
  /** Checks the project can train and writes its dataset and run.json into `dir` (training service). */
  writeTrainerFiles: (projectId: string, config: TrainingConfig, dir: string) => { method: "lora" | "qlora" };
  /** The estimator's allocator peak for these settings (hardware service). */
  estimateAllocated: (projectId: string, config: TrainingConfig & { method: "lora" | "qlora" }) => number | null;
  prepareWeights: (projectId: string, signal: AbortSignal, progress: (pct: number, message: string) => void) => Promise<Record<string, string>>;
};

const payloadSchema = z.object({ projectId: z.string(), config: z.record(z.string(), z.unknown()), method: z.enum(["lora", "qlora"]) });

export function createProbeService(deps: Deps) {
  const dirOf = (projectId: string) => join(projectDir(deps.dataDir, projectId), "probe");
  const fileOf = (projectId: string) => join(dirOf(projectId), "probe.json");

  async function run(ctx: JobContext<z.infer<typeof payloadSchema>>) {
    const { projectId, method } = ctx.payload;
    const config = ctx.payload.config as TrainingConfig;
    const env = await deps.prepareWeights(projectId, ctx.signal, (_pct, message) => ctx.progress(0, message));
    const result = await deps.trainer.probe(projectId, dirOf(projectId), PROBE_STEPS, { env, signal: ctx.signal, onProgress: (pct, message) => ctx.progress(pct, message) });
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const measured = result.complete;
    if (result.failure || !measured) throw new JobError(result.failure ?? "The measurement ended without its result.");
    const chosen = measured.chosen;
    const record: ProbeRecord = {
      ...measured,
      method: chosen?.method ?? method,
      estimate_allocated_gb: chosen ? deps.estimateAllocated(projectId, { ...config, ...chosen }) : null,
      checked_at: new Date().toISOString(),
    };
    writeFileSync(fileOf(projectId), JSON.stringify(record, null, 2));
    return { fits: record.fits, peak_vram_gb: record.peak_vram_gb, tokens_per_second: record.tokens_per_second };
  }

  deps.queue.register(PROBE_JOB, { payload: payloadSchema, group: "gpu", maxAttempts: 1, onRestart: "fail", run });

  return {
    /** Queues a measurement of these settings; the checks training makes come first (409s). */
    start(projectId: string, config: TrainingConfig) {
      const { method } = deps.writeTrainerFiles(projectId, config, dirOf(projectId));
      return deps.queue.enqueue(PROBE_JOB, projectId, { projectId, config, method });
    },
    /** The last measurement, or null. */
    latest(projectId: string): ProbeRecord | null {
      const file = fileOf(projectId);
      if (!existsSync(file)) return null;
      const parsed = probeRecordSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
      return parsed.success ? parsed.data : null;
    },
    require(projectId: string): ProbeRecord {
      const record = this.latest(projectId);
      if (!record) throw new AppError(404, "probe_not_run", "Nothing was measured yet: POST /api/projects/{id}/hardware/probe first.");
      return record;
    },
  };
}

export type ProbeService = ReturnType<typeof createProbeService>;
