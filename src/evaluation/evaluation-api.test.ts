import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeOllama, type FakeOllama, type Reply } from "../../tests/fakes/fake-ollama.ts";
import { insertExamples, insertFile, insertRun, resolveModel } from "../../tests/helpers/builders.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { artifacts } from "../exports/table.ts";
import { trainingRuns } from "../training/tables.ts";
import { projectDir } from "../lib/data-dir.ts";
import { eq } from "drizzle-orm";
import general from "./general-questions.v1.json";
import type { Verdict } from "./scorecard.ts";

let t: TestApp;
let judge: FakeOllama;
let pid: string;
let runId: string;
const calls: { question: string; tunedFirst: boolean }[] = [];

/** Scripted verdicts: manual.pdf's questions the tuned model gets right, faq.pdf's half; the base gets most wrong. */
function verdictsFor(question: string): { tuned: Verdict; base: Verdict } {
  if (question.startsWith("Manual question")) return { tuned: "correct", base: question.endsWith("0?") ? "partial" : "wrong" };
  if (question.startsWith("FAQ question")) return { tuned: Number(question.match(/(\d+)/)![1]) % 2 ? "partial" : "wrong", base: "wrong" };
  // General questions: both right, except the tuned model forgets two.
  const forgotten = question === general.questions[0]!.question || question === general.questions[1]!.question;
  return { tuned: forgotten ? "wrong" : "correct", base: "correct" };
}

function judgeResponder(call: { prompt: string }): Reply {
  const question = /^Question: (.*)$/m.exec(call.prompt)![1]!;
  const tunedFirst = /^Answer A: TUNED/m.test(call.prompt);
  calls.push({ question, tunedFirst });
  const v = verdictsFor(question);
  const [A, B] = tunedFirst ? [v.tuned, v.base] : [v.base, v.tuned];
  return { content: JSON.stringify({ A: { verdict: A, reason: "scripted" }, B: { verdict: B, reason: "scripted" } }) };
}

beforeEach(async () => {
  calls.length = 0;
  judge = startFakeOllama({ responder: judgeResponder });
  t = makeTestApp({ generation: { ollamaHosts: [judge.url] }, trainer: { command: FAKE_TRAINER } });
  pid = (await (await t.json("POST", "/api/projects", { name: "scorecard" })).json()).id;
  resolveModel(t.db, pid);
  const manual = insertFile(t.db, pid, { filename: "manual.pdf" });
  const faq = insertFile(t.db, pid, { filename: "faq.pdf" });
  for (let k = 0; k < 12; k++) insertExamples(t.db, pid, 1, { split: "eval", fileId: manual, instruction: `Manual question ${k}?`, input: `Passage ${k} of the manual.`, output: `Manual answer ${k}.` });
  for (let k = 0; k < 8; k++) insertExamples(t.db, pid, 1, { split: "eval", fileId: faq, instruction: `FAQ question ${k}?`, input: `Passage ${k} of the FAQ.`, output: `FAQ answer ${k}.` });
  insertExamples(t.db, pid, 30, { split: "train", fileId: manual });
  runId = insertRun(t.db, pid, "success");
  const dir = join(t.dataDir, "runs", runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "run_config.json"), JSON.stringify({ system_prompt: "You answer questions about the product." }));
  t.db.update(trainingRuns).set({ outputDir: dir }).where(eq(trainingRuns.id, runId)).run();
});
afterEach(() => {
  t.close();
  judge.stop();
});

const evaluate = async (body?: unknown) => {
  const res = await t.json("POST", `/api/projects/${pid}/evaluate`, body);
  return { status: res.status, body: await res.json() };
};

describe("the judged evaluation through the API", () => {
  test("the scorecard equals the judge's verdicts: counts, scores, win rate, per document, forgetting", async () => {
    const started = await evaluate({ judge_model: "llama3.1:8b", mode: "closed_book" });
    expect(started.status).toBe(202);
    await t.queue.runUntilEmpty(60_000);
    const res = await t.request(`/api/projects/${pid}/evaluation`);
    expect(res.status).toBe(200);
    const e = await res.json();
    expect(e).toMatchObject({ run_id: runId, judge_model: "llama3.1:8b", mode: "closed_book" });
    // 12 manual: tuned all correct; base 2 partial ("…0?": 0 and 10), 10 wrong. 8 FAQ: tuned 4 partial 4 wrong; base wrong.
    expect(e.summary.n).toBe(20);
    expect(e.summary.tuned).toMatchObject({ correct: 12, partial: 4, wrong: 4, unjudged: 0, score: 0.7 });
    expect(e.summary.base).toMatchObject({ correct: 0, partial: 2, wrong: 18, unjudged: 0, score: 0.05 });
    expect({ wins: e.summary.wins, ties: e.summary.ties, losses: e.summary.losses, win_rate: e.summary.win_rate }).toEqual({ wins: 16, ties: 4, losses: 0, win_rate: 0.8 });
    expect(e.summary.per_document.map((d: { filename: string; n: number; tuned_score: number; base_score: number }) => [d.filename, d.n, d.base_score, d.tuned_score])).toEqual([
      ["faq.pdf", 8, 0, 0.25],
      ["manual.pdf", 12, 0.083, 1],
    ]);
    expect(e.items).toHaveLength(20);
    expect(e.items[0]).toMatchObject({ reference: expect.stringMatching(/answer/), tuned_answer: expect.stringMatching(/^TUNED/), base_answer: expect.stringMatching(/^BASE/) });
    // Closed-book: the questions reached the model without their passage, with the run's system prompt.
    const questions = readFileSync(join(t.dataDir, "runs", runId, "evaluation", "questions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(questions[0].messages).toEqual([
      { role: "system", content: "You answer questions about the product." },
      { role: "user", content: expect.stringMatching(/^(Manual|FAQ) question \d+\?$/) },
    ]);
    // Forgetting: 12 general questions, the tuned model lost two: a clear drop.
    expect(e.forgetting).toEqual({ version: "general.v1", n: 12, base_score: 1, tuned_score: 0.833, drop: true });
    // Both positions were used.
    expect(calls.some((c) => c.tunedFirst) && calls.some((c) => !c.tunedFirst)).toBe(true);
    // Closed-book asked: no with-the-passage twin.
    expect((await t.request(`/api/projects/${pid}/evaluation?mode=with_context`)).status).toBe(404);
    expect((await t.request(`/api/projects/${pid}/evaluation?mode=sideways`)).status).toBe(422);
  });

  test("with the passage, the question carries it; the Export step and report.md show the scorecard", async () => {
    // An export already made: its report.md gets the section.
    const report = join(projectDir(t.dataDir, pid), "exports", "report.md");
    mkdirSync(join(projectDir(t.dataDir, pid), "exports"), { recursive: true });
    writeFileSync(report, "# Fine-tuning report\n\n## Metrics\n\nloss 1.2\n");
    t.db.insert(artifacts).values({ id: "art-1", projectId: pid, runId, filename: "report.md", relativePath: "exports/report.md", sizeBytes: 40 }).run();
    expect((await evaluate({ mode: "with_context", samples: 4 })).status).toBe(202);
    await t.queue.runUntilEmpty(60_000);
    const e = await (await t.request(`/api/projects/${pid}/evaluation`)).json();
    expect(e.summary.n).toBe(4);
    // Two per document: the questions are spread over the documents.
    expect(e.summary.per_document.map((d: { n: number }) => d.n)).toEqual([2, 2]);
    const questions = readFileSync(join(t.dataDir, "runs", runId, "evaluation", "questions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(questions[0].messages.at(-1).content).toMatch(/\?\n\nPassage \d+ of the/);
    // The same four asked without the passage too, then with retrieved passages, then the twelve general questions.
    expect(questions).toHaveLength(4 + 4 + 4 + 12);
    expect(questions[4].id).toBe(`${questions[0].id}#closed`);
    expect(questions[8].id).toBe(`${questions[0].id}#retrieved`);
    expect(questions[4].messages.at(-1).content).toMatch(/^(Manual|FAQ) question \d+\?$/);
    const closed = await (await t.request(`/api/projects/${pid}/evaluation?mode=closed_book`)).json();
    expect(closed).toMatchObject({ mode: "closed_book", run_id: runId });
    expect(closed.summary.n).toBe(4);
    expect(closed.items.map((i: { example_id: string }) => i.example_id)).toEqual(e.items.map((i: { example_id: string }) => i.example_id));
    const md = readFileSync(report, "utf8");
    expect(md).toStartWith("# Fine-tuning report\n\n## Metrics");
    expect(md).toContain("## Judged scorecard");
    expect(md).toContain("tuned 0.63 vs base 0.13 (n = 4");
    expect(md).toContain("| faq.pdf | 2 |");
    expect(md).toContain("Asked without the passage (closed-book): tuned 0.63 vs base 0.13 (n = 4");
    const page = await (await t.request(`/projects/${pid}/wizard?step=export`)).text();
    expect(page).toContain("tuned 0.63 vs base 0.13 (n = 4");
    expect(page).toContain("Generate more from this document");
    expect(page).toContain("Asked without the passage (closed-book):");
    expect(page).toContain("It may have forgotten general knowledge");
  });

  test("“Generate more from this document” starts a generation limited to that document", async () => {
    const faq = (t.db.$client.query("select id from files where filename = 'faq.pdf'").get() as { id: string }).id;
    t.db.$client.run("insert into chunks (id, project_id, file_id, ordinal, text, token_count, char_start, char_end) values ('c1', ?, ?, 0, 'The FAQ says the warranty lasts two years.', 10, 0, 42)", [pid, faq]);
    const res = await t.request(`/projects/${pid}/evaluation/generate-more`, { method: "POST", headers: { "HX-Request": "true" }, body: new URLSearchParams({ file_id: faq }) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data-step="preview"');
    const job = t.db.$client.query("select type, payload from jobs where type = 'dataset_generate'").get() as { type: string; payload: string };
    expect(JSON.parse(job.payload)).toMatchObject({ fileId: faq, target: 100, model: "llama3.1:8b" });
    const unknown = await t.request(`/projects/${pid}/evaluation/generate-more`, { method: "POST", body: new URLSearchParams({ file_id: "other" }) });
    expect(unknown.status).toBe(404);
  });

  test("refusals: no trained run, bad bodies, an empty eval split, a trainer that fails", async () => {
    const other = (await (await t.json("POST", "/api/projects", { name: "untrained" })).json()).id;
    const none = await t.json("POST", `/api/projects/${other}/evaluate`, {});
    expect(none.status).toBe(409);
    expect((await none.json()).error_code).toBe("no_trained_run");
    expect((await t.request(`/api/projects/${other}/evaluation`)).status).toBe(404);
    for (const body of [{ samples: 0 }, { samples: "many" }, { mode: "open_book" }, { judge: "x" }, "not json"]) {
      const res = await t.json("POST", `/api/projects/${pid}/evaluate`, body);
      expect([400, 422]).toContain(res.status);
      expect((await res.json()).detail).toBeTruthy();
    }
    t.db.$client.run("update examples set split = 'train' where project_id = ?", [pid]);
    await evaluate({});
    await t.queue.runUntilEmpty(60_000);
    const failed = t.db.$client.query("select status, error_message from jobs where type = 'evaluation' order by created_at desc limit 1").get() as { status: string; error_message: string };
    expect(failed).toEqual({ status: "failed", error_message: "There are no valid eval examples to ask: the eval split is empty." });
  });
});

test("a trainer that cannot answer fails the job with its message", async () => {
  t.close();
  judge.stop();
  judge = startFakeOllama({ responder: judgeResponder });
  t = makeTestApp({ generation: { ollamaHosts: [judge.url] }, trainer: { command: FAKE_TRAINER, env: { FAKE_TRAINER: "answers-fail" } } });
  pid = (await (await t.json("POST", "/api/projects", { name: "x" })).json()).id;
  resolveModel(t.db, pid);
  insertExamples(t.db, pid, 3, { split: "eval" });
  runId = insertRun(t.db, pid, "success");
  const dir = join(t.dataDir, "runs", runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "run_config.json"), "{}");
  t.db.update(trainingRuns).set({ outputDir: dir }).where(eq(trainingRuns.id, runId)).run();
  expect((await t.json("POST", `/api/projects/${pid}/evaluate`, { judge_model: "llama3.1:8b" })).status).toBe(202);
  await t.queue.runUntilEmpty(60_000);
  const job = t.db.$client.query("select status, error_message from jobs where type = 'evaluation'").get();
  expect(job).toEqual({ status: "failed", error_message: "The base model could not be loaded." });
});

describe("a judge you can trust: controls beside the real items", () => {
  /** Grades by the facts: an answer equal to the reference is correct, anything else wrong; or calls everything correct. */
  const gradingJudge = (honest: boolean) => (call: { prompt: string }): Reply => {
    const reference = /^Reference answer: (.*)$/m.exec(call.prompt)![1]!;
    const grade = (label: "A" | "B") => {
      const answer = new RegExp(`^Answer ${label}: (.*)$`, "m").exec(call.prompt)![1]!;
      return { verdict: !honest || answer === reference ? "correct" : "wrong", reason: "graded" };
    };
    return { content: JSON.stringify({ A: grade("A"), B: grade("B") }) };
  };

  async function evaluateWith(honest: boolean, body: Record<string, unknown> = {}, questions = 6) {
    t.close();
    judge.stop();
    // The embedding model is the largest installed, but cannot judge: never picked, never suggested.
    judge = startFakeOllama({ models: ["smollm2:135m", "llama3.1:8b", "qwen3-embedding:8b"], parameterSizes: { "smollm2:135m": "135M", "llama3.1:8b": "8.0B", "qwen3-embedding:8b": "8.2B" }, responder: gradingJudge(honest) });
    t = makeTestApp({ generation: { ollamaHosts: [judge.url] }, trainer: { command: FAKE_TRAINER } });
    pid = (await (await t.json("POST", "/api/projects", { name: "controls" })).json()).id;
    resolveModel(t.db, pid);
    // The project's data came from the small model: by habit it would also judge.
    t.db.$client.run("update projects set config = json_set(config, '$.generation_model', 'smollm2:135m') where id = ?", [pid]);
    for (let k = 0; k < questions; k++) insertExamples(t.db, pid, 1, { split: "eval", instruction: `Question ${k}?`, output: `Answer ${k}.` });
    runId = insertRun(t.db, pid, "success");
    const dir = join(t.dataDir, "runs", runId);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "run_config.json"), "{}");
    t.db.update(trainingRuns).set({ outputDir: dir }).where(eq(trainingRuns.id, runId)).run();
    expect((await t.json("POST", `/api/projects/${pid}/evaluate`, { mode: "closed_book", ...body })).status).toBe(202);
    await t.queue.runUntilEmpty(60_000);
    return { e: await (await t.request(`/api/projects/${pid}/evaluation`)).json(), dir };
  }

  test("the default judge is the strongest installed model, and an honest judge passes its controls", async () => {
    const { e, dir } = await evaluateWith(true);
    expect(e.judge_model).toBe("llama3.1:8b");
    expect(e.judge_check).toMatchObject({ judge_model: "llama3.1:8b", n: 16, passed: 16, accuracy: 1, trusted: true, advice: null });
    // The controls are not scored as questions.
    expect(e.summary.n).toBe(6);
    expect(readFileSync(join(dir, "evaluation", "scorecard.md"), "utf8")).toContain("Judge: llama3.1:8b (graded 16 of 16 answers of known grade as expected)");
    const page = await (await t.request(`/projects/${pid}/wizard?step=export`)).text();
    expect(page).not.toContain("This scorecard cannot be trusted");
  });

  test("with one held-out question there is no other reference to offer: the scorecard says the judge was not checked", async () => {
    const { e, dir } = await evaluateWith(true, {}, 1);
    expect(e.summary.n).toBe(1);
    expect(readFileSync(join(dir, "evaluation", "scorecard.md"), "utf8")).toContain("Judge: llama3.1:8b (not checked: answers of known grade need at least 2 held-out questions)");
    expect(e.judge_check).toMatchObject({ n: 0, trusted: false, advice: null });
    const page = await (await t.request(`/projects/${pid}/wizard?step=export`)).text();
    expect(page).toContain("the judge was not checked: answers of known grade need at least 2 held-out questions");
    expect(page).not.toContain("This scorecard cannot be trusted");
  });

  test("a judge that calls everything correct fails its controls: the scorecard says it cannot be trusted and names a stronger judge", async () => {
    const { e, dir } = await evaluateWith(false, { judge_model: "smollm2:135m" });
    expect(e.judge_check).toMatchObject({ judge_model: "smollm2:135m", n: 16, passed: 8, accuracy: 0.5, trusted: false });
    expect(e.judge_check.advice).toContain("Pick a stronger judge, such as llama3.1:8b (installed)");
    expect(readFileSync(join(dir, "evaluation", "scorecard.md"), "utf8")).toContain("> **Not reliable:** smollm2:135m graded 8 of 16");
    const page = await (await t.request(`/projects/${pid}/wizard?step=export`)).text();
    expect(page).toContain("This scorecard cannot be trusted");
    expect(page).toContain("such as llama3.1:8b (installed)");
  });
});

test("fine-tune, retrieve, or both: the same questions asked with the passages BM25 finds, scored four ways, with a verdict", async () => {
  t.close();
  judge.stop();
  // Correct when the answer states the reference; the fake trainer's answers repeat what they were asked.
  judge = startFakeOllama({
    responder: (call) => {
      const reference = /^Reference answer: (.*)$/m.exec(call.prompt)![1]!;
      const grade = (label: "A" | "B") => ({ verdict: (/^Answer [AB]: ([\s\S]*?)(?=^Answer [AB]:|^Reply with)/m.exec(call.prompt.slice(call.prompt.indexOf(`Answer ${label}:`)))?.[1] ?? "").includes(reference) ? "correct" : "wrong", reason: "facts" });
      return { content: JSON.stringify({ A: grade("A"), B: grade("B") }) };
    },
  });
  t = makeTestApp({ generation: { ollamaHosts: [judge.url] }, trainer: { command: FAKE_TRAINER } });
  pid = (await (await t.json("POST", "/api/projects", { name: "retrieval" })).json()).id;
  resolveModel(t.db, pid);
  const facts = ["The warranty lasts two years.", "Returns are accepted within thirty days.", "Support answers within one business day.", "Shipping to Norway takes five days."];
  const questions = ["How long does the warranty last?", "When are returns accepted?", "How fast does support answer?", "How long does shipping to Norway take?"];
  const doc = insertFile(t.db, pid, { filename: "policies.md" });
  facts.forEach((f, k) => t.db.$client.run("insert into chunks (id, project_id, file_id, ordinal, text, token_count, char_start, char_end) values (?, ?, ?, ?, ?, 10, 0, 40)", [`c${k}`, pid, doc, k, `Policy ${k}. ${f}`]));
  questions.forEach((q, k) => insertExamples(t.db, pid, 1, { split: "eval", fileId: doc, instruction: q, output: facts[k]! }));
  runId = insertRun(t.db, pid, "success");
  const dir = join(t.dataDir, "runs", runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "run_config.json"), "{}");
  t.db.update(trainingRuns).set({ outputDir: dir }).where(eq(trainingRuns.id, runId)).run();
  expect((await t.json("POST", `/api/projects/${pid}/evaluate`, { judge_model: "llama3.1:8b", mode: "closed_book" })).status).toBe(202);
  await t.queue.runUntilEmpty(60_000);

  // Each question went out with its own fact first among the retrieved passages.
  const asked = readFileSync(join(dir, "evaluation", "questions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((q) => q.id.endsWith("#retrieved"));
  expect(asked).toHaveLength(4);
  for (const q of asked) {
    const content = q.messages.at(-1).content as string;
    const k = questions.findIndex((text) => content.startsWith(text));
    expect(content.split("\n\n")[1]).toContain(facts[k]!);
  }
  const e = await (await t.request(`/api/projects/${pid}/evaluation`)).json();
  expect(e.summary.tuned.score).toBe(0);
  expect(e.retrieval).toMatchObject({ k: 2, summary: { n: 4, base: { score: 1 }, tuned: { score: 1 } } });
  const verdict = "Fine-tuning alone scores 0%, retrieval alone 100%, both 100% (the base model alone 0%): retrieval does the most";
  expect(readFileSync(join(dir, "evaluation", "scorecard.md"), "utf8")).toContain(verdict);
  expect(readFileSync(join(dir, "evaluation", "scorecard.md"), "utf8")).toContain("| policies.md | 4 | 0.00 | 0.00 | 1.00 | 1.00 |");
  const page = await (await t.request(`/projects/${pid}/wizard?step=export`)).text();
  expect(page).toContain("Fine-tune, retrieve, or both?");
  expect(page).toContain(verdict);
});
