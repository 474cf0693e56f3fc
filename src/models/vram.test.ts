import { describe, expect, test } from "bun:test";
import { countParamsFromConfig, embeddingParams, readDims, type HfConfig } from "./architecture.ts";
import { fixtureConfig } from "../../tests/helpers/hf-fixtures.ts";
import { estimateVram, layersToCheckpoint, type VramMode } from "./vram.ts";

// Llama-3.1-70B's published config (no fixture: only its shape matters here).
const LLAMA_70B: HfConfig = {
  model_type: "llama", vocab_size: 128256, hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80,
  num_attention_heads: 64, num_key_value_heads: 8, tie_word_embeddings: false, max_position_embeddings: 131072,
};

const estimate = (config: HfConfig, mode: VramMode) =>
  estimateVram({ dims: readDims(config)!, numParameters: countParamsFromConfig(config)!, mode, batchSize: 1, seqLen: 512, loraR: 16 }).total_gb;

const within = (value: number, low: number, high: number, tolerance = 0.25) => {
  expect(value).toBeGreaterThanOrEqual(low * (1 - tolerance));
  expect(value).toBeLessThanOrEqual(high * (1 + tolerance));
};

describe("VRAM estimates against published anchors (±25%)", () => {
  // The published ~6 GB keeps embeddings and lm_head in 16-bit; peft's k-bit preparation,
  // which our trainer uses, upcasts them to fp32: 2 more bytes on each of their 1.05B params.
  test("8B QLoRA ≈ 6 GB, plus our fp32 embeddings", () => {
    const llama = fixtureConfig("meta-llama__Llama-3.1-8B-Instruct");
    const ours = estimateVram({ dims: readDims(llama)!, numParameters: countParamsFromConfig(llama)!, mode: "qlora", batchSize: 1, seqLen: 512, loraR: 16, fusedCrossEntropy: true }).total_gb;
    within(ours - (2 * embeddingParams(readDims(llama)!)) / 1024 ** 3, 6, 6);
  });
  test("8B 16-bit LoRA ≈ 16–22 GB", () => within(estimate(fixtureConfig("meta-llama__Llama-3.1-8B-Instruct"), "lora"), 16, 22));
  test("7B QLoRA ≈ 5–6 GB", () => within(estimate(fixtureConfig("mistralai__Mistral-7B-Instruct-v0.3"), "qlora"), 5, 6));
  test("70B QLoRA ≈ 41–48 GB", () => within(estimate(LLAMA_70B, "qlora"), 41, 48));
});

describe("VRAM estimate components", () => {
  const llama = fixtureConfig("meta-llama__Llama-3.1-8B-Instruct");
  const dims = readDims(llama)!;
  const n = countParamsFromConfig(llama)!;

  test("loading in 4-bit needs well under half of 16-bit", () => {
    const full = estimateVram({ dims, numParameters: n, mode: "load_16bit" });
    const nf4 = estimateVram({ dims, numParameters: n, mode: "load_4bit" });
    expect(full.weights_gb).toBeCloseTo((n * 2) / 1024 ** 3, 1);
    expect(nf4.weights_gb / full.weights_gb).toBeLessThan(0.45);
    expect(full.lora_gb).toBe(0);
  });

  test("gradient checkpointing cuts activations; longer sequences and bigger batches cost more", () => {
    const base = { dims, numParameters: n, mode: "lora" as const, batchSize: 4, seqLen: 2048 };
    const ckpt = estimateVram({ ...base, gradientCheckpointing: true });
    const full = estimateVram({ ...base, gradientCheckpointing: false });
    expect(full.activations_gb).toBeGreaterThan(ckpt.activations_gb * 5);
    expect(estimateVram({ ...base, seqLen: 4096 }).total_gb).toBeGreaterThan(ckpt.total_gb);
  });

  test("selective checkpointing sits between none and all, and each layer checkpointed saves 58·b·s·h", () => {
    const base = { dims, numParameters: n, mode: "lora" as const, batchSize: 4, seqLen: 2048 };
    const act = (k: number) => estimateVram({ ...base, checkpointedLayers: k }).activations_gb;
    expect(act(0)).toBe(estimateVram({ ...base, gradientCheckpointing: false }).activations_gb);
    expect(act(dims.layers)).toBe(estimateVram({ ...base, gradientCheckpointing: true }).activations_gb);
    const perLayerSaved = (58 * 4 * 2048 * dims.hidden) / 1024 ** 3;
    expect(act(10) - act(11)).toBeCloseTo(perLayerSaved, 2);
    expect(act(1)).toBeGreaterThan(act(0)); // one layer checkpointed pays the recompute and saves less than it costs
  });

  test("layersToCheckpoint: none when it fits, the fewest that fit, all or null at the edges", () => {
    const input = { dims, numParameters: n, mode: "lora" as const, batchSize: 4, seqLen: 2048, loraR: 16 };
    const peak = (k: number) => estimateVram({ ...input, checkpointedLayers: k }).allocated_gb;
    expect(layersToCheckpoint(input, peak(0) + 0.01)).toBe(0);
    expect(layersToCheckpoint(input, peak(dims.layers) - 0.01)).toBeNull();
    expect(layersToCheckpoint(input, peak(dims.layers))).toBe(dims.layers);
    // A budget between: the answer fits, one layer fewer does not.
    const budget = (peak(0) + peak(dims.layers)) / 2;
    const k = layersToCheckpoint(input, budget)!;
    expect(peak(k)).toBeLessThanOrEqual(budget);
    expect(peak(k - 1)).toBeGreaterThan(budget);
    expect(k).toBeGreaterThan(0);
    expect(k).toBeLessThan(dims.layers);
  });

  test("counts LoRA params on all seven projections (r=16 on Llama-3.1-8B ≈ 42M)", () => {
    const e = estimateVram({ dims, numParameters: n, mode: "qlora", loraR: 16 });
    expect(e.trainable_params).toBe(41_943_040);
  });
});

/**
 * Peaks measured on an NVIDIA H200 (torch 2.11, transformers 5.17, peft 0.21, liger-kernel
 * 0.8.5; 2026-12-04) by python/bench/gpu_bench.py: torch.cuda.max_memory_allocated over the
 * timed steps, random weights at the real shapes, LoRA r=16 on all linear layers, batch 4.
 * Padded batches peaked at 4 × 1045 tokens, packed ones at 1851 tokens. The 1B shape is
 * Llama-3.1-8B's config with Llama-3.2-1B's dimensions.
 */
describe("VRAM estimates against peaks measured on a GPU (±10%)", () => {
  const llama8b = fixtureConfig("meta-llama__Llama-3.1-8B-Instruct");
  const llama1b: HfConfig = { ...llama8b, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, tie_word_embeddings: true };
  const padded = { batchSize: 4, seqLen: 1045 };
  const packed = { batchSize: 1, seqLen: 1851 };
  const cases: [string, HfConfig, VramMode, typeof padded, boolean, boolean, number][] = [
    ["8B LoRA, plain Trainer", llama8b, "lora", padded, false, true, 22.57],
    ["8B LoRA, packing + fused CE", llama8b, "lora", packed, true, true, 16.74],
    ["8B LoRA, packing", llama8b, "lora", packed, false, true, 18.93],
    ["8B LoRA, fused CE", llama8b, "lora", padded, true, true, 18.05],
    ["8B LoRA, packing + fused CE, no checkpointing", llama8b, "lora", packed, true, false, 29.6],
    ["8B QLoRA, plain Trainer", llama8b, "qlora", padded, false, true, 16.88],
    ["8B QLoRA, packing + fused CE", llama8b, "qlora", packed, true, true, 9.96],
    ["1B LoRA, plain Trainer", llama1b, "lora", padded, false, true, 8.78],
    ["1B LoRA, packing + fused CE", llama1b, "lora", packed, true, true, 3.03],
  ];
  for (const [name, config, mode, shape, fused, checkpointing, measured] of cases) {
    test(`${name}: ${measured} GiB`, () => {
      const est = estimateVram({ dims: readDims(config)!, numParameters: countParamsFromConfig(config)!, mode, loraR: 16, fusedCrossEntropy: fused, gradientCheckpointing: checkpointing, ...shape });
      expect(Math.abs(est.allocated_gb - measured) / measured).toBeLessThanOrEqual(0.1);
    });
  }
});
