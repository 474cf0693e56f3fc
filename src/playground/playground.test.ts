import { afterEach, describe, expect, test } from "bun:test";
import { z } from "zod";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { insertProject } from "../../tests/helpers/builders.ts";
import { insertTrainedProject, waitFor } from "../../tests/helpers/training-harness.ts";
import { startFakeOllama, type FakeOllama } from "../../tests/fakes/fake-ollama.ts";
import { FAKE_TRAINER, makeTempDir, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";

let t: TestApp;
let ollama: FakeOllama | null = null;
afterEach(() => {
  t?.close();
  ollama?.stop();
  ollama = null;
});

async function trained(env: Record<string, string> = {}) {
  ollama = startFakeOllama({ models: ["llama3.1:8b", "nomic-embed-text"], responder: () => ({ content: "Ollama says hello" }) });
  t = makeTestApp({ trainer: { command: FAKE_TRAINER, env, graceMs: 2000 }, generation: { ollamaHosts: [ollama.url] } });
  return insertTrainedProject(t);
}

/** The SSE answer as [event, data] pairs. */
async function chat(pid: string, body: unknown) {
  const res = await t.json("POST", `/api/projects/${pid}/playground`, body);
  if (!res.headers.get("content-type")?.startsWith("text/event-stream")) return { status: res.status, events: [] as [string, Record<string, unknown>][], json: await res.json() };
  const text = await res.text();
  const events = text
    .split("\n\n")
    .filter((b) => b.trim())
    .map((b) => [/^event: (.*)$/m.exec(b)![1]!, JSON.parse(/^data: (.*)$/m.exec(b)![1]!)] as [string, Record<string, unknown>]);
  return { status: res.status, events, json: null };
}
const ask = (content: string, target: string, extra: object = {}) => ({ messages: [{ role: "user", content }], target, max_new_tokens: 32, temperature: 0, ...extra });
const replyOf = (events: [string, Record<string, unknown>][]) => events.filter(([e]) => e === "token").map(([, d]) => d.text).join("");

describe("playground", () => {
  test("tuned and base stream token by token from one worker, loaded once", async () => {
    const log = join(makeTempDir("ftf-serve-"), "starts.log");
    const pid = await trained({ FAKE_SERVE_LOG: log });
    const tuned = await chat(pid, ask("What is covered?", "tuned"));
    expect(tuned.status).toBe(200);
    expect(tuned.events.filter(([e]) => e === "token").length).toBe(6);
    expect(replyOf(tuned.events)).toBe("Tuned reply to What is covered?");
    expect(tuned.events.at(-1)).toEqual(["done", { tokens: 6, seconds: 0.01, ended: "stop", dropped_turns: 0 }]);
    const base = await chat(pid, ask("What is covered?", "base"));
    expect(replyOf(base.events)).toBe("Base reply to What is covered?");
    // Two requests at once wait their turn on the same worker.
    const [a, b] = await Promise.all([chat(pid, ask("one", "tuned")), chat(pid, ask("two", "base"))]);
    expect(replyOf(a.events)).toBe("Tuned reply to one");
    expect(replyOf(b.events)).toBe("Base reply to two");
    expect(readFileSync(log, "utf8").split("\n").filter((l) => l === "start")).toEqual(["start"]);
  });

  test("an Ollama model streams from /api/chat", async () => {
    const pid = await trained();
    const r = await chat(pid, ask("Hello", "ollama:llama3.1:8b"));
    expect(replyOf(r.events)).toBe("Ollama says hello");
    expect(r.events.at(-1)![0]).toBe("done");
    const missing = await chat(pid, ask("Hello", "ollama:nope"));
    expect(missing.events.at(-1)![0]).toBe("error");
    expect(String(missing.events.at(-1)![1].detail)).toContain('model "nope" not found');
  });

  test("a worker that cannot load the model answers with an error event, not a hang", async () => {
    const pid = await trained({ FAKE_TRAINER: "serve-crash" });
    const r = await chat(pid, ask("Hi", "tuned"));
    expect(r.events).toEqual([["error", { detail: "The tuned model could not be loaded: Could not load the base model.", error_code: "worker_failed" }]]);
  });

  /** A job of the queue's gpu group that holds the GPU until `release` is called. */
  function holdGpu() {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    t.queue.register("test_gpu_hold", { payload: z.object({}), group: "gpu", maxAttempts: 1, run: () => held });
    t.queue.enqueue("test_gpu_hold", null, {});
    t.queue.start();
    return release;
  }

  test("while a job holds the GPU the local models are refused; Ollama still answers", async () => {
    const pid = await trained();
    const release = holdGpu();
    await waitFor(() => t.queue.gpu.heldByJob() !== null);
    const r = await chat(pid, ask("Hi", "tuned"));
    expect(r.status).toBe(409);
    expect(r.json.error_code).toBe("gpu_busy");
    expect(replyOf((await chat(pid, ask("Hi", "ollama:llama3.1:8b"))).events)).toBe("Ollama says hello");
    release();
    await waitFor(() => t.queue.gpu.heldByJob() === null);
    expect(replyOf((await chat(pid, ask("Hi", "tuned"))).events)).toBe("Tuned reply to Hi");
  });

  test("a job that needs the GPU unloads the playground's worker, even mid-reply", async () => {
    const log = join(makeTempDir("ftf-serve-"), "serve.log");
    const pid = await trained({ FAKE_SERVE_LOG: log, FAKE_DELAY_MS: "100" });
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    const reply = chat(pid, ask(words, "tuned", { max_new_tokens: 2048 }));
    await waitFor(() => t.queue.gpu.shares().length === 1 && existsSync(log) && readFileSync(log, "utf8").includes("ask"));
    const release = holdGpu();
    const { events } = await reply;
    expect(events.at(-1)).toEqual(["error", { detail: "A job that needs the GPU started, so the playground's model was unloaded; it is back when that job ends.", error_code: "worker_stopped" }]);
    expect(t.queue.gpu.shares()).toEqual([]);
    release();
  });

  test("a client that goes away cancels the reply inside the worker", async () => {
    const log = join(makeTempDir("ftf-serve-"), "serve.log");
    const pid = await trained({ FAKE_SERVE_LOG: log, FAKE_DELAY_MS: "100" });
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    const res = await t.json("POST", `/api/projects/${pid}/playground`, ask(words, "tuned", { max_new_tokens: 2048 }));
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("event: token");
    await reader.cancel();
    await waitFor(() => readFileSync(log, "utf8").includes("cancel "));
    // The worker is free at once for the next question.
    const next = await chat(pid, ask("Next", "base"));
    expect(replyOf(next.events)).toBe("Base reply to Next");
  });

  test("a long chat is fitted to the model's context: the oldest turns are left out and the reply says how many", async () => {
    const log = join(makeTempDir("ftf-serve-"), "serve.log");
    const pid = await trained({ FAKE_SERVE_LOG: log });
    // 50 messages of 20,000 characters: within the body limits, far past an 8,192-token context.
    const messages = Array.from({ length: 50 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `${i} ${"x".repeat(19_990)}` }));
    messages.push({ role: "user", content: "And now?" });
    const r = await chat(pid, { messages: messages.slice(-50), target: "tuned", max_new_tokens: 32, temperature: 0 });
    expect(r.status).toBe(200);
    const done = r.events.at(-1)!;
    expect(done[0]).toBe("done");
    expect(done[1]).toMatchObject({ ended: "stop" });
    expect(done[1].dropped_turns).toBeGreaterThanOrEqual(48);
    // The worker was handed only what fits.
    expect(readFileSync(log, "utf8")).toContain(`ask ${50 - Number(done[1].dropped_turns)}\n`);
    // One message alone past what the model reads: refused before anything streams.
    const huge = await chat(pid, { messages: [{ role: "user", content: "y".repeat(20_000) }], target: "tuned", max_new_tokens: 2048 });
    expect(huge.status).toBe(422);
    expect(huge.json.error_code).toBe("prompt_too_long");
    expect(huge.json.detail).toContain("shorten it");
  });

  test("bad bodies are refused with the field named; no trained run is a 409", async () => {
    const pid = await trained();
    for (const body of [
      { messages: [], target: "tuned" },
      { messages: [{ role: "assistant", content: "hi" }], target: "tuned" },
      { messages: [{ role: "user", content: "" }], target: "tuned" },
      { messages: [{ role: "user", content: "x".repeat(20_001) }], target: "tuned" },
      { messages: [{ role: "robot", content: "hi" }], target: "tuned" },
      ask("hi", "gpt-4"),
      ask("hi", "tuned", { temperature: 5 }),
      ask("hi", "tuned", { max_new_tokens: 0 }),
      ask("hi", "tuned", { surprise: true }),
    ]) {
      const r = await chat(pid, body);
      expect(r.status).toBe(422);
      expect(r.json.error_code).toBeString();
    }
    const fresh = insertProject(t.db);
    expect((await chat(fresh, ask("hi", "tuned"))).json.error_code).toBe("no_trained_run");
  });

  test("a corrected reply becomes a training example with playground provenance", async () => {
    const pid = await trained();
    const messages = [{ role: "user", content: "What does the warranty cover?" }, { role: "assistant", content: "Parts." }, { role: "user", content: "And labour?" }];
    const res = await t.json("POST", `/api/projects/${pid}/playground/examples`, { messages, reply: "Yes: parts and labour for two years." });
    expect(res.status).toBe(201);
    const { example_id, split } = await res.json();
    expect(split).toBe("train");
    const row = t.db.$client.query("select instruction, input, output, split, generator_model as g, is_valid as v from examples where id = ?").get(example_id);
    expect(row).toEqual({ instruction: "And labour?", input: "User: What does the warranty cover?\n\nAssistant: Parts.", output: "Yes: parts and labour for two years.", split: "train", g: "playground", v: 1 });
    const empty = await t.json("POST", `/api/projects/${pid}/playground/examples`, { messages, reply: "   " });
    expect(empty.status).toBe(422);
    const short = await t.json("POST", `/api/projects/${pid}/playground/examples`, { messages: [{ role: "user", content: "?" }], reply: "ok" });
    expect(short.status).toBe(422);
    expect((await short.json()).detail).toContain("too short");
  });

  test("the page lists the targets (not an embedding model: it cannot chat) and loads its script", async () => {
    const pid = await trained();
    const html = await (await t.request(`/projects/${pid}/playground`)).text();
    expect(html).toContain('value="ollama:llama3.1:8b"');
    expect(html).not.toContain("nomic-embed-text");
    expect(html).toContain("playground.js");
  });
});
