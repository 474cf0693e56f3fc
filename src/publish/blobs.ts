/**
 * Ollama's blob store: a file goes up once, named by its sha256 (`HEAD` then `POST
 * /api/blobs/sha256:<digest>`), streamed from disk. The ollama npm client has no blob
 * call, so this is plain fetch against the same base URL (OLLAMA_HOST).
 */
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { AppError } from "../lib/errors.ts";

/** sha256 of a file, read once in 1 MiB pieces. */
export async function fileDigest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

/** Uploads `path` unless Ollama already holds it; reports bytes sent. Returns the digest. */
export async function pushBlob(baseUrl: string, path: string, onBytes: (sent: number) => void, signal?: AbortSignal): Promise<string> {
  const digest = await fileDigest(path);
  const url = `${baseUrl}/api/blobs/${digest}`;
  const head = await fetch(url, { method: "HEAD", signal }).catch((err) => {
    throw ollamaDown(baseUrl, err);
  });
  if (head.ok) {
    onBytes(statSync(path).size);
    return digest;
  }
  let sent = 0;
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for await (const chunk of file) {
        sent += (chunk as Buffer).length;
        onBytes(sent);
        controller.enqueue(chunk as Buffer);
      }
      controller.close();
    },
    cancel: () => void file.destroy(),
  });
  const res = await fetch(url, { method: "POST", body, signal, headers: { "Content-Length": String(statSync(path).size) } }).catch((err) => {
    if (signal?.aborted) throw err;
    throw new AppError(502, "ollama_upload_failed", `Uploading ${path.split("/").pop()} to Ollama broke off (${(err as Error).message}). Publish again: files already uploaded are kept.`);
  });
  if (!res.ok) throw new AppError(502, "ollama_upload_failed", `Uploading ${path.split("/").pop()} to Ollama failed: ${await errorText(res)}. Publish again: files already uploaded are kept.`);
  return digest;
}

export async function errorText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    return (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    return text.slice(0, 300) || `HTTP ${res.status}`;
  }
}

export const ollamaDown = (baseUrl: string, err: unknown) =>
  new AppError(503, "ollama_unreachable", `Ollama does not answer at ${baseUrl} (${(err as Error).message}). Start it (\`ollama serve\`) or set OLLAMA_HOST.`);
