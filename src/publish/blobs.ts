/**
 * Ollama's blob store: a file goes up once, named by its sha256 (`HEAD` then `POST
 * /api/blobs/sha256:<digest>`), streamed from disk. The ollama npm client has no blob
 * call, so this is plain fetch against the same base URL (OLLAMA_HOST).
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AppError } from "../lib/errors.ts";
import { boundedFetch } from "../lib/bounded-fetch.ts";
import { ollamaErrorBody } from "./reply-schemas.ts";

/** sha256 of a file, read once in 1 MiB pieces. */
export async function fileDigest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

/** Digests kept beside the files they name, valid while size and mtime are unchanged. */
const DIGESTS = ".ftf-digests.json";
type DigestCache = Record<string, { size: number; mtimeMs: number; digest: string }>;

/** A file's sha256, computed once: a second publication of the same files reads them only to send them. */
export async function cachedDigest(path: string): Promise<string> {
  const cacheFile = join(dirname(path), DIGESTS);
  const { size, mtimeMs } = statSync(path);
  let cache: DigestCache = {};
  try {
    if (existsSync(cacheFile)) cache = JSON.parse(readFileSync(cacheFile, "utf8")) as DigestCache;
  } catch {
    cache = {};
  }
  const hit = cache[basename(path)];
  if (hit && hit.size === size && hit.mtimeMs === mtimeMs) return hit.digest;
  const digest = await fileDigest(path);
  cache[basename(path)] = { size, mtimeMs, digest };
  writeFileSync(cacheFile, JSON.stringify(cache));
  return digest;
}

/** Uploads `path` unless Ollama already holds it; reports its bytes once sent. Returns the digest. */
export async function pushBlob(baseUrl: string, path: string, onBytes: (sent: number) => void, signal?: AbortSignal): Promise<string> {
  const digest = await cachedDigest(path);
  const url = `${baseUrl}/api/blobs/${digest}`;
  const head = await boundedFetch()(url, { method: "HEAD", signal }).catch((err) => {
    throw ollamaDown(baseUrl, err);
  });
  if (head.ok) {
    onBytes(statSync(path).size);
    return digest;
  }
  // Bun sends a file body from disk without passing it through JS streams: twice the rate of a
  // counted stream on loopback (bench/publish.bench.ts), so progress moves per file.
  const res = await boundedFetch()(url, { method: "POST", body: Bun.file(path), signal }).catch((err) => {
    if (signal?.aborted) throw err;
    throw new AppError(502, "ollama_upload_failed", `Uploading ${basename(path)} to Ollama broke off (${(err as Error).message}). Publish again: files already uploaded are kept.`);
  });
  onBytes(statSync(path).size);
  if (!res.ok) throw new AppError(502, "ollama_upload_failed", `Uploading ${path.split("/").pop()} to Ollama failed: ${await errorText(res)}. Publish again: files already uploaded are kept.`);
  return digest;
}

export async function errorText(res: Response): Promise<string> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text.slice(0, 300) || `HTTP ${res.status}`;
  }
  const body = ollamaErrorBody.safeParse(json);
  return body.success ? body.data.error : text.slice(0, 300);
}

export const ollamaDown = (baseUrl: string, err: unknown) =>
  new AppError(503, "ollama_unreachable", `Ollama does not answer at ${baseUrl} (${(err as Error).message}). Start it (\`ollama serve\`) or set OLLAMA_HOST.`);
