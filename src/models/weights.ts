/**
 * Base-model weights on this machine, in the Hugging Face Hub cache layout under the
 * data directory (HF_HUB_CACHE = <data>/models/hub):
 *
 *   models--org--name/refs/main                  the commit `main` resolved to
 *   models--org--name/snapshots/<commit>/<file>  the files, complete
 *   models--org--name/snapshots/<commit>/<file>.incomplete   a file being fetched
 *   models--org--name/snapshots/<commit>/.finetuneflow.json  written last: the download is whole
 *
 * so transformers (with HF_HUB_OFFLINE=1) finds them as they are, and projects on the
 * same model share one copy.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { COMMIT_ID } from "./hub-client.ts";
import type { CachedModel } from "./schemas.ts";

export const MANIFEST = ".finetuneflow.json";
export const PARTIAL_SUFFIX = ".incomplete";

export const weightsManifestSchema = z.object({
  repo_id: z.string(),
  commit: z.string(),
  files: z.array(z.object({ name: z.string(), size: z.number(), sha256: z.string().nullable() })),
  total_bytes: z.number(),
  completed_at: z.string(),
});
export type WeightsManifest = z.infer<typeof weightsManifestSchema>;

export type { CachedModel } from "./schemas.ts";

/** What a training run needs: weights (safetensors, else PyTorch .bin), their index, config and tokenizer files. */
export function neededFiles<T extends { name: string }>(files: T[]): T[] {
  const hasSafetensors = files.some((f) => f.name.endsWith(".safetensors") && !f.name.includes("/"));
  const wanted = (name: string) => {
    if (name.includes("/")) return false; // subfolders hold other formats (onnx/, original/, gguf)
    if (hasSafetensors ? /\.safetensors$|^model\.safetensors\.index\.json$/.test(name) : /^pytorch_model.*\.bin$|^pytorch_model\.bin\.index\.json$/.test(name)) return true;
    return /^(config|generation_config|tokenizer_config|special_tokens_map|added_tokens|preprocessor_config)\.json$|^tokenizer\.(json|model)$|^chat_template\.jinja$|^vocab\.(json|txt)$|^merges\.txt$/.test(name);
  };
  return files.filter((f) => wanted(f.name));
}

/**
 * The one naming rule for a model's folder, the Hub cache's own: "org/name" →
 * "models--org--name", a one-part id "gpt2" → "models--gpt2". Repo ids never hold
 * "--" (isValidRepoId), so the rule reads back without ambiguity.
 */
export const hubFolderName = (repoId: string) => `models--${repoId.replaceAll("/", "--")}`;
export const repoIdOfFolder = (folder: string) => folder.slice("models--".length).replace("--", "/");

export function createWeightsStore(dataDir: string) {
  const cacheDir = join(dataDir, "models", "hub");
  const repoDir = (repoId: string) => join(cacheDir, hubFolderName(repoId));
  const snapshotDir = (repoId: string, commit: string) => join(repoDir(repoId), "snapshots", commit);

  function manifest(repoId: string): WeightsManifest | null {
    const ref = join(repoDir(repoId), "refs", "main");
    if (!existsSync(ref)) return null;
    const commit = readFileSync(ref, "utf8").trim();
    if (!COMMIT_ID.test(commit)) return null; // written by no download of ours
    try {
      return weightsManifestSchema.parse(JSON.parse(readFileSync(join(snapshotDir(repoId, commit), MANIFEST), "utf8")));
    } catch {
      return null;
    }
  }

  /** Bytes under a folder (partial files included: they are on disk too). */
  function bytesUnder(dir: string): number {
    let total = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
    }
    return total;
  }

  return {
    cacheDir,
    repoDir,
    snapshotDir,
    manifest,

    /** The complete download of a repo, or null. */
    complete: (repoId: string) => manifest(repoId),

    /** Every model in the cache, whole or partly fetched, with its size on disk. */
    list(): CachedModel[] {
      if (!existsSync(cacheDir)) return [];
      return readdirSync(cacheDir)
        .filter((name) => name.startsWith("models--"))
        .map((name) => {
          const repoId = repoIdOfFolder(name);
          const m = manifest(repoId);
          const snapshots = join(cacheDir, name, "snapshots");
          const commit = m?.commit ?? (existsSync(snapshots) ? (readdirSync(snapshots)[0] ?? "") : "");
          return { repo_id: repoId, commit, bytes: bytesUnder(join(cacheDir, name)), complete: m !== null };
        });
    },

    remove: (repoId: string) => rmSync(repoDir(repoId), { recursive: true, force: true }),
  };
}

export type WeightsStore = ReturnType<typeof createWeightsStore>;
