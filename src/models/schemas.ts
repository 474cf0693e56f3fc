/** ModelInfo (PRODUCT.md) plus what the panel shows beyond it, and the resolve request. */
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

export type ModelInfo = {
  model_id: string;
  source: "hub" | "local";
  model_type: string;
  architecture: string;
  num_parameters: number;
  parameter_source: "safetensors" | "config";
  estimated_vram_fp16_gb: number;
  estimated_vram_4bit_gb: number;
  vocab_size: number;
  context_length: number | null;
  hidden_size: number;
  num_layers: number;
  license: string;
  gated: boolean;
  has_chat_template: boolean;
  tokenizer_available: boolean;
  warnings: string[];
  /** The repository ships code transformers must run (auto_map on a model type it lacks). */
  needs_remote_code?: boolean;
  /** The shape the VRAM estimator needs (heads, GQA, MLP width…). */
  dims: import("./architecture.ts").ModelDims;
  /** Where config.json / tokenizer files are cached (hub) or live (local). */
  files_dir: string;
};

export const formatParams = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(0)}K`;
