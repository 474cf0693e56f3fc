/**
 * One contract, two servers: the loopback Ollama this project wrote (tests/fakes) and a
 * real Ollama built from its Go module serving SmolLM2-135M-Instruct and the embedding
 * model all-MiniLM-L6-v2. Every test below
 * runs against both; where they disagree, the fake is wrong. The assertions are about
 * the API's shapes and rules (what any model's answers obey), never a model's words.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createBackends } from "../../src/generation/backends.ts";
import { JobError } from "../../src/jobs/worker.ts";
import { groundedResponder, startFakeOllama, type FakeOllama } from "../fakes/fake-ollama.ts";
import { realParts, startRealOllama } from "../helpers/real-parts.ts";

type Server = { url: string; model: string; stop: () => void };
type Kind = "loopback" | "real";

const SCHEMA = {
  type: "object",
  properties: { examples: { type: "array", items: { type: "object", properties: { question: { type: "string" }, answer: { type: "string" } }, required: ["question", "answer"] }, minItems: 1, maxItems: 2 } },
  required: ["examples"],
};
const PROMPT = 'Read the passage and write 1 question with its answer.\n"""\nThe Eiffel Tower is in Paris. It was finished in 1889.\n"""';

async function start(kind: Kind): Promise<Server> {
  if (kind === "real") {
    const real = await startRealOllama();
    return { url: real.url, model: "smollm2:latest", stop: real.stop };
  }
  const fake: FakeOllama = startFakeOllama({ models: ["smollm2", "all-minilm"], responder: groundedResponder("qa") });
  return { url: fake.url, model: "smollm2:latest", stop: fake.stop };
}

const post = (s: Server, path: string, body: unknown) => fetch(`${s.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const ndjson = (text: string) => text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

for (const kind of ["loopback", "real"] as const) {
  describe(`the Ollama API contract (${kind})`, () => {
    let s: Server;
    beforeAll(async () => {
      s = await start(kind);
    }, 60_000);
    afterAll(() => s?.stop());

    test("tags list installed models with a tag, size, digest and details", async () => {
      const res = await fetch(`${s.url}/api/tags`);
      expect(res.status).toBe(200);
      const { models } = (await res.json()) as { models: Record<string, unknown>[] };
      const m = models.find((x) => x.name === s.model)!;
      expect(m).toBeDefined();
      expect(m.model).toBe(s.model);
      expect(m.size).toBeNumber();
      expect(String(m.digest)).toMatch(/^[0-9a-f]{64}$/);
      expect(m.details).toMatchObject({ format: "gguf", family: expect.any(String) });
    });

    test("show gives the template, the parameters and the architecture", async () => {
      const res = await post(s, "/api/show", { model: s.model });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.template).toBeString();
      expect(body.modelfile).toBeString();
      expect((body.model_info as Record<string, unknown>)["general.architecture"]).toBe("llama");
      expect((body.details as Record<string, unknown>).family).toBe("llama");
    });

    test("chat with a JSON schema answers JSON of that schema, with a done reason and counts", async () => {
      const res = await post(s, "/api/chat", { model: s.model, stream: false, format: SCHEMA, messages: [{ role: "user", content: PROMPT }], options: { temperature: 0, num_predict: 200 } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { message: { role: string; content: string }; done: boolean; done_reason: string; eval_count: number };
      expect(body.done).toBe(true);
      expect(body.message.role).toBe("assistant");
      expect(["stop", "length"]).toContain(body.done_reason);
      expect(body.eval_count).toBeGreaterThan(0);
      if (body.done_reason === "stop") {
        const parsed = JSON.parse(body.message.content) as { examples: { question: string; answer: string }[] };
        expect(parsed.examples.length).toBeGreaterThanOrEqual(1);
        expect(parsed.examples[0]!.question).toBeString();
      }
    }, 120_000);

    test("num_predict stops a reply at that many tokens with done_reason length", async () => {
      const res = await post(s, "/api/chat", { model: s.model, stream: false, messages: [{ role: "user", content: "Count from one to one hundred in words." }], options: { temperature: 0, num_predict: 3 } });
      const body = (await res.json()) as { done_reason: string; eval_count: number };
      expect(body.done_reason).toBe("length");
      expect(body.eval_count).toBeLessThanOrEqual(3);
    }, 120_000);

    test("chat streams JSON lines, the last one done", async () => {
      const res = await post(s, "/api/chat", { model: s.model, stream: true, messages: [{ role: "user", content: "Say hello." }], options: { temperature: 0, num_predict: 8 } });
      expect(res.headers.get("content-type")).toContain("application/x-ndjson");
      const lines = ndjson(await res.text());
      expect(lines.length).toBeGreaterThan(1);
      expect(lines.at(-1)).toMatchObject({ done: true, done_reason: expect.any(String) });
      expect(lines.slice(0, -1).every((l) => l.done === false && typeof (l.message as { content: string }).content === "string")).toBe(true);
    }, 120_000);

    test("generate with raw: true takes the prompt as it is", async () => {
      const res = await post(s, "/api/generate", { model: s.model, raw: true, stream: false, prompt: "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", options: { temperature: 0, num_predict: 8 } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { response: string; done: boolean; done_reason: string };
      expect(body.done).toBe(true);
      expect(body.response).toBeString();
    }, 120_000);

    test("embed answers one vector per input", async () => {
      const res = await post(s, "/api/embed", { model: s.model, input: ["The Eiffel Tower is in Paris.", "Photosynthesis makes sugar."] });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { embeddings: number[][]; model: string };
      expect(body.embeddings).toHaveLength(2);
      expect(body.embeddings[0]!.length).toBeGreaterThan(16);
      expect(body.embeddings[0]!.length).toBe(body.embeddings[1]!.length);
      expect(body.embeddings[0]!.every((x) => Number.isFinite(x))).toBe(true);
    }, 120_000);

    test("an embedding model embeds, and refuses chat and generate with a 400 and a sentence, on both paths", async () => {
      const tags = (await (await fetch(`${s.url}/api/tags`)).json()) as { models: { name: string }[] };
      expect(tags.models.map((m) => m.name)).toContain("all-minilm:latest");
      const embedded = (await (await post(s, "/api/embed", { model: "all-minilm", input: ["a", "b c"] })).json()) as { embeddings: number[][] };
      expect(embedded.embeddings).toHaveLength(2);
      const chat = await post(s, "/api/chat", { model: "all-minilm", messages: [{ role: "user", content: "hi" }], stream: false });
      expect(chat.status).toBe(400);
      expect(((await chat.json()) as { error: string }).error).toBe('"all-minilm" does not support chat');
      const generate = await post(s, "/api/generate", { model: "all-minilm", prompt: "hi", stream: false });
      expect(generate.status).toBe(400);
      expect(((await generate.json()) as { error: string }).error).toBe('"all-minilm" does not support generate');
      const v1 = await post(s, "/v1/chat/completions", { model: "all-minilm", messages: [{ role: "user", content: "hi" }] });
      expect(v1.status).toBe(400);
      expect(((await v1.json()) as { error: { message: string } }).error.message).toBe('"all-minilm" does not support chat');
      // The app says so as the server did, and does not try again.
      const [backend] = createBackends({ ollamaHosts: [s.url], timeoutMs: 60_000, concurrency: 1 });
      const err = (await backend!.chat({ model: "all-minilm", prompt: "hi", schema: SCHEMA, numCtx: 2048, maxTokens: 16 }).catch((e: unknown) => e)) as JobError;
      expect(err).toBeInstanceOf(JobError);
      expect(err.message).toContain("refused the request (400)");
      expect(err.message).toContain("does not support chat");
      expect(err.retryable).toBe(false);
    }, 120_000);

    test("blobs: HEAD says missing, POST stores what matches its digest, a wrong digest is refused", async () => {
      const bytes = new TextEncoder().encode(`contract blob ${kind} ${Date.now()}`);
      const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      expect((await fetch(`${s.url}/api/blobs/${digest}`, { method: "HEAD" })).status).toBe(404);
      expect((await fetch(`${s.url}/api/blobs/${digest}`, { method: "POST", body: bytes })).status).toBe(201);
      expect((await fetch(`${s.url}/api/blobs/${digest}`, { method: "HEAD" })).status).toBe(200);
      // Sent again: already there, 200 instead of 201.
      expect((await fetch(`${s.url}/api/blobs/${digest}`, { method: "POST", body: bytes })).status).toBe(200);
      const wrong = await fetch(`${s.url}/api/blobs/sha256:${"0".repeat(64)}`, { method: "POST", body: bytes });
      expect(wrong.status).toBe(400);
      expect(((await wrong.json()) as { error: string }).error).toContain("digest mismatch");
    });

    test("an upload cut off mid-body leaves no blob", async () => {
      const digest = `sha256:${createHash("sha256").update(`never whole ${kind}`).digest("hex")}`;
      const { hostname, port } = new URL(s.url);
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => {
          socket.write(`POST /api/blobs/${digest} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: 100000\r\n\r\n`);
          socket.write("only a few bytes");
          setTimeout(() => socket.destroy(), 100);
        });
        socket.on("close", () => resolve());
        socket.on("error", reject);
      });
      await Bun.sleep(200);
      expect((await fetch(`${s.url}/api/blobs/${digest}`, { method: "HEAD" })).status).toBe(404);
    });

    test("create from an installed model with a template and stops streams status lines to success, then lists it", async () => {
      const name = `contract-${kind}`;
      const res = await post(s, "/api/create", { model: name, from: s.model, template: "{{ range .Messages }}{{ .Content }}{{ end }}", parameters: { stop: ["<|im_end|>"] }, stream: true });
      expect(res.status).toBe(200);
      const lines = ndjson(await res.text());
      expect(lines.every((l) => typeof l.status === "string")).toBe(true);
      expect(lines.at(-1)).toEqual({ status: "success" });
      const { models } = (await (await fetch(`${s.url}/api/tags`)).json()) as { models: { name: string }[] };
      expect(models.map((m) => m.name)).toContain(`${name}:latest`);
      const shown = (await (await post(s, "/api/show", { model: name })).json()) as { parameters: string; template: string };
      expect(shown.template).toBe("{{ range .Messages }}{{ .Content }}{{ end }}");
      expect(shown.parameters).toMatch(/stop\s+"<\|im_end\|>"/);
      // The name with its :latest tag is the same model (the playground lists models that way).
      const tagged = (await (await post(s, "/api/show", { model: `${name}:latest` })).json()) as { template: string };
      expect(tagged.template).toBe(shown.template);
    }, 120_000);

    test("create from an uploaded GGUF file", async () => {
      const gguf = kind === "real" ? readFileSync(realParts().smollm2.gguf) : new TextEncoder().encode("GGUF fake weights");
      const digest = `sha256:${createHash("sha256").update(gguf).digest("hex")}`;
      // The real server already holds smollm2's GGUF (200); the fake gets it new (201).
      expect([200, 201]).toContain((await fetch(`${s.url}/api/blobs/${digest}`, { method: "POST", body: gguf })).status);
      const res = await post(s, "/api/create", { model: `from-file-${kind}`, files: { "model.gguf": digest }, stream: true });
      const lines = ndjson(await res.text());
      expect(lines.at(-1)).toEqual({ status: "success" });
    }, 180_000);

    test("errors: an unknown model is a 404 with a sentence; create from a missing blob or base is an error line", async () => {
      const chat = await post(s, "/api/chat", { model: "nope-not-here", stream: false, messages: [{ role: "user", content: "hi" }] });
      expect(chat.status).toBe(404);
      expect(((await chat.json()) as { error: string }).error).toMatch(/model ['"]?nope-not-here/);
      const show = await post(s, "/api/show", { model: "nope-not-here" });
      expect(show.status).toBe(404);
      const missingBlob = await post(s, "/api/create", { model: "broken", files: { "model.gguf": `sha256:${"1".repeat(64)}` }, stream: true });
      const lines = missingBlob.status === 200 ? ndjson(await missingBlob.text()) : [(await missingBlob.json()) as Record<string, unknown>];
      expect(lines.some((l) => typeof l.error === "string")).toBe(true);
      const missingBase = await post(s, "/api/create", { model: "broken2", from: "nope-not-here", stream: true });
      const lines2 = missingBase.status === 200 ? ndjson(await missingBase.text()) : [(await missingBase.json()) as Record<string, unknown>];
      expect(lines2.some((l) => typeof l.error === "string")).toBe(true);
    }, 60_000);

    test("a schema that is not a JSON schema is refused, not ignored", async () => {
      const res = await post(s, "/api/chat", { model: s.model, stream: false, format: { type: 12 }, messages: [{ role: "user", content: "hi" }], options: { num_predict: 4 } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(((await res.json()) as { error: string }).error).toBeString();
    }, 60_000);

    test("the app's generation backend talks to it: a bounded, schema-shaped reply", async () => {
      const [backend] = createBackends({ ollamaHosts: [s.url], timeoutMs: 120_000, concurrency: 1 });
      expect(await backend!.listModels()).toContain(s.model);
      const reply = await backend!.chat({ model: s.model, prompt: PROMPT, schema: SCHEMA, numCtx: 2048, maxTokens: 200, temperature: 0 });
      expect(typeof reply.truncated).toBe("boolean");
      if (!reply.truncated) expect(() => JSON.parse(reply.content)).not.toThrow();
    }, 120_000);

    test("the OpenAI-compatible /v1 path: models, chat with a json_schema, max_tokens", async () => {
      const models = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toContain(s.model);
      const [backend] = createBackends({ ollamaHosts: [], openaiBaseUrl: `${s.url}/v1`, timeoutMs: 120_000, concurrency: 1 });
      const reply = await backend!.chat({ model: s.model, prompt: PROMPT, schema: SCHEMA, numCtx: 2048, maxTokens: 3, temperature: 0 });
      expect(reply.truncated).toBe(true);
    }, 120_000);

    test("the app's embeddings, through /api/embed and the OpenAI-compatible /v1/embeddings: one vector per input, the same length", async () => {
      for (const backend of [createBackends({ ollamaHosts: [s.url], timeoutMs: 120_000, concurrency: 1 })[0]!, createBackends({ ollamaHosts: [], openaiBaseUrl: `${s.url}/v1`, timeoutMs: 120_000, concurrency: 1 })[0]!]) {
        const vectors = await backend.embed(s.model, ["The Eiffel Tower is in Paris.", "Photosynthesis makes sugar."]);
        expect(vectors).toHaveLength(2);
        expect(vectors[0]!.length).toBeGreaterThan(16);
        expect(vectors[1]!.length).toBe(vectors[0]!.length);
        await expect(backend.embed("no-such-model:1b", ["x"])).rejects.toThrow(/not installed|refused|404/);
      }
    }, 120_000);
  });
}
