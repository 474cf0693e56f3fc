/** TrainingConfig (PRODUCT.md defaults and ranges) and the shapes the API returns. */
import { z } from "zod";
import type { TrainingRunRow } from "../db/schema.ts";

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
