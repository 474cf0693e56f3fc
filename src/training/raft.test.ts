import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkHardware, chooseTask, insertExamples, insertFile, insertProject, resolveModel } from "../../tests/helpers/builders.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { RAFT_ORACLE_SHARE, RAFT_PASSAGES, raftRow, type RaftSource } from "./raft.ts";

const POLICIES = Array.from({ length: 8 }, (_, k) => `Policy ${k}. The warranty on the model ${k} pump lasts ${k + 1} years from the date of purchase.`);
const chunk = (k: number) => ({ id: `c${k}`, text: POLICIES[k]!, fileId: "f", filename: "policies.md", pageStart: null, headingPath: null, tokenCount: 20 });
/** BM25 stand-in: the chunks sharing most words with the query, best first. */
const source: RaftSource = {
  chunkText: (id) => POLICIES[Number(id.slice(1))],
  retrieve: (query, k) => {
    const words = new Set(query.toLowerCase().match(/\w+/g));
    const score = (text: string) => (text.toLowerCase().match(/\w+/g) ?? []).filter((w) => words.has(w)).length;
    return POLICIES.map((_, i) => chunk(i))
      .sort((a, b) => score(b.text) - score(a.text) || a.id.localeCompare(b.id))
      .slice(0, k);
  },
};
const question = (i: number) => ({ id: `ex-${i}`, kind: "example", chunkId: `c${i % 8}`, instruction: `How long is the warranty on the model ${i % 8} pump?`, input: "", output: `${(i % 8) + 1} years.` });

describe("retrieval-aware training rows (RAFT)", () => {
  test("a question gets its passage among look-alike passages, in a shuffled place, the same every time", () => {
    const rows = Array.from({ length: 400 }, (_, i) => raftRow(question(i), source));
    let withOwn = 0;
    const ownPlaces = new Set<number>();
    rows.forEach((r, i) => {
      const passages = r.input.split("\n\n");
      const own = POLICIES[i % 8]!;
      // Every passage is one of the project's, none twice, and at most RAFT_PASSAGES.
      expect(passages.length).toBeLessThanOrEqual(RAFT_PASSAGES);
      expect(passages.length).toBeGreaterThanOrEqual(RAFT_PASSAGES - 1);
      expect(new Set(passages).size).toBe(passages.length);
      for (const p of passages) expect(POLICIES).toContain(p);
      if (passages.includes(own)) {
        withOwn++;
        ownPlaces.add(passages.indexOf(own));
        expect(passages).toHaveLength(RAFT_PASSAGES);
      } else expect(passages).toHaveLength(RAFT_PASSAGES);
      expect({ ...r, input: "" }).toEqual(question(i));
    });
    // About RAFT_ORACLE_SHARE of the questions see their own passage (400 draws: ± 0.06 is over 3 standard deviations).
    expect(Math.abs(withOwn / rows.length - RAFT_ORACLE_SHARE)).toBeLessThan(0.06);
    expect([...ownPlaces].sort()).toEqual([0, 1, 2]);
    // Seeded by the example's id: the same file for the same dataset.
    expect(Array.from({ length: 400 }, (_, i) => raftRow(question(i), source))).toEqual(rows);
  });

  test("study notes, imported rows and questions whose passage is gone are trained as they are", () => {
    const note = { ...question(1), kind: "note", instruction: "Tell me about the model 1 pump.", output: POLICIES[1]! };
    expect(raftRow(note, source)).toEqual(note);
    const imported = { ...question(2), chunkId: null, input: "Context from a CSV column." };
    expect(raftRow(imported, source)).toEqual(imported);
    const orphan = { ...question(3), chunkId: "c-deleted" };
    expect(raftRow(orphan, source)).toEqual(orphan);
  });
});

describe("retrieval training through the API and the Train step", () => {
  let t: TestApp;
  afterEach(() => t?.close());

  /** A Q&A project on a policies document: 16 train and 4 eval questions, each on its chunk, and 2 study notes. */
  function qaProject(task: "qa" | "instruction" = "qa") {
    t = makeTestApp({ trainer: { command: FAKE_TRAINER } });
    const pid = insertProject(t.db);
    resolveModel(t.db, pid);
    chooseTask(t.db, pid, task);
    checkHardware(t.db, pid);
    const doc = insertFile(t.db, pid, { filename: "policies.md" });
    POLICIES.forEach((text, k) => t.db.$client.run("insert into chunks (id, project_id, file_id, ordinal, text, token_count, char_start, char_end) values (?, ?, ?, ?, ?, 20, 0, 90)", [`${pid}-c${k}`, pid, doc, k, text]));
    for (let i = 0; i < 20; i++) {
      const q = question(i);
      insertExamples(t.db, pid, 1, { split: i < 16 ? "train" : "eval", fileId: doc, chunkId: `${pid}-c${i % 8}`, instruction: q.instruction, output: q.output });
    }
    insertExamples(t.db, pid, 2, { split: "train", kind: "note", fileId: doc, chunkId: `${pid}-c0`, instruction: "Tell me about the model 0 pump.", output: POLICIES[0]! });
    return pid;
  }

  const trainingFiles = async (pid: string) => {
    const run = (await (await t.request(`/api/projects/${pid}/train/runs`)).json()).runs[0];
    const dir = (t.db.$client.query("select output_dir as d from training_runs where id = ?").get(run.run_id) as { d: string }).d;
    const read = (split: string) => readFileSync(join(dir, `${split}.jsonl`), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { instruction: string; input: string; output: string });
    return { run, train: read("train"), eval: read("eval") };
  };

  test("a Q&A run with retrieval training writes each question with passages of the documents, and records the choice", async () => {
    const pid = qaProject();
    const res = await t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1, max_seq_length: 512, retrieval_training: true });
    expect(res.status).toBe(202);
    await t.queue.runUntilEmpty();
    const { run, train, eval: evalRows } = await trainingFiles(pid);
    expect(run.config.retrieval_training).toBe(true);
    const questions = [...train, ...evalRows].filter((r) => r.instruction.startsWith("How long"));
    expect(questions).toHaveLength(20);
    for (const r of questions) {
      const passages = r.input.split("\n\n");
      expect(passages).toHaveLength(RAFT_PASSAGES);
      for (const p of passages) expect(POLICIES).toContain(p);
    }
    // Most questions see their own passage; the notes are learnt without passages.
    const own = questions.filter((r) => r.input.includes(`model ${/model (\d)/.exec(r.instruction)![1]} pump lasts`)).length;
    expect(own).toBeGreaterThanOrEqual(10);
    expect(train.filter((r) => r.instruction.startsWith("Tell me")).map((r) => r.input)).toEqual(["", ""]);

    // Without the option, the same project trains on its questions as they are.
    expect((await t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1 })).status).toBe(202);
    await t.queue.runUntilEmpty();
    const runs = (await (await t.request(`/api/projects/${pid}/train/runs`)).json()).runs;
    expect(runs.map((r: { config: { retrieval_training?: boolean } }) => r.config.retrieval_training ?? false).sort()).toEqual([false, true]);
  });

  test("refused with a reason: an instruction project, a max sequence length too short for the passages, no document passages", async () => {
    const pid = qaProject("instruction");
    const instruction = await t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1, retrieval_training: true });
    expect(instruction.status).toBe(422);
    expect(await instruction.json()).toMatchObject({ error_code: "retrieval_training_unavailable" });
    chooseTask(t.db, pid, "qa");
    t.db.$client.run("update chunks set token_count = 900 where project_id = ?", [pid]);
    const short = await t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1, max_seq_length: 2048, retrieval_training: true });
    expect(short.status).toBe(422);
    expect((await short.json()).detail).toBe("Retrieval training puts 3 passages in each example (up to 900 tokens each): set Max sequence length to at least 3008.");
    expect((await t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1, retrieval_training: "yes" })).status).toBe(422);
    // Questions imported from a file have no passages to train with.
    t.db.$client.run("delete from chunks where project_id = ?", [pid]);
    const none = await t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1, retrieval_training: true });
    expect(await none.json()).toMatchObject({ error_code: "retrieval_training_unavailable", detail: expect.stringContaining("no document passages") });
    // Nothing was started by the refusals.
    expect((await (await t.request(`/api/projects/${pid}/train/runs`)).json()).runs).toEqual([]);
  });

  test("the Train step offers it to Q&A projects, and the form's checkbox starts such a run", async () => {
    const pid = qaProject();
    const page = await (await t.request(`/projects/${pid}/wizard?step=train`)).text();
    expect(page).toContain('name="retrieval_training"');
    expect(page).toContain("Train for retrieval");
    const form = new URLSearchParams({ method: "lora", num_epochs: "1", retrieval_training: "on" });
    const started = await t.request(`/projects/${pid}/train`, { method: "POST", body: form, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expect(started.status).toBe(200);
    await t.queue.runUntilEmpty();
    expect((await trainingFiles(pid)).run.config.retrieval_training).toBe(true);
    chooseTask(t.db, pid, "instruction");
    expect(await (await t.request(`/projects/${pid}/wizard?step=train`)).text()).not.toContain('name="retrieval_training"');
  });
});
