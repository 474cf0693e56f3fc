/**
 * Training runs: a run directory with the dataset and config, a `training` job (one
 * GPU job at a time, run-job.ts) that supervises the Python trainer, every event stored
 * in order (the SSE replay source) and published live, then an evaluation for the
 * Export step. A run cut by a restart is marked interrupted and resumes from its last
 * checkpoint.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../db/client.ts";
import type { TrainingRunRow } from "./tables.ts";
import { exportLine } from "../datasets/export.ts";
import type { ReviewService } from "../datasets/review-service.ts";
import { presetFor, SAFE_DEFAULTS } from "../models/presets.ts";
import type { ReadinessService } from "../readiness/service.ts";
import { trustRemoteCode } from "../models/remote-code.ts";
import { projectDir } from "../lib/data-dir.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { JobQueue } from "../jobs/queue.ts";
import type { ProjectService } from "../projects/service.ts";
import { MIN_VALID_EXAMPLES } from "../datasets/validate.ts";
import type { RunHub } from "./hub.ts";
import { checkpointStep, createRunStore } from "./run-store.ts";
import { createTrainingJob, TRAINING_JOB, trainingJobPayload } from "./run-job.ts";
import { isResumableRun, runMethodLabel, type TrainingConfig } from "./schemas.ts";
import { runStatusView } from "./status.ts";
import type { TrainerClient } from "./trainer-client.ts";
import { writeRunConfig } from "./run-config.ts";
import { type PreferenceRoundRequest, writePreferenceRoundFiles } from "./preference-round.ts";
import { RAFT_PASSAGES, raftRow, type RaftSource } from "./raft.ts";

export { TRAINING_JOB } from "./run-job.ts";
export type { TrainerSettings } from "./supervisor.ts";

export function createTrainingService(deps: {
  db: Db;
  queue: JobQueue;
  hub: RunHub;
  projects: ProjectService;
  review: ReviewService;
  readiness: ReadinessService;
  /** Fetches a Hub model's weights before a run (models/weights-service.ts). */
  prepareWeights: (projectId: string, signal: AbortSignal, progress: (pct: number, message: string) => void) => Promise<Record<string, string>>;
  dataDir: string;
  trainer: TrainerClient;
  logger: Logger;
  now?: () => number;
  diskGuard?: () => void;
  /** auto's count of decoder layers to checkpoint for these settings (hardware service), null when unknown. */
  checkpointLayers?: (projectId: string, config: TrainingConfig, method: "lora" | "qlora") => number | null;
  /** The hardware check that applies to a project (its own, else the machine's). */
  hardwareFor: (projectId: string) => { recommended_method?: "lora" | "qlora" | null; cuda_available?: boolean; bnb_available?: boolean } | null;
  /** After a run succeeds. */
  onRunSucceeded?: (projectId: string) => void;
  /** The project's passages for retrieval-aware training (raft.ts): absent, the option is refused. */
  raftSource?: (projectId: string) => RaftSource & { longestPassageTokens: number };
}) {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const store = createRunStore({ db, hub: deps.hub, now, dataDir: deps.dataDir });
  const runDir = (projectId: string, runId: string) => join(projectDir(deps.dataDir, projectId), "runs", runId);
  const getRun = store.get;
  const setRun = store.update;
  const latestRun = store.latestRun;

  store.markRunningInterrupted();
  const job = createTrainingJob({ store, trainer: deps.trainer, logger: deps.logger, now, setProjectStatus: deps.projects.transition, prepareWeights: deps.prepareWeights, onSucceeded: deps.onRunSucceeded });
  deps.queue.register(TRAINING_JOB, { payload: trainingJobPayload, group: "gpu", maxAttempts: 1, onRestart: "fail", run: job.run });

  function assertNoActiveRun(projectId: string) {
    if (store.activeRun(projectId)) throw new AppError(409, "training_running", "A training run of this project is already queued or running.");
  }

  /** Queues the training job of a run written to disk (new, a round, or a resume). */
  function enqueue(projectId: string, runId: string, resume: boolean): { run: TrainingRunRow; jobId: string } {
    const job = deps.queue.enqueue(TRAINING_JOB, projectId, { runId, resume });
    setRun(runId, { jobId: job.id });
    return { run: getRun(runId)!, jobId: job.id };
  }

  function writeDataset(projectId: string, dir: string, raft: RaftSource | null): { train: string; eval: string | null } {
    const write = (split: "train" | "eval") => {
      let n = 0;
      let text = "";
      for (const batch of deps.review.exportRows(projectId, split)) {
        for (const e of batch) text += exportLine("alpaca", raft ? raftRow(e, raft) : e);
        n += batch.length;
      }
      const path = join(dir, `${split}.jsonl`);
      writeFileSync(path, text);
      return { path, n };
    };
    const train = write("train");
    const evalSet = write("eval");
    return { train: train.path, eval: evalSet.n > 0 ? evalSet.path : null };
  }

  /** The passages of retrieval-aware training, once the project can have it: Q&A on documents, examples long enough for its passages. */
  function raftFor(task: string | null, projectId: string, maxSeqLength: number): RaftSource {
    if (task !== "qa" || !deps.raftSource) throw new AppError(422, "retrieval_training_unavailable", "Retrieval training is for Q&A projects made from documents: it trains each question with passages of them.");
    const source = deps.raftSource(projectId);
    if (source.longestPassageTokens === 0) throw new AppError(422, "retrieval_training_unavailable", "Retrieval training needs questions written from your documents: this project has no document passages (its examples come from a dataset file).");
    // The passages, the question and its answer must fit, or the trainer would cut the answers off.
    const needed = Math.ceil((RAFT_PASSAGES * source.longestPassageTokens + 256) / 64) * 64;
    if (maxSeqLength < needed) {
      throw new AppError(422, "retrieval_training_too_short", `Retrieval training puts ${RAFT_PASSAGES} passages in each example (up to ${source.longestPassageTokens} tokens each): set Max sequence length to at least ${needed}.`);
    }
    return source;
  }

  /**
   * Checks the project can train with `config`, then writes what the trainer reads into
   * `dir`: the dataset (train/eval JSONL) and run.json. Training and the probe share it.
   */
  function writeTrainerFiles(projectId: string, config: TrainingConfig, dir: string) {
    const project = deps.projects.get(projectId);
    const stats = deps.review.stats(projectId);
    if (stats.by_split.train.count + stats.by_split.eval.count < MIN_VALID_EXAMPLES) {
      throw new AppError(409, "dataset_not_ready", `The dataset needs at least ${MIN_VALID_EXAMPLES} valid train/eval examples first.`);
    }
    const hw = deps.hardwareFor(projectId);
    if (!hw) throw new AppError(409, "hardware_not_checked", "Check the hardware first (Hardware step).");
    deps.readiness.assertFits(projectId, config.max_seq_length);
    const method = config.method ?? hw.recommended_method ?? "lora";
    if (method === "qlora" && !(hw.cuda_available && hw.bnb_available)) {
      throw new AppError(409, "qlora_unavailable", "QLoRA needs a CUDA GPU with a working bitsandbytes; this machine has none. Use LoRA.");
    }
    const info = project.modelInfo;
    if (!info) throw new AppError(409, "model_not_resolved", "Resolve a base model first (Model step).");
    const trustRemote = trustRemoteCode(info, project.config);
    const raft = config.retrieval_training ? raftFor(project.taskType, projectId, config.max_seq_length) : null;
    mkdirSync(dir, { recursive: true });
    const data = writeDataset(projectId, dir, raft);
    const full = { ...config, method };
    const preset = deps.readiness.preset(projectId) ?? SAFE_DEFAULTS;
    const trainerConfig = {
      base_model: info.source === "local" ? info.files_dir : info.model_id,
      output_dir: dir,
      train_file: data.train,
      eval_file: data.eval,
      method,
      num_epochs: full.num_epochs,
      learning_rate: full.learning_rate,
      per_device_batch_size: full.per_device_batch_size,
      gradient_accumulation_steps: full.gradient_accumulation_steps,
      max_seq_length: full.max_seq_length,
      lora_r: full.lora_r,
      lora_alpha: full.lora_alpha,
      lora_dropout: full.lora_dropout,
      target_modules: preset.targetModules,
      chat_template_kwargs: preset.templateKwargs,
      checkpointing: full.checkpointing ?? "auto",
      // auto: the fewest layers that fit, worked out here from the free memory (null: the trainer's own rule).
      checkpoint_layers: (full.checkpointing ?? "auto") === "auto" ? (deps.checkpointLayers?.(projectId, full, method) ?? null) : null,
      logging_steps: 1,
      trust_remote_code: trustRemote,
      packing: full.packing ?? true,
      use_liger: full.use_liger ?? true,
      ...(full.num_processes ? { num_processes: full.num_processes } : {}),
      ...(full.max_steps ? { max_steps: full.max_steps } : {}),
    };
    writeRunConfig(dir, trainerConfig);
    return { method, full, stats, project };
  }

  return {
    writeTrainerFiles,
    latestRun,
    getRun,

    runs: store.runs,

    runDir,

    /** The values an API client's left-out fields take: the family preset's and the data's. */
    presetDefaults: (projectId: string) => deps.readiness.formDefaults(projectId),
    /** The project's latest successful run, or null: the one run Export, evaluation, publish and the playground work on. */
    latestSuccessful: (projectId: string): TrainingRunRow | null => store.runs(projectId).find((r) => r.status === "success") ?? null,
    /** The project's latest successful run; 404 for an unknown project, 409 `no_trained_run` when there is none. */
    latestSuccess(projectId: string): TrainingRunRow {
      deps.projects.get(projectId);
      const run = store.runs(projectId).find((r) => r.status === "success");
      if (!run) throw new AppError(409, "no_trained_run", "No training run finished successfully yet: train the model first.");
      return run;
    },
    /** The settings of the project's last Train form or run (API-only fields included). */
    savedConfig: (projectId: string): Partial<TrainingConfig> => deps.projects.get(projectId).config.training ?? {},

    start(projectId: string, config: TrainingConfig): { run: TrainingRunRow; jobId: string } {
      deps.projects.get(projectId);
      deps.diskGuard?.();
      assertNoActiveRun(projectId);
      const id = crypto.randomUUID();
      const dir = runDir(projectId, id);
      const { method, full, stats, project } = writeTrainerFiles(projectId, config, dir);
      writeFileSync(
        join(dir, "provenance.json"),
        JSON.stringify({ Project: project.name, "Valid examples": stats.valid, "Train / eval": `${stats.by_split.train.count} / ${stats.by_split.eval.count}`, "Duplicates removed": stats.duplicates_removed }),
      );
      store.insertRun({ id, projectId, status: "queued", method, config: full, outputDir: dir, createdAt: now() });
      deps.projects.updateConfig(projectId, { training: full });
      return enqueue(projectId, id, false);
    },

    /**
     * A preference round: DPO on the latest successful run's adapter with the user's pairs
     * (preference-round.ts). A run like any other (history, curves, evaluation, export,
     * publish, playground), whose config names the run it started from.
     */
    startPreferenceRound(projectId: string, round: PreferenceRoundRequest): { run: TrainingRunRow; jobId: string } {
      const project = deps.projects.get(projectId);
      deps.diskGuard?.();
      assertNoActiveRun(projectId);
      const parent = store.runs(projectId).find((r) => r.status === "success");
      if (!parent) throw new AppError(409, "no_trained_run", "No training run finished successfully yet: train the model first, then improve it with feedback.");
      if (parent.method !== "lora") throw new AppError(409, "preference_needs_lora", "Preference rounds start from a LoRA adapter; the latest run is QLoRA. Train with LoRA first.");
      const id = crypto.randomUUID();
      const dir = runDir(projectId, id);
      const config = writePreferenceRoundFiles(dir, parent, round, (presetFor(project.modelInfo) ?? SAFE_DEFAULTS).preference, project.name);
      store.insertRun({ id, projectId, status: "queued", method: parent.method, config, outputDir: dir, createdAt: now() });
      return enqueue(projectId, id, false);
    },

    resume(projectId: string, runId?: string): { run: TrainingRunRow; jobId: string } {
      const run = runId ? getRun(runId) : latestRun(projectId);
      if (!run || run.projectId !== projectId) throw new AppError(404, "run_not_found", "Training run not found.");
      if (!isResumableRun(run.status)) throw new AppError(409, "run_not_resumable", `Only an interrupted or cancelled run can resume (this one is ${run.status}).`);
      if (checkpointStep(run.outputDir) === null) throw new AppError(409, "no_checkpoint", "This run stopped before its first checkpoint: start a new run instead.");
      setRun(run.id, { status: "queued" });
      return enqueue(projectId, run.id, true);
    },

    cancel(projectId: string): TrainingRunRow {
      const run = latestRun(projectId);
      if (!run || !run.jobId || (run.status !== "running" && run.status !== "queued")) throw new AppError(409, "nothing_to_cancel", "No training run is queued or running.");
      deps.queue.cancel(run.jobId);
      if (run.status === "queued") setRun(run.id, { status: "cancelled", finishedAt: now() });
      return getRun(run.id)!;
    },

    /** Train-loss curves of every run of the project, for comparing runs on one chart. */
    curves(projectId: string) {
      deps.projects.get(projectId);
      return store.runs(projectId).map((r) => ({
        run_id: r.id,
        label: `${new Date(r.createdAt).toISOString().slice(0, 16).replace("T", " ")} · ${runMethodLabel(r)} · ${r.status}`,
        points: store.lossPoints(r.id),
      }));
    },

    eventsAfter: store.eventsAfter,
    lastEvent: store.lastEvent,

    status(projectId: string) {
      deps.projects.get(projectId);
      const run = latestRun(projectId);
      if (!run) return null;
      return runStatusView(run, run.jobId ? deps.queue.get(run.jobId) : undefined, store, run.jobId ? deps.queue.queuePosition(run.jobId) : 0, now());
    },
  };
}

export type TrainingService = ReturnType<typeof createTrainingService>;
