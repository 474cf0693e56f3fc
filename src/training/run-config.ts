/**
 * run.json: the config the app hands the Python trainer, written once here. The same
 * schema, as JSON Schema (python/finetuneflow_trainer/run-config.schema.json, written by
 * scripts/gen-event-schema.ts), is what config.py validates against: field names, types,
 * bounds and defaults have one source. The app parses what it writes, so a run.json the
 * trainer would refuse is an app bug caught before a subprocess starts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

const count = (min: number, max: number) => z.int().min(min).max(max);
const optionalCount = (min: number, max: number) => count(min, max).nullable().default(null);

export const runConfigSchema = z
  .object({
    base_model: z.string().trim().min(1).meta({ description: "Hub id or local folder of the base model" }),
    output_dir: z.string().trim().min(1),
    train_file: z.string().trim().min(1),
    eval_file: z.string().nullable().default(null),
    method: z.enum(["lora", "qlora"]).default("lora"),
    num_epochs: z.number().min(0.01).max(100).default(3),
    max_steps: count(-1, 10_000_000).default(-1).meta({ description: "-1: as many as the epochs take" }),
    learning_rate: z.number().min(1e-8).max(1).default(2e-4),
    per_device_batch_size: count(1, 1024).default(4),
    gradient_accumulation_steps: count(1, 1024).default(4),
    max_seq_length: count(16, 262_144).default(2048),
    lora_r: count(1, 1024).default(16),
    lora_alpha: count(1, 8192).default(32),
    lora_dropout: z.number().min(0).max(0.9).default(0.05),
    target_modules: z.union([z.literal("all-linear"), z.array(z.string().min(1)).min(1)]).default("all-linear"),
    warmup_ratio: z.number().min(0).max(0.5).default(0.03),
    logging_steps: count(1, 100_000).default(10),
    eval_steps: optionalCount(1, 10_000_000),
    save_steps: optionalCount(1, 10_000_000),
    seed: count(0, 2 ** 32 - 1).default(42),
    checkpointing: z
      .enum(["auto", "all", "none"])
      .default("auto")
      .meta({ description: "Activation checkpointing: auto checkpoints the fewest decoder layers that fit (checkpoint_layers), all, or none" }),
    checkpoint_layers: z.int().min(0).max(1000).nullable().default(null).meta({ description: "auto's count, from the free memory and the estimator; null: all on a GPU, none on a CPU" }),
    compile: z
      .enum(["none", "layers"])
      .default("none")
      .meta({ description: "torch.compile of each decoder layer (regional compilation); off until measured on a GPU (issue 34)" }),
    dataloader_workers: count(0, 16).default(0).meta({ description: "Dataloader worker processes (batches are prepared beside the GPU); pinned memory on CUDA" }),
    system_prompt: z.string().nullable().default(null),
    // The family's chat-template switches (Qwen3: {"enable_thinking": false}), passed to every
    // apply_chat_template call so training and the app render alike.
    chat_template_kwargs: z.record(z.string(), z.union([z.boolean(), z.number(), z.string()])).default({}),
    trust_remote_code: z.boolean().default(false),
    packing: z.boolean().default(true).meta({ description: "Padding-free packing where the isolation check passes (packing.py)" }),
    use_liger: z.boolean().default(true).meta({ description: "Liger kernels on CUDA for the families Liger supports (liger.py)" }),
    num_processes: optionalCount(1, 64).meta({ description: "Ranks (DDP through torchrun); null = every visible GPU, 1 on a CPU-only machine" }),
    stage: z.enum(["sft", "dpo"]).default("sft").meta({ description: "sft: supervised fine-tuning on train_file's examples; dpo: a preference round on start_adapter, train_file holding prompt/chosen/rejected pairs" }),
    start_adapter: z.string().nullable().default(null).meta({ description: "dpo: the adapter the round starts from (and holds as its frozen reference)" }),
    dpo_beta: z.number().min(0.01).max(5).default(0.1).meta({ description: "dpo: how far the policy may move from the reference (higher: less)" }),
  })
  .strict();
export type RunConfig = z.output<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

/** Parse, then write <dir>/run.json with every default filled in: what the trainer will run. */
export function writeRunConfig(dir: string, config: RunConfigInput): RunConfig {
  const full = runConfigSchema.parse(config);
  writeFileSync(join(dir, "run.json"), JSON.stringify(full, null, 2));
  return full;
}

export function runConfigJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(runConfigSchema, { target: "draft-2020-12", io: "input" }) as Record<string, unknown>),
    title: "FineTuneFlow run.json",
    description: "The training config the app hands the trainer. Generated from src/training/run-config.ts; do not edit.",
  };
}
