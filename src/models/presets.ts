/**
 * Training presets per model family: which layers get LoRA adapters, a learning-rate
 * band that family is known to tolerate, and its chat template's quirks. The family
 * comes from config.json's model_type, told apart by vocabulary size where one
 * model_type covers several families (Llama 3 vs SmolLM2, Phi-3 vs Phi-4).
 *
 * Learning rates: LoRA's usual 2e-4 (the QLoRA paper) suits Llama 3 and small
 * models; Qwen, Mistral, Gemma and Phi are commonly tuned lower (1e-4) and diverge
 * sooner above 2e-4.
 */
import type { TemplateKwargs } from "./chat-encoding.ts";

export type TemplateQuirks = {
  /** The template accepts a system message (Gemma's refuses one). */
  systemRole: boolean;
  /** Thinking models: templates switch the empty <think> block with enable_thinking. */
  thinking: boolean;
  /** The template writes the BOS token itself (no second one is added). */
  bosInTemplate: boolean;
  /** The template adds its own default system prompt when none is given. */
  defaultSystemPrompt: boolean;
};

export type ModelPreset = {
  id: string;
  label: string;
  targetModules: string[] | "all-linear";
  learningRate: { min: number; max: number; default: number };
  quirks: TemplateQuirks;
  /** Passed to every chat-template render, here and in the trainer. */
  templateKwargs: TemplateKwargs;
  /** A preference round's (DPO) defaults: beta (how near the adapter it starts from it stays) and passes over the pairs. */
  preference: { beta: number; epochs: number };
};

const LLAMA_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
const PHI3_MODULES = ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"];
const LOW_LR = { min: 5e-5, max: 2e-4, default: 1e-4 };
const STANDARD_QUIRKS: TemplateQuirks = { systemRole: true, thinking: false, bosInTemplate: true, defaultSystemPrompt: false };

const preset = (id: string, label: string, p: Partial<Omit<ModelPreset, "id" | "label" | "quirks">> & { quirks?: Partial<TemplateQuirks> }): ModelPreset => ({
  id,
  label,
  targetModules: p.targetModules ?? LLAMA_MODULES,
  learningRate: p.learningRate ?? LOW_LR,
  quirks: { ...STANDARD_QUIRKS, ...p.quirks },
  templateKwargs: p.templateKwargs ?? {},
  // DPO's usual beta; no family has measured better here, so each starts from it.
  preference: p.preference ?? { beta: 0.1, epochs: 3 },
});

export const PRESETS = {
  llama3: preset("llama3", "Llama 3.x", { learningRate: { min: 1e-4, max: 3e-4, default: 2e-4 } }),
  smollm2: preset("smollm2", "SmolLM2", { learningRate: { min: 1e-4, max: 1e-3, default: 3e-4 }, quirks: { bosInTemplate: false, defaultSystemPrompt: true } }),
  qwen2: preset("qwen2", "Qwen 2.5", { quirks: { bosInTemplate: false, defaultSystemPrompt: true } }),
  qwen3: preset("qwen3", "Qwen 3", { quirks: { bosInTemplate: false, thinking: true }, templateKwargs: { enable_thinking: false } }),
  mistral: preset("mistral", "Mistral", {}),
  gemma2: preset("gemma2", "Gemma 2", { quirks: { systemRole: false } }),
  gemma3: preset("gemma3", "Gemma 3", { quirks: { systemRole: false } }),
  phi3: preset("phi3", "Phi-3", { targetModules: PHI3_MODULES, learningRate: { min: 5e-5, max: 2e-4, default: 2e-4 }, quirks: { bosInTemplate: false } }),
  phi4: preset("phi4", "Phi-4", { targetModules: PHI3_MODULES, quirks: { bosInTemplate: false } }),
} satisfies Record<string, ModelPreset>;

/** What an unknown family trains with: every linear layer, LoRA's usual rate. */
export const SAFE_DEFAULTS: ModelPreset = preset("generic", "Safe defaults", { targetModules: "all-linear", learningRate: { min: 5e-5, max: 3e-4, default: 2e-4 } });

/** The preset for a resolved model, or null for a family we have none for. */
export function presetFor(info: { model_type: string; vocab_size: number; model_id?: string } | null | undefined): ModelPreset | null {
  if (!info) return null;
  switch (info.model_type) {
    case "llama":
      if (info.vocab_size >= 128_000) return PRESETS.llama3;
      if (info.vocab_size === 49_152 || /smollm/i.test(info.model_id ?? "")) return PRESETS.smollm2;
      return null;
    case "qwen2":
      return PRESETS.qwen2;
    case "qwen3":
    case "qwen3_moe":
      return PRESETS.qwen3;
    case "mistral":
      return PRESETS.mistral;
    case "gemma2":
      return PRESETS.gemma2;
    case "gemma3":
    case "gemma3_text":
      return PRESETS.gemma3;
    case "phi3":
      return info.vocab_size >= 100_000 ? PRESETS.phi4 : PRESETS.phi3;
    default:
      return null;
  }
}

/** The template switches a project's examples render with (counts, readiness, trainer). */
export const templateKwargsFor = (info: Parameters<typeof presetFor>[0]): TemplateKwargs => presetFor(info)?.templateKwargs ?? {};
