/**
 * `fetch` for replies from servers we do not control (Ollama, OpenAI-compatible
 * servers): a reply line (a JSON-lines stream's record, or a whole non-streamed JSON
 * body) may not run past `maxLineBytes` without a newline, nor a whole body past
 * `maxBodyBytes`. A hostile or broken server sending 64 MiB with no newline would
 * otherwise be buffered whole by the JSON-lines parser, swelling the server and
 * stalling every other request while it is split.
 */
import { AppError } from "./errors.ts";
import { formatBytes } from "./format.ts";

/** Far above any real reply line: a chat reply of 32k tokens is under 1 MB of JSON. */
export const MAX_REPLY_LINE_BYTES = 8 * 1024 * 1024;
/** Far above any real body the app reads (tags, show, a create's status stream). */
export const MAX_REPLY_BODY_BYTES = 64 * 1024 * 1024;

export type BoundedFetchOptions = {
  /** Whole-request timeout (headers and body). */
  timeoutMs?: number;
  signal?: AbortSignal;
  maxLineBytes?: number;
  maxBodyBytes?: number;
};

const NEWLINE = 0x0a;

/** A pass-through stream that errors once a line or the whole body is longer than allowed. */
function limitStream(where: string, maxLine: number, maxBody: number): TransformStream<Uint8Array, Uint8Array> {
  let sinceNewline = 0;
  let total = 0;
  return new TransformStream({
    transform(chunk, controller) {
      total += chunk.byteLength;
      let longest = 0;
      for (let start = 0; ; ) {
        const nl = chunk.indexOf(NEWLINE, start);
        sinceNewline += (nl < 0 ? chunk.byteLength : nl) - start;
        longest = Math.max(longest, sinceNewline);
        if (nl < 0) break;
        sinceNewline = 0;
        start = nl + 1;
      }
      if (longest > maxLine) {
        controller.error(new AppError(502, "reply_too_large", `The model server at ${where} sent a reply line longer than ${formatBytes(maxLine)}; the request was stopped. Check that OLLAMA_HOST (or FTF_OPENAI_BASE_URL) points at a real model server.`));
        return;
      }
      if (total > maxBody) {
        controller.error(new AppError(502, "reply_too_large", `The model server at ${where} sent a reply larger than ${formatBytes(maxBody)}; the request was stopped.`));
        return;
      }
      controller.enqueue(chunk);
    },
  });
}

export function boundedFetch(opts: BoundedFetchOptions = {}): typeof fetch {
  const maxLine = opts.maxLineBytes ?? MAX_REPLY_LINE_BYTES;
  const maxBody = opts.maxBodyBytes ?? MAX_REPLY_BODY_BYTES;
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const signals = [...(opts.timeoutMs ? [AbortSignal.timeout(opts.timeoutMs)] : []), ...(opts.signal ? [opts.signal] : []), ...(init?.signal ? [init.signal] : [])];
    const res = await fetch(input, { ...init, ...(signals.length ? { signal: AbortSignal.any(signals) } : {}) });
    if (!res.body) return res;
    const where = new URL(typeof input === "string" || input instanceof URL ? input : input.url).origin;
    return new Response(res.body.pipeThrough(limitStream(where, maxLine, maxBody)), { status: res.status, statusText: res.statusText, headers: res.headers });
  }) as typeof fetch;
}
