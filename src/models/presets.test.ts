import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import { FIXTURES_DIR } from "../../tests/fakes/fake-hub.ts";
import { fixtureConfig } from "../../tests/helpers/hf-fixtures.ts";
import { presetFor, PRESETS } from "./presets.ts";

const infoOf = (folder: string) => {
  const c = fixtureConfig(folder);
  return { model_type: c.model_type ?? "", vocab_size: c.vocab_size ?? 0, model_id: folder.replace("__", "/") };
};

describe("the seven real configs find their family", () => {
  test.each([
    ["meta-llama__Llama-3.1-8B-Instruct", "Llama 3.x"],
    ["Qwen__Qwen2.5-7B-Instruct", "Qwen 2.5"],
    ["mistralai__Mistral-7B-Instruct-v0.3", "Mistral"],
    ["google__gemma-2-2b-it", "Gemma 2"],
    ["microsoft__Phi-3-mini-4k-instruct", "Phi-3"],
    ["HuggingFaceTB__SmolLM2-135M-Instruct", "SmolLM2"],
  ])("%s → %s", (folder, label) => {
    expect(presetFor(infoOf(folder))?.label).toBe(label);
  });

  test("BERT has no preset: safe defaults", () => {
    expect(presetFor(infoOf("google-bert__bert-base-uncased"))).toBeNull();
  });

  test("Phi-3 adapts its fused projections; Llama-style families their separate ones", () => {
    expect(presetFor(infoOf("microsoft__Phi-3-mini-4k-instruct"))!.targetModules).toEqual(["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]);
    expect(presetFor(infoOf("meta-llama__Llama-3.1-8B-Instruct"))!.targetModules).toContain("gate_proj");
  });

  test("families the fixtures lack, by model_type and vocabulary", () => {
    expect(presetFor({ model_type: "qwen3", vocab_size: 151_936 })).toBe(PRESETS.qwen3);
    expect(presetFor({ model_type: "gemma3_text", vocab_size: 262_144 })).toBe(PRESETS.gemma3);
    expect(presetFor({ model_type: "phi3", vocab_size: 100_352 })).toBe(PRESETS.phi4);
    expect(presetFor({ model_type: "llama", vocab_size: 32_000 })).toBeNull();
  });
});

describe("each preset's template quirks hold for the real templates", () => {
  const template = (folder: string) => JSON.parse(readFileSync(join(FIXTURES_DIR, folder, "tokenizer_config.json"), "utf8"));
  const chat = [
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello" },
  ];
  const render = (source: string, specials: Record<string, string | null>) => new Template(source).render({ ...specials, messages: chat, add_generation_prompt: false, tools: null });

  test("Llama 3.1 writes its BOS itself", () => {
    const t = template("meta-llama__Llama-3.1-8B-Instruct");
    expect(render(t.chat_template, { bos_token: t.bos_token, eos_token: t.eos_token }).startsWith("<|begin_of_text|>")).toBe(PRESETS.llama3.quirks.bosInTemplate);
  });

  test("Mistral v0.3 writes its BOS itself", () => {
    const source = readFileSync(join(FIXTURES_DIR, "mistralai__Mistral-7B-Instruct-v0.3/chat_template.jinja"), "utf8");
    expect(render(source, { bos_token: "<s>", eos_token: "</s>" }).startsWith("<s>")).toBe(PRESETS.mistral.quirks.bosInTemplate);
  });

  test("Qwen 2.5 and SmolLM2 add a default system prompt and no BOS", () => {
    const qwen = template("Qwen__Qwen2.5-7B-Instruct");
    const q = render(qwen.chat_template, { bos_token: qwen.bos_token, eos_token: qwen.eos_token });
    expect(q.startsWith("<|im_start|>system\nYou are Qwen")).toBe(PRESETS.qwen2.quirks.defaultSystemPrompt);
    expect(PRESETS.qwen2.quirks.bosInTemplate).toBe(false);
    const smol = template("HuggingFaceTB__SmolLM2-135M-Instruct");
    const s = render(smol.chat_template, { bos_token: smol.bos_token, eos_token: smol.eos_token });
    expect(s.includes("You are a helpful AI assistant named SmolLM")).toBe(PRESETS.smollm2.quirks.defaultSystemPrompt);
  });
});
