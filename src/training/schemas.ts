/** TrainingConfig (PRODUCT.md defaults and ranges) and the shapes the API returns. */
import { z } from "zod";
import type { TrainingRunRow } from "../db/schema.ts";
import type { VramEstimate } from "../models/vram.ts";
import { hardwareInfoSchema } from "./events.ts";

export const TRAINING_DEFAULTS = {
  num_epochs: 3,
  learning_rate: 2e-4,
  per_device_batch_size: 4,
  gradient_accumulation_steps: 4,
  max_seq_length: 2048,
  lora_r: 16,
  lora_alpha: 32,
  lora_dropout: 0.05,
} as const;

export const trainingConfigSchema = z
  .object({
    method: z.enum(["lora", "qlora"]).optional(),
    num_epochs: z.coerce.number().min(0.1, "At least 0.1 epoch.").max(100, "At most 100 epochs.").default(TRAINING_DEFAULTS.num_epochs),
    learning_rate: z.coerce.number().min(1e-7, "The learning rate must be at least 1e-7.").max(0.1, "A learning rate above 0.1 diverges.").default(TRAINING_DEFAULTS.learning_rate),
    per_device_batch_size: z.coerce.number().int("A whole number.").min(1).max(512).default(TRAINING_DEFAULTS.per_device_batch_size),
    gradient_accumulation_steps: z.coerce.number().int("A whole number.").min(1).max(1024).default(TRAINING_DEFAULTS.gradient_accumulation_steps),
    max_seq_length: z.coerce.number().int("A whole number.").min(64, "At least 64 tokens.").max(131_072).default(TRAINING_DEFAULTS.max_seq_length),
    lora_r: z.coerce.number().int("A whole number.").min(1).max(512).default(TRAINING_DEFAULTS.lora_r),
    lora_alpha: z.coerce.number().int("A whole number.").min(1).max(4096).default(TRAINING_DEFAULTS.lora_alpha),
    lora_dropout: z.coerce.number().min(0).max(0.5, "Dropout above 0.5 is not useful.").default(TRAINING_DEFAULTS.lora_dropout),
    /** API only: stop after this many optimizer steps (quick trials, tests). */
    max_steps: z.coerce.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();

export type TrainingConfig = z.infer<typeof trainingConfigSchema>;
/** What a run was started with (training_runs.config, and the project's last Train form). */
export type RunConfig = TrainingConfig & { method: "lora" | "qlora" };

/** A hardware check as stored (projects.hardware_info, settings.machine_hardware): the
 * trainer's answer plus this project's VRAM estimate (null for a machine-level check). */
export const projectHardwareSchema = hardwareInfoSchema.extend({
  estimate: z
    .object({ seq_len: z.number(), p95_tokens: z.number().nullable(), lora: z.custom<VramEstimate>(), qlora: z.custom<VramEstimate>() })
    .nullable(),
  checked_at: z.string(),
});
export type ProjectHardware = z.infer<typeof projectHardwareSchema>;

export const RUN_STATUSES = ["queued", "running", "success", "failed", "cancelled", "interrupted"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** Runs in these statuses hold the project's GPU slot. */
export const ACTIVE_RUN_STATUSES = ["queued", "running"] as const satisfies readonly RunStatus[];
/** Runs in these statuses are over (SSE streams close, elapsed time stops). */
export const FINISHED_RUN_STATUSES = ["success", "failed", "cancelled", "interrupted"] as const satisfies readonly RunStatus[];
/** Runs that stopped before the end and can continue from their last checkpoint. */
export const RESUMABLE_RUN_STATUSES = ["interrupted", "cancelled"] as const satisfies readonly RunStatus[];
export const isActiveRun = (status: string) => (ACTIVE_RUN_STATUSES as readonly string[]).includes(status);
export const isFinishedRun = (status: string) => (FINISHED_RUN_STATUSES as readonly string[]).includes(status);
export const isResumableRun = (status: string) => (RESUMABLE_RUN_STATUSES as readonly string[]).includes(status);

export function toRunJson(r: TrainingRunRow) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    run_id: r.id,
    job_id: r.jobId,
    status: r.status,
    method: r.method,
    config: r.config,
    final_train_loss: r.finalTrainLoss,
    final_eval_loss: r.finalEvalLoss,
    error_code: r.errorCode,
    error_message: r.errorMessage,
    created_at: iso(r.createdAt),
    started_at: iso(r.startedAt),
    finished_at: iso(r.finishedAt),
  };
}
