/**
 * The readiness check through the API on the tiny Llama (its real tokenizer and chat
 * template): the sample as training renders it, the totals at a length, the refusal
 * of a run in which nothing fits, the plan's warning, and bad queries.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { projects } from "../../src/projects/table.ts";
import { checkHardware, chooseTask, insertExamples, insertProject, modelInfoFor } from "../helpers/builders.ts";
import { FAKE_TRAINER, makeTempDir, makeTestApp, PYTHON, TRAINER_DIR, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
let modelDir: string;

const LONG_ANSWER = "To reset the device, hold the power button for ten seconds until the light blinks. ".repeat(8).trim();

beforeAll(() => {
  modelDir = join(makeTempDir("ftf-ready-model-"), "tiny");
  const made = Bun.spawnSync([PYTHON, "-m", "finetuneflow_trainer", "make-tiny-model", modelDir], { cwd: TRAINER_DIR });
  if (made.exitCode !== 0) throw new Error(made.stderr.toString());
  t = makeTestApp({ trainer: { command: FAKE_TRAINER } });
}, 120_000);

afterAll(() => t.close());

/** A project on the tiny model: 18 short examples and 2 with a long answer. */
function project() {
  const pid = insertProject(t.db);
  const info = modelInfoFor("tiny", { source: "local", files_dir: modelDir, tokenizer_available: true, vocab_size: 600, context_length: 1024 });
  t.db.update(projects).set({ baseModelId: modelDir, modelInfo: info }).where(eq(projects.id, pid)).run();
  chooseTask(t.db, pid);
  insertExamples(t.db, pid, 18, { instruction: "How long is the warranty?", output: "Two years from the date of purchase." });
  insertExamples(t.db, pid, 2, { instruction: "How do I reset the device?", output: LONG_ANSWER });
  checkHardware(t.db, pid);
  return pid;
}

const readiness = async (pid: string, query = "") => {
  const res = await t.request(`/api/projects/${pid}/dataset/readiness${query}`);
  return { status: res.status, body: (await res.json()) as any };
};

test("the sample is the chat training sees: the template's tokens masked, the answer and its end token trained", async () => {
  const pid = project();
  const { status, body } = await readiness(pid, "?max_seq_length=1024&n=2");
  expect(status).toBe(200);
  expect(body.template_source).toBe("model");
  expect(body.exact).toBe(true);
  expect(body.preset).toBeNull(); // a tiny Llama is no known family: safe defaults
  const [short] = body.examples;
  const text = short.segments.map((s: any) => s.text).join("");
  expect(text).toBe("<|user|>\nHow long is the warranty?<|end|>\n<|assistant|>\nTwo years from the date of purchase.<|end|>\n");
  const trained = short.segments.filter((s: any) => s.trained).map((s: any) => s.text).join("");
  expect(trained).toBe("Two years from the date of purchase.<|end|>\n");
  expect(short.segments.filter((s: any) => s.special).map((s: any) => s.text)).toEqual(["<|user|>", "<|end|>", "<|assistant|>", "<|end|>"]);
  expect(short.trained_tokens).toBeGreaterThan(0);
  expect(short.trained_tokens).toBeLessThan(short.tokens);
  expect({ truncated: short.truncated, dropped: short.dropped }).toEqual({ truncated: false, dropped: false });
  expect(body.totals).toMatchObject({ examples: 20, fit: 20, truncated: 0, dropped: 0 });
  expect(body.totals.max_tokens).toBe(body.examples[1].tokens);
});

test("at a short length the long examples are cut, counted and marked; the suggestion keeps them whole", async () => {
  const pid = project();
  const full = (await readiness(pid, "?max_seq_length=1024&n=2")).body;
  const longest = full.examples[1].tokens;
  const { body } = await readiness(pid, "?max_seq_length=64&n=2");
  expect(longest).toBeGreaterThan(64);
  expect(body.totals).toMatchObject({ examples: 20, fit: 18, truncated: 2, dropped: 0 });
  const cut = body.examples[1];
  expect(cut.truncated).toBe(true);
  expect(cut.tokens).toBe(longest);
  // Only the window is shown: 64 tokens, of which the answer's share is trained.
  expect(cut.trained_tokens).toBe(64 - (longest - full.examples[1].trained_tokens));
  expect(body.suggested_max_seq_length % 64).toBe(0);
  expect(body.suggested_max_seq_length).toBeGreaterThanOrEqual(longest);
});

test("a run in which no example fits whole is refused with the numbers, and nothing is queued", async () => {
  const pid = project();
  const res = await t.json("POST", `/api/projects/${pid}/train/start`, { max_seq_length: 64, num_epochs: 1 });
  // 18 short examples fit in 64 tokens: accepted.
  expect(res.status).toBe(202);
  // Now a project whose every example is long.
  const longOnly = insertProject(t.db);
  t.db.update(projects).set({ modelInfo: modelInfoFor("tiny", { source: "local", files_dir: modelDir, tokenizer_available: true, vocab_size: 600, context_length: 1024 }) }).where(eq(projects.id, longOnly)).run();
  chooseTask(t.db, longOnly);
  insertExamples(t.db, longOnly, 12, { instruction: "How do I reset the device?", output: LONG_ANSWER });
  checkHardware(t.db, longOnly);
  const no = await t.json("POST", `/api/projects/${longOnly}/train/start`, { max_seq_length: 64 });
  expect(no.status).toBe(422);
  const err = (await no.json()) as { error_code: string; detail: string };
  expect(err.error_code).toBe("dataset_does_not_fit");
  const suggested = (await readiness(longOnly)).body.suggested_max_seq_length;
  expect(err.detail).toContain("None of the 12 training examples fits in 64 tokens (12 would be cut");
  expect(err.detail).toContain(`suggested: ${suggested}`);
  expect((await t.request(`/api/projects/${longOnly}/train/status`)).status).toBe(404);
  // Left out, max_seq_length takes the suggestion, and the run starts.
  const ok = await t.json("POST", `/api/projects/${longOnly}/train/start`, { num_epochs: 1 });
  expect(ok.status).toBe(202);
});

test("the plan warns past 5% cut or dropped, and sizes peak VRAM from the longest example as cut", async () => {
  const pid = project();
  const plan = async (max: number) => {
    const form = new URLSearchParams({ method: "lora", num_epochs: "1", learning_rate: "0.0002", per_device_batch_size: "4", gradient_accumulation_steps: "1", max_seq_length: String(max), lora_r: "16", lora_alpha: "32", lora_dropout: "0.05" });
    return (await t.request(`/projects/${pid}/train/plan`, { method: "POST", body: form, headers: { "HX-Request": "true" } })).text();
  };
  const short = await plan(64);
  expect(short).toContain("10% of the training examples don");
  expect(short).toContain("(2 cut, 0 dropped)");
  const roomy = await plan(1024);
  expect(roomy).not.toContain("of the training examples don");
  const peak = (html: string) => Number(/~([\d.]+) GB/.exec(html)![1]);
  expect(peak(roomy)).toBeGreaterThan(peak(short));
});

test("bad queries get a specific 422; an unknown project a 404", async () => {
  const pid = project();
  for (const [query, phrase] of [
    ["?max_seq_length=abc", "max_seq_length must be a number"],
    ["?max_seq_length=12", "at least 64"],
    ["?max_seq_length=64.5", "whole number"],
    ["?max_seq_length=99999999", "at most"],
    ["?n=0", "n must be at least 1"],
    ["?n=1000", "n must be at most 20"],
    ["?n=%00", "n must be a number"],
  ] as const) {
    const { status, body } = await readiness(pid, query);
    expect({ query, status, code: body.error_code }).toEqual({ query, status: 422, code: "validation_error" });
    expect(body.detail).toContain(phrase);
  }
  expect((await readiness("nope")).status).toBe(404);
});

test("without a tokenizer the counts are estimates and the panel says so", async () => {
  const pid = insertProject(t.db);
  t.db.update(projects).set({ modelInfo: modelInfoFor("HuggingFaceTB/SmolLM2-135M-Instruct") }).where(eq(projects.id, pid)).run();
  insertExamples(t.db, pid, 3);
  const { body } = await readiness(pid);
  expect(body.exact).toBe(false);
  expect(body.preset).toEqual({ id: "smollm2", label: "SmolLM2" });
  expect(body.examples[0].segments).toEqual([
    { text: "What is the warranty period?", trained: false, special: false },
    { text: "Two years from the date of purchase.", trained: true, special: false },
  ]);
  const html = await (await t.request(`/projects/${pid}/readiness`)).text();
  expect(html).toContain("counts are estimates");
  expect(html).toContain("Preset: SmolLM2");
});

test("the family preset reaches the trainer: target modules, template switches, and the learning rate left out", async () => {
  const pid = insertProject(t.db);
  t.db.update(projects).set({ modelInfo: modelInfoFor("Qwen/Qwen3-0.6B", { model_type: "qwen3", vocab_size: 151_936 }) }).where(eq(projects.id, pid)).run();
  chooseTask(t.db, pid);
  insertExamples(t.db, pid, 12);
  checkHardware(t.db, pid);
  const res = await t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1 });
  expect(res.status).toBe(202);
  const { run_id } = (await res.json()) as { run_id: string };
  const run = JSON.parse(readFileSync(join(t.dataDir, "projects", pid, "runs", run_id, "run.json"), "utf8"));
  expect(run.target_modules).toEqual(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]);
  expect(run.chat_template_kwargs).toEqual({ enable_thinking: false });
  expect(run.learning_rate).toBe(1e-4);
  expect(run.max_seq_length).toBe((await readiness(pid)).body.suggested_max_seq_length);
});

test("the Train form says which preset it starts from, what it changed, and Reset returns to it", async () => {
  const pid = insertProject(t.db);
  t.db.update(projects).set({ modelInfo: modelInfoFor("Qwen/Qwen2.5-7B-Instruct", { model_type: "qwen2", vocab_size: 152_064 }) }).where(eq(projects.id, pid)).run();
  chooseTask(t.db, pid);
  insertExamples(t.db, pid, 30);
  checkHardware(t.db, pid);
  const html = await (await t.request(`/projects/${pid}/wizard?step=train`)).text();
  expect(html).toContain("Preset: <strong>Qwen 2.5</strong>");
  expect(html).toContain("learning rate 2e-4 → 1e-4");
  expect(html).toContain("LoRA on q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
  expect(html).toContain("the template adds its own default system prompt");
  expect(html).toContain("Reset to the Qwen 2.5 preset");
  expect(html).toMatch(/id="learning_rate" name="learning_rate" value="0.0001"[^>]*data-default="0.0001"/);
  const suggested = (await readiness(pid)).body.suggested_max_seq_length;
  expect(html).toContain(`data-default="${suggested}"`);
  const form = new URLSearchParams({ method: "lora", num_epochs: "3", learning_rate: "0.001", per_device_batch_size: "4", gradient_accumulation_steps: "1", max_seq_length: String(suggested), lora_r: "16", lora_alpha: "32", lora_dropout: "0.05" });
  const plan = await (await t.request(`/projects/${pid}/train/plan`, { method: "POST", body: form, headers: { "HX-Request": "true" } })).text();
  expect(plan).toContain("A learning rate of 0.001 is outside the Qwen 2.5 band (5e-5–2e-4).");
});
