import { describe, expect, test } from "bun:test";
import { groundedResponder, type Responder } from "../../tests/fakes/fake-ollama.ts";
import { corpusText } from "../../tests/fakes/corpus.ts";
import { generationHarness } from "../../tests/helpers/generation-harness.ts";
import { makeTestApp } from "../../tests/helpers/test-app.ts";

const g = generationHarness();
const { fake, setup, rows, run } = g;

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
    expect((await g.t.request(`/projects/${pid}/wizard?step=review`)).status).toBe(200);
  });

  test("full generation reaches exactly the target, split 90/10, and marks the project ready", async () => {
    const pid = await setup({ hosts: [fake().url] });
    const j = await run(pid, "generate", { target: 40, model: "qwen2.5:7b" });
    expect(j.status).toBe("success");
    const ex = rows(pid).filter((e) => e.split !== "preview");
    expect(ex.filter((e) => e.is_valid)).toHaveLength(40);
    expect(new Set(ex.map((e) => e.content_hash)).size).toBe(ex.length);
    expect(new Set(ex.map((e) => e.split))).toEqual(new Set(["train", "eval"]));
    expect((await (await g.t.request(`/api/projects/${pid}`)).json()).status).toBe("ready_to_train");
    expect(ex[0]!.generator_model).toBe("qwen2.5:7b");
  });

  test("Q&A projects get question / answer with the chunk as context", async () => {
    fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [g.fakes[0]!.url], task: "qa" });
    await run(pid, "preview");
    const e = rows(pid)[0]!;
    expect(e.instruction).toStartWith("What is said about");
    expect(e.input.length).toBeGreaterThan(100);
    expect(e.prompt_version).toBe("qa.v2");
  });

  test("a generation limited to one document takes chunks from it only; an unknown document is refused", async () => {
    fake();
    const pid = await setup({ hosts: [g.fakes[0]!.url] });
    const form = new FormData();
    form.append("kind", "raw_doc");
    form.append("files", new File([corpusText(3000, 5)], "faq.txt"));
    await g.t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form });
    await g.t.queue.runUntilEmpty();
    const faq = (g.t.db.$client.query("select id from files where filename = 'faq.txt'").get() as { id: string }).id;
    const j = await run(pid, "generate", { target: 20, file_id: faq });
    expect(j.status).toBe("success");
    expect(new Set(rows(pid).map((e) => e.file_id))).toEqual(new Set([faq]));
    const refused = await g.t.json("POST", `/api/projects/${pid}/dataset/generate`, { target: 20, file_id: "nope" });
    expect(refused.status).toBe(404);
    expect((await refused.json()).error_code).toBe("file_not_found");
  });

  test("closed-book Q&A leaves the passage out: question in, answer out", async () => {
    fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [g.fakes[0]!.url], task: "qa" });
    expect((await g.t.json("PATCH", `/api/projects/${pid}`, { qa_context: "closed_book" })).status).toBe(200);
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
    const result = g.t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string };
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
    const result = g.t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string };
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
    const html = await (await g.t.request(`/projects/${pid}/preview/panel`)).text();
    expect(html).toContain('data-testid="preview-advice"');
    expect(html).toMatch(/Most of this preview was refused: \d+ valid of 10\./);
    expect(html).toContain("“llama3.1:8b” wrote answers the passages do not support");
    expect(html).toContain("Pick a larger generation model");
  });

  test("a preview mostly valid gives no such advice", async () => {
    const pid = await setup({ hosts: [fake().url] });
    expect((await run(pid, "preview")).status).toBe("success");
    expect(await (await g.t.request(`/projects/${pid}/preview/panel`)).text()).not.toContain("preview-advice");
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
    expect(JSON.parse((g.t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result).duplicates_removed).toBe(1);
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
    expect((await (await g.t.request("/api/generation/models")).json()).models).toEqual(["llama3.1:8b", "qwen2.5:7b"]);
    expect((await run(pid, "preview")).status).toBe("success");
    expect((server.calls[0]!.format as { type: string }).type).toBe("json_schema");
  });
});

describe("refusing to start, with a sentence", () => {
  test("Ollama unreachable: how to start it", async () => {
    const pid = await setup({ hosts: ["http://127.0.0.1:9"] });
    const res = await g.t.json("POST", `/api/projects/${pid}/dataset/preview`);
    expect(res.status).toBe(502);
    expect((await res.json()).detail).toContain("ollama serve");
  });

  test("no model installed: how to pull one", async () => {
    const pid = await setup({ hosts: [fake({ models: [] }).url] });
    const res = await g.t.json("POST", `/api/projects/${pid}/dataset/preview`);
    expect(res.status).toBe(409);
    expect((await res.json()).detail).toContain("ollama pull");
  });

  test("no extracted document, a generation already running, bad bodies", async () => {
    g.adopt(makeTestApp({ generation: { ollamaHosts: [fake().url] } }));
    const empty = (await (await g.t.json("POST", "/api/projects", { name: "empty" })).json()).id;
    expect((await (await g.t.json("POST", `/api/projects/${empty}/dataset/preview`)).json()).error_code).toBe("no_documents");
    g.t.close();
    const pid = await setup({ hosts: [g.fakes[0]!.url] });
    expect((await g.t.json("POST", `/api/projects/${pid}/dataset/generate`, { target: 5 })).status).toBe(422);
    expect((await g.t.json("POST", `/api/projects/${pid}/dataset/generate`, "{bad")).status).toBe(400);
    expect((await g.t.json("POST", `/api/projects/${pid}/dataset/generate`, { tarrget: 50 })).status).toBe(422);
    expect((await g.t.json("POST", `/api/projects/${pid}/dataset/generate`, { target: 50 })).status).toBe(202);
    const again = await g.t.json("POST", `/api/projects/${pid}/dataset/preview`);
    expect(again.status).toBe(409);
    expect((await again.json()).error_code).toBe("generation_running");
  });
});
