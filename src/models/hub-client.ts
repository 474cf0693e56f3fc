/**
 * The Hugging Face Hub over HTTP, as huggingface_hub speaks it: HF_ENDPOINT as the
 * base URL (mirrors work), HF_TOKEN as a bearer token, and the Hub's X-Error-Code
 * header (RepoNotFound, GatedRepo, EntryNotFound) to tell failures apart.
 */
import { z } from "zod";
import { AppError } from "../lib/errors.ts";

const hubRevisionSchema = z.object({
  sha: z.string().min(1),
  siblings: z.array(z.object({ rfilename: z.string().min(1), size: z.number().int().nonnegative().optional(), lfs: z.object({ sha256: z.string(), size: z.number().int().nonnegative() }).optional() })),
});

/**
 * /api/models/<repo>: only the fields the app reads, each tolerant of the Hub's variety (a
 * card's license may be a list; a field of another type reads as absent), but the reply
 * itself must be an object.
 */
const hubModelInfoReply = z
  .object({
    gated: z.unknown(),
    cardData: z.object({ license: z.string().optional().catch(undefined) }).loose().nullish().catch(undefined),
    tags: z.array(z.unknown()).optional().catch(undefined),
    safetensors: z.object({ total: z.number().optional().catch(undefined) }).loose().nullish().catch(undefined),
    library_name: z.string().optional().catch(undefined),
    sha: z.string().optional().catch(undefined),
  })
  .loose();

/** A commit id as the Hub writes it: the only revision string that may name a folder on disk. */
export const COMMIT_ID = /^[0-9a-f]{40}$/;

/**
 * A file name as a mirror could list it, shown in a message: quoted as JSON (so a NUL
 * or a newline is visible and cannot break the sentence) and cut short.
 */
export const quoteName = (name: string) => JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);

/**
 * A repo file name that is a plain relative path: no NUL or control characters, no
 * backslash (a Windows separator a mirror could smuggle), no absolute path, no `.` or
 * `..` segment. The Hub itself never lists anything else.
 */
export function isPlainRepoPath(name: string): boolean {
  if (/[\u0000-\u001f\u007f\\]/.test(name) || name.startsWith("/")) return false;
  return name.split("/").every((part) => part !== "" && part !== "." && part !== "..");
}

/** Each segment of a repo id, revision or file path encoded for a URL path. */
const urlPath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

export type HubDeps = { endpoint: string; token?: string; timeoutMs: number; fetch?: typeof fetch };

export type HubModelInfo = {
  gated: boolean;
  license: string | null;
  safetensorsTotal: number | null;
  libraryName: string | null;
  /** The commit the main branch points at (the revision a download fetches). */
  sha: string | null;
};

/**
 * A file of a repo at a revision, as the Hub lists it (`?blobs=true`): LFS files carry
 * their sha256; `size` is null when the listing gave none (such a file cannot be capped).
 */
export type HubFile = { name: string; size: number | null; sha256: string | null };

export type HubClient = ReturnType<typeof createHubClient>;

export function createHubClient(deps: HubDeps) {
  const base = deps.endpoint.replace(/\/+$/, "");
  const doFetch = deps.fetch ?? fetch;
  const pageUrl = (repoId: string) => `${base}/${urlPath(repoId)}`;

  /**
   * A GET with the Hub's error answers mapped to AppErrors. The timeout covers the
   * wait for the response's headers only: a large file's body may take hours, and is
   * stopped by `signal` (a cancelled job) instead.
   */
  async function get(url: string, repoId: string, opts: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
    const headers: Record<string, string> = { "User-Agent": "finetuneflow", ...opts.headers };
    if (deps.token) headers.Authorization = `Bearer ${deps.token}`;
    let res: Response;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException("timeout", "TimeoutError")), deps.timeoutMs);
    try {
      res = await doFetch(url, { headers, signal: opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal, redirect: "follow" });
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const name = (err as Error).name;
      if (name === "TimeoutError" || name === "AbortError") {
        throw new AppError(
          504,
          "hub_timeout",
          `The Hugging Face Hub at ${base} did not answer within ${Math.round(deps.timeoutMs / 1000)} s. Try again, set HF_ENDPOINT to a mirror, or use a local model folder.`,
        );
      }
      throw new AppError(
        502,
        "hub_unreachable",
        `Could not reach the Hugging Face Hub at ${base}. Check the network, set HF_ENDPOINT to a mirror, or enter the absolute path of a local model folder.`,
      );
    } finally {
      clearTimeout(timer);
    }
    const code = res.headers.get("X-Error-Code");
    if (code === "GatedRepo" || ((res.status === 401 || res.status === 403) && code !== "RepoNotFound" && url.includes("/resolve/"))) {
      const why = deps.token ? "the token in HF_TOKEN has not been granted access" : "no HF_TOKEN is set";
      throw new AppError(
        403,
        "model_gated",
        `${repoId} is a gated model and ${why}. Accept its license at ${pageUrl(repoId)}, then set HF_TOKEN to a token with access and try again.`,
      );
    }
    if (code === "RepoNotFound" || (res.status === 404 && !url.includes("/resolve/"))) {
      throw new AppError(404, "model_not_found", `Model not found: no repository “${repoId}” on ${base}. Check the spelling (organisation/name).`);
    }
    if (res.status === 401) {
      throw new AppError(401, "hub_unauthorized", `The Hub refused the request for ${repoId} (401). Check the token in HF_TOKEN.`);
    }
    if (res.status >= 500) {
      throw new AppError(502, "hub_error", `The Hugging Face Hub answered with an error (${res.status}). Try again in a moment.`);
    }
    return res;
  }

  return {
    pageUrl,

    async modelInfo(repoId: string): Promise<HubModelInfo> {
      const res = await get(`${base}/api/models/${urlPath(repoId)}`, repoId);
      if (!res.ok) throw new AppError(502, "hub_error", `The Hub answered ${res.status} for ${repoId}.`);
      const parsed = hubModelInfoReply.safeParse(await res.json().catch(() => null));
      if (!parsed.success) throw new AppError(502, "hub_error", `The Hub's answer for ${repoId} was not a model description (JSON object).`);
      const body = parsed.data;
      const tags = (body.tags ?? []).filter((t): t is string => typeof t === "string");
      const licenseTag = tags.find((t) => t.startsWith("license:"))?.slice("license:".length) ?? null;
      return {
        gated: body.gated !== undefined && body.gated !== false,
        license: body.cardData?.license ?? licenseTag,
        safetensorsTotal: body.safetensors?.total ?? null,
        libraryName: body.library_name ?? null,
        sha: body.sha ?? null,
      };
    },

    /**
     * The repo's files at a revision, with sizes and LFS checksums, and the commit it
     * resolved to. The commit names a folder on disk and each file name a file in it, so
     * a listing whose commit is not a 40-hex id, or that names a file by anything but a
     * plain relative path, is refused whole: a mirror does not choose where files go.
     */
    async files(repoId: string, revision: string): Promise<{ commit: string; files: HubFile[] }> {
      const res = await get(`${base}/api/models/${urlPath(repoId)}/revision/${encodeURIComponent(revision)}?blobs=true`, repoId);
      if (!res.ok) throw new AppError(502, "hub_error", `The Hub answered ${res.status} for the files of ${repoId}.`);
      const parsed = hubRevisionSchema.safeParse(await res.json().catch(() => null));
      if (!parsed.success) throw new AppError(502, "hub_error", `The Hub's file list for ${repoId} is not in the expected shape.`);
      const { sha, siblings } = parsed.data;
      if (!COMMIT_ID.test(sha)) {
        throw new AppError(502, "hub_bad_revision", `The Hub at ${base} answered ${quoteName(sha)} as the commit of ${repoId}, which is not a commit id (40 hexadecimal characters). Nothing was downloaded: check HF_ENDPOINT.`);
      }
      const hostile = siblings.find((f) => !isPlainRepoPath(f.rfilename));
      if (hostile) {
        throw new AppError(502, "hub_bad_file_name", `The Hub at ${base} lists a file of ${repoId} named ${quoteName(hostile.rfilename)}, which is not a plain file name. Nothing was downloaded: check HF_ENDPOINT.`);
      }
      return { commit: sha, files: siblings.map((f) => ({ name: f.rfilename, size: f.lfs?.size ?? f.size ?? null, sha256: f.lfs?.sha256 ?? null })) };
    },

    /**
     * A file's bytes from `offset` on (an HTTP Range request), at a commit. The answer is
     * 206 when the Hub honours the range, 200 when it sends the whole file again.
     */
    async download(repoId: string, commit: string, filename: string, offset: number, signal: AbortSignal): Promise<Response> {
      const res = await get(`${base}/${urlPath(repoId)}/resolve/${encodeURIComponent(commit)}/${urlPath(filename)}`, repoId, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal });
      if (res.status === 404) throw new AppError(404, "hub_file_missing", `${filename} is listed in ${repoId} but the Hub has no such file at ${commit.slice(0, 12)}.`);
      if (res.status === 416) return res;
      if (!res.ok || !res.body) throw new AppError(502, "hub_error", `The Hub answered ${res.status} for ${filename} of ${repoId}.`);
      return res;
    },

    /** A file of the repo's main revision, or null when the repo has no such file. */
    async file(repoId: string, filename: string): Promise<string | null> {
      const res = await get(`${base}/${urlPath(repoId)}/resolve/main/${urlPath(filename)}`, repoId);
      if (res.status === 404) return null;
      if (!res.ok) throw new AppError(502, "hub_error", `The Hub answered ${res.status} for ${filename} of ${repoId}.`);
      return await res.text();
    },
  };
}
