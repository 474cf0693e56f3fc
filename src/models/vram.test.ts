import { describe, expect, test } from "bun:test";
import { countParamsFromConfig, readDims, type HfConfig } from "./architecture.ts";
import { fixtureConfig } from "../../tests/helpers/hf-fixtures.ts";
import { estimateVram, type VramMode } from "./vram.ts";

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
  test("8B QLoRA ≈ 6 GB", () => within(estimate(fixtureConfig("meta-llama__Llama-3.1-8B-Instruct"), "qlora"), 6, 6));
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

  test("counts LoRA params on all seven projections (r=16 on Llama-3.1-8B ≈ 42M)", () => {
    const e = estimateVram({ dims, numParameters: n, mode: "qlora", loraR: 16 });
    expect(e.trainable_params).toBe(41_943_040);
  });
});
