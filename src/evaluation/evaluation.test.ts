import { afterEach, describe, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama, type Reply } from "../../tests/fakes/fake-ollama.ts";
import { createBackends } from "../generation/backends.ts";
import { judge, JUDGE_RETRIES, type JudgeQuestion } from "./judge.ts";
import { headline, summarize, wilson, type JudgedItem, type Verdict } from "./scorecard.ts";

let fake: FakeOllama | null = null;
afterEach(() => fake?.stop());

/** A seeded generator: the same draws every run. */
function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const item = (k: number, file: string, base: Verdict | null, tuned: Verdict | null): JudgedItem => ({
  example_id: `e${k}`,
  file_id: file,
  filename: `${file}.pdf`,
  question: `Q${k}`,
  reference: `R${k}`,
  base_answer: `B${k}`,
  tuned_answer: `T${k}`,
  base_verdict: base,
  tuned_verdict: tuned,
  judge_reason: null,
});

describe("the scorecard's numbers", () => {
  test("counts, scores with partial credit, win/tie/loss and per-document coverage, weakest first", () => {
    const s = summarize([
      item(1, "manual", "wrong", "correct"),
      item(2, "manual", "partial", "correct"),
      item(3, "manual", "correct", "correct"),
      item(4, "faq", "correct", "wrong"),
      item(5, "faq", "wrong", "partial"),
      item(6, "faq", null, "correct"),
    ]);
    expect(s.n).toBe(6);
    expect(s.base).toMatchObject({ correct: 2, partial: 1, wrong: 2, unjudged: 1, score: 0.5 });
    expect(s.tuned).toMatchObject({ correct: 4, partial: 1, wrong: 1, unjudged: 0, score: 0.75 });
    // Only questions both sides were judged on are compared.
    expect({ wins: s.wins, ties: s.ties, losses: s.losses, win_rate: s.win_rate }).toEqual({ wins: 3, ties: 1, losses: 1, win_rate: 0.6 });
    expect(s.per_document).toEqual([
      { file_id: "faq", filename: "faq.pdf", n: 3, base_score: 0.5, tuned_score: 0.5 },
      { file_id: "manual", filename: "manual.pdf", n: 3, base_score: 0.5, tuned_score: 1 },
    ]);
    expect(headline(s)).toMatch(/^tuned 0\.75 vs base 0\.50 \(n = 6, ±0\.\d\d\); wins 3, ties 1, losses 1$/);
  });

  test("the Wilson interval matches its formula, and nothing judged gives no score", () => {
    expect(wilson(7, 10)).toEqual([0.397, 0.892]);
    expect(wilson(0, 10)).toEqual([0, 0.278]);
    expect(wilson(0, 0)).toBeNull();
    const s = summarize([item(1, "a", null, null)]);
    expect(s.base).toMatchObject({ unjudged: 1, score: null, ci: null });
    expect(s.win_rate).toBeNull();
    expect(headline(s)).toBe("No answers could be judged (n = 1).");
  });
});

/** Reads which of A and B is the tuned answer, then grades from the script. */
function scriptedJudge(script: Map<string, { base: Verdict; tuned: Verdict }>, seen: { question: string; tunedFirst: boolean }[]) {
  return (call: { prompt: string }): Reply => {
    const question = /^Question: (.*)$/m.exec(call.prompt)![1]!;
    const a = /^Answer A: (.*)$/m.exec(call.prompt)![1]!;
    const tunedFirst = a.startsWith("TUNED");
    seen.push({ question, tunedFirst });
    const v = script.get(question)!;
    const [A, B] = tunedFirst ? [v.tuned, v.base] : [v.base, v.tuned];
    return { content: JSON.stringify({ A: { verdict: A, reason: `A is ${A}` }, B: { verdict: B, reason: `B is ${B}` } }) };
  };
}

const question = (k: number): JudgeQuestion => ({ question: `What is point ${k}?`, reference: `Point ${k} is blue.`, passage: `Point ${k} is blue.`, base: `BASE answer ${k}`, tuned: `TUNED answer ${k}` });

describe("the judge, through Ollama's API", () => {
  test("the summary equals the scripted verdicts exactly, whatever the order shown", async () => {
    const verdicts: Verdict[] = ["correct", "partial", "wrong"];
    const script = new Map(Array.from({ length: 40 }, (_, k) => [question(k).question, { tuned: verdicts[k % 3]!, base: verdicts[(k * 7 + 1) % 3]! }] as const));
    const seen: { question: string; tunedFirst: boolean }[] = [];
    fake = startFakeOllama({ responder: scriptedJudge(script, seen) });
    const [backend] = createBackends({ ollamaHosts: [fake.url], timeoutMs: 5000, concurrency: 4 });
    const random = seeded(7);
    const items: JudgedItem[] = [];
    for (let k = 0; k < 40; k++) {
      const q = question(k);
      const r = await judge(backend!, "llama3.1:8b", q, { random });
      expect(r.tunedFirst).toBe(seen.at(-1)!.tunedFirst);
      items.push({ ...item(k, k < 25 ? "manual" : "faq", r.base, r.tuned), question: q.question });
    }
    // Position randomised: both orders, in a fair share.
    const first = seen.filter((s) => s.tunedFirst).length;
    expect(first).toBeGreaterThan(10);
    expect(first).toBeLessThan(30);
    // Every answer graded as scripted, so the summary is the script's.
    const expected = summarize([...script.entries()].map(([q, v], k) => ({ ...item(k, k < 25 ? "manual" : "faq", v.base, v.tuned), question: q })));
    expect(summarize(items)).toEqual(expected);
    expect(expected.tuned).toMatchObject({ correct: 14, partial: 13, wrong: 13, unjudged: 0 });
    // A judge at temperature 0, constrained by the verdict schema.
    expect(fake.calls.every((c) => c.temperature === 0)).toBe(true);
    expect(JSON.stringify(fake.calls[0]!.format)).toContain('"enum":["correct","partial","wrong"]');
  });

  test("garbage and server errors are retried; a judge that never answers leaves the question unjudged", async () => {
    const attempts = new Map<string, number>();
    fake = startFakeOllama({
      responder: (call) => {
        const q = /^Question: (.*)$/m.exec(call.prompt)![1]!;
        const n = (attempts.get(q) ?? 0) + 1;
        attempts.set(q, n);
        const ok = { content: JSON.stringify({ A: { verdict: "correct", reason: "fine" }, B: { verdict: "wrong", reason: "no" } }) };
        if (q === question(1).question) return n < 3 ? { content: "I think A is better." } : ok;
        if (q === question(2).question) return n < 2 ? { status: 500, error: "CUDA error: out of memory" } : ok;
        if (q === question(3).question) return { drop: true };
        if (q === question(4).question) return { content: JSON.stringify({ A: { verdict: "excellent", reason: "" }, B: { verdict: "wrong", reason: "" } }) };
        return ok;
      },
    });
    const [backend] = createBackends({ ollamaHosts: [fake.url], timeoutMs: 5000, concurrency: 4 });
    const random = seeded(1);
    const r1 = await judge(backend!, "llama3.1:8b", question(1), { random });
    expect(r1).toMatchObject({ attempts: 3 });
    expect(r1.tuned).not.toBeNull();
    const r2 = await judge(backend!, "llama3.1:8b", question(2), { random });
    expect(r2).toMatchObject({ attempts: 2 });
    expect(r2.base).not.toBeNull();
    for (const k of [3, 4]) {
      const r = await judge(backend!, "llama3.1:8b", question(k), { random });
      expect(r).toMatchObject({ base: null, tuned: null, attempts: JUDGE_RETRIES + 1 });
    }
  });

  test("a judge slower than the timeout is retried, then counted unjudged", async () => {
    fake = startFakeOllama({ latencyMs: 400 });
    const [backend] = createBackends({ ollamaHosts: [fake.url], timeoutMs: 100, concurrency: 4 });
    const r = await judge(backend!, "llama3.1:8b", question(1), { random: seeded(3) });
    expect(r).toMatchObject({ base: null, tuned: null, attempts: JUDGE_RETRIES + 1 });
  });
});
