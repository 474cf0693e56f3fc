import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeOllama, type FakeOllama, type Reply } from "../../tests/fakes/fake-ollama.ts";
import { chooseTask, checkHardware, insertExamples, insertFile, insertProject, insertReadyProject, resolveModel } from "../../tests/helpers/builders.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { MIN_PREFERENCE_PAIRS } from "./schemas.ts";

let t: TestApp;
let judge: FakeOllama;
/** After the round the judge grades the FAQ's tuned answers correct: the round "taught" them. */
let afterRound = false;

function judgeResponder(call: { prompt: string }): Reply {
  const question = /^Question: (.*)$/m.exec(call.prompt)![1]!;
  const tunedFirst = /^Answer A: TUNED/m.test(call.prompt);
  const faq = question.startsWith("FAQ question");
  const tuned = faq && !afterRound ? "wrong" : "correct";
  const [A, B] = tunedFirst ? [tuned, "wrong"] : ["wrong", tuned];
  return { content: JSON.stringify({ A: { verdict: A, reason: "scripted" }, B: { verdict: B, reason: "scripted" } }) };
}

beforeEach(() => {
  afterRound = false;
  judge = startFakeOllama({ responder: judgeResponder });
  t = makeTestApp({ generation: { ollamaHosts: [judge.url] }, trainer: { command: FAKE_TRAINER } });
});
afterEach(() => {
  t.close();
  judge.stop();
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await t.json(method, `/api/projects${path}`, body);
  return { status: res.status, body: res.headers.get("Content-Type")?.includes("json") ? await res.json() : await res.text() };
};
const choice = (n: number) => ({ source: "playground_choice", prompt: `Question ${n}?`, chosen: `The good answer ${n}.`, rejected: `The bad answer ${n}.`, chosen_by: "base", rejected_by: "tuned" });

/** A ready project whose first run (the fake trainer) succeeded: 8 FAQ and 12 manual questions held out. */
async function trainedProject() {
  const pid = insertProject(t.db);
  resolveModel(t.db, pid);
  chooseTask(t.db, pid);
  checkHardware(t.db, pid);
  const manual = insertFile(t.db, pid, { filename: "manual.pdf" });
  const faq = insertFile(t.db, pid, { filename: "faq.pdf" });
  for (let k = 0; k < 12; k++) insertExamples(t.db, pid, 1, { split: "eval", fileId: manual, instruction: `Manual question ${k}?`, output: `Manual answer ${k}.` });
  for (let k = 0; k < 8; k++) insertExamples(t.db, pid, 1, { split: "eval", fileId: faq, instruction: `FAQ question ${k}?`, output: `FAQ answer ${k}.` });
  insertExamples(t.db, pid, 30, { split: "train", fileId: manual });
  expect((await api("POST", `/${pid}/train/start`, { num_epochs: 1 })).status).toBe(202);
  await t.queue.runUntilEmpty(60_000);
  return pid;
}

describe("preference pairs through the API", () => {
  test("saved with their source and authors, listed newest first with counts, filtered, edited, deleted, exported for TRL", async () => {
    const pid = insertReadyProject(t.db);
    const first = await api("POST", `/${pid}/preferences`, choice(1));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ source: "playground_choice", prompt: [{ role: "user", content: "Question 1?" }], chosen: "The good answer 1.", rejected: "The bad answer 1.", chosen_by: "base", rejected_by: "tuned", run_id: null, question_id: null, updated_at: null });
    const conversation = [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello." },
      { role: "user", content: "What is the warranty?" },
    ];
    const correction = await api("POST", `/${pid}/preferences`, { source: "playground_correction", prompt: conversation, chosen: "  Two years.  ", rejected: "One week." });
    expect(correction.status).toBe(201);
    // Trimmed; a correction's chosen reply is the user's, its rejected the tuned model's, unless said otherwise.
    expect(correction.body).toMatchObject({ prompt: conversation, chosen: "Two years.", chosen_by: "user", rejected_by: "tuned" });

    const list = (await api("GET", `/${pid}/preferences`)).body;
    expect(list.items.map((p: { id: string }) => p.id)).toEqual([correction.body.id, first.body.id]);
    expect(list.counts).toEqual({ total: 2, playground_choice: 1, playground_correction: 1, scorecard: 0 });
    expect(list).toMatchObject({ page: 1, page_size: 50, total: 2, min_pairs: MIN_PREFERENCE_PAIRS });
    const filtered = (await api("GET", `/${pid}/preferences?source=playground_correction`)).body;
    expect(filtered.items.map((p: { id: string }) => p.id)).toEqual([correction.body.id]);
    expect(filtered.total).toBe(1);

    const edited = await api("PATCH", `/${pid}/preferences/${first.body.id}`, { chosen: "A better answer." });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ chosen: "A better answer.", rejected: "The bad answer 1." });
    expect(edited.body.updated_at).not.toBeNull();

    const exported = await t.request(`/api/projects/${pid}/preferences/export`);
    expect(exported.headers.get("Content-Disposition")).toContain("preferences.jsonl");
    const lines = (await exported.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { prompt: [{ role: "user", content: "Question 1?" }], chosen: [{ role: "assistant", content: "A better answer." }], rejected: [{ role: "assistant", content: "The bad answer 1." }] },
      { prompt: conversation, chosen: [{ role: "assistant", content: "Two years." }], rejected: [{ role: "assistant", content: "One week." }] },
    ]);

    expect((await api("DELETE", `/${pid}/preferences/${first.body.id}`)).body).toEqual({ deleted: true, id: first.body.id });
    expect((await api("GET", `/${pid}/preferences`)).body.counts.total).toBe(1);
    expect((await api("DELETE", `/${pid}/preferences/${first.body.id}`)).status).toBe(404);
  });

  test("bad input is refused with a sentence naming the field, and nothing is saved", async () => {
    const pid = insertReadyProject(t.db);
    const other = insertReadyProject(t.db);
    await api("POST", `/${other}/train/start`, { num_epochs: 1 });
    await t.queue.runUntilEmpty(60_000);
    const otherRun = (await api("GET", `/${other}/train/status`)).body.run_id;
    const refused = async (body: unknown, status: number, detail: string | RegExp) => {
      const r = await api("POST", `/${pid}/preferences`, body);
      expect({ status: r.status, detail: r.body.detail }).toMatchObject({ status, detail: expect.stringMatching(detail) });
    };
    await refused({ ...choice(1), chosen: "   " }, 422, /The chosen reply is empty/);
    await refused({ ...choice(1), rejected: "" }, 422, /The rejected reply is empty/);
    await refused({ ...choice(1), rejected: "The good answer 1." }, 422, /the same: a pair needs two different replies/);
    await refused({ ...choice(1), prompt: "" }, 422, /The prompt is empty/);
    await refused({ ...choice(1), prompt: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }] }, 422, /must end with a non-empty user message/);
    await refused({ ...choice(1), chosen: "x".repeat(20_001) }, 422, /longer than 20000 characters/);
    await refused({ ...choice(1), source: "email" }, 422, /source must be one of/);
    await refused({ ...choice(1), verdict: "left" }, 422, /verdict/);
    await refused({ ...choice(1), run_id: otherRun }, 422, /names no run of this project/);
    await refused({ ...choice(1), source: "scorecard", question_id: "ex-elsewhere" }, 422, /no question of this project's latest scorecard/);
    expect((await t.request(`/api/projects/${pid}/preferences`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{not json" })).status).toBe(400);
    expect((await t.request(`/api/projects/${pid}/preferences`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "" })).status).toBe(400);
    expect((await api("POST", `/nope/preferences`, choice(1))).status).toBe(404);
    expect((await api("PATCH", `/${pid}/preferences/nope`, { chosen: "x" })).status).toBe(404);
    expect((await api("GET", `/${pid}/preferences`)).body.counts.total).toBe(0);
    // A pair of another project cannot be read, edited or deleted through this one.
    const theirs = (await api("POST", `/${other}/preferences`, choice(2))).body.id;
    expect((await api("PATCH", `/${pid}/preferences/${theirs}`, { chosen: "mine now" })).status).toBe(404);
    expect((await api("DELETE", `/${pid}/preferences/${theirs}`)).status).toBe(404);
    expect((await api("GET", `/${other}/preferences`)).body.items[0].chosen).toBe("The good answer 2.");
  });

  test("hostile text is shown as text on the Feedback page", async () => {
    const pid = insertReadyProject(t.db);
    await api("POST", `/${pid}/preferences`, { ...choice(1), chosen: `<script>alert(1)</script><img src=x onerror=alert(2)>` });
    const page = await (await t.request(`/projects/${pid}/feedback`)).text();
    expect(page).not.toContain("<script>alert(1)</script>");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});

describe("the Feedback page's forms", () => {
  const form = (path: string, fields: Record<string, string>) => t.request(path, { method: "POST", body: new URLSearchParams(fields) });

  test("edit, delete and Improve with feedback answer on the page; a refusal is said beside the form", async () => {
    const pid = insertReadyProject(t.db);
    const id = (await api("POST", `/${pid}/preferences`, choice(1))).body.id;
    const page = await (await t.request(`/projects/${pid}/feedback`)).text();
    expect(page).toContain("All (1)");
    expect(page).toContain("A round needs at least 8 pairs: 7 more to go.");

    const same = await form(`/projects/${pid}/feedback/${id}/edit`, { chosen: "Same.", rejected: "Same." });
    expect(same.status).toBe(422);
    expect(await same.text()).toContain("The chosen and rejected replies are the same");
    const edited = await form(`/projects/${pid}/feedback/${id}/edit`, { chosen: "Better.", rejected: "Worse." });
    expect(edited.status).toBe(303);
    expect(edited.headers.get("Location")).toBe(`/projects/${pid}/feedback`);
    expect((await api("GET", `/${pid}/preferences`)).body.items[0]).toMatchObject({ chosen: "Better.", rejected: "Worse." });

    const short = await form(`/projects/${pid}/feedback/round`, { beta: "", num_epochs: "" });
    expect(short.status).toBe(409);
    expect(await short.text()).toContain("A preference round needs at least 8 pairs; this project has 1");

    expect((await form(`/projects/${pid}/feedback/${id}/delete`, {})).status).toBe(303);
    expect(await (await t.request(`/projects/${pid}/feedback`)).text()).toContain("No pair yet");
  });
});

describe("a preference round", () => {
  test("refused with the numbers below the minimum, or without a trained run", async () => {
    const untrained = insertReadyProject(t.db);
    for (let n = 0; n < MIN_PREFERENCE_PAIRS; n++) await api("POST", `/${untrained}/preferences`, choice(n));
    expect((await api("POST", `/${untrained}/preferences/round`, {})).body.error_code).toBe("no_trained_run");
    const pid = await trainedProject();
    await api("POST", `/${pid}/preferences`, choice(1));
    await api("POST", `/${pid}/preferences`, { ...choice(2), source: "playground_correction" });
    const short = await api("POST", `/${pid}/preferences/round`, {});
    expect(short.status).toBe(409);
    expect(short.body).toEqual({
      error_code: "too_few_pairs",
      detail: `A preference round needs at least ${MIN_PREFERENCE_PAIRS} pairs; this project has 2 (1 playground: a side picked, 1 playground: a reply written, 0 scorecard: a wrong answer). Judge more replies in the playground or use wrong scorecard answers as feedback.`,
    });
    expect((await api("POST", `/${pid}/preferences/round`, { beta: 0 })).status).toBe(422);
    expect((await api("POST", `/${pid}/preferences/round`, { beta: 0.1, lr: 1 })).status).toBe(422);
    expect((await api("GET", `/${pid}/train/runs`)).body.runs ?? []).toHaveLength(1);
  });

  test("scorecard answers as feedback, a round on the adapter, then the scorecard before and after on the same questions", async () => {
    const pid = await trainedProject();
    const ev = await api("POST", `/${pid}/evaluate`, { judge_model: "qwen2.5:7b", mode: "closed_book" });
    expect(ev.status).toBe(202);
    await t.queue.runUntilEmpty(60_000);
    const before = (await api("GET", `/${pid}/evaluation`)).body;
    const faq = before.items.filter((i: { question: string }) => i.question.startsWith("FAQ"));
    expect(faq.every((i: { tuned_verdict: string }) => i.tuned_verdict === "wrong")).toBe(true);

    // Two wrong FAQ answers become pairs: chosen the reference, rejected the tuned answer; asked twice, one pair.
    const used = await api("POST", `/${pid}/preferences/scorecard`, { question_id: faq[0].example_id });
    expect(used.status).toBe(201);
    // The scorecard lists the wrong answers with "Use as feedback"; its button saves the pair (htmx).
    const exportPage = await (await t.request(`/projects/${pid}/step/export`)).text();
    expect(exportPage).toContain("Answers the tuned model got wrong or partly right (8)");
    const viaButton = await t.request(`/projects/${pid}/feedback/scorecard`, { method: "POST", headers: { "HX-Request": "true" }, body: new URLSearchParams({ question_id: faq[0].example_id }) });
    expect(await viaButton.text()).toContain("Saved as feedback");
    expect(used.body).toMatchObject({ source: "scorecard", chosen: faq[0].reference, rejected: faq[0].tuned_answer, chosen_by: "reference", rejected_by: "tuned", run_id: before.run_id, question_id: faq[0].example_id });
    expect((await api("POST", `/${pid}/preferences/scorecard`, { question_id: faq[0].example_id })).body.id).toBe(used.body.id);
    await api("POST", `/${pid}/preferences/scorecard`, { question_id: faq[1].example_id });
    const right = before.items.find((i: { tuned_verdict: string }) => i.tuned_verdict === "correct");
    expect((await api("POST", `/${pid}/preferences/scorecard`, { question_id: right.example_id })).body.error_code).toBe("answer_was_right");
    for (let n = 0; n < MIN_PREFERENCE_PAIRS - 2; n++) await api("POST", `/${pid}/preferences`, choice(n));

    const round = await api("POST", `/${pid}/preferences/round`, { beta: 0.2 });
    expect(round).toMatchObject({ status: 202 });
    const runs = t.db.$client.query("select id, output_dir as dir, config from training_runs where project_id = ? order by created_at").all(pid) as { id: string; dir: string; config: string }[];
    expect(runs).toHaveLength(2);
    const [parent, dpo] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(dpo.id).toBe(round.body.run_id);
    expect(JSON.parse(dpo.config).preference).toEqual({ parent_run_id: parent.id, pairs: MIN_PREFERENCE_PAIRS, beta: 0.2, question_ids: [faq[0].example_id, faq[1].example_id] });
    // What the trainer runs: the parent's settings, the dpo stage on its adapter, the pairs in TRL's form.
    const runJson = JSON.parse(readFileSync(join(dpo.dir, "run.json"), "utf8"));
    const parentJson = JSON.parse(readFileSync(join(parent.dir, "run.json"), "utf8"));
    expect(runJson).toMatchObject({ stage: "dpo", start_adapter: join(parent.dir, "adapter"), dpo_beta: 0.2, base_model: parentJson.base_model, lora_r: parentJson.lora_r, train_file: join(dpo.dir, "pairs.jsonl"), eval_file: null });
    expect(runJson.learning_rate).toBeCloseTo(parentJson.learning_rate / 10);
    const pairs = readFileSync(join(dpo.dir, "pairs.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(pairs).toHaveLength(MIN_PREFERENCE_PAIRS);
    expect(pairs[0]).toEqual({ prompt: [{ role: "user", content: faq[0].question }], chosen: [{ role: "assistant", content: faq[0].reference }], rejected: [{ role: "assistant", content: faq[0].tuned_answer }] });

    afterRound = true;
    await t.queue.runUntilEmpty(60_000);
    expect((await api("GET", `/${pid}/train/status`)).body).toMatchObject({ run_id: dpo.id, status: "success" });
    // Judged by the judge of the run before, though a stronger one is installed: two judges' grades do not compare.
    expect((await api("POST", `/${pid}/evaluate`, { mode: "closed_book" })).status).toBe(202);
    await t.queue.runUntilEmpty(60_000);
    const after = (await api("GET", `/${pid}/evaluation`)).body;
    expect(after).toMatchObject({ run_id: dpo.id, judge_model: "qwen2.5:7b" });
    // 20 questions, 2 used as feedback left out; the 6 other FAQ answers went from wrong to correct.
    expect(after.preference_round).toMatchObject({ parent_run_id: parent.id, n: 18, excluded_feedback: 2, wins: 6, ties: 12, losses: 0, win_rate: 0.667, before_score: 0.667, after_score: 1 });
    expect(after.preference_round.ci[0]).toBeLessThan(0.667);
    const page = await (await t.request(`/projects/${pid}/step/export`)).text();
    expect(page).toContain("after the round 1.00 vs before 0.67 on 18 questions: win rate 0.67");
    expect(page).toContain("2 questions used as feedback left out");
    // The report's scorecard section says the same.
    const section = readFileSync(join(dpo.dir, "evaluation", "scorecard.md"), "utf8");
    expect(section).toContain("### The preference round: before and after");
    expect(section).toContain(`**after the round 1.00 vs before 0.67 on 18 questions: win rate 0.67`);
    // Asked of another judge, the round has nothing to compare with.
    expect((await api("POST", `/${pid}/evaluate`, { judge_model: "llama3.1:8b", mode: "closed_book" })).status).toBe(202);
    await t.queue.runUntilEmpty(60_000);
    expect((await api("GET", `/${pid}/evaluation`)).body).toMatchObject({ judge_model: "llama3.1:8b", preference_round: null });
  });
});
