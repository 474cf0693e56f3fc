/**
 * Exact token counts with the base model's own tokenizer (tokenizer.json through
 * @huggingface/tokenizers) and chat template, by the trainer's own rule
 * (chat-encoding.ts): the whole render, and how much of it is prompt (masked).
 * Without a tokenizer, or when the template cannot render an example, a heuristic
 * count is used and the example is marked approximate.
 */
import type { ExampleFields } from "../datasets/shapes.ts";
import { approxTokens } from "../documents/chunker.ts";
import { loadChatTokenizer, toMessages, type ChatTokenizer, type TemplateKwargs } from "./chat-encoding.ts";
import { templateKwargsFor } from "./presets.ts";
import type { ModelInfo } from "./schemas.ts";

/** `count`: the rendered example's tokens; `prompt`: those before the answer (not trained). */
export type TokenCount = { count: number; prompt: number; approx: boolean };
export type TokenCounter = (f: ExampleFields) => TokenCount;

/** A few tokens of template around each turn, as a typical chat template adds. */
const TEMPLATE_TOKENS = 8;
const heuristic: TokenCounter = (f) => {
  const prompt = approxTokens(`${f.instruction} ${f.input}`) + TEMPLATE_TOKENS;
  return { count: prompt + approxTokens(f.output) + TEMPLATE_TOKENS, prompt, approx: true };
};

const tokenizers = new Map<string, ChatTokenizer | null>();

/** The model folder's chat tokenizer (cached per folder and template switches), or null without tokenizer.json. */
export function chatTokenizerFor(filesDir: string | undefined | null, kwargs: TemplateKwargs = {}): ChatTokenizer | null {
  if (!filesDir) return null;
  const key = `${filesDir}\u0000${JSON.stringify(kwargs)}`;
  if (!tokenizers.has(key)) {
    let loaded: ChatTokenizer | null = null;
    try {
      loaded = loadChatTokenizer(filesDir, kwargs);
    } catch {
      // An unreadable or unsupported tokenizer.json: counts stay approximate.
    }
    tokenizers.set(key, loaded);
  }
  return tokenizers.get(key)!;
}

export function tokenCounterFor(filesDir: string | undefined | null, kwargs: TemplateKwargs = {}): TokenCounter {
  const tokenizer = chatTokenizerFor(filesDir, kwargs);
  if (!tokenizer) return heuristic;
  return (f) => {
    try {
      const e = tokenizer.encode(toMessages(f));
      return { count: e.ids.length, prompt: e.promptTokens, approx: false };
    } catch {
      // The template refused this example (raise_exception) or uses a feature the renderer lacks.
      return heuristic(f);
    }
  };
}

type TokenizerInfo = Pick<ModelInfo, "files_dir" | "tokenizer_available" | "model_type" | "vocab_size" | "model_id">;

/** The project's base model's chat tokenizer, with its family's template switches. */
export const projectChatTokenizer = (info: TokenizerInfo | null) => (info?.tokenizer_available ? chatTokenizerFor(info.files_dir, templateKwargsFor(info)) : null);

/** The counter for a project's base model (heuristic until a model with tokenizer.json is resolved). */
export function projectTokenCounter(info: TokenizerInfo | null): TokenCounter {
  return info?.tokenizer_available ? tokenCounterFor(info.files_dir, templateKwargsFor(info)) : heuristic;
}
