/**
 * Downloading a Hub model's weights before training: the file list and sizes from the
 * Hub, a disk check before the first byte, each file streamed to a partial file and
 * continued with an HTTP Range request after a cancel, crash or restart, each LFS
 * file's sha256 checked (a mismatch is fetched again once, then refused), progress in
 * bytes, speed and ETA. Written in the Hub cache layout (weights.ts).
 */
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, statfsSync, writeFileSync, writeSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { AppError } from "../lib/errors.ts";
import { formatBytes } from "../lib/format.ts";
import { quoteName, type HubClient, type HubFile } from "./hub-client.ts";
import { MANIFEST, neededFiles, PARTIAL_SUFFIX, type WeightsManifest, type WeightsStore } from "./weights.ts";

/** Free space kept beyond the download: 1 GiB plus 2%, so training has room for checkpoints. */
export const diskMargin = (bytes: number) => 1024 ** 3 + Math.ceil(bytes * 0.02);
const PROGRESS_EVERY_MS = 250;

export type DownloadProgress = { done: number; total: number; bytesPerSecond: number; file: string };
export type DownloadDeps = { hub: HubClient; weights: WeightsStore; freeBytes?: (dir: string) => number; now?: () => number };

const freeBytesOf = (dir: string) => {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
};

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);

/** A listed file whose size is known: the download never writes past it. */
type SizedFile = HubFile & { size: number };

/** `dir/name`, refused unless it resolves inside `dir` (the listing was checked; this is the last word). */
function fileIn(dir: string, name: string): string {
  const path = resolve(dir, name);
  if (!path.startsWith(resolve(dir) + sep)) throw new AppError(502, "hub_bad_file_name", `The Hub listed a file named ${quoteName(name)}, which would be written outside the model's folder. Nothing was written.`);
  return path;
}

async function sha256Of(path: string, hasher: Bun.CryptoHasher): Promise<void> {
  for await (const chunk of createReadStream(path)) hasher.update(chunk as Buffer);
}

export function createDownloader(deps: DownloadDeps) {
  const now = deps.now ?? Date.now;
  const freeBytes = deps.freeBytes ?? freeBytesOf;

  /** One file to its final name: resumes a partial file, checks the sha256, renames. */
  async function fetchFile(repoId: string, commit: string, file: SizedFile, dir: string, signal: AbortSignal, onBytes: (n: number) => void): Promise<void> {
    const final = fileIn(dir, file.name);
    const partial = final + PARTIAL_SUFFIX;
    for (let attempt = 1; ; attempt++) {
      let offset = sizeOf(partial);
      if (offset > file.size) {
        rmSync(partial);
        offset = 0;
      }
      const hasher = new Bun.CryptoHasher("sha256");
      const res = offset < file.size || file.size === 0 ? await deps.hub.download(repoId, commit, file.name, offset, signal) : null;
      let overran = false;
      if (res && res.status === 200 && offset > 0) {
        // The server ignored the range: start the file over.
        onBytes(-offset);
        offset = 0;
      }
      if (file.sha256 && offset > 0) await sha256Of(partial, hasher);
      // Synchronous writes: each chunk lands in the page cache in microseconds, where
      // an async write per chunk costs a thread-pool round trip (half the throughput).
      const out = openSync(partial, offset > 0 ? "a" : "w");
      try {
        if (res && res.status !== 416) {
          for await (const chunk of res.body!) {
            if (signal.aborted) throw signal.reason;
            // Never past the declared size: an endless body must not fill the disk.
            const room = file.size - offset;
            const part = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
            writeSync(out, part);
            if (file.sha256) hasher.update(part);
            onBytes(part.byteLength);
            offset += part.byteLength;
            if (part !== chunk) {
              overran = true;
              break; // leaving the loop cancels the body
            }
          }
        }
      } finally {
        closeSync(out);
      }
      const got = sizeOf(partial);
      const digest = file.sha256 ? hasher.digest("hex") : null;
      if (!overran && got === file.size && (!file.sha256 || digest === file.sha256)) {
        renameSync(partial, final);
        return;
      }
      rmSync(partial, { force: true });
      onBytes(-got);
      const what = overran
        ? `more than the ${formatBytes(file.size)} (${file.size} bytes) the listing declares; stopped at ${formatBytes(got)}`
        : got !== file.size
          ? `${formatBytes(got)} instead of ${formatBytes(file.size)}`
          : `sha256 ${digest!.slice(0, 12)}… instead of ${file.sha256!.slice(0, 12)}…`;
      if (attempt >= 2) {
        throw new AppError(502, "download_corrupt", `${file.name} of ${repoId} arrived damaged twice (${what}). The Hub or a proxy between is serving a different file; try again later or use another HF_ENDPOINT.`);
      }
    }
  }

  return {
    /** What a download of this repo would fetch, and how much is already here. */
    async plan(repoId: string, revision = "main") {
      const { commit, files } = await deps.hub.files(repoId, revision);
      const needed = neededFiles(files);
      const unsized = needed.find((f) => f.size === null);
      if (unsized) {
        throw new AppError(502, "hub_file_unsized", `The Hub lists ${quoteName(unsized.name)} of ${repoId} without a size, so its download could not be capped. Nothing was downloaded: check HF_ENDPOINT.`);
      }
      const sized = needed as SizedFile[];
      if (!needed.some((f) => /\.(safetensors|bin)$/.test(f.name))) {
        throw new AppError(422, "no_weights", `${repoId} has no safetensors or PyTorch weights at its top level: it cannot be trained here.`);
      }
      const dir = deps.weights.snapshotDir(repoId, commit);
      const present = sized.reduce((n, f) => n + (existsSync(fileIn(dir, f.name)) ? f.size : Math.min(f.size, sizeOf(fileIn(dir, f.name) + PARTIAL_SUFFIX))), 0);
      const total = sized.reduce((n, f) => n + f.size, 0);
      return { commit, files: sized, total, present, dir };
    },

    /** Fetches every needed file; `progress` is told bytes, speed and the current file. */
    async download(repoId: string, opts: { revision?: string; signal: AbortSignal; progress: (p: DownloadProgress) => void }): Promise<WeightsManifest> {
      const plan = await this.plan(repoId, opts.revision);
      mkdirSync(plan.dir, { recursive: true });
      const missing = plan.total - plan.present;
      const free = freeBytes(plan.dir);
      if (free < missing + diskMargin(missing)) {
        throw new AppError(
          507,
          "insufficient_storage",
          `${repoId} needs ${formatBytes(missing)} more (${formatBytes(plan.total)} in all) plus ${formatBytes(diskMargin(missing))} of margin, but only ${formatBytes(free)} are free under the data directory (FTF_DATA_DIR). Free some space, or remove models no project uses (Model step).`,
        );
      }
      let done = plan.present;
      const startedAt = now();
      const startBytes = done;
      let lastReport = 0;
      let current = "";
      const report = (force = false) => {
        const t = now();
        if (!force && t - lastReport < PROGRESS_EVERY_MS) return;
        lastReport = t;
        const seconds = Math.max(0.001, (t - startedAt) / 1000);
        opts.progress({ done, total: plan.total, bytesPerSecond: (done - startBytes) / seconds, file: current });
      };
      for (const file of plan.files) {
        if (existsSync(fileIn(plan.dir, file.name))) continue;
        current = file.name;
        report(true);
        await fetchFile(repoId, plan.commit, file, plan.dir, opts.signal, (n) => {
          done += n;
          report();
        });
      }
      const manifest: WeightsManifest = { repo_id: repoId, commit: plan.commit, files: plan.files, total_bytes: plan.total, completed_at: new Date(now()).toISOString() };
      writeFileSync(join(plan.dir, MANIFEST), JSON.stringify(manifest, null, 2));
      const refs = join(deps.weights.repoDir(repoId), "refs");
      mkdirSync(refs, { recursive: true });
      writeFileSync(fileIn(refs, opts.revision ?? "main"), plan.commit);
      current = "";
      report(true);
      return manifest;
    },
  };
}

export type Downloader = ReturnType<typeof createDownloader>;

/** "model-00002-of-00004.safetensors · 3.1 GB of 16.1 GB · 85 MB/s · about 2 min left" */
export function describeProgress(p: DownloadProgress): string {
  const left = p.bytesPerSecond > 0 && p.done < p.total ? (p.total - p.done) / p.bytesPerSecond : null;
  const eta = left === null ? "" : left < 90 ? ` · about ${Math.max(1, Math.round(left))} s left` : ` · about ${Math.round(left / 60)} min left`;
  return `${p.file ? `${p.file} · ` : ""}${formatBytes(p.done)} of ${formatBytes(p.total)} · ${formatBytes(p.bytesPerSecond)}/s${eta}`;
}
