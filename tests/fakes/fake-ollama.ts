/**
 * A loopback Ollama speaking its HTTP API with the real JSON shapes: /api/tags,
 * /api/version, /api/chat (non-streaming, `format` = JSON schema), and its errors
 * ({"error": "..."} with 404 for an unknown model). Scriptable per test; `capacity`
 * queues requests beyond N in flight as Ollama's OLLAMA_NUM_PARALLEL does. An
 * OpenAI-compatible mode serves /v1/models and /v1/chat/completions instead.
 */
import { checkGoTemplate, renderGoTemplate } from "./go-template.ts";
import { embedding, groundedResponder } from "./fake-replies.ts";

export { groundedResponder };

export type ChatCall = { model: string; prompt: string; count: number; chunk: string; format: unknown; numCtx?: number; temperature?: number; maxTokens?: number };

/** Like a real server under num_predict / max_tokens: a reply past it is cut (a token taken as 4 characters). */
const CHARS_PER_TOKEN = 4;
const cut = (content: string, maxTokens: number | undefined) =>
  maxTokens !== undefined && content.length > maxTokens * CHARS_PER_TOKEN ? { content: content.slice(0, maxTokens * CHARS_PER_TOKEN), reason: "length" } : { content, reason: "stop" };
export type Reply = { content: string } | { status: number; error: string } | { drop: true };
export type Responder = (call: ChatCall, n: number) => Reply | Promise<Reply>;

export type FakeOllama = {
  url: string;
  calls: ChatCall[];
  setResponder: (r: Responder) => void;
  inFlightMax: () => number;
  stop: () => void;
  /** What /api/create received, and the blobs it holds (digest → bytes). */
  created: Map<string, CreatedModel>;
  blobs: Map<string, number>;
  requests: string[];
  /** Each chat or generate call a created model answered, in order. */
  served: { model: string; endpoint: "chat" | "generate"; raw: boolean; numPredict: number | undefined }[];
};

/** A model made by /api/create: how the fake runs it (its template and stops, like Ollama). */
export type CreatedModel = { from?: string; adapters?: Record<string, string>; files?: Record<string, string>; template: string; stop: string[]; quantize?: string };

/**
 * How created models behave. `answer` is the "weights": given the prompt text Ollama
 * renders, the model's reply, followed by its end-of-turn text (what a model emits
 * before it would go on). Knobs reproduce real failures: Ollama using another template
 * than the one given, ignoring the stop parameters, a broken upload, a create error.
 */
export type OllamaModelOptions = {
  answer?: (prompt: string) => string;
  endOfTurn?: string;
  useTemplate?: string;
  ignoreStops?: boolean;
  dropBlobUploads?: boolean;
  createError?: string;
  /** Installed bases for the adapter lane: name → /api/show model_info. */
  bases?: Record<string, Record<string, unknown>>;
};

/** What Ollama says of a `format` that is not a JSON schema it can turn into a grammar, or null. */
function invalidSchema(schema: unknown): string | null {
  const type = (schema as { type?: unknown } | null)?.type;
  if (type !== undefined && typeof type !== "string" && !Array.isArray(type)) return "invalid JSON schema in format";
  return null;
}

/** The installed models the fake treats as embedding models (the real server knows from each model's capabilities). */
const EMBEDDING_MODEL = /embed|minilm|bge/i;

/** `parameterSizes`: /api/tags' details.parameter_size per model ("135M"); "8.0B" for the others. */
export function startFakeOllama(opts: { models?: string[]; responder?: Responder; latencyMs?: number; capacity?: number; openai?: boolean; publish?: OllamaModelOptions; parameterSizes?: Record<string, string>; embed?: (text: string) => number[] } = {}): FakeOllama {
  const embedOf = opts.embed ?? embedding;
  const models = [...(opts.models ?? ["llama3.1:8b", "qwen2.5:7b"]), ...Object.keys(opts.publish?.bases ?? {})];
  const created = new Map<string, CreatedModel>();
  /** Like Ollama, "name" and "name:latest" are one model. */
  const createdModel = (name: string) => created.get(name) ?? created.get(name.replace(/:latest$/, ""));
  const blobs = new Map<string, number>();
  const requests: string[] = [];
  const served: FakeOllama["served"] = [];
  const publish = opts.publish ?? {};
  let responder = opts.responder ?? groundedResponder();
  const calls: ChatCall[] = [];
  let inFlight = 0;
  let inFlightMax = 0;
  const waiting: (() => void)[] = [];
  const acquire = async () => {
    if (opts.capacity && inFlight >= opts.capacity) await new Promise<void>((r) => waiting.push(r));
    inFlight++;
    inFlightMax = Math.max(inFlightMax, inFlight);
  };
  const release = () => {
    inFlight--;
    waiting.shift()?.();
  };
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json; charset=utf-8" } });

  /** Ollama names a model without a tag `name:latest`, and answers to either. */
  const tagged = (name: string) => (name.includes(":") ? name : `${name}:latest`);
  const installed = (name: string) => [...models, ...created.keys()].some((m) => tagged(m) === tagged(name));

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      requests.push(`${req.method} ${url.pathname}`);
      const own = await publishRoutes(req, url);
      if (own) return own;
      // Like the real server, /api and the OpenAI-compatible /v1 are served together.
      const openai = url.pathname.startsWith("/v1/");
      if (url.pathname === "/api/version") return json({ version: "0.17.4" });
      if (url.pathname === "/api/tags") {
        return json({
          models: [...models, ...created.keys()].map(tagged).map((name) => ({
            name,
            model: name,
            modified_at: "2026-10-01T12:00:00.000000000Z",
            size: 4_920_753_328,
            digest: "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
            details: { parent_model: "", format: "gguf", family: "llama", families: ["llama"], parameter_size: opts.parameterSizes?.[name] ?? "8.0B", quantization_level: "Q4_K_M" },
          })),
        });
      }
      if (url.pathname === "/v1/models") return json({ object: "list", data: [...models, ...created.keys()].map(tagged).map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "library" })) });
      if (url.pathname === "/api/embed") {
        const body = (await req.json()) as { model: string; input: string | string[] };
        if (!installed(body.model)) return json({ error: `model "${body.model}" not found, try pulling it first` }, 404);
        const inputs = Array.isArray(body.input) ? body.input : [body.input];
        return json({ model: body.model, embeddings: inputs.map(embedOf), total_duration: 1_000_000, load_duration: 1_000, prompt_eval_count: inputs.join(" ").length });
      }
      if (url.pathname === "/v1/embeddings") {
        // Ollama's OpenAI-compatible embeddings, in OpenAI's shape.
        const body = (await req.json()) as { model: string; input: string | string[] };
        if (!installed(body.model)) return json({ error: { message: `model "${body.model}" not found, try pulling it first`, type: "api_error" } }, 404);
        const inputs = Array.isArray(body.input) ? body.input : [body.input];
        return json({ object: "list", model: body.model, data: inputs.map((t, index) => ({ object: "embedding", index, embedding: embedOf(t) })), usage: { prompt_tokens: inputs.join(" ").length, total_tokens: inputs.join(" ").length } });
      }
      const isChat = url.pathname === "/v1/chat/completions" || url.pathname === "/api/chat";
      const isGenerate = url.pathname === "/api/generate";
      if (!isChat && !isGenerate) return json({ error: "404 page not found" }, 404);
      const body = (await req.json()) as {
        model: string;
        messages?: { role: string; content: string }[];
        prompt?: string;
        stream?: boolean;
        format?: unknown;
        response_format?: unknown;
        options?: { num_ctx?: number; temperature?: number; num_predict?: number };
        temperature?: number;
        max_tokens?: number;
      };
      const prompt = body.messages?.at(-1)?.content ?? body.prompt ?? "";
      const call: ChatCall = {
        model: body.model,
        prompt,
        count: Number(prompt.match(/write (\d+)/)?.[1] ?? 1),
        chunk: prompt.match(/"""\n([\s\S]*?)\n"""/)?.[1] ?? "",
        format: body.format ?? body.response_format,
        numCtx: body.options?.num_ctx,
        temperature: body.options?.temperature ?? body.temperature,
        maxTokens: body.options?.num_predict ?? body.max_tokens,
      };
      if (!installed(body.model)) {
        return openai
          ? json({ error: { message: `model "${body.model}" not found, try pulling it first`, type: "api_error", param: null, code: null } }, 404)
          : json({ error: `model "${body.model}" not found, try pulling it first` }, 404);
      }
      // An embedding model has no chat or generate capability: Ollama refuses with 400.
      if (EMBEDDING_MODEL.test(body.model)) {
        const refusal = `"${body.model.replace(/:latest$/, "")}" does not support ${isGenerate ? "generate" : "chat"}`;
        return json(openai ? { error: { message: refusal, type: "api_error", param: null, code: null } } : { error: refusal }, 400);
      }
      const schemaError = call.format && typeof call.format === "object" ? invalidSchema(openai ? (call.format as { json_schema?: { schema?: unknown } }).json_schema?.schema : call.format) : null;
      if (schemaError) return json(openai ? { error: { message: schemaError, type: "invalid_request_error" } } : { error: schemaError }, 400);
      await acquire();
      try {
        const n = calls.push(call) - 1;
        if (opts.latencyMs) await Bun.sleep(opts.latencyMs);
        const reply = await responder(call, n);
        if ("drop" in reply) {
          // The connection breaks mid-answer: headers sent, then the body fails.
          return new Response(new ReadableStream({ start: (c) => c.error(new Error("connection dropped")) }), { headers: { "Content-Type": "application/json" } });
        }
        if ("status" in reply) return openai ? json({ error: { message: reply.error, type: "server_error" } }, reply.status) : json({ error: reply.error }, reply.status);
        const { content, reason } = cut(reply.content, call.maxTokens);
        const evalCount = Math.max(1, Math.ceil(content.length / CHARS_PER_TOKEN));
        if (openai) {
          return json({
            id: `chatcmpl-${n}`,
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: reason }],
            usage: { prompt_tokens: 500, completion_tokens: evalCount, total_tokens: 500 + evalCount },
          });
        }
        const final = { model: body.model, created_at: new Date().toISOString(), done: true, done_reason: reason, total_duration: 1_200_000_000, load_duration: 20_000_000, prompt_eval_count: 512, prompt_eval_duration: 300_000_000, eval_count: evalCount, eval_duration: 880_000_000 };
        const piece = (text: string) => (isGenerate ? { response: text } : { message: { role: "assistant", content: text } });
        // Ollama streams unless told not to.
        if (body.stream !== false) {
          const pieces = content.match(/\S+\s*|\s+/g) ?? [];
          const lines = [...pieces.map((p) => ({ model: body.model, created_at: final.created_at, ...piece(p), done: false })), { ...final, ...piece("") }];
          return new Response(lines.map((l) => JSON.stringify(l)).join("\n") + "\n", { headers: { "Content-Type": "application/x-ndjson" } });
        }
        return json({ ...final, ...piece(content) });
      } finally {
        release();
      }
    },
  });
  /** Blobs, create, show, and chat/generate for created models. Null: not one of these. */
  async function publishRoutes(req: Request, url: URL): Promise<Response | null> {
    if (opts.openai) return null;
    const blob = /^\/api\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (blob) {
      const digest = blob[1]!;
      if (req.method === "HEAD") return new Response(null, { status: blobs.has(digest) ? 200 : 404 });
      if (blobs.has(digest)) {
        await req.arrayBuffer();
        return new Response(null, { status: 200 });
      }
      if (publish.dropBlobUploads) {
        // The body stops short: Ollama's blob handler answers 500 with the read error.
        await req.body!.getReader().read();
        return json({ error: "unexpected EOF" }, 500);
      }
      const bytes = new Uint8Array(await req.arrayBuffer());
      const actual = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
      if (actual !== digest) return json({ error: `digest mismatch, expected "${digest}", got "${actual}"` }, 400);
      blobs.set(digest, bytes.length);
      return new Response(null, { status: 201 });
    }
    if (url.pathname === "/api/create") {
      const body = (await req.json()) as { model: string; from?: string; adapters?: Record<string, string>; files?: Record<string, string>; template?: string; parameters?: { stop?: string[] }; quantize?: string };
      const lines: object[] = [{ status: "parsing modelfile" }];
      const missing = Object.values({ ...body.adapters, ...body.files }).find((d) => !blobs.has(d));
      if (publish.createError) lines.push({ error: publish.createError });
      else if (missing) lines.push({ error: `blob ${missing} not found` });
      else if (body.from && !installed(body.from)) lines.push({ error: `model "${body.from}" not found, try pulling it first` });
      else {
        try {
          checkGoTemplate(body.template ?? "");
          lines.push({ status: "using existing layer sha256:a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72" });
          if (body.quantize) lines.push({ status: `quantizing F16 model to ${body.quantize}` });
          lines.push({ status: "writing manifest" }, { status: "success" });
          created.set(body.model, { from: body.from, adapters: body.adapters, files: body.files, template: body.template ?? "", stop: body.parameters?.stop ?? [], quantize: body.quantize });
        } catch (err) {
          lines.push({ error: (err as Error).message });
        }
      }
      return new Response(lines.map((l) => JSON.stringify(l)).join("\n") + "\n", { headers: { "Content-Type": "application/x-ndjson" } });
    }
    if (url.pathname === "/api/show") {
      const { model } = (await req.json()) as { model: string };
      const info = publish.bases?.[model];
      if (info) return json({ modelfile: "", parameters: "", template: "", details: { family: String(info["general.architecture"]) }, model_info: info });
      const made = createdModel(model);
      if (made) return json({ modelfile: `FROM ${made.from ?? "weights"}\n`, parameters: made.stop.map((s) => `stop                           "${s}"`).join("\n"), template: made.template, details: { format: "gguf", family: "llama" }, model_info: { "general.architecture": "llama" } });
      if (installed(model)) return json({ modelfile: "FROM weights\n", parameters: "", template: "{{ .Prompt }}", details: { format: "gguf", family: "llama" }, model_info: { "general.architecture": "llama" } });
      return json({ error: `model '${model}' not found` }, 404);
    }
    const isGenerate = url.pathname === "/api/generate";
    if (url.pathname !== "/api/chat" && !isGenerate) return null;
    const peek = (await req.clone().json()) as { model: string; messages?: { role: string; content: string }[]; prompt?: string; raw?: boolean; options?: { num_predict?: number } };
    const made = createdModel(peek.model);
    if (!made) return null;
    served.push({ model: peek.model, endpoint: isGenerate ? "generate" : "chat", raw: peek.raw === true, numPredict: peek.options?.num_predict });
    const prompt = isGenerate && peek.raw ? (peek.prompt ?? "") : renderGoTemplate(publish.useTemplate ?? made.template, peek.messages ?? [{ role: "user", content: peek.prompt ?? "" }]);
    // The "weights": the reply, its end-of-turn text, then whatever a model says next.
    const produced = `${(publish.answer ?? (() => "I cannot say."))(prompt)}${publish.endOfTurn ?? "<|end|>"}\n<|user|>\nand more`;
    const stops = publish.ignoreStops ? [] : made.stop;
    const cut = Math.min(...stops.map((s) => produced.indexOf(s)).filter((i) => i >= 0), Infinity);
    const limit = peek.options?.num_predict ?? 128;
    const words = (cut === Infinity ? produced : produced.slice(0, cut)).split(/(?<=\s)/);
    const text = words.slice(0, limit).join("");
    const doneReason = cut !== Infinity && words.length <= limit ? "stop" : "length";
    const stats = { created_at: new Date().toISOString(), done: true, done_reason: doneReason, total_duration: 1_000_000, eval_count: words.length };
    return isGenerate ? json({ model: peek.model, response: text, ...stats }) : json({ model: peek.model, message: { role: "assistant", content: text }, ...stats });
  }

  return {
    created,
    served,
    blobs,
    requests,
    url: `http://127.0.0.1:${server.port}${opts.openai ? "/v1" : ""}`,
    calls,
    setResponder: (r) => (responder = r),
    inFlightMax: () => inFlightMax,
    stop: () => server.stop(true),
  };
}
