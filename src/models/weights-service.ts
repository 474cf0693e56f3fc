/**
 * The weights of each project's base model: the download job (one per model, shared by
 * the projects on it), what is cached and how big, removing a model no project uses,
 * and what the trainer needs to run offline from the cache.
 */
import { z } from "zod";
import { AppError } from "../lib/errors.ts";
import { JobError, type JobQueue } from "../jobs/queue.ts";
import type { ProjectService } from "../projects/service.ts";
import { describeProgress, type Downloader, type DownloadProgress } from "./download.ts";
import type { WeightsStore } from "./weights.ts";
import type { WeightsState } from "./schemas.ts";

export const DOWNLOAD_JOB = "model_download";
const downloadPayload = z.object({ repoId: z.string() });

export type { WeightsState } from "./schemas.ts";

/**
 * Why a download stopped, in words that name no server path: a file-system error's
 * message carries the absolute path it failed on, so only its code is told.
 */
function whyStopped(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === "ENOSPC") return "the disk holding the data directory is full";
  if (code === "EACCES" || code === "EPERM") return "the model cache is not writable by this server";
  if (typeof code === "string") return `a file could not be written (${code})`;
  return err instanceof Error && !err.message.includes("/") ? err.message : "the connection or a file failed";
}

export function createWeightsService(deps: { queue: JobQueue; projects: ProjectService; weights: WeightsStore; downloader: Downloader }) {
  const { weights } = deps;

  deps.queue.register(DOWNLOAD_JOB, {
    payload: downloadPayload,
    group: "download",
    maxAttempts: 3,
    run: async ({ payload, signal, progress }) => {
      const m = await fetch(payload.repoId, signal, (p) => progress(p.total ? (100 * p.done) / p.total : 0, describeProgress(p)));
      return { repo_id: m.repo_id, commit: m.commit, bytes: m.total_bytes };
    },
  });

  async function fetch(repoId: string, signal: AbortSignal, onProgress: (p: DownloadProgress) => void) {
    try {
      return await deps.downloader.download(repoId, { signal, progress: onProgress });
    } catch (err) {
      if (signal.aborted) throw err;
      // A dropped connection is worth another try (the partial file stays); a refusal is not.
      if (err instanceof AppError) throw new JobError(err.message, err.code === "hub_unreachable" || err.code === "hub_timeout" || err.code === "hub_error");
      throw new JobError(`The download stopped: ${whyStopped(err)}. It continues where it stopped when you start it again.`, true);
    }
  }

  const hubModelOf = (projectId: string) => {
    const info = deps.projects.get(projectId).modelInfo;
    if (!info) throw new AppError(409, "model_not_resolved", "Resolve a base model first (Model step).");
    return info.source === "hub" ? info.model_id : null;
  };

  /** Models in the cache, with the projects that use each. */
  function cached() {
    const users = new Map<string, string[]>();
    for (const p of deps.projects.modelsInUse()) {
      if (p.modelInfo?.source === "hub") users.set(p.modelInfo.model_id, [...(users.get(p.modelInfo.model_id) ?? []), p.name]);
    }
    return weights.list().map((c) => ({ ...c, used_by: users.get(c.repo_id) ?? [] }));
  }

  // The trainer reads the cache as it is and never waits on the network.
  const offlineEnv = () => ({ HF_HUB_CACHE: weights.cacheDir, HF_HUB_OFFLINE: "1" });

  const activeJob = (repoId: string) => deps.queue.activeWithPayload("repoId", repoId).find((id) => deps.queue.get(id)?.type === DOWNLOAD_JOB) ?? null;

  return {
    /** Starts (or joins) the download of the project's model; a local folder needs none. */
    start(projectId: string): { job_id: string } {
      const repoId = hubModelOf(projectId);
      if (!repoId) throw new AppError(409, "local_model", "This project trains a local model folder: there is nothing to download.");
      const running = activeJob(repoId);
      if (running) return { job_id: running };
      return { job_id: deps.queue.enqueue(DOWNLOAD_JOB, projectId, { repoId }).id };
    },

    state(projectId: string): WeightsState {
      const repoId = hubModelOf(projectId);
      if (!repoId) return { state: "local" };
      const m = weights.complete(repoId);
      if (m) return { state: "complete", bytes: m.total_bytes, commit: m.commit };
      const job = activeJob(repoId);
      if (job) return { state: "downloading", job_id: job };
      const cached = weights.list().find((c) => c.repo_id === repoId);
      return cached ? { state: "partial", bytes: cached.bytes } : { state: "none" };
    },

    cached,

    /** The env that points the trainer at a complete download, offline (none for a local folder or no download). */
    trainerEnv(projectId: string): Record<string, string> {
      const repoId = hubModelOf(projectId);
      return repoId && weights.complete(repoId) ? offlineEnv() : {};
    },

    /** Removes a cached model that no project uses (a shared copy is never removed). */
    remove(repoId: string) {
      const entry = cached().find((c) => c.repo_id === repoId);
      if (!entry) throw new AppError(404, "model_not_cached", `${repoId} is not in the model cache.`);
      if (entry.used_by.length) throw new AppError(409, "model_in_use", `${repoId} is used by ${entry.used_by.join(", ")}: change their model or delete them first.`);
      if (activeJob(repoId)) throw new AppError(409, "download_running", `${repoId} is being downloaded: cancel the download first.`);
      weights.remove(repoId);
    },

    /**
     * Before a run: the weights of a Hub model are fetched if missing (the run's own
     * progress shows it), then the trainer reads the cache offline.
     */
    async prepareRun(projectId: string, signal: AbortSignal, progress: (pct: number, message: string) => void): Promise<Record<string, string>> {
      const repoId = hubModelOf(projectId);
      if (!repoId) return {};
      // A download already running for this model (a "Download now" click): wait for it.
      for (let job = activeJob(repoId); job; job = activeJob(repoId)) {
        if (signal.aborted) throw signal.reason;
        const row = deps.queue.get(job);
        progress(row?.progressPct ?? 0, `Waiting for the base model's download: ${row?.progressMessage ?? "queued"}`);
        await Bun.sleep(500);
      }
      if (!weights.complete(repoId)) await fetch(repoId, signal, (p) => progress(p.total ? (100 * p.done) / p.total : 0, `Downloading the base model: ${describeProgress(p)}`));
      return offlineEnv();
    },
  };
}

export type WeightsService = ReturnType<typeof createWeightsService>;
