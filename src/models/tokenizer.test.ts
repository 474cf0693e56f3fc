import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../../tests/helpers/test-app.ts";
import { projectTokenCounter, tokenCounterFor } from "./tokenizer.ts";

/** A word-level tokenizer.json and a chat template, the files a model folder carries. */
function writeTokenizer(dir: string) {
  mkdirSync(dir, { recursive: true });
  const words = ["[UNK]", "<|user|>", "<|assistant|>", "<|end|>", "how", "long", "is", "the", "warranty", "?", "two", "years", "."];
  writeFileSync(
    join(dir, "tokenizer.json"),
    JSON.stringify({
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [1, 2, 3].map((id) => ({ id, content: words[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: { type: "Lowercase" },
      pre_tokenizer: { type: "Whitespace" },
      post_processor: null,
      decoder: null,
      model: { type: "WordLevel", vocab: Object.fromEntries(words.map((w, i) => [w, i])), unk_token: "[UNK]" },
    }),
  );
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ eos_token: "<|end|>", chat_template: "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}" }),
  );
}

test("counts with the model's tokenizer through its chat template", () => {
  const dir = join(makeTempDir(), "model");
  writeTokenizer(dir);
  const count = tokenCounterFor(dir)({ instruction: "How long is the warranty?", input: "", output: "Two years." });
  // <|user|> how long is the warranty ? <|end|> <|assistant|> two years . <|end|>
  // A word-level vocabulary has no byte spans: the prompt's own token count marks the answer.
  expect(count).toEqual({ count: 13, prompt: 8, approx: false });
});

test("falls back to an approximate count without a tokenizer", () => {
  const count = tokenCounterFor(makeTempDir())({ instruction: "How long is the warranty?", input: "", output: "Two years." });
  expect(count.approx).toBe(true);
  expect(count.count).toBeGreaterThan(5);
  expect(projectTokenCounter(null)({ instruction: "a b", input: "", output: "c" }).approx).toBe(true);
});
