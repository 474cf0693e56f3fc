/**
 * The trainer's stdout protocol: one JSON object per line, snake_case keys. Written
 * once here; scripts/gen-event-schema.ts writes the JSON Schema the Python side
 * validates against (python/finetuneflow_trainer/events.schema.json).
 */
import { z } from "zod";

const num = z.number();
const nullableNum = z.number().nullable();
const step = z.number().int().nonnegative();
const count = z.number().int().nonnegative();

/** What a finished training run measured: the `complete` event and run_summary.json. */
export const runMetricsSchema = z.object({
  final_train_loss: nullableNum,
  eval_loss: nullableNum,
  perplexity: nullableNum,
  total_steps: step,
  epochs: num,
  duration_seconds: num,
  tokens_per_second: nullableNum,
  num_train_examples: count,
  num_eval_examples: count,
  dropped_examples: count,
  trainable_params: count,
  peak_vram_gb: nullableNum,
  device: z.string(),
  chat_template: z.enum(["model", "generic"]),
  // How the run was executed (absent in runs from before these existed).
  world_size: z.number().int().positive().optional(),
  packing: z.boolean().optional(),
  packing_reason: z.string().optional(),
  attn_implementation: z.string().optional(),
  liger: z.boolean().optional(),
  liger_reason: z.string().optional(),
  checkpointed_layers: z.number().int().nonnegative().optional(),
  decoder_layers: z.number().int().nonnegative().optional(),
});
export type RunMetrics = z.infer<typeof runMetricsSchema>;

/** What `evaluate` measured: its `complete` event's metrics (evaluation.json has the samples). */
export const evaluationMetricsSchema = z.object({ eval_loss: nullableNum, perplexity: nullableNum, samples: count });
/** What `export` wrote: the files (paths relative to the run), and the Ollama Modelfile or why there is none. */
export const exportMetricsSchema = z.object({
  files: z.array(z.object({ name: z.string(), path: z.string(), size_bytes: count })),
  modelfile: z.string().nullable(),
  modelfile_note: z.string().nullable(),
});
/** What `ollama-prepare` wrote: the Go template, stops and the tuned model's answers (one JSON file). */
export const ollamaPrepareMetricsSchema = z.object({ ollama_file: z.string(), prompts: count, template: z.boolean() });
/** That file. */
export const ollamaPrepareFileSchema = z.object({
  template: z.string().nullable(),
  template_unsupported: z.string().nullable(),
  stops: z.array(z.string()),
  special_tokens: z.array(z.string()),
  prompts: z.array(
    z.object({
      id: z.string(),
      rendered: z.string(),
      answer: z.string(),
      stopped: z.boolean(),
      /** [start, end) character spans of answer tokens the tuned model chose by under a logit of margin. */
      near_ties: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).default([]),
      /** Tokens the reply took. */
      tokens: z.number().int().nonnegative().optional(),
    }),
  ),
});
/** The settings a probe tried or chose. */
const probeSettingsSchema = z.object({
  per_device_batch_size: z.number().int().positive(),
  max_seq_length: z.number().int().positive(),
  checkpointing: z.enum(["auto", "all", "none"]),
  method: z.enum(["lora", "qlora"]),
});
/** What `probe` measured: real steps at the planned settings, longest batches first, backing off on OOM. */
export const probeMetricsSchema = z.object({
  fits: z.boolean(),
  chosen: probeSettingsSchema.nullable(),
  changes: z.array(z.string()),
  steps: count,
  peak_vram_gb: nullableNum,
  peak_reserved_gb: nullableNum,
  tokens_per_second: nullableNum,
  step_seconds: nullableNum,
  packing: z.boolean().nullable(),
  liger: z.boolean().nullable(),
  attn_implementation: z.string().nullable(),
  device: z.string(),
  vram_total_gb: nullableNum,
  vram_free_gb: nullableNum,
  attempts: z.array(probeSettingsSchema.extend({ outcome: z.enum(["ok", "oom"]), peak_vram_gb: nullableNum })),
});
export type ProbeMetrics = z.infer<typeof probeMetricsSchema>;
/** What `tiny` built (tests and benchmarks): the model folder. */
export const tinyModelMetricsSchema = z.object({ model_dir: z.string() });
/** What `from-gguf` wrote: a model folder from a GGUF file. */
export const ggufImportMetricsSchema = z.object({ model_dir: z.string(), architecture: z.string(), parameters: count, chat_template: z.boolean() });
/** What `encode` wrote (parity checks): the training encoding of each row. */
export const encodingMetricsSchema = z.object({ encoded_file: z.string(), examples: count, dropped: count });
/** What `answers` wrote: base and fine-tuned answers, one JSON line per question. */
export const answersMetricsSchema = z.object({ answers_file: z.string(), answered: count });
/** One line of the `answers` file. */
export const answerLineSchema = z.object({ id: z.string(), tuned: z.string(), base: z.string(), tuned_stopped: z.boolean(), base_stopped: z.boolean() });

export const hardwareInfoSchema = z.object({
  event: z.literal("hardware"),
  gpu_name: z.string().nullable(),
  gpu_count: z.number().int().nonnegative(),
  vram_total_gb: nullableNum,
  vram_free_gb: nullableNum,
  cuda_available: z.boolean(),
  cuda_version: z.string().nullable(),
  torch_version: z.string().nullable(),
  transformers_version: z.string().nullable(),
  peft_version: z.string().nullable(),
  bnb_available: z.boolean(),
  bnb_error: z.string().nullable(),
  bf16_supported: z.boolean(),
  cpu_count: z.number().int().positive(),
  ram_total_gb: nullableNum,
  recommended_method: z.enum(["lora", "qlora"]).nullable(),
  recommendation_reason: z.string(),
  warnings: z.array(z.string()),
});

export const trainerEventSchema = z.discriminatedUnion("event", [
  hardwareInfoSchema,
  z.object({
    event: z.literal("started"),
    total_steps: step,
    num_train_examples: z.number().int().nonnegative(),
    num_eval_examples: z.number().int().nonnegative(),
    device: z.string(),
    method: z.enum(["lora", "qlora"]),
    trainable_params: z.number().int().nonnegative(),
    resumed_from_step: step.nullable(),
    world_size: z.number().int().positive().optional(),
    packing: z.boolean().optional(),
    attn_implementation: z.string().optional(),
    liger: z.boolean().optional(),
    /** Activation checkpointing: decoder layers recomputed in backward, of how many. */
    checkpointed_layers: z.number().int().nonnegative().optional(),
    decoder_layers: z.number().int().nonnegative().optional(),
  }),
  z.object({
    event: z.literal("log"),
    step,
    total_steps: step,
    epoch: num,
    train_loss: num,
    learning_rate: num,
    grad_norm: nullableNum,
    tokens_per_second: nullableNum,
    elapsed_seconds: num,
    eta_seconds: nullableNum,
    /** A preference round's rewards (DPO, as TRL logs them): chosen, rejected, their margin, the share ranked right. */
    preference: z.object({ rewards_chosen: num, rewards_rejected: num, margin: num, accuracy: num }).optional(),
  }),
  // perplexity follows metrics.ts: null past MAX_PERPLEXITY_LOSS (the trainer never sends NaN or Infinity).
  z.object({ event: z.literal("eval"), step, eval_loss: num, perplexity: nullableNum }),
  z.object({
    event: z.literal("progress"),
    progress_pct: z.number().min(0).max(100),
    step: step.optional(),
    total_steps: step.optional(),
    message: z.string().optional(),
  }),
  z.object({ event: z.literal("checkpoint"), step, path: z.string() }),
  z.object({
    event: z.literal("complete"),
    adapter_path: z.string().nullable(),
    // Each command's own measurements: train, evaluate, export, tiny, encode.
    metrics: z.union([runMetricsSchema, probeMetricsSchema, ollamaPrepareMetricsSchema, evaluationMetricsSchema, exportMetricsSchema, ggufImportMetricsSchema, tinyModelMetricsSchema, encodingMetricsSchema, answersMetricsSchema]),
  }),
  z.object({ event: z.literal("error"), error_code: z.string(), message: z.string(), advice: z.string().nullable() }),
  z.object({ event: z.literal("cancelled"), step, checkpoint_path: z.string().nullable(), adapter_path: z.string().nullable() }),
]);

export type TrainerEvent = z.infer<typeof trainerEventSchema>;
export type HardwareInfo = z.infer<typeof hardwareInfoSchema>;

export function eventJsonSchema(): Record<string, unknown> {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "FineTuneFlow trainer event",
    description: "One line of the trainer's stdout. Generated from src/training/events.ts; do not edit.",
    ...(z.toJSONSchema(trainerEventSchema, { target: "draft-2020-12" }) as Record<string, unknown>),
  };
}
