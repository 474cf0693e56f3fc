/**
 * Exact token counts with the base model's own tokenizer (tokenizer.json through
 * @huggingface/tokenizers) and its chat template (@huggingface/jinja), the way the
 * trainer will format each example. Without a tokenizer the heuristic count is used
 * and the example is marked approximate.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import type { ExampleFields } from "../datasets/shapes.ts";
import { approxTokens } from "../documents/chunker.ts";
import type { ModelInfo } from "./schemas.ts";

export type TokenCount = { count: number; approx: boolean };
export type TokenCounter = (f: ExampleFields) => TokenCount;

const heuristic: TokenCounter = (f) => ({ count: approxTokens(`${f.instruction} ${f.input} ${f.output}`), approx: true });
const cache = new Map<string, TokenCounter>();

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

const tokenText = (t: unknown) => (typeof t === "string" ? t : t && typeof t === "object" && "content" in t ? String((t as { content: unknown }).content) : "");

export function tokenCounterFor(filesDir: string | undefined | null): TokenCounter {
  if (!filesDir || !existsSync(join(filesDir, "tokenizer.json"))) return heuristic;
  const cached = cache.get(filesDir);
  if (cached) return cached;
  let counter: TokenCounter = heuristic;
  try {
    const json = readJson(join(filesDir, "tokenizer.json"));
    const config = readJson(join(filesDir, "tokenizer_config.json")) ?? {};
    if (!json) throw new Error("unreadable tokenizer.json");
    const tokenizer = new Tokenizer(json as never, config as never);
    const templatePath = join(filesDir, "chat_template.jinja");
    const source = existsSync(templatePath) ? readFileSync(templatePath, "utf8") : typeof config.chat_template === "string" ? config.chat_template : null;
    const template = source ? new Template(source) : null;
    const specials = { bos_token: tokenText(config.bos_token), eos_token: tokenText(config.eos_token) };
    counter = (f) => {
      const user = f.input ? `${f.instruction}\n\n${f.input}` : f.instruction;
      let text = `${user}\n\n${f.output}`;
      if (template) {
        try {
          text = template.render({
            messages: [
              { role: "user", content: user },
              { role: "assistant", content: f.output },
            ],
            add_generation_prompt: false,
            ...specials,
          });
        } catch {
          // A template using features the renderer lacks: count the text without it.
        }
      }
      return { count: tokenizer.encode(text, { add_special_tokens: false }).ids.length, approx: false };
    };
  } catch {
    counter = heuristic;
  }
  cache.set(filesDir, counter);
  return counter;
}

/** The counter for a project's base model (heuristic until a model with tokenizer.json is resolved). */
export function projectTokenCounter(info: Pick<ModelInfo, "files_dir" | "tokenizer_available"> | null): TokenCounter {
  return info?.tokenizer_available ? tokenCounterFor(info.files_dir) : heuristic;
}
