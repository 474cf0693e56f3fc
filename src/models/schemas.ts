/** ModelInfo (the spec's type, README's API table) plus what the panel shows beyond it, and the resolve request. */
import { z } from "zod";

/** A Hub repo id ("org/name" or "name") or an absolute path to a local model folder. */
export const resolveModelInput = z.object({
  model_id: z
    .string({ error: "model_id is required." })
    .trim()
    .min(1, "Enter a model id such as meta-llama/Llama-3.1-8B-Instruct, or the absolute path of a local model folder.")
    .max(1024, "The model id is too long."),
});

const REPO_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;

export function isValidRepoId(id: string): boolean {
  const parts = id.split("/");
  if (parts.length > 2) return false;
  return parts.every((p) => REPO_PART.test(p) && !p.includes("--") && !p.includes(".."));
}

/** The shape the VRAM estimator needs (heads, GQA, MLP width…), read from config.json. */
export const modelDimsSchema = z.object({
  vocabSize: z.number(),
  hidden: z.number(),
  intermediate: z.number(),
  layers: z.number(),
  heads: z.number(),
  kvHeads: z.number(),
  headDim: z.number(),
  tiedEmbeddings: z.boolean(),
  experts: z.number(),
  contextLength: z.number().nullable(),
});
export type ModelDims = z.infer<typeof modelDimsSchema>;

/** What the Model step resolved: stored on the project (projects.model_info). */
export const modelInfoSchema = z.object({
  model_id: z.string(),
  source: z.enum(["hub", "local"]),
  model_type: z.string(),
  architecture: z.string(),
  num_parameters: z.number(),
  parameter_source: z.enum(["safetensors", "config"]),
  estimated_vram_fp16_gb: z.number(),
  estimated_vram_4bit_gb: z.number(),
  vocab_size: z.number(),
  context_length: z.number().nullable(),
  hidden_size: z.number(),
  num_layers: z.number(),
  license: z.string(),
  gated: z.boolean(),
  has_chat_template: z.boolean(),
  tokenizer_available: z.boolean(),
  warnings: z.array(z.string()),
  /** The repository ships code transformers must run (auto_map on a model type it lacks). */
  needs_remote_code: z.boolean().optional(),
  dims: modelDimsSchema,
  /** Where config.json / tokenizer files are cached (hub) or live (local). */
  files_dir: z.string(),
});
export type ModelInfo = z.infer<typeof modelInfoSchema>;

export const formatParams = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(0)}K`;

/** A model's weights for a project, as the Model step shows them (weights-service.ts). */
export const weightsStateSchema = z.discriminatedUnion("state", [
  z.object({ state: z.literal("local") }),
  z.object({ state: z.literal("none") }),
  z.object({ state: z.literal("complete"), bytes: z.number(), commit: z.string() }),
  z.object({ state: z.literal("downloading"), job_id: z.string() }),
  z.object({ state: z.literal("partial"), bytes: z.number() }),
]);
export type WeightsState = z.infer<typeof weightsStateSchema>;

/** A model in the shared weights cache (weights.ts). */
export const cachedModelSchema = z.object({ repo_id: z.string(), commit: z.string(), bytes: z.number(), complete: z.boolean() });
export type CachedModel = z.infer<typeof cachedModelSchema>;
/** What the API shows of ModelInfo: everything but where files live on this machine. */
export const publicModelInfoSchema = modelInfoSchema.omit({ files_dir: true });
