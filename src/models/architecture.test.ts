import { describe, expect, test } from "bun:test";
import { fixtureConfig } from "../../tests/helpers/hf-fixtures.ts";
import { countParamsFromConfig, readDims } from "./architecture.ts";


// Published totals from shared/fixtures/hf/PARAMS.md (the Hub's safetensors.total).
const PUBLISHED: [string, number][] = [
  ["meta-llama__Llama-3.1-8B-Instruct", 8_030_261_248],
  ["Qwen__Qwen2.5-7B-Instruct", 7_615_616_512],
  ["mistralai__Mistral-7B-Instruct-v0.3", 7_248_023_552],
  ["google__gemma-2-2b-it", 2_614_341_888],
  ["microsoft__Phi-3-mini-4k-instruct", 3_821_079_552],
  ["HuggingFaceTB__SmolLM2-135M-Instruct", 134_515_008],
  ["google-bert__bert-base-uncased", 110_106_428],
];

describe("parameter count from config.json", () => {
  test.each(PUBLISHED)("%s lands within 2%% of the published total", (folder, published) => {
    const counted = countParamsFromConfig(fixtureConfig(folder))!;
    expect(Math.abs(counted - published) / published).toBeLessThan(0.02);
  });

  test("is exact for the architectures whose every tensor the formula knows", () => {
    for (const [folder, published] of PUBLISHED) expect(countParamsFromConfig(fixtureConfig(folder))).toBe(published);
  });

  test("counts MoE experts and the router", () => {
    const dense = countParamsFromConfig({ model_type: "mistral", vocab_size: 32000, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8 })!;
    const moe = countParamsFromConfig({ model_type: "mixtral", vocab_size: 32000, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, num_local_experts: 8 })!;
    // Mixtral-8x7B's published total is 46.7B.
    expect(Math.abs(moe - 46_702_792_704) / 46_702_792_704).toBeLessThan(0.02);
    expect(moe).toBeGreaterThan(dense * 6);
  });

  test("gives up (null) on a config without the shape fields", () => {
    expect(countParamsFromConfig({ model_type: "llama" })).toBeNull();
  });

  test("reads GQA, head_dim and tying from the config", () => {
    const gemma = readDims(fixtureConfig("google__gemma-2-2b-it"))!;
    expect(gemma).toMatchObject({ headDim: 256, kvHeads: 4, tiedEmbeddings: true });
    const llama = readDims(fixtureConfig("meta-llama__Llama-3.1-8B-Instruct"))!;
    expect(llama).toMatchObject({ headDim: 128, kvHeads: 8, tiedEmbeddings: false, contextLength: 131072 });
  });
});
