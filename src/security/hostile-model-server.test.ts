/**
 * A hostile model server (Ollama or OpenAI-compatible) answering with a line that never
 * ends: every path the app reads it through stops at the line limit with a sentence,
 * and pulls only a bounded number of bytes, instead of buffering the line whole.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { createBackends } from "../generation/backends.ts";
import { boundedFetch, MAX_REPLY_LINE_BYTES } from "../lib/bounded-fetch.ts";
import { insertTrainedProject } from "../../tests/helpers/training-harness.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";

/** One JSON string with no newline and no end, 64 KiB a slice, counting what is pulled. */
function startHostileServer() {
  let pulled = 0;
  const endless = () => {
    const slice = new Uint8Array(64 * 1024).fill(0x61);
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"message":{"role":"assistant","content":"'));
        sent += slice.length;
        pulled += slice.length;
        controller.enqueue(slice);
      },
    });
  };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => new Response(endless(), { headers: { "Content-Type": "application/x-ndjson" } }),
  });
  return { url: `http://127.0.0.1:${server.port}`, pulled: () => pulled, reset: () => (pulled = 0), stop: () => server.stop(true) };
}

const hostile = startHostileServer();
afterAll(() => hostile.stop());
let t: TestApp | null = null;
afterEach(() => {
  t?.close();
  t = null;
  hostile.reset();
});

/**
 * The client stopped reading: the limit plus what the sockets' buffers took ahead
 * (several MB on loopback). Unbounded, the request would read until memory runs out.
 */
const bounded = () => expect(hostile.pulled()).toBeLessThan(4 * MAX_REPLY_LINE_BYTES);

describe("a reply line with no end", () => {
  test("generation through Ollama fails with a sentence, not retried", async () => {
    const [backend] = createBackends({ ollamaHosts: [hostile.url], timeoutMs: 30_000, concurrency: 1 });
    const err = await backend!.chat({ model: "m", prompt: "p", schema: {}, numCtx: 2048, maxTokens: 64 }).catch((e: Error & { retryable?: boolean }) => e);
    expect((err as Error).message).toContain("sent a reply line longer than 8.0 MB");
    expect((err as { retryable?: boolean }).retryable).toBe(false);
    bounded();
  });

  test("generation through an OpenAI-compatible server fails the same way", async () => {
    const [backend] = createBackends({ ollamaHosts: [], openaiBaseUrl: `${hostile.url}/v1`, timeoutMs: 30_000, concurrency: 1 });
    const err = await backend!.chat({ model: "m", prompt: "p", schema: {}, numCtx: 2048, maxTokens: 64 }).catch((e: Error) => e);
    expect((err as Error).message).toContain("sent a reply line longer than 8.0 MB");
    bounded();
  });

  test("the playground's ollama: target ends with an error event, and the server stays responsive", async () => {
    t = makeTestApp({ trainer: { command: FAKE_TRAINER }, generation: { ollamaHosts: [hostile.url] } });
    const pid = await insertTrainedProject(t);
    const started = performance.now();
    const health = (async () => {
      await Bun.sleep(50);
      const h0 = performance.now();
      await t!.request("/healthz");
      return performance.now() - h0;
    })();
    const res = await t.json("POST", `/api/projects/${pid}/playground`, { messages: [{ role: "user", content: "hi" }], target: "ollama:m" });
    const text = await res.text();
    expect(text).toContain("event: error");
    expect(text).toContain("sent a reply line longer than 8.0 MB");
    expect(await health).toBeLessThan(1000);
    expect(performance.now() - started).toBeLessThan(30_000);
    bounded();
  });

  test("a whole body is bounded too, newlines or not", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("x\n".repeat(1024 * 1024)) });
    try {
      const err = await (await boundedFetch({ maxBodyBytes: 1024 * 1024 })(`http://127.0.0.1:${server.port}/`)).text().catch((e: Error) => e);
      expect((err as Error).message).toContain("sent a reply larger than 1.0 MB");
    } finally {
      server.stop(true);
    }
  });
});
