/**
 * GPU memory estimates: one component model used by the Model step (load), the
 * Hardware step (recommendation) and the Train form (plan).
 *
 *   weights      16-bit: 2 bytes/param. 4-bit NF4 with double quantisation:
 *                0.5 byte/param + 1 byte absmax per 64 weights + 4 bytes per 256 blocks
 *                (≈ 0.516 byte/param) for the linear layers. Embeddings and lm_head stay
 *                16-bit when loading; QLoRA training upcasts them to fp32 (peft's
 *                prepare_model_for_kbit_training): 4 bytes/param.
 *   LoRA         trainable params in fp32 (4) + their gradients (4) + Adam m and v (8)
 *                = 16 bytes per trainable param.
 *   activations  per layer, 16-bit, SDPA (no s² term): ≈ 60·b·s·h bytes without gradient
 *                checkpointing (the decoder's own ~34, plus each LoRA'd projection keeping
 *                its dropped-out input for the A gradient); a checkpointed layer keeps
 *                only its 2·b·s·h input, and one layer is recomputed at a time (its full
 *                60·b·s·h, once). Selective checkpointing (k of L layers) is the mix:
 *                k·2·b·s·h + (L−k)·60·b·s·h (+ 60·b·s·h for the recompute when k > 0),
 *                so each layer checkpointed saves 58·b·s·h: `layersToCheckpoint` finds the
 *                fewest that fit a memory budget.
 *   logits       b·s·V in 16-bit, upcast to fp32 for the loss, and its fp32 gradient
 *                ≈ 10·b·s·V bytes (15 when QLoRA's fp32 lm_head makes them fp32 from the
 *                start). With Liger's fused linear cross-entropy the logits exist one chunk
 *                at a time: measured ≈ 2·b·s·V (6 with the fp32 lm_head).
 *   packing      a packed batch is one row of the batch's real tokens: pass b = 1 and
 *                s = those tokens (no padding to the longest example).
 *   overhead     CUDA context (lazy module loading keeps it near 0.5 GB) and allocator slack
 *                (3%). PyTorch's allocator sees neither: `allocated_gb` is the rest, what
 *                torch.cuda.max_memory_allocated reports at the peak.
 *
 * The coefficients for activations, logits and the fused loss were fitted to peaks
 * measured on an H200 (bench/trainer-gpu.bench.ts, docs/decisions/0008); vram.test.ts
 * holds those measurements as anchors, within ±10%.
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
  /** Selective checkpointing: this many decoder layers checkpointed (overrides gradientCheckpointing). */
  checkpointedLayers?: number;
  /** Liger's fused linear cross-entropy: the full logits tensor never exists. */
  fusedCrossEntropy?: boolean;
};

export type VramEstimate = {
  total_gb: number;
  weights_gb: number;
  lora_gb: number;
  activations_gb: number;
  logits_gb: number;
  overhead_gb: number;
  /** What PyTorch's allocator holds at the peak (total less CUDA context and slack). */
  allocated_gb: number;
  trainable_params: number;
};

const GB = 1024 ** 3;
const NF4_BYTES_PER_PARAM = 0.5 + 1 / 64 + 4 / (64 * 256);
/** CUDA context and allocator slack: outside what PyTorch's allocator reports. */
export const BASE_OVERHEAD_GB = 0.5;
export const SLACK = 0.03;
/** Bytes per token per hidden unit a decoder layer keeps for backward, LoRA included. */
const ACTIVATION_BYTES = 60;

export function estimateVram(input: VramInput): VramEstimate {
  const { dims: d, numParameters, mode } = input;
  const fourBit = mode === "load_4bit" || mode === "qlora";
  const emb = embeddingParams(d);
  const embBytes = mode === "qlora" ? 4 : 2;
  const weights = fourBit ? emb * embBytes + Math.max(0, numParameters - emb) * NF4_BYTES_PER_PARAM : numParameters * 2;

  let lora = 0;
  let activations = 0;
  let logits = 0;
  let trainable = 0;
  if (mode === "lora" || mode === "qlora") {
    const b = input.batchSize ?? 1;
    const s = input.seqLen ?? 512;
    trainable = loraParams(d, input.loraR ?? 16);
    lora = trainable * 16;
    const perLayerFull = ACTIVATION_BYTES * b * s * d.hidden;
    const k = Math.max(0, Math.min(d.layers, input.checkpointedLayers ?? (input.gradientCheckpointing === false ? 0 : d.layers)));
    activations = k * 2 * b * s * d.hidden + (d.layers - k) * perLayerFull + (k > 0 ? perLayerFull : 0);
    const fp32Head = mode === "qlora";
    const perLogit = input.fusedCrossEntropy ? (fp32Head ? 6 : 2) : fp32Head ? 15 : 10;
    logits = perLogit * b * s * d.vocabSize;
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
    allocated_gb: r(subtotal),
    trainable_params: trainable,
  };
}

/**
 * The fewest decoder layers to checkpoint so that the training estimate's allocator peak
 * fits `budgetGb` (what PyTorch can allocate: free memory less context and slack): 0 when
 * nothing needs checkpointing, null when even every layer checkpointed does not fit.
 */
export function layersToCheckpoint(input: Omit<VramInput, "checkpointedLayers" | "gradientCheckpointing">, budgetGb: number): number | null {
  const fits = (k: number) => estimateVram({ ...input, checkpointedLayers: k }).allocated_gb <= budgetGb;
  if (fits(0)) return 0;
  if (!fits(input.dims.layers)) return null;
  // From k = 1 on the estimate falls as k grows (each layer checkpointed saves 58·b·s·h;
  // the recompute's one layer is paid from the first).
  let lo = 1;
  let hi = input.dims.layers;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
