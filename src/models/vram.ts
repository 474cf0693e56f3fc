/**
 * GPU memory estimates: one component model used by the Model step (load), the
 * Hardware step (recommendation) and the Train form (plan).
 *
 *   weights      16-bit: 2 bytes/param. 4-bit NF4 with double quantisation:
 *                0.5 byte/param + 1 byte absmax per 64 weights + 4 bytes per 256 blocks
 *                (≈ 0.516 byte/param) for the linear layers; embeddings, lm_head stay 16-bit.
 *   LoRA         trainable params in fp32 (4) + their gradients (4) + Adam m and v (8)
 *                = 16 bytes per trainable param.
 *   activations  per layer, 16-bit, with a fused attention kernel (no s² term):
 *                ≈ 34·b·s·h bytes without gradient checkpointing; with it, each layer
 *                keeps only its 2·b·s·h input and one layer is recomputed at a time.
 *   logits       b·s·V in 16-bit, upcast to fp32 for the loss, and its fp32 gradient
 *                = 10·b·s·V bytes: large for 128k–256k vocabularies.
 *   overhead     CUDA context (lazy module loading keeps it near 0.5 GB) and allocator slack (3%).
 *
 * Published anchors (tests/​vram.test.ts): 7B QLoRA ≈ 5–6 GB, 8B QLoRA ≈ 6 GB,
 * 8B 16-bit LoRA ≈ 16–22 GB, 70B QLoRA ≈ 41–48 GB at batch 1, short sequences.
 */
import { embeddingParams, loraParams, type ModelDims } from "./architecture.ts";

export type VramMode = "load_16bit" | "load_4bit" | "lora" | "qlora";

export type VramInput = {
  dims: ModelDims;
  numParameters: number;
  mode: VramMode;
  batchSize?: number;
  seqLen?: number;
  loraR?: number;
  gradientCheckpointing?: boolean;
};

export type VramEstimate = {
  total_gb: number;
  weights_gb: number;
  lora_gb: number;
  activations_gb: number;
  logits_gb: number;
  overhead_gb: number;
  trainable_params: number;
};

const GB = 1024 ** 3;
const NF4_BYTES_PER_PARAM = 0.5 + 1 / 64 + 4 / (64 * 256);
const BASE_OVERHEAD_GB = 0.5;
const SLACK = 0.03;

export function estimateVram(input: VramInput): VramEstimate {
  const { dims: d, numParameters, mode } = input;
  const fourBit = mode === "load_4bit" || mode === "qlora";
  const emb = embeddingParams(d);
  const weights = fourBit ? emb * 2 + Math.max(0, numParameters - emb) * NF4_BYTES_PER_PARAM : numParameters * 2;

  let lora = 0;
  let activations = 0;
  let logits = 0;
  let trainable = 0;
  if (mode === "lora" || mode === "qlora") {
    const b = input.batchSize ?? 1;
    const s = input.seqLen ?? 512;
    trainable = loraParams(d, input.loraR ?? 16);
    lora = trainable * 16;
    const perLayerFull = 34 * b * s * d.hidden;
    activations = input.gradientCheckpointing === false ? d.layers * perLayerFull : d.layers * 2 * b * s * d.hidden + perLayerFull;
    logits = 10 * b * s * d.vocabSize;
  }
  const subtotal = (weights + lora + activations + logits) / GB;
  const overhead = BASE_OVERHEAD_GB + SLACK * subtotal;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    total_gb: r(subtotal + overhead),
    weights_gb: r(weights / GB),
    lora_gb: r(lora / GB),
    activations_gb: r(activations / GB),
    logits_gb: r(logits / GB),
    overhead_gb: r(overhead),
    trainable_params: trainable,
  };
}
