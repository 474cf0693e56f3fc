import { afterEach, describe, expect, test } from "bun:test";
import { corpusText } from "../../tests/fakes/corpus.ts";
import { groundedResponder, startFakeOllama, type FakeOllama, type Responder } from "../../tests/fakes/fake-ollama.ts";
import { resolveModel } from "../../tests/helpers/builders.ts";
import { makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";

let t: TestApp;
let fakes: FakeOllama[] = [];

afterEach(() => {
  t?.close();
  for (const f of fakes) f.stop();
  fakes = [];
});

function fake(opts: Parameters<typeof startFakeOllama>[0] = {}) {
  const f = startFakeOllama(opts);
  fakes.push(f);
  return f;
}

async function setup(opts: { hosts?: string[]; openai?: string; timeoutMs?: number; task?: "instruction" | "qa"; words?: number; concurrency?: number } = {}) {
  t = makeTestApp({ generation: { ollamaHosts: opts.hosts ?? [], openaiBaseUrl: opts.openai, timeoutMs: opts.timeoutMs ?? 5000, concurrency: opts.concurrency ?? 4 } });
  const pid = (await (await t.json("POST", "/api/projects", { name: "gen" })).json()).id as string;
  resolveModel(t.db, pid);
  await t.json("PATCH", `/api/projects/${pid}`, { task_type: opts.task ?? "instruction" });
  const form = new FormData();
  form.append("kind", "raw_doc");
  form.append("files", new File([corpusText(opts.words ?? 3000)], "manual.txt"));
  await t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form });
  await t.queue.runUntilEmpty();
  return pid;
}

const rows = (pid: string) => t.db.$client.query("select * from examples where project_id = ? order by created_at").all(pid) as Record<string, any>[];
const job = async (id: string) => (await t.request(`/api/jobs/${id}`)).json();

async function run(pid: string, kind: "preview" | "generate", body?: unknown) {
  const res = await t.json("POST", `/api/projects/${pid}/dataset/${kind}`, body);
  expect(res.status).toBe(202);
  const { job_id } = await res.json();
  await t.queue.runUntilEmpty(60_000);
  return job(job_id);
}

describe("preview and full generation against Ollama's API", () => {
  test("a preview writes 10 examples with provenance and opens the Review step", async () => {
    const ollama = fake();
    const pid = await setup({ hosts: [ollama.url] });
    const j = await run(pid, "preview");
    expect(j.status).toBe("success");
    const ex = rows(pid);
    expect(ex).toHaveLength(10);
    expect(ex.every((e) => e.split === "preview" && e.is_valid === 1 && e.chunk_id && e.file_id)).toBe(true);
    expect(ex[0]).toMatchObject({ generator_model: "llama3.1:8b", prompt_version: "instruction.v1", token_count_approx: 1 });
    expect(ex[0]!.grounding_score).toBeGreaterThan(0.9);
    // Structured output and a context window large enough for the prompt.
    expect((ollama.calls[0]!.format as { required: string[] }).required).toEqual(["examples"]);
    expect(ollama.calls[0]!.numCtx).toBeGreaterThanOrEqual(8192);
    expect((await t.request(`/projects/${pid}/wizard?step=review`)).status).toBe(200);
  });

  test("full generation reaches exactly the target, split 90/10, and marks the project ready", async () => {
    const pid = await setup({ hosts: [fake().url] });
    const j = await run(pid, "generate", { target: 40, model: "qwen2.5:7b" });
    expect(j.status).toBe("success");
    const ex = rows(pid).filter((e) => e.split !== "preview");
    expect(ex.filter((e) => e.is_valid)).toHaveLength(40);
    expect(new Set(ex.map((e) => e.content_hash)).size).toBe(ex.length);
    expect(new Set(ex.map((e) => e.split))).toEqual(new Set(["train", "eval"]));
    expect((await (await t.request(`/api/projects/${pid}`)).json()).status).toBe("ready_to_train");
    expect(ex[0]!.generator_model).toBe("qwen2.5:7b");
  });

  test("Q&A projects get question / answer with the chunk as context", async () => {
    fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [fakes[0]!.url], task: "qa" });
    await run(pid, "preview");
    const e = rows(pid)[0]!;
    expect(e.instruction).toStartWith("What is said about");
    expect(e.input.length).toBeGreaterThan(100);
    expect(e.prompt_version).toBe("qa.v2");
  });

  test("a generation limited to one document takes chunks from it only; an unknown document is refused", async () => {
    fake();
    const pid = await setup({ hosts: [fakes[0]!.url] });
    const form = new FormData();
    form.append("kind", "raw_doc");
    form.append("files", new File([corpusText(3000, 5)], "faq.txt"));
    await t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form });
    await t.queue.runUntilEmpty();
    const faq = (t.db.$client.query("select id from files where filename = 'faq.txt'").get() as { id: string }).id;
    const j = await run(pid, "generate", { target: 20, file_id: faq });
    expect(j.status).toBe("success");
    expect(new Set(rows(pid).map((e) => e.file_id))).toEqual(new Set([faq]));
    const refused = await t.json("POST", `/api/projects/${pid}/dataset/generate`, { target: 20, file_id: "nope" });
    expect(refused.status).toBe(404);
    expect((await refused.json()).error_code).toBe("file_not_found");
  });

  test("closed-book Q&A leaves the passage out: question in, answer out", async () => {
    fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [fakes[0]!.url], task: "qa" });
    expect((await t.json("PATCH", `/api/projects/${pid}`, { qa_context: "closed_book" })).status).toBe(200);
    await run(pid, "preview");
    const all = rows(pid);
    expect(all).toHaveLength(10);
    expect(all.every((e) => e.input === "" && e.instruction.startsWith("What is said about") && e.is_valid === 1)).toBe(true);
    // Still checked against its source chunk.
    expect(all[0]!.grounding_score).toBeGreaterThan(0.9);
  });

  const scripted = (fn: (n: number, call: Parameters<Responder>[0]) => ReturnType<Responder> | null): Responder => {
    const good = groundedResponder();
    return (call, n) => fn(n, call) ?? good(call, n);
  };

  test("fenced JSON is repaired; malformed JSON is retried, then counted as filtered with its reason", async () => {
    const ollama = fake({
      responder: scripted((n, call) =>
        n === 0 ? { content: "```json\n" + (groundedResponder()(call, 100) as { content: string }).content + "\n```" } : n >= 1 && n <= 3 ? { content: "{not json" } : null,
      ),
    });
    const pid = await setup({ hosts: [ollama.url], concurrency: 1 });
    const j = await run(pid, "preview");
    expect(j.status).toBe("success");
    expect(rows(pid)).toHaveLength(10);
    const result = t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string };
    expect(JSON.parse(result.result).filtered["the model's answer is not valid JSON"]).toBe(1);
  });

  test("each request is bounded by what its schema asks for; an answer that runs on is cut there and counted as its own reason", async () => {
    // A small model rambling inside a JSON string: the server stops it at num_predict.
    const ramble = `{"examples": [{"instruction": "Tell", "input": "", "output": "${"and then ".repeat(5000)}`;
    const ollama = fake({ responder: scripted((n) => (n <= 2 ? { content: ramble } : null)) });
    const pid = await setup({ hosts: [ollama.url], concurrency: 1 });
    const j = await run(pid, "preview");
    expect(j.status).toBe("success");
    expect(rows(pid)).toHaveLength(10);
    // Every request carried a bound sized to its examples (3 a request: 64 + 3 × 480 tokens).
    expect(ollama.calls.every((c) => c.maxTokens === 64 + c.count * 480)).toBe(true);
    const result = t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string };
    expect(JSON.parse(result.result).filtered["the model's answer was cut off at its length limit (it ran on)"]).toBe(1);
  });

  const WORDS_ELSEWHERE = "volcanic penguin tundra lagoon basalt fjord monsoon savanna atoll reef canyon geyser mangrove delta steppe oasis".split(" ");
  test("a preview mostly refused says so plainly, with the likely cause and what to try", async () => {
    // A small model's answers: fluent, and about nothing the passage says.
    const ollama = fake({
      responder: scripted((n, call) =>
        n % 4 === 0
          ? null
          : { content: JSON.stringify({ examples: Array.from({ length: call.count }, (_, i) => ({ instruction: `Tell me about item ${n}-${i}.`, input: "", output: `${WORDS_ELSEWHERE[(n * 3 + i) % WORDS_ELSEWHERE.length]} islands host ${WORDS_ELSEWHERE[(n * 7 + i * 5 + 3) % WORDS_ELSEWHERE.length]} glaciers near ${WORDS_ELSEWHERE[(n + i * 11 + 6) % WORDS_ELSEWHERE.length]} harbours.` })) }) },
      ),
    });
    const pid = await setup({ hosts: [ollama.url], concurrency: 1 });
    expect((await run(pid, "preview", { model: "llama3.1:8b" })).status).toBe("success");
    const html = await (await t.request(`/projects/${pid}/preview/panel`)).text();
    expect(html).toContain('data-testid="preview-advice"');
    expect(html).toMatch(/Most of this preview was refused: \d+ valid of 10\./);
    expect(html).toContain("“llama3.1:8b” wrote answers the passages do not support");
    expect(html).toContain("Pick a larger generation model");
  });

  test("a preview mostly valid gives no such advice", async () => {
    const pid = await setup({ hosts: [fake().url] });
    expect((await run(pid, "preview")).status).toBe("success");
    expect(await (await t.request(`/projects/${pid}/preview/panel`)).text()).not.toContain("preview-advice");
  });

  test("refusals and ungrounded answers are stored as invalid with their reason; duplicates are removed and counted", async () => {
    const ollama = fake({
      responder: scripted((n) => {
        if (n === 0) return { content: JSON.stringify({ examples: [{ instruction: "What is covered?", input: "", output: "As an AI language model, I cannot know." }] }) };
        if (n === 1) return { content: JSON.stringify({ examples: [{ instruction: "What colour is the sky?", input: "", output: "Lavender elephants dance gracefully beneath purple moons tonight." }] }) };
        if (n === 2 || n === 3) return { content: JSON.stringify({ examples: [{ instruction: "Repeat me", input: "", output: "warranty battery charger screen device support repair." }] }) };
        return null;
      }),
      capacity: 1,
    });
    const pid = await setup({ hosts: [ollama.url] });
    const j = await run(pid, "generate", { target: 12 });
    const ex = rows(pid);
    expect(ex.filter((e) => e.is_valid)).toHaveLength(12);
    expect(ex.find((e) => e.output.startsWith("As an AI"))!.validation_error).toContain("refusal or meta text");
    expect(ex.find((e) => e.output.startsWith("Lavender"))!.validation_error).toContain("not grounded in its source");
    expect(ex.filter((e) => e.instruction === "Repeat me")).toHaveLength(1);
    expect(JSON.parse((t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result).duplicates_removed).toBe(1);
  });

  test("HTTP 500s, dropped connections and slow answers are retried", async () => {
    const ollama = fake({
      responder: scripted((n) => (n === 0 ? { status: 500, error: "CUDA error: out of memory" } : n === 1 ? { drop: true } : null)),
    });
    const slow = fake({ latencyMs: 600 });
    const pid = await setup({ hosts: [ollama.url] });
    expect((await run(pid, "preview")).status).toBe("success");
    expect(rows(pid)).toHaveLength(10);
    const pid2 = await setup({ hosts: [slow.url], timeoutMs: 300 });
    const j2 = await run(pid2, "preview");
    expect(j2.status).toBe("failed");
    expect(j2.error_message).toContain("did not answer in time");
  });

  test("an unknown model fails the job with the `ollama pull` command", async () => {
    const pid = await setup({ hosts: [fake().url] });
    const j = await run(pid, "preview", { model: "mistral:7b" });
    expect(j.status).toBe("failed");
    expect(j.error_message).toContain("ollama pull mistral:7b");
  });

  test("spreads requests over several Ollama hosts", async () => {
    const a = fake({ latencyMs: 20 });
    const b = fake({ latencyMs: 20 });
    const pid = await setup({ hosts: [a.url, b.url] });
    const j = await run(pid, "generate", { target: 30 });
    expect(a.calls.length).toBeGreaterThan(2);
    expect(b.calls.length).toBeGreaterThan(2);
    expect(j.progress_message).toMatch(/^30\/30 examples · 2 endpoints, \d+\/\d+ in flight$/);
  });

  test("FTF_GENERATION_CONCURRENCY is a ceiling per endpoint; below it the limit adapts", async () => {
    const ollama = fake({ latencyMs: 30 });
    const pid = await setup({ hosts: [ollama.url], concurrency: 2, words: 6000 });
    const j = await run(pid, "generate", { target: 60 });
    expect(j.status).toBe("success");
    expect(ollama.inFlightMax()).toBe(2);
    expect(j.progress_message).toMatch(/^60\/60 examples · \d in flight$/);
    // A server with room for more: the limit grows past the starting four.
    const roomy = fake({ latencyMs: 30 });
    const pid2 = await setup({ hosts: [roomy.url], concurrency: 32, words: 20_000 });
    expect((await run(pid2, "generate", { target: 300 })).status).toBe("success");
    expect(roomy.inFlightMax()).toBeGreaterThan(4);
    expect(roomy.inFlightMax()).toBeLessThanOrEqual(32);
  });

  test("an OpenAI-compatible server (vLLM, llama.cpp) works as the backend", async () => {
    const server = fake({ openai: true });
    const pid = await setup({ openai: server.url });
    expect((await (await t.request("/api/generation/models")).json()).models).toEqual(["llama3.1:8b", "qwen2.5:7b"]);
    expect((await run(pid, "preview")).status).toBe("success");
    expect((server.calls[0]!.format as { type: string }).type).toBe("json_schema");
  });
});

describe("refusing to start, with a sentence", () => {
  test("Ollama unreachable: how to start it", async () => {
    const pid = await setup({ hosts: ["http://127.0.0.1:9"] });
    const res = await t.json("POST", `/api/projects/${pid}/dataset/preview`);
    expect(res.status).toBe(502);
    expect((await res.json()).detail).toContain("ollama serve");
  });

  test("no model installed: how to pull one", async () => {
    const pid = await setup({ hosts: [fake({ models: [] }).url] });
    const res = await t.json("POST", `/api/projects/${pid}/dataset/preview`);
    expect(res.status).toBe(409);
    expect((await res.json()).detail).toContain("ollama pull");
  });

  test("no extracted document, a generation already running, bad bodies", async () => {
    t = makeTestApp({ generation: { ollamaHosts: [fake().url] } });
    const empty = (await (await t.json("POST", "/api/projects", { name: "empty" })).json()).id;
    expect((await (await t.json("POST", `/api/projects/${empty}/dataset/preview`)).json()).error_code).toBe("no_documents");
    t.close();
    const pid = await setup({ hosts: [fakes[0]!.url] });
    expect((await t.json("POST", `/api/projects/${pid}/dataset/generate`, { target: 5 })).status).toBe(422);
    expect((await t.json("POST", `/api/projects/${pid}/dataset/generate`, "{bad")).status).toBe(400);
    expect((await t.json("POST", `/api/projects/${pid}/dataset/generate`, { tarrget: 50 })).status).toBe(422);
    expect((await t.json("POST", `/api/projects/${pid}/dataset/generate`, { target: 50 })).status).toBe(202);
    const again = await t.json("POST", `/api/projects/${pid}/dataset/preview`);
    expect(again.status).toBe(409);
    expect((await again.json()).error_code).toBe("generation_running");
  });
});

describe("varied questions (Q&A)", () => {
  const chunkOf = (prompt: string) => /"""\n([\s\S]*?)\n"""/.exec(prompt)?.[1] ?? "";

  test("each request for a chunk asks another kind of question and lists those already kept; a short document keeps the server full", async () => {
    let now = 0;
    let most = 0;
    const grounded = groundedResponder("qa");
    const ollama = fake({
      responder: async (call, n) => {
        most = Math.max(most, ++now);
        await Bun.sleep(40);
        now--;
        return grounded(call, n);
      },
    });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900, concurrency: 8 });
    const chunks = (t.db.$client.query("select count(*) as n from chunks where project_id = ?").get(pid) as { n: number }).n;
    expect(chunks).toBeLessThanOrEqual(3);
    const j = await run(pid, "generate", { target: 36 });
    expect(j.status).toBe("success");
    expect(rows(pid).filter((e) => e.is_valid === 1)).toHaveLength(36);
    // Several requests per chunk at once: more in flight than there are chunks.
    expect(most).toBeGreaterThan(chunks);
    const byChunk = new Map<string, string[]>();
    for (const c of ollama.calls) byChunk.set(chunkOf(c.prompt), [...(byChunk.get(chunkOf(c.prompt)) ?? []), c.prompt]);
    for (const prompts of byChunk.values()) {
      const kinds = prompts.map((p) => /write \d+ different questions (.*?), each with its answer/.exec(p)![1]);
      // The kinds rotate: the first requests of a chunk each ask a different kind.
      expect(new Set(kinds.slice(0, Math.min(4, kinds.length))).size).toBe(Math.min(4, kinds.length));
    }
    // A later request lists questions kept from that chunk.
    const later = ollama.calls.find((c) => c.prompt.includes("These questions were already asked about this passage"))!;
    const listed = /already asked about this passage[^\n]*\n((?:- .*\n?)+)/.exec(later.prompt)![1]!.trim().split("\n").map((l) => l.slice(2));
    const kept = new Set(rows(pid).map((e) => e.instruction as string));
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((q) => kept.has(q))).toBe(true);
  });

  test("the kinds rotate evenly; a question linking two passages shows both, and its answer may rest on either", async () => {
    const { kindFor, QUESTION_KINDS } = await import("./question-kinds.ts");
    const { renderPrompt } = await import("./prompts.ts");
    expect(Array.from({ length: 12 }, (_, n) => kindFor(n, true).id)).toEqual([...QUESTION_KINDS.map((k) => k.id), ...QUESTION_KINDS.map((k) => k.id)]);
    expect(Array.from({ length: 6 }, (_, n) => kindFor(n, false).id)).not.toContain("linked");
    const linked = renderPrompt("qa", { count: 2, source: "a.pdf, page 3", chunk: "The pump runs at 40 bar.", kind: kindFor(5, true), kept: ["What pressure?"], neighbour: { source: "a.pdf, page 4", text: "The valve opens at 45 bar." } });
    expect(linked).toContain("write 2 different questions that need both the passage and the next passage below to answer");
    expect(linked).toContain("answerable from the passage and the next passage alone");
    expect(linked).toContain('The next passage (from a.pdf, page 4):\n"""\nThe valve opens at 45 bar.\n"""');
    expect(linked).toContain("- What pressure?");
    // The loopback Ollama (and any reader) finds the chunk as the first quoted block.
    expect(/"""\n([\s\S]*?)\n"""/.exec(linked)![1]).toBe("The pump runs at 40 bar.");
  });

  test("a chunk whose questions stop being new is done: the job ends instead of asking again and again", async () => {
    const ollama = fake({
      responder: (call) => ({ content: JSON.stringify({ examples: [{ question: "What does the manual say about the pump?", answer: `${chunkOf(call.prompt).split(/\s+/).slice(0, 12).join(" ")}.` }] }) }),
    });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 300, concurrency: 1 });
    await run(pid, "preview");
    const previewCalls = ollama.calls.length;
    const j = await run(pid, "generate", { target: 30 });
    expect(j.status).toBe("success");
    expect(rows(pid).filter((e) => e.split !== "preview")).toHaveLength(1);
    expect(JSON.parse((t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result)).toMatchObject({ chunks_exhausted: 1, target: 30, stopped: "documents_exhausted" });
    // One accepted answer, then STALE_AFTER answers with nothing new: not the 200 requests the budget allows.
    expect(ollama.calls.length - previewCalls).toBeLessThanOrEqual(4);
    // The Preview step says it stopped short, and why.
    const page = await (await t.request(`/projects/${pid}/wizard?step=preview`)).text();
    expect(page).toContain("The generation stopped at 1 of the 30 examples asked for");
    expect(page).toContain("The documents gave nothing new after that (1 of 1 passages kept repeating what was already asked)");
  });

  test("a model whose answers keep failing the checks stops at its request budget, and the Preview step says so", async () => {
    // Answers that never rest on the passage: refused as ungrounded, each a different question.
    let n = 0;
    const ollama = fake({ responder: () => ({ content: JSON.stringify({ examples: [{ question: `Which colour is lunar cheese number ${++n}?`, answer: `Chartreuse ${n}, obviously, says the moon council of ${n * 7} elders.` }] }) }) });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 300, concurrency: 1 });
    await run(pid, "preview");
    const j = await run(pid, "generate", { target: 10 });
    expect(j.status).toBe("success");
    const result = JSON.parse((t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result);
    expect(result).toMatchObject({ valid: 0, target: 10, stopped: "request_budget" });
    const page = await (await t.request(`/projects/${pid}/wizard?step=preview`)).text();
    expect(page).toContain("The generation stopped at 0 of the 10 examples asked for");
    expect(page).toContain(`After ${result.requests} requests most answers still failed the checks`);
  });

  test("a generation that reaches its target says nothing about stopping short", async () => {
    const ollama = fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 600 });
    await run(pid, "preview");
    const j = await run(pid, "generate", { target: 10 });
    expect(JSON.parse((t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result)).toMatchObject({ target: 10, stopped: "target" });
    const page = await (await t.request(`/projects/${pid}/wizard?step=preview`)).text();
    expect(page).toContain("10 examples generated");
    expect(page).not.toContain("The generation stopped at");
  });
});

test("the Review step shows, per document, how many distinct questions each part produced", async () => {
  const ollama = fake({ responder: groundedResponder("qa") });
  const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900 });
  await run(pid, "generate", { target: 12 });
  const parts = (t.db.$client.query("select count(*) as n from chunks where project_id = ?").get(pid) as { n: number }).n;
  const html = await (await t.request(`/projects/${pid}/wizard?step=review`)).text();
  expect(html).toContain("Coverage per document: distinct questions per part");
  expect(html).toMatch(new RegExp(`<td>manual.txt</td><td>\\d+ of ${parts}</td><td>12</td>`));
});

describe("study notes (the study_notes recipe)", () => {
  test("closed-book Q&A defaults to study notes + questions; a chunk's first request writes notes, learnt without their passage", async () => {
    const ollama = fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900 });
    // The Task step: closed-book shows study notes as the chosen recipe, and keeps it.
    const form = (fields: Record<string, string>) => t.request(`/projects/${pid}/task`, { method: "POST", headers: { "HX-Request": "true" }, body: new URLSearchParams(fields) });
    await form({ task_type: "qa", qa_context: "closed_book", qa_recipe: "questions" });
    const project = await (await t.request(`/api/projects/${pid}`)).json();
    // "questions" was only the default shown before the switch: not a choice.
    expect(project.config.qa_recipe).toBeUndefined();
    const page = await (await t.request(`/projects/${pid}/wizard?step=task`)).text();
    expect(page).toMatch(/id="recipe-study_notes"[^>]*checked/);
    const j = await run(pid, "generate", { target: 18 });
    expect(j.status).toBe("success");
    const notes = rows(pid).filter((e) => e.kind === "note");
    const questions = rows(pid).filter((e) => e.kind === "example");
    expect(notes.length).toBeGreaterThan(0);
    expect(questions.length).toBeGreaterThanOrEqual(notes.length);
    expect(notes.every((e) => e.prompt_version === "notes.v1" && e.input === "")).toBe(true);
    expect(questions.every((e) => e.prompt_version === "qa.v2")).toBe(true);
    expect(ollama.calls.filter((c) => c.prompt.startsWith("You write study notes")).length).toBeGreaterThan(0);
    // Review: notes are their own kind, filterable, and badged.
    const api = await (await t.request(`/api/projects/${pid}/dataset/examples?kind=note`)).json();
    expect(api.total).toBe(notes.length);
    expect(api.items.every((e: { kind: string }) => e.kind === "note")).toBe(true);
    const review = await (await t.request(`/projects/${pid}/wizard?step=review&kind=note`)).text();
    expect(review).toContain('<span class="badge kind-note">Note</span>');
  });

  test("an explicit choice of questions only writes no notes, even closed-book", async () => {
    const ollama = fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900 });
    await t.json("PATCH", `/api/projects/${pid}`, { qa_context: "closed_book", qa_recipe: "questions" });
    await run(pid, "generate", { target: 12 });
    expect(rows(pid).filter((e) => e.kind === "note")).toHaveLength(0);
    const bad = await t.json("PATCH", `/api/projects/${pid}`, { qa_recipe: "notes_only" });
    expect(bad.status).toBe(422);
  });
});

describe("near-duplicates by meaning (embeddings)", () => {
  /** The same fact asked in other words: the embedding (keyed on the fact's number) says so, word overlap does not. */
  const phrasings = ["How long is the warranty for item {n}?", "For item {n}, what warranty period applies?", "Item {n}: for how many years is it guaranteed?"];
  const meaningOf = (text: string) => {
    const v = new Array<number>(16).fill(0);
    v[Number(/item (\d+)/i.exec(text)?.[1] ?? 15) % 16] = 1;
    return v;
  };

  test("an embedding model catches what word overlap misses; the counts are split by kind and the step says which check ran", async () => {
    let asked = 0;
    const ollama = fake({
      models: ["llama3.1:8b", "nomic-embed-text:latest"],
      embed: meaningOf,
      responder: (call) => {
        const chunk = /"""\n([\s\S]*?)\n"""/.exec(call.prompt)?.[1] ?? "";
        const answer = `${chunk.split(/\s+/).slice(0, 12).join(" ")}.`;
        // Each request: one new fact, and the previous request's fact asked in other words.
        const n = asked++;
        const examples = [{ question: phrasings[0]!.replace("{n}", String(n)), answer }, ...(n > 0 ? [{ question: phrasings[1 + (n % 2)]!.replace("{n}", String(n - 1)), answer: `${answer} Indeed.` }] : [])];
        return { content: JSON.stringify({ examples }) };
      },
    });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900, concurrency: 1 });
    await run(pid, "preview");
    const j = await run(pid, "generate", { target: 10 });
    expect(j.status).toBe("success");
    const result = JSON.parse((t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result);
    expect(result.dedup).toBe("embeddings (nomic-embed-text:latest)");
    // The step's generation model picker offers the models that can write: not the embedding model.
    const picker = await (await t.request(`/projects/${pid}/generation/models`)).text();
    expect(picker).toContain('value="llama3.1:8b"');
    expect(picker).not.toContain("nomic-embed-text");
    // The API lists every installed model (a script may name the embedding model).
    expect((await (await t.request("/api/generation/models")).json()).models).toContain("nomic-embed-text:latest");
    expect(result.duplicates_by_kind.semantic).toBeGreaterThan(0);
    expect(result.duplicates_by_kind.exact).toBe(0);
    // No two kept examples ask about the same item.
    const items = rows(pid).filter((e) => e.split !== "preview").map((e) => /item (\d+)/i.exec(e.instruction)![1]);
    expect(new Set(items).size).toBe(items.length);
    const stats = await (await t.request(`/api/projects/${pid}/dataset/stats`)).json();
    // The stats add up every generation of the project (the preview too).
    expect(stats.duplicates_by_kind.semantic).toBeGreaterThanOrEqual(result.duplicates_by_kind.semantic);
    expect(await (await t.request(`/projects/${pid}/wizard?step=preview`)).text()).toContain("Near-duplicates found by embeddings (nomic-embed-text:latest).");
  });

  test("without an embedding model, word overlap alone, and the step says how to get one", async () => {
    const ollama = fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900 });
    const j = await run(pid, "generate", { target: 10 });
    const result = JSON.parse((t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result);
    expect(result.dedup).toContain("word overlap only: no embedding model is installed");
    expect(ollama.requests.some((r) => r.endsWith("/api/embed"))).toBe(false);
  });

  test("the semantic index and the default embedding model", async () => {
    const { SemanticIndex, pickEmbeddingModel } = await import("./semantic-dedup.ts");
    const index = new SemanticIndex(0.9);
    expect(index.isDuplicate([1, 0, 0])).toBe(false);
    expect(index.isDuplicate([0.99, 0.1, 0])).toBe(true);
    expect(index.isDuplicate([0, 1, 0])).toBe(false);
    expect(index.size).toBe(2);
    expect(pickEmbeddingModel(["llama3.1:8b", "nomic-embed-text:latest", "bge-m3:latest"])).toBe("nomic-embed-text:latest");
    expect(pickEmbeddingModel(["llama3.1:8b", "qwen2.5:7b"])).toBeNull();
  });
});

const unanswerable = (question: string) => new Bun.CryptoHasher("sha1").update(question).digest()[0]! % 2 === 1;

test("the second look: a model checks each pair against its passage; rejected pairs stay in Review with its reason, and the step says the cost first", async () => {
  const grounded = groundedResponder("qa");
  const looks: string[] = [];
  const ollama = fake({
    responder: (call, n) => {
      if (call.prompt.startsWith("You check a question-answer pair")) {
        looks.push(call.model);
        // About half the questions are not answered by their passage (decided by the question's text, whatever the order of calls).
        const question = /^Question: (.*)$/m.exec(call.prompt)![1]!;
        return { content: JSON.stringify({ answerable: !unanswerable(question), faithful: true, reason: unanswerable(question) ? "the passage does not say" : "ok" }) };
      }
      return grounded(call, n);
    },
  });
  const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900 });
  await run(pid, "preview");
  const page = await (await t.request(`/projects/${pid}/wizard?step=preview`)).text();
  expect(page).toContain("Costs one more LLM call per example: about 2,000 more calls");
  const form = await t.request(`/projects/${pid}/generate`, { method: "POST", headers: { "HX-Request": "true" }, body: new URLSearchParams({ model: "llama3.1:8b", target: "12", answerability_check: "on" }) });
  expect(form.status).toBe(200);
  await t.queue.runUntilEmpty(60_000);
  const full = rows(pid).filter((e) => e.split !== "preview");
  const rejected = full.filter((e) => e.validation_error === "not answerable from its passage (second look)");
  expect(rejected.length).toBeGreaterThan(0);
  const job = t.db.$client.query("select status, result from jobs where type = 'dataset_generate'").get() as { status: string; result: string };
  expect({ status: job.status, valid: full.filter((e) => e.is_valid === 1).length, result: JSON.parse(job.result) }).toMatchObject({ status: "success", valid: 12 });
  expect(full.filter((e) => e.is_valid === 1).every((e) => !unanswerable(e.instruction))).toBe(true);
  // One look per example written, by the strongest installed model (both are 8B here: the first listed).
  expect(looks.length).toBeGreaterThanOrEqual(full.length);
  expect(new Set(looks)).toEqual(new Set(["llama3.1:8b"]));
  expect((await (await t.request(`/api/projects/${pid}`)).json()).config.answerability_check).toBe(true);
});
