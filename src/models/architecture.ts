/**
 * What we need to know of a model's shape, read from its config.json, and its
 * parameter count computed from that shape when no safetensors total is known.
 *
 * The count, for a decoder-only transformer (Llama, Mistral, Qwen2, Gemma, Phi-3…):
 *
 *   embeddings   V·h                       (+ V·h again for lm_head unless tied)
 *   per layer    attention  h·(nH·d) + 2·h·(nKV·d) + (nH·d)·h      (GQA: nKV ≤ nH)
 *                           + biases: q,k,v (Qwen2 or attention_bias) and o (attention_bias)
 *                mlp        3·h·I when gated (gate, up, down), 2·h·I otherwise; × experts for MoE
 *                           + router h·E for MoE, + biases when mlp_bias
 *                norms      2·h per layer (4·h for Gemma 2/3's sandwich norms); LayerNorm has 2 vectors
 *   final norm   h
 *
 * Fused projections (Phi-3's qkv_proj and gate_up_proj) hold the same numbers.
 * BERT-style encoders are counted too (embeddings, biased layers, pooler, MLM and
 * NSP heads) so we can show their size while refusing them.
 */
import { z } from "zod";

export const hfConfigSchema = z
  .object({
    architectures: z.array(z.string()).optional(),
    model_type: z.string().optional(),
    vocab_size: z.number().int().positive().optional(),
    hidden_size: z.number().int().positive().optional(),
    intermediate_size: z.number().int().positive().optional(),
    num_hidden_layers: z.number().int().positive().optional(),
    num_attention_heads: z.number().int().positive().optional(),
    num_key_value_heads: z.number().int().positive().nullish(),
    head_dim: z.number().int().positive().nullish(),
    tie_word_embeddings: z.boolean().optional(),
    attention_bias: z.boolean().optional(),
    mlp_bias: z.boolean().optional(),
    max_position_embeddings: z.number().int().positive().optional(),
    type_vocab_size: z.number().int().nonnegative().optional(),
    num_local_experts: z.number().int().positive().optional(),
    num_experts: z.number().int().positive().optional(),
    moe_intermediate_size: z.number().int().positive().optional(),
    shared_expert_intermediate_size: z.number().int().positive().optional(),
    auto_map: z.record(z.string(), z.unknown()).optional(),
    text_config: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export type HfConfig = z.infer<typeof hfConfigSchema>;

export type { ModelDims } from "./schemas.ts";
import type { ModelDims } from "./schemas.ts";

const TIED_BY_DEFAULT = new Set(["gemma", "gemma2", "gemma3", "gemma3_text"]);
const SANDWICH_NORMS = new Set(["gemma2", "gemma3", "gemma3_text"]);
const NON_GATED_MLP = new Set(["gpt2", "gpt_neox", "gptj", "falcon", "opt", "bloom", "phi", "starcoder2", "gpt_bigcode"]);
const QKV_BIAS = new Set(["qwen2", "qwen2_moe"]);

export function readDims(config: HfConfig): ModelDims | null {
  const h = config.hidden_size;
  const layers = config.num_hidden_layers;
  const heads = config.num_attention_heads;
  const vocab = config.vocab_size;
  if (!h || !layers || !heads || !vocab) return null;
  const modelType = config.model_type ?? "";
  return {
    vocabSize: vocab,
    hidden: h,
    intermediate: config.intermediate_size ?? 4 * h,
    layers,
    heads,
    kvHeads: config.num_key_value_heads ?? heads,
    headDim: config.head_dim ?? Math.floor(h / heads),
    tiedEmbeddings: config.tie_word_embeddings ?? TIED_BY_DEFAULT.has(modelType),
    experts: config.num_local_experts ?? config.num_experts ?? 1,
    contextLength: config.max_position_embeddings ?? null,
  };
}

/** Parameters of the input embeddings plus lm_head (kept in 16-bit under QLoRA). */
export function embeddingParams(d: ModelDims): number {
  return d.vocabSize * d.hidden * (d.tiedEmbeddings ? 1 : 2);
}

export function countParamsFromConfig(config: HfConfig): number | null {
  const d = readDims(config);
  if (!d) return null;
  const modelType = config.model_type ?? "";
  if (modelType === "bert" || modelType === "roberta") return countBert(config, d);

  const { hidden: h, headDim: hd, heads: nH, kvHeads: nKV } = d;
  let attention = h * (nH * hd) + 2 * h * (nKV * hd) + nH * hd * h;
  if (config.attention_bias) attention += nH * hd + 2 * nKV * hd + h;
  else if (QKV_BIAS.has(modelType)) attention += nH * hd + 2 * nKV * hd;

  const gated = !NON_GATED_MLP.has(modelType);
  const mlpOf = (inter: number) => (gated ? 3 : 2) * h * inter + (config.mlp_bias ? (gated ? 2 : 1) * inter + h : 0);
  let mlp: number;
  if (d.experts > 1) {
    mlp = d.experts * mlpOf(config.moe_intermediate_size ?? d.intermediate) + h * d.experts;
    if (config.shared_expert_intermediate_size) mlp += mlpOf(config.shared_expert_intermediate_size) + h;
  } else {
    mlp = mlpOf(d.intermediate);
  }
  const norms = (SANDWICH_NORMS.has(modelType) ? 4 : 2) * h;
  return embeddingParams(d) + d.layers * (attention + mlp + norms) + h;
}

function countBert(config: HfConfig, d: ModelDims): number {
  const h = d.hidden;
  const layerNorm = 2 * h;
  const embeddings = (d.vocabSize + (d.contextLength ?? 512) + (config.type_vocab_size ?? 2)) * h + layerNorm;
  const layer = 4 * (h * h + h) + layerNorm + (h * d.intermediate + d.intermediate) + (d.intermediate * h + h) + layerNorm;
  const pooler = h * h + h;
  // Pretraining heads: MLM transform + decoder bias (weights tied to embeddings) and NSP.
  const heads = h * h + h + layerNorm + d.vocabSize + (2 * h + 2);
  return embeddings + d.layers * layer + pooler + heads;
}

/** LoRA adapters on every linear projection (q, k, v, o, gate, up, down) at rank r. */
export function loraParams(d: ModelDims, r: number): number {
  const { hidden: h, headDim: hd, heads: nH, kvHeads: nKV, intermediate: I } = d;
  const attn = r * (h + nH * hd) + 2 * r * (h + nKV * hd) + r * (nH * hd + h);
  const mlp = 3 * r * (h + I);
  return d.layers * (attn + mlp);
}
