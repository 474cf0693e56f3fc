/** TrainingConfig (the spec's defaults and ranges, README's API table) and the shapes the API returns. */
import { z } from "zod";
import type { TrainingRunRow } from "./tables.ts";
import type { VramEstimate } from "../models/vram.ts";
import { hardwareInfoSchema, probeMetricsSchema } from "./events.ts";

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

/**
 * The Train form's fields and their ranges: the config schema below is built from
 * them, so the form's min/max and the server's checks cannot disagree.
 */
export const TRAINING_FIELDS = {
  num_epochs: { label: "Epochs", min: 0.1, max: 100, step: "0.1", int: false, hint: "Passes over the training set.", tooLow: "At least 0.1 epoch.", tooHigh: "At most 100 epochs." },
  learning_rate: { label: "Learning rate", min: 1e-7, max: 0.1, step: "any", int: false, hint: "2e-4 suits LoRA.", tooLow: "The learning rate must be at least 1e-7.", tooHigh: "A learning rate above 0.1 diverges." },
  per_device_batch_size: { label: "Batch size", min: 1, max: 512, step: "1", int: true, hint: "Examples per step on the GPU." },
  gradient_accumulation_steps: { label: "Gradient accumulation", min: 1, max: 1024, step: "1", int: true, hint: "Effective batch = batch × this." },
  max_seq_length: { label: "Max sequence length", min: 64, max: 131_072, step: "1", int: true, hint: "Longer examples are cut.", tooLow: "At least 64 tokens." },
  lora_r: { label: "LoRA rank (r)", min: 1, max: 512, step: "1", int: true, hint: "Adapter capacity." },
  lora_alpha: { label: "LoRA alpha", min: 1, max: 4096, step: "1", int: true, hint: "Usually 2 × r." },
  lora_dropout: { label: "LoRA dropout", min: 0, max: 0.5, step: "0.01", int: false, hint: "Regularisation.", tooHigh: "Dropout above 0.5 is not useful." },
} satisfies Record<keyof typeof TRAINING_DEFAULTS, { label: string; min: number; max: number; step: string; int: boolean; hint: string; tooLow?: string; tooHigh?: string }>;
export type TrainingField = keyof typeof TRAINING_FIELDS;

function fieldSchema(name: TrainingField) {
  const f: (typeof TRAINING_FIELDS)[TrainingField] & { tooLow?: string; tooHigh?: string } = TRAINING_FIELDS[name];
  let n = z.coerce.number();
  if (f.int) n = n.int("A whole number.");
  return n.min(f.min, f.tooLow).max(f.max, f.tooHigh).default(TRAINING_DEFAULTS[name]);
}

export const trainingConfigSchema = z
  .object({
    method: z.enum(["lora", "qlora"]).optional(),
    num_epochs: fieldSchema("num_epochs"),
    learning_rate: fieldSchema("learning_rate"),
    per_device_batch_size: fieldSchema("per_device_batch_size"),
    gradient_accumulation_steps: fieldSchema("gradient_accumulation_steps"),
    max_seq_length: fieldSchema("max_seq_length"),
    lora_r: fieldSchema("lora_r"),
    lora_alpha: fieldSchema("lora_alpha"),
    lora_dropout: fieldSchema("lora_dropout"),
    /** API only: stop after this many optimizer steps (quick trials, tests). */
    max_steps: z.coerce.number().int().min(1).max(1_000_000).optional(),
    /** Padding-free packing where the trainer verifies the architecture isolates packed sequences (default on). */
    packing: z.boolean().optional(),
    /** Activation checkpointing: auto (the fewest decoder layers that fit the free GPU memory; none on a CPU), all, or none. */
    checkpointing: z.enum(["auto", "all", "none"], { error: "Checkpointing is auto, all or none." }).optional(),
    /** Liger's fused linear cross-entropy on CUDA for the families Liger knows (default on). */
    use_liger: z.boolean().optional(),
    /** Q&A: train each question with its passage among distractor passages, as retrieval will hand them (RAFT, raft.ts); the form's checkbox sends "on". */
    retrieval_training: z.union([z.boolean(), z.literal("on").transform(() => true)]).optional(),
    /** Training processes (DDP through torchrun); default: every visible GPU. */
    num_processes: z.coerce.number().int().min(1, "At least one process.").max(64, "At most 64 processes.").optional(),
  })
  .strict();

export type TrainingConfig = z.infer<typeof trainingConfigSchema>;
/** Retrieval training's passages per question (raft.ts): one more than the retrieval arm hands the model (2), so it learns to skip what does not answer. */
export const RAFT_PASSAGES = 3;
/** A preference round's run (DPO on the adapter of `parent_run_id`): its pairs and the scorecard questions among them. */
export type PreferenceRound = { parent_run_id: string; pairs: number; beta: number; question_ids: string[] };
/** What a run was started with (training_runs.config, and the project's last Train form); a preference round says so. */
export type RunConfig = TrainingConfig & { method: "lora" | "qlora"; preference?: PreferenceRound };

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

/** A training run, as the API answers it. */
export const runJsonSchema = z.object({
  run_id: z.string(),
  job_id: z.string().nullable(),
  status: z.enum(RUN_STATUSES),
  method: z.enum(["lora", "qlora"]),
  config: z.record(z.string(), z.unknown()).meta({ description: "The settings the run was started with (the training body, with its defaults)." }),
  final_train_loss: z.number().nullable(),
  final_eval_loss: z.number().nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  created_at: z.string().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
/** What starting or resuming a run answers. */
export const runStartedSchema = z.object({ job_id: z.string(), run_id: z.string() });
/** The spec's TrainingStatus: the latest run's status, progress and metrics. */
export const trainingStatusSchema = z.object({
  run_id: z.string(),
  job_id: z.string().nullable(),
  status: z.enum(RUN_STATUSES),
  progress_pct: z.number(),
  current_metrics: z.object({ step: z.number(), total_steps: z.number(), train_loss: z.number().nullable(), eval_loss: z.number().nullable(), learning_rate: z.number().nullable(), epoch: z.number().nullable() }),
  execution: z
    .object({
      device: z.string(),
      world_size: z.number().int(),
      packing: z.boolean().nullable(),
      attn_implementation: z.string().nullable(),
      liger: z.boolean().nullable(),
      checkpointed_layers: z.number().int().nullable(),
      decoder_layers: z.number().int().nullable(),
    })
    .nullable()
    .meta({ description: "How the trainer runs this attempt: device, processes, packing, attention, Liger, checkpointed layers." }),
  started_at: z.string().nullable(),
  elapsed_seconds: z.number().nullable(),
  queue_position: z.number().int(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  resume_from_step: z.number().int().nullable().meta({ description: "The checkpoint a resume continues from." }),
  preference_round: z
    .object({ parent_run_id: z.string(), pairs: z.number().int(), beta: z.number(), question_ids: z.array(z.string()) })
    .nullable()
    .meta({ description: "For a preference round (DPO): the run whose adapter it starts from, its pairs and beta; null for supervised training." }),
});
/** Every run's train-loss points, to compare them. */
export const lossCurvesSchema = z.object({ runs: z.array(z.object({ run_id: z.string(), label: z.string(), points: z.array(z.tuple([z.number(), z.number()])) })) });

/** A "Measure on this GPU" result, kept in <project>/probe/probe.json (probe.ts). */
export const probeRecordSchema = probeMetricsSchema.extend({
  method: z.enum(["lora", "qlora"]),
  /** The estimator's allocator peak at the chosen settings: measured ÷ this calibrates the plan. */
  estimate_allocated_gb: z.number().nullable(),
  checked_at: z.string(),
});
export type ProbeRecord = z.infer<typeof probeRecordSchema>;

/** The Train form's live plan (hardware-service.ts `plan`): what the Train step shows beside the form. */
export type TrainPlanView = {
  method: "lora" | "qlora";
  peak_gb: number | null;
  free_gb: number | null;
  fit: "fits" | "tight" | "no_fit" | "cpu" | "unknown";
  optimizer_steps: number;
  train_examples: number;
  eta_seconds: number | null;
  packing: string;
  /** Decoder layers checkpointed at these settings (auto: the fewest that fit). */
  checkpointing: { mode: "auto" | "all" | "none"; layers: number; of: number } | null;
  calibrated: boolean;
  measured: Pick<ProbeRecord, "peak_vram_gb" | "tokens_per_second" | "method" | "chosen" | "changes" | "checked_at"> | null;
  warnings: string[];
};

/** A past run as the Train step lists it. */
export type RunView = Pick<TrainingRunRow, "id" | "status" | "method" | "config" | "createdAt" | "finalTrainLoss" | "finalEvalLoss">;
/** "lora", or "lora + DPO (12 pairs)" for a preference round. */
export const runMethodLabel = (r: Pick<TrainingRunRow, "method" | "config">) => (r.config.preference ? `${r.method} + DPO (${r.config.preference.pairs} pairs)` : r.method);
