/**
 * What the trainer will train on, token for token: each example becomes a chat
 * (user, assistant) rendered with the model's own chat template (or the generic one
 * the trainer falls back to), tokenized without extra special tokens, cut at
 * max_seq_length, and trained on the answer only.
 *
 * This is the one definition the app uses of python/finetuneflow_trainer/data.py's
 * `encode` rule (token counts, the readiness check, the "does it fit" refusal);
 * tests/readiness/parity.test.ts checks it against the trainer token for token.
 *
 * The rule: prompt = render(messages without the answer, add_generation_prompt);
 * full = render(all messages), or prompt + answer + eos when the template renders the
 * prompt differently once the answer is there. A token is trained when it starts at
 * or after the end of the prompt text. The JS tokenizer gives no offsets, so each
 * token's start is found by walking its bytes along the text (byte-level BPE and
 * SentencePiece-style "▁" vocabularies); other vocabularies fall back to the prompt's
 * own token count.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import fallbackTemplate from "../../python/finetuneflow_trainer/fallback_template.jinja" with { type: "text" };

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };
export type TemplateKwargs = Record<string, boolean | number | string>;

/** One example as training sees it: every token of the render, before the cut. */
export type EncodedExample = {
  ids: number[];
  /** [start, end) byte offsets of each token in `text` (UTF-8). */
  spans: [number, number][];
  special: boolean[];
  /** The rendered chat as tokenized (NFC-normalized when the tokenizer normalizes so). */
  text: string;
  /** Tokens before the first trained one (the prompt, masked). */
  promptTokens: number;
};

export type ChatTokenizer = {
  templateSource: "model" | "generic";
  /** False when token starts could not be placed on the text (prompt count used instead). */
  exactMask: boolean;
  encode(messages: ChatMessage[]): EncodedExample;
};

type Vocabulary = "byte_level" | "metaspace" | "other";

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

const tokenText = (t: unknown) => (typeof t === "string" ? t : t && typeof t === "object" && "content" in t ? String((t as { content: unknown }).content) : undefined);

/** GPT-2's printable stand-ins for bytes, reversed: "Ġ" → 0x20. */
const BYTE_OF_CHAR: Map<string, number> = (() => {
  const printable = [...range(33, 126), ...range(161, 172), ...range(174, 255)];
  const map = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) map.set(String.fromCodePoint(printable.includes(b) ? b : 256 + extra++), b);
  return map;
})();

function range(from: number, to: number) {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Walks a tokenizer.json component tree for a component of `type` (Sequence nests). */
function findComponent(node: unknown, type: string): Record<string, unknown> | null {
  if (!node || typeof node !== "object") return null;
  const n = node as Record<string, unknown>;
  if (n.type === type) return n;
  for (const key of ["pretokenizers", "decoders", "processors", "normalizers"]) {
    const list = n[key];
    if (Array.isArray(list)) for (const child of list) {
      const found = findComponent(child, type);
      if (found) return found;
    }
  }
  return null;
}

function vocabularyOf(json: Record<string, unknown>): Vocabulary {
  if (findComponent(json.decoder, "ByteLevel") || findComponent(json.pre_tokenizer, "ByteLevel")) return "byte_level";
  if (findComponent(json.decoder, "Metaspace") || findComponent(json.pre_tokenizer, "Metaspace") || findComponent(json.decoder, "ByteFallback")) return "metaspace";
  return "other";
}

const encoder = new TextEncoder();

/** The bytes a (non-added) token stands for in the text, or null when unknown. */
function tokenBytes(token: string, vocab: Vocabulary): Uint8Array | null {
  if (vocab === "byte_level") {
    const bytes: number[] = [];
    for (const ch of token) {
      const b = BYTE_OF_CHAR.get(ch);
      if (b === undefined) return null;
      bytes.push(b);
    }
    return Uint8Array.from(bytes);
  }
  if (vocab === "metaspace") {
    const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
    if (fallback) return Uint8Array.of(parseInt(fallback[1]!, 16));
    return encoder.encode(token.replaceAll("▁", " "));
  }
  return null;
}

function startsWithAt(text: Uint8Array, at: number, piece: Uint8Array, from = 0): boolean {
  if (at + piece.length - from > text.length) return false;
  for (let i = from; i < piece.length; i++) if (text[at + i - from] !== piece[i]) return false;
  return true;
}

/**
 * Each token's [start, end) in the text's bytes, as the Rust tokenizer's offsets
 * would give them; null when a token cannot be placed (unknown vocabulary, a
 * normalizer that rewrites text).
 */
function placeTokens(text: Uint8Array, pieces: (Uint8Array | null)[], trimLeadingSpace: boolean): [number, number][] | null {
  const spans: [number, number][] = [];
  let at = 0;
  for (const piece of pieces) {
    if (!piece) return null;
    let start = at;
    if (startsWithAt(text, at, piece)) at += piece.length;
    // SentencePiece prepends "▁" to a section: that space is not in the text.
    else if (piece[0] === 0x20 && startsWithAt(text, at, piece, 1)) at += piece.length - 1;
    else return null;
    if (trimLeadingSpace) while (start < at - 1 && text[start] === 0x20) start++;
    spans.push([start, at]);
  }
  return spans;
}

export function loadChatTokenizer(filesDir: string, templateKwargs: TemplateKwargs = {}): ChatTokenizer | null {
  if (!existsSync(join(filesDir, "tokenizer.json"))) return null;
  const json = readJson(join(filesDir, "tokenizer.json"));
  if (!json) return null;
  const config = readJson(join(filesDir, "tokenizer_config.json")) ?? {};
  const tokenizer = new Tokenizer(json as never, config as never);
  const templatePath = join(filesDir, "chat_template.jinja");
  const modelTemplate = existsSync(templatePath) ? readFileSync(templatePath, "utf8") : typeof config.chat_template === "string" ? config.chat_template : null;
  const template = new Template(modelTemplate ?? fallbackTemplate);
  const vocab = vocabularyOf(json);
  // GPT-2-style post-processors move a token's start past its leading space.
  const trim = findComponent(json.post_processor, "ByteLevel")?.trim_offsets === true;
  // Tokens stand for the normalized text; NFC is the one normalizer real chat models use.
  const nfc = findComponent(json.normalizer, "NFC") !== null;
  const added = tokenizer.get_added_tokens_decoder();
  const eos = tokenText(config.eos_token);
  // transformers passes the tokenizer's special tokens to every template.
  const specials: Record<string, string> = {};
  for (const name of ["bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"]) {
    const value = tokenText(config[name]);
    if (value !== undefined) specials[name] = value;
  }
  const render = (messages: ChatMessage[], addGenerationPrompt: boolean) =>
    template.render({ ...specials, ...templateKwargs, messages, tools: null, documents: null, add_generation_prompt: addGenerationPrompt });

  let exactMask = vocab !== "other";
  return {
    templateSource: modelTemplate ? "model" : "generic",
    get exactMask() {
      return exactMask;
    },
    encode(messages) {
      const promptText = render(messages.slice(0, -1), true);
      let text = render(messages, false);
      if (!text.startsWith(promptText)) text = promptText + messages.at(-1)!.content + (eos ?? "");
      const { ids, tokens } = tokenizer.encode(text, { add_special_tokens: false });
      const tokenized = nfc ? text.normalize("NFC") : text;
      const bytes = encoder.encode(tokenized);
      const special = ids.map((id) => added.has(id));
      const pieces = tokens.map((t, i) => (special[i] ? encoder.encode(added.get(ids[i]!)!.content) : tokenBytes(t, vocab)));
      const placed = placeTokens(bytes, pieces, trim);
      const boundary = encoder.encode(nfc ? promptText.normalize("NFC") : promptText).length;
      let spans: [number, number][];
      let promptTokens: number;
      if (placed) {
        spans = placed;
        promptTokens = placed.findIndex(([start]) => start >= boundary);
        if (promptTokens < 0) promptTokens = ids.length;
      } else {
        exactMask = false;
        promptTokens = Math.min(ids.length, tokenizer.encode(promptText, { add_special_tokens: false }).ids.length);
        spans = spreadSpans(bytes.length, ids.length, promptTokens, boundary);
      }
      return { ids, spans, special, text: tokenized, promptTokens };
    },
  };
}

/** Without offsets: the prompt's tokens share the prompt's bytes, the answer's the rest. */
function spreadSpans(total: number, n: number, promptTokens: number, boundary: number): [number, number][] {
  return Array.from({ length: n }, (_, i) => {
    const [from, to, k, count] = i < promptTokens ? [0, boundary, i, promptTokens] : [boundary, total, i - promptTokens, n - promptTokens];
    const a = from + Math.floor(((to - from) * k) / count);
    const b = from + Math.floor(((to - from) * (k + 1)) / count);
    return [a, b] as [number, number];
  });
}

/** The chat an example becomes (data.py's `to_messages`, same stripping). */
export function toMessages(f: { instruction: string; input: string; output: string }, systemPrompt?: string | null): ChatMessage[] {
  let user = f.instruction.trim();
  if (f.input.trim()) user += `\n\n${f.input.trim()}`;
  const messages: ChatMessage[] = [
    { role: "user", content: user },
    { role: "assistant", content: f.output.trim() },
  ];
  if (systemPrompt) messages.unshift({ role: "system", content: systemPrompt });
  return messages;
}

/** How an encoded example fares at a max_seq_length (data.py: truncate, then drop when no answer is left). */
export function fitAt(e: { length: number; promptTokens: number }, maxSeqLength: number) {
  const dropped = e.promptTokens >= Math.min(maxSeqLength, e.length);
  return { dropped, truncated: !dropped && e.length > maxSeqLength, fits: e.length <= maxSeqLength };
}
