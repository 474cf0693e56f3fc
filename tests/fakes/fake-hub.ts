/**
 * A loopback Hugging Face Hub speaking the routes the resolver and the weights download
 * use, with the real response shapes: /api/models/{id} (gated, cardData.license,
 * safetensors.total, sha), /api/models/{id}/revision/{rev}?blobs=true (siblings with
 * size and lfs.sha256), /{id}/resolve/{rev}/{file} with Range (206 + Content-Range),
 * ETag and X-Repo-Commit, and errors marked by X-Error-Code as the Hub does. Large
 * files can be throttled, damaged in transit, or listed with a size of the test's choice.
 */
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES_DIR = join(import.meta.dir, "../fixtures/hf");

export type FakeRepo = {
  id: string;
  files: Record<string, string | Uint8Array>;
  /** The commit `main` points at. */
  sha?: string;
  /** Bytes per second for file bodies (a slow link). */
  throttle?: number;
  /** Files served with one byte changed (the listed sha256 stays the true one). */
  corrupt?: string[];
  /** Sizes listed instead of the real ones (a model too big for the disk). */
  listedSizes?: Record<string, number>;
  license?: string;
  gated?: false | "auto" | "manual";
  safetensorsTotal?: number;
  /** Tokens that were granted access to a gated repo. */
  grantedTokens?: string[];
  delayMs?: number;
  failWith?: number;
  /** Files whose body never ends (a hostile mirror filling the disk): 64 KiB slices until cancelled. */
  endless?: string[];
  /** Files listed with neither `size` nor `lfs`. */
  unsized?: string[];
};

export type FakeHub = {
  url: string;
  requests: { path: string; authorization: string | null; range: string | null }[];
  /** Bytes of endless bodies the client pulled, per file name. */
  endlessSent: Map<string, number>;
  add: (repo: FakeRepo) => void;
  stop: () => void;
};

const DEFAULT_SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const bytesOf = (content: string | Uint8Array) => (typeof content === "string" ? new TextEncoder().encode(content) : content);
const isLfs = (name: string) => /\.(safetensors|bin)$/.test(name);
const digests = new WeakMap<Uint8Array, string>();
/** Hashed once per file: the listing and every answer's ETag reuse it. */
const sha256 = (b: Uint8Array) => {
  let d = digests.get(b);
  if (!d) digests.set(b, (d = new Bun.CryptoHasher("sha256").update(b).digest("hex")));
  return d;
};

/** A body sent in slices at `bytesPerSecond`, as a slow link would. */
function throttled(body: Uint8Array, bytesPerSecond: number): ReadableStream<Uint8Array> {
  const slice = Math.max(1024, Math.floor(bytesPerSecond / 20));
  let at = 0;
  return new ReadableStream({
    async pull(controller) {
      if (at >= body.length) return controller.close();
      await Bun.sleep(50);
      controller.enqueue(body.subarray(at, at + slice));
      at += slice;
    },
  });
}

export function fixtureRepo(folder: string, extra: Partial<FakeRepo> = {}): FakeRepo {
  const files: Record<string, string> = {};
  for (const name of ["config.json", "tokenizer_config.json", "chat_template.jinja"]) {
    const path = join(FIXTURES_DIR, folder, name);
    if (existsSync(path)) files[name] = readFileSync(path, "utf8");
  }
  return { id: folder.replace("__", "/"), files, ...extra };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

/** A body that never ends, counting what the client pulls. */
function endlessBody(name: string, sent: Map<string, number>): ReadableStream<Uint8Array> {
  const slice = new Uint8Array(64 * 1024).fill(0x41);
  return new ReadableStream({
    async pull(controller) {
      await Bun.sleep(1);
      sent.set(name, (sent.get(name) ?? 0) + slice.length);
      controller.enqueue(slice);
    },
  });
}

export function startFakeHub(repos: FakeRepo[] = []): FakeHub {
  const registry = new Map(repos.map((r) => [r.id, r]));
  const requests: FakeHub["requests"] = [];
  const endlessSent = new Map<string, number>();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const auth = req.headers.get("authorization");
      requests.push({ path: url.pathname, authorization: auth, range: req.headers.get("range") });
      const token = auth?.startsWith("Bearer ") ? auth.slice(7) : null;
      const revision = url.pathname.match(/^\/api\/models\/(.+?)\/revision\/([^/]+)$/);
      const api = revision ? null : url.pathname.match(/^\/api\/models\/(.+)$/);
      const file = url.pathname.match(/^\/(.+?)\/resolve\/([^/]+)\/(.+)$/);
      const repoId = revision?.[1] ?? api?.[1] ?? file?.[1];
      const repo = repoId ? registry.get(repoId) : undefined;
      if (!repo) {
        // Like the Hub: unauthenticated callers get 401 so private repos do not leak.
        return json({ error: "Repository not found" }, token ? 404 : 401, { "X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found" });
      }
      if (repo.delayMs) await Bun.sleep(repo.delayMs);
      if (repo.failWith) return json({ error: "Internal Error" }, repo.failWith);
      if (api) {
        return json({
          _id: "65f0c0ffee",
          id: repo.id,
          modelId: repo.id,
          author: repo.id.split("/")[0],
          private: false,
          gated: repo.gated ?? false,
          disabled: false,
          library_name: "transformers",
          pipeline_tag: "text-generation",
          tags: ["transformers", "safetensors", ...(repo.license ? [`license:${repo.license}`] : [])],
          cardData: repo.license ? { license: repo.license, language: ["en"] } : {},
          ...(repo.safetensorsTotal ? { safetensors: { parameters: { BF16: repo.safetensorsTotal }, total: repo.safetensorsTotal } } : {}),
          sha: repo.sha ?? DEFAULT_SHA,
          siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
        });
      }
      if (revision) {
        if (revision[2] !== "main" && revision[2] !== (repo.sha ?? DEFAULT_SHA)) {
          return json({ error: "Invalid rev id" }, 404, { "X-Error-Code": "RevisionNotFound", "X-Error-Message": "Invalid rev id" });
        }
        return json({
          id: repo.id,
          sha: repo.sha ?? DEFAULT_SHA,
          siblings: Object.entries(repo.files).map(([rfilename, content]) => {
            const b = bytesOf(content);
            const size = repo.listedSizes?.[rfilename] ?? b.length;
            if (repo.unsized?.includes(rfilename)) return { rfilename, blobId: sha256(b).slice(0, 40) };
            return isLfs(rfilename) ? { rfilename, size, blobId: sha256(b).slice(0, 40), lfs: { sha256: sha256(b), size, pointerSize: 134 } } : { rfilename, size, blobId: sha256(b).slice(0, 40) };
          }),
        });
      }
      if (repo.gated && !(token && repo.grantedTokens?.includes(token))) {
        const message = `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
        return json({ error: message }, token ? 403 : 401, { "X-Error-Code": "GatedRepo", "X-Error-Message": message });
      }
      const name = decodeURIComponent(file![3]!);
      const content = repo.files[name];
      if (content === undefined) {
        return json({ error: "Entry not found" }, 404, { "X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found" });
      }
      if (repo.endless?.includes(name)) {
        return new Response(endlessBody(name, endlessSent), { headers: { "Content-Type": "application/octet-stream", "X-Repo-Commit": repo.sha ?? DEFAULT_SHA } });
      }
      let body = bytesOf(content);
      const etag = `"${sha256(body)}"`;
      if (repo.corrupt?.includes(name)) {
        body = body.slice();
        body[body.length - 1] = body[body.length - 1]! ^ 0xff;
      }
      const headers: Record<string, string> = { "Content-Type": "application/octet-stream", ETag: etag, "X-Repo-Commit": repo.sha ?? DEFAULT_SHA, "Accept-Ranges": "bytes" };
      const range = req.headers.get("range")?.match(/^bytes=(\d+)-$/);
      let status = 200;
      if (range) {
        const start = Number(range[1]);
        if (start >= body.length) return new Response(null, { status: 416, headers: { ...headers, "Content-Range": `bytes */${body.length}` } });
        headers["Content-Range"] = `bytes ${start}-${body.length - 1}/${body.length}`;
        body = body.subarray(start);
        status = 206;
      }
      headers["Content-Length"] = String(body.length);
      return new Response(repo.throttle ? throttled(body, repo.throttle) : (body as Uint8Array<ArrayBuffer>), { status, headers });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, endlessSent, add: (r) => registry.set(r.id, r), stop: () => server.stop(true) };
}
