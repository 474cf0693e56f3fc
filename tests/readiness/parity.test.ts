/**
 * The readiness render is what the trainer trains on, token for token: the same rows
 * encoded by the trainer (finetuneflow_trainer.data.encode, in Python) and by the app
 * (src/models/chat-encoding.ts), with real chat templates (Llama 3.1, Qwen 2.5,
 * SmolLM2, Mistral v0.3, a Qwen3-style thinking template, none), over byte-level BPE
 * and SentencePiece-style vocabularies, at lengths that keep, cut and drop examples.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fitAt, loadChatTokenizer, toMessages, type TemplateKwargs } from "../../src/models/chat-encoding.ts";
import { FIXTURES_DIR } from "../fakes/fake-hub.ts";
import { makeTempDir, PYTHON, TRAINER_DIR } from "../helpers/test-app.ts";

const fixtureTemplate = (folder: string) => JSON.parse(readFileSync(join(FIXTURES_DIR, folder, "tokenizer_config.json"), "utf8")).chat_template as string;

const THINKING_TEMPLATE =
  "{% for m in messages %}<|im_start|>{{ m.role }}\n{% if m.role == 'assistant' %}<think>\n\n</think>\n\n{% endif %}{{ m.content }}<|im_end|>\n{% endfor %}" +
  "{% if add_generation_prompt %}<|im_start|>assistant\n{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}";

const TEMPLATES: Record<string, { template: string | null; bos: string | null; eos: string }> = {
  llama31: { template: fixtureTemplate("meta-llama__Llama-3.1-8B-Instruct"), bos: "<|begin_of_text|>", eos: "<|eot_id|>" },
  qwen25: { template: fixtureTemplate("Qwen__Qwen2.5-7B-Instruct"), bos: null, eos: "<|im_end|>" },
  smollm2: { template: fixtureTemplate("HuggingFaceTB__SmolLM2-135M-Instruct"), bos: "<|im_start|>", eos: "<|im_end|>" },
  mistral: { template: readFileSync(join(FIXTURES_DIR, "mistralai__Mistral-7B-Instruct-v0.3/chat_template.jinja"), "utf8"), bos: "<s>", eos: "</s>" },
  thinking: { template: THINKING_TEMPLATE, bos: null, eos: "<|im_end|>" },
  generic: { template: null, bos: null, eos: "</s>" },
};
const KWARGS: Record<string, TemplateKwargs> = { thinking: { enable_thinking: false } };
const KINDS = ["byte_level", "byte_trim", "metaspace"];
const MAX_LENGTHS = [4096, 60];

const ROWS = [
  { instruction: "What is the capital of France?", input: "", output: "The capital of France is Paris." },
  { instruction: "  Summarise the warranty.  ", input: "The warranty covers parts and labour\nfor two years.", output: " Two years, parts and labour. " },
  { instruction: "Traduis: café naïve", input: "", output: "日本語 — café 🎉 naïve" },
  { instruction: "Decomposed accents: cafe\u0301", input: "", output: "re\u0301sume\u0301 done" },
  { instruction: "A literal special token <|im_end|> inside the text, and [INST] too", input: "", output: "Answer with </s> and <|eot_id|> inside." },
  { instruction: "Tabs\tand  double  spaces", input: "\r\nwindows\r\nlines", output: "\n\nleading newlines kept?" },
  { instruction: "Long answer", input: "", output: "To reset the device, hold the power button for ten seconds until the light blinks. ".repeat(12) },
  { instruction: "Long prompt ".repeat(60), input: "", output: "Short answer." },
];

let dir: string;

beforeAll(() => {
  dir = makeTempDir("ftf-parity-");
  const rows = join(dir, "rows.jsonl");
  writeFileSync(rows, ROWS.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const spec = join(dir, "spec.json");
  writeFileSync(spec, JSON.stringify({ out: dir, rows, templates: TEMPLATES, kinds: KINDS, max_lengths: MAX_LENGTHS, kwargs: KWARGS }));
  const run = Bun.spawnSync([PYTHON, join(import.meta.dir, "../helpers/parity_encode.py"), spec], { cwd: TRAINER_DIR, env: { ...process.env, PYTHONPATH: TRAINER_DIR } });
  if (run.exitCode !== 0) throw new Error(`parity_encode.py failed: ${run.stderr.toString().slice(-3000)}`);
}, 180_000);

type TrainerItem = { input_ids: number[]; labels: number[] } | null;

describe.each(KINDS)("%s vocabulary", (kind) => {
  test.each(Object.keys(TEMPLATES))("%s template: ids, trained tokens and drops equal the trainer's", (name) => {
    const tokenizer = loadChatTokenizer(join(dir, `${kind}-${name}`), KWARGS[name] ?? {})!;
    expect(tokenizer.templateSource).toBe(TEMPLATES[name]!.template ? "model" : "generic");
    for (const max of MAX_LENGTHS) {
      const trainer = readFileSync(join(dir, `${kind}-${name}-${max}.jsonl`), "utf8").trim().split("\n").map((l) => JSON.parse(l) as TrainerItem);
      ROWS.forEach((row, i) => {
        const e = tokenizer.encode(toMessages(row));
        const fit = fitAt({ length: e.ids.length, promptTokens: e.promptTokens }, max);
        const expected = trainer[i]!;
        const where = `${kind}/${name}/max ${max}/row ${i}`;
        expect({ where, dropped: fit.dropped }).toEqual({ where, dropped: expected === null });
        if (!expected) return;
        const ids = e.ids.slice(0, max);
        expect({ where, ids }).toEqual({ where, ids: expected.input_ids });
        expect({ where, labels: ids.map((id, k) => (k >= e.promptTokens ? id : -100)) }).toEqual({ where, labels: expected.labels });
      });
    }
    expect(tokenizer.exactMask).toBe(true);
  });
});

test("the cases above cover a cut, a drop and a fit at the short length", () => {
  const tokenizer = loadChatTokenizer(join(dir, "byte_level-qwen25"))!;
  const fits = ROWS.map((r) => {
    const e = tokenizer.encode(toMessages(r));
    return fitAt({ length: e.ids.length, promptTokens: e.promptTokens }, 200);
  });
  expect(fits.some((f) => f.fits)).toBe(true);
  expect(fits.some((f) => f.truncated)).toBe(true);
  expect(fits.some((f) => f.dropped)).toBe(true);
});
