/**
 * Where examples are generated: one or more Ollama hosts (the `ollama` client,
 * structured outputs via `format`), or an OpenAI-compatible server (vLLM, llama.cpp:
 * /v1/chat/completions with a json_schema response_format). Requests are spread over
 * the endpoints round-robin; each has a generous timeout for slow local models.
 */
import { Ollama } from "ollama";
import { AppError } from "../lib/errors.ts";
import { JobError } from "../jobs/queue.ts";
import { boundedFetch } from "../lib/bounded-fetch.ts";
import { jsonOrUndefined, parseReply } from "../lib/external-reply.ts";
import { embedReply, openaiChatReply, openaiEmbeddingsReply, openaiErrorReply, openaiModelsReply } from "./reply-schemas.ts";
import { parameterCount } from "../models/parameter-count.ts";
import type { z } from "zod";

export type GenerationConfig = {
  ollamaHosts: string[];
  openaiBaseUrl?: string;
  openaiApiKey?: string;
  timeoutMs: number;
  concurrency: number;
};

export type ChatRequest = {
  model: string;
  system?: string;
  prompt: string;
  schema: Record<string, unknown>;
  numCtx: number;
  /**
   * The most tokens the reply may take (Ollama's num_predict, OpenAI's max_tokens),
   * from what the schema asks for: a small model that rambles inside a JSON string
   * would otherwise run until the context is full, minutes per request on a CPU.
   */
  maxTokens: number;
  signal?: AbortSignal;
  /** 0.7 (varied examples) unless set: a judge asks for 0. */
  temperature?: number;
};

/** A reply, and whether it stopped at `maxTokens` instead of ending by itself (its JSON is then cut off). */
export type ChatReply = { content: string; truncated: boolean };

export interface Backend {
  label: string;
  listModels(): Promise<string[]>;
  /** Each installed model's parameter count where the server says it (Ollama's details.parameter_size). */
  modelParameters?(): Promise<Record<string, number | null>>;
  /** One vector per input (Ollama /api/embed, OpenAI-compatible /v1/embeddings). */
  embed(model: string, inputs: string[], signal?: AbortSignal): Promise<number[][]>;
  chat(req: ChatRequest): Promise<ChatReply>;
}

const unreachable = (where: string) =>
  new AppError(
    502,
    "llm_unreachable",
    `Ollama is not reachable at ${where}. Start it with \`ollama serve\` (or set OLLAMA_HOST to where it runs), then try again.`,
  );

/** A timed fetch whose reply lines and bodies are bounded (lib/bounded-fetch.ts). */
const timedFetch = (timeoutMs: number, outer?: AbortSignal) => boundedFetch({ timeoutMs, signal: outer });

/** Maps transport and HTTP failures to what the job should do: retry, or fail with a sentence. */
function classify(err: unknown, where: string, model: string): Error {
  const e = err as { name?: string; status_code?: number; status?: number; message?: string };
  if (e?.name === "TimeoutError") return new JobError(`The model at ${where} did not answer in time.`, true);
  if (e?.name === "AbortError") return err as Error;
  // A reply too large to be real: not worth another try.
  if (err instanceof AppError && err.code === "reply_too_large") return new JobError(err.message);
  const status = e?.status_code ?? e?.status;
  if (status === 404) return new JobError(`The model “${model}” is not installed at ${where}. Run \`ollama pull ${model}\`.`);
  if (status && status >= 500) return new JobError(`The model server at ${where} answered ${status}: ${e.message ?? "error"}.`, true);
  if (status) return new JobError(`The model server at ${where} refused the request (${status}): ${e.message ?? "error"}.`);
  return new JobError(`The connection to ${where} failed: ${e?.message ?? String(err)}.`, true);
}

function ollamaBackend(host: string, timeoutMs: number): Backend {
  return {
    label: host,
    async listModels() {
      try {
        const client = new Ollama({ host, fetch: timedFetch(5_000) });
        return (await client.list()).models.map((m) => m.name).sort();
      } catch {
        throw unreachable(host);
      }
    },
    async modelParameters() {
      try {
        const client = new Ollama({ host, fetch: timedFetch(5_000) });
        return Object.fromEntries((await client.list()).models.map((m) => [m.name, parameterCount(m.details?.parameter_size)]));
      } catch {
        throw unreachable(host);
      }
    },
    async embed(model, inputs, signal) {
      const client = new Ollama({ host, fetch: timedFetch(timeoutMs, signal) });
      try {
        return parseReply(embedReply, await client.embed({ model, input: inputs }), `Ollama at ${host}`).embeddings;
      } catch (err) {
        throw classify(err, host, model);
      }
    },
    async chat(req) {
      const client = new Ollama({ host, fetch: timedFetch(timeoutMs, req.signal) });
      try {
        const res = await client.chat({
          model: req.model,
          stream: false,
          format: req.schema,
          messages: [...(req.system ? [{ role: "system", content: req.system }] : []), { role: "user", content: req.prompt }],
          options: { num_ctx: req.numCtx, num_predict: req.maxTokens, temperature: req.temperature ?? 0.7 },
        });
        return { content: res.message.content, truncated: res.done_reason === "length" };
      } catch (err) {
        throw classify(err, host, req.model);
      }
    },
  };
}

function openaiBackend(base: string, apiKey: string | undefined, timeoutMs: number): Backend {
  const url = base.replace(/\/+$/, "");
  const headers = { "Content-Type": "application/json", ...(apiKey ? { Authorization: `Bearer ${apiKey}` } : {}) };
  return {
    label: url,
    async listModels() {
      try {
        const res = await timedFetch(5_000)(`${url}/models`, { headers });
        if (!res.ok) throw new Error(String(res.status));
        return parseReply(openaiModelsReply, await jsonOrUndefined(res), `The OpenAI-compatible server at ${url}`).data.map((m) => m.id).sort();
      } catch {
        throw new AppError(502, "llm_unreachable", `The OpenAI-compatible server at ${url} is not reachable. Check FTF_OPENAI_BASE_URL and that the server runs.`);
      }
    },
    async embed(model, inputs, signal) {
      let res: Response;
      try {
        res = await timedFetch(timeoutMs, signal)(`${url}/embeddings`, { method: "POST", headers, body: JSON.stringify({ model, input: inputs }) });
      } catch (err) {
        throw classify(err, url, model);
      }
      if (!res.ok) {
        const body = openaiErrorReply.safeParse(await jsonOrUndefined(res));
        const error = body.success ? body.data.error : undefined;
        throw classify({ status: res.status, message: typeof error === "string" ? error : error?.message }, url, model);
      }
      try {
        return parseReply(openaiEmbeddingsReply, await jsonOrUndefined(res), `The OpenAI-compatible server at ${url}`).data.map((d) => d.embedding);
      } catch (err) {
        throw new JobError((err as Error).message, true);
      }
    },
    async chat(req) {
      let res: Response;
      try {
        res = await timedFetch(timeoutMs, req.signal)(`${url}/chat/completions`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            model: req.model,
            temperature: req.temperature ?? 0.7,
            max_tokens: req.maxTokens,
            messages: [...(req.system ? [{ role: "system", content: req.system }] : []), { role: "user", content: req.prompt }],
            response_format: { type: "json_schema", json_schema: { name: "examples", schema: req.schema, strict: true } },
          }),
        });
      } catch (err) {
        throw classify(err, url, req.model);
      }
      if (!res.ok) {
        const body = openaiErrorReply.safeParse(await jsonOrUndefined(res));
        const error = body.success ? body.data.error : undefined;
        const message = typeof error === "string" ? error : error?.message;
        throw classify({ status: res.status, message }, url, req.model);
      }
      let raw: unknown;
      try {
        raw = await jsonOrUndefined(res);
      } catch (err) {
        throw classify(err, url, req.model);
      }
      let body: z.infer<typeof openaiChatReply>;
      try {
        body = parseReply(openaiChatReply, raw, `The OpenAI-compatible server at ${url}`);
      } catch (err) {
        throw new JobError((err as Error).message, true);
      }
      const choice = body.choices[0]!;
      return { content: choice.message.content ?? "", truncated: choice.finish_reason === "length" };
    },
  };
}

export function createBackends(config: GenerationConfig): Backend[] {
  if (config.openaiBaseUrl) return [openaiBackend(config.openaiBaseUrl, config.openaiApiKey, config.timeoutMs)];
  return config.ollamaHosts.map((h) => ollamaBackend(h, config.timeoutMs));
}
