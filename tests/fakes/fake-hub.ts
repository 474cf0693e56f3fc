/**
 * A loopback Hugging Face Hub speaking the routes the resolver uses, with the real
 * response shapes: /api/models/{id} (gated, cardData.license, safetensors.total),
 * /{id}/resolve/main/{file}, and errors marked by X-Error-Code as the Hub does.
 */
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES_DIR = join(import.meta.dir, "../fixtures/hf");

export type FakeRepo = {
  id: string;
  files: Record<string, string>;
  license?: string;
  gated?: false | "auto" | "manual";
  safetensorsTotal?: number;
  /** Tokens that were granted access to a gated repo. */
  grantedTokens?: string[];
  delayMs?: number;
  failWith?: number;
};

export type FakeHub = { url: string; requests: { path: string; authorization: string | null }[]; add: (repo: FakeRepo) => void; stop: () => void };

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

export function startFakeHub(repos: FakeRepo[] = []): FakeHub {
  const registry = new Map(repos.map((r) => [r.id, r]));
  const requests: FakeHub["requests"] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const auth = req.headers.get("authorization");
      requests.push({ path: url.pathname, authorization: auth });
      const token = auth?.startsWith("Bearer ") ? auth.slice(7) : null;
      const api = url.pathname.match(/^\/api\/models\/(.+)$/);
      const file = url.pathname.match(/^\/(.+?)\/resolve\/main\/(.+)$/);
      const repoId = api?.[1] ?? file?.[1];
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
          siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
        });
      }
      if (repo.gated && !(token && repo.grantedTokens?.includes(token))) {
        const message = `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
        return json({ error: message }, token ? 403 : 401, { "X-Error-Code": "GatedRepo", "X-Error-Message": message });
      }
      const content = repo.files[file![2]!];
      if (content === undefined) {
        return json({ error: "Entry not found" }, 404, { "X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found" });
      }
      return new Response(content, { headers: { "Content-Type": "text/plain; charset=utf-8" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, add: (r) => registry.set(r.id, r), stop: () => server.stop(true) };
}
