/**
 * Replies from servers the app does not control that do not fit what it reads: each is
 * refused with a sentence naming the server and the field, never read as undefined.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createBackends } from "../generation/backends.ts";
import { createHubClient } from "../models/hub-client.ts";
import { baseMismatch } from "../publish/ollama-bases.ts";
import { errorText } from "../publish/blobs.ts";
import { Ollama } from "ollama";
import { parseReply, ReplyShapeError } from "./external-reply.ts";
import { z } from "zod";

/** A server that answers every request with the body the test sets. */
let body: unknown = {};
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json(body) });
const url = `http://127.0.0.1:${server.port}`;
afterAll(() => server.stop(true));

describe("external replies are parsed, not cast", () => {
  test("parseReply names the source and the first field that does not fit", () => {
    expect(parseReply(z.object({ a: z.number() }), { a: 1 }, "X")).toEqual({ a: 1 });
    const err = (() => {
      try {
        parseReply(z.object({ data: z.array(z.object({ id: z.string() })) }), { data: [{ id: 3 }] }, "The server at x");
      } catch (e) {
        return e as ReplyShapeError;
      }
    })();
    expect(err).toBeInstanceOf(ReplyShapeError);
    expect(err!.message).toBe("The server at x sent a reply this app cannot read (data.0.id: Invalid input: expected string, received number).");
  });

  test("an OpenAI-compatible server without choices, or a model list without data, is a sentence", async () => {
    const [backend] = createBackends({ ollamaHosts: [], openaiBaseUrl: `${url}/v1`, timeoutMs: 5_000, concurrency: 1 });
    body = { choices: [] };
    await expect(backend!.chat({ model: "m", prompt: "p", schema: {}, maxTokens: 8 } as never)).rejects.toThrow(`The OpenAI-compatible server at ${url}/v1 sent a reply this app cannot read (choices:`);
    body = { choices: [{ message: { content: "hello" }, finish_reason: "length" }] };
    expect(await backend!.chat({ model: "m", prompt: "p", schema: {}, maxTokens: 8 } as never)).toEqual({ content: "hello", truncated: true });
    body = { models: ["m"] };
    await expect(backend!.listModels()).rejects.toThrow("is not reachable");
  });

  test("the Hub's model description keeps what it can read and refuses what is not one", async () => {
    const hub = createHubClient({ endpoint: url, timeoutMs: 5_000 });
    body = { cardData: { license: ["mit", "apache-2.0"] }, tags: ["license:mit", 7], safetensors: { total: "many" }, sha: 5, gated: "manual" };
    expect(await hub.modelInfo("org/m")).toEqual({ gated: true, license: "mit", safetensorsTotal: null, libraryName: null, sha: null });
    body = ["not", "an", "object"];
    await expect(hub.modelInfo("org/m")).rejects.toThrow("was not a model description");
  });

  test("Ollama's show without model facts reads as an unknown architecture; an error body gives its message", async () => {
    body = { model_info: "none" };
    await expect(baseMismatch(new Ollama({ host: url }), "smollm2", { modelType: "llama", numParameters: 1, vocabSize: null })).rejects.toThrow("Ollama's /api/show for smollm2 sent a reply this app cannot read (model_info:");
    body = { details: {} };
    expect(await baseMismatch(new Ollama({ host: url }), "smollm2", { modelType: "llama", numParameters: 1, vocabSize: null })).toBe("smollm2 is an unknown model, the adapter was trained on llama");
    expect(await errorText(new Response(JSON.stringify({ error: "no space left" }), { status: 500 }))).toBe("no space left");
    expect(await errorText(new Response(JSON.stringify({ error: 42 }), { status: 500 }))).toBe('{"error":42}');
  });
});
