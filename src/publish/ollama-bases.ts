/**
 * The adapter lane needs, in Ollama, the very base the adapter was trained on. A small
 * table maps Hugging Face ids to Ollama library names; `/api/show` confirms the match
 * (architecture, parameter count, vocabulary size), so a wrong guess is refused rather
 * than producing gibberish. Families whose safetensors adapters Ollama applies: Llama,
 * Mistral, Gemma (Ollama's docs, "Importing a model").
 */
import type { Ollama } from "ollama";
import { parseReply } from "../lib/external-reply.ts";
import { showModelInfo } from "./reply-schemas.ts";

export const ADAPTER_FAMILIES = new Set(["llama", "mistral", "gemma", "gemma2", "gemma3"]);

/** Hugging Face id → Ollama library names, full precision first (an adapter is trained on 16-bit weights). */
export const OLLAMA_LIBRARY: Record<string, string[]> = {
  "meta-llama/Llama-3.1-8B-Instruct": ["llama3.1:8b-instruct-fp16", "llama3.1:8b-instruct-q8_0", "llama3.1:8b"],
  "meta-llama/Llama-3.2-1B-Instruct": ["llama3.2:1b-instruct-fp16", "llama3.2:1b"],
  "meta-llama/Llama-3.2-3B-Instruct": ["llama3.2:3b-instruct-fp16", "llama3.2:3b"],
  "mistralai/Mistral-7B-Instruct-v0.3": ["mistral:7b-instruct-v0.3-fp16", "mistral:7b"],
  "google/gemma-2-2b-it": ["gemma2:2b-instruct-fp16", "gemma2:2b"],
  "google/gemma-2-9b-it": ["gemma2:9b-instruct-fp16", "gemma2:9b"],
};

export type BaseFacts = { modelType: string; numParameters: number; vocabSize: number | null };

/** Why `name` is not this base, or null when it is. */
export async function baseMismatch(client: Ollama, name: string, facts: BaseFacts): Promise<string | null> {
  let shown: unknown;
  try {
    shown = await client.show({ model: name });
  } catch (err) {
    return `${name} is not installed in Ollama (${(err as Error).message})`;
  }
  const info = parseReply(showModelInfo, shown, `Ollama's /api/show for ${name}`).model_info ?? {};
  const arch = String(info["general.architecture"] ?? "");
  const family = facts.modelType.startsWith("gemma") ? "gemma" : facts.modelType;
  if (!arch.startsWith(family)) return `${name} is ${arch ? `a ${arch}` : "an unknown"} model, the adapter was trained on ${facts.modelType}`;
  const params = Number(info["general.parameter_count"] ?? 0);
  if (params && Math.abs(params - facts.numParameters) / facts.numParameters > 0.02) {
    return `${name} has ${(params / 1e9).toFixed(2)}B parameters, the training base ${(facts.numParameters / 1e9).toFixed(2)}B`;
  }
  const vocab = Number(info[`${arch}.vocab_size`] ?? 0);
  if (vocab && facts.vocabSize && vocab !== facts.vocabSize) return `${name} has a vocabulary of ${vocab} tokens, the training base ${facts.vocabSize}`;
  return null;
}
