/**
 * Training runs: a run directory with the dataset and config, a `training` job (one
 * GPU job at a time) that supervises the Python trainer, every event stored in order
 * (the SSE replay source) and published live, then an evaluation for the Export step.
 * A run cut by a restart is marked interrupted and resumes from its last checkpoint.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { and, desc, eq, gt, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { jobs, runMetrics, trainingRuns, type TrainingRunRow } from "../db/schema.ts";
import { exportLine } from "../datasets/export.ts";
import type { ReviewService } from "../datasets/review-service.ts";
import type { ModelInfo } from "../models/schemas.ts";
import { projectDir } from "../lib/data-dir.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { JobError, type JobQueue } from "../jobs/queue.ts";
import type { ProjectService } from "../projects/service.ts";
import { MIN_VALID_EXAMPLES } from "../wizard/steps.ts";
import type { TrainerEvent } from "./events.ts";
import type { RunEvent, RunHub } from "./hub.ts";
import type { TrainingConfig } from "./schemas.ts";
import { runTrainer } from "./supervisor.ts";

export const TRAINING_JOB = "training";
const MAX_STDERR_LINES = 5000;

export type { TrainerSettings } from "./supervisor.ts";
import type { TrainerSettings } from "./supervisor.ts";

export function createTrainingService(deps: {
  db: Db;
  queue: JobQueue;
  hub: RunHub;
  projects: ProjectService;
  review: ReviewService;
  dataDir: string;
  trainer: TrainerSettings;
  logger: Logger;
  now?: () => number;
  diskGuard?: () => void;
}) {
  const { db, hub } = deps;
  const now = deps.now ?? Date.now;
  const runDir = (projectId: string, runId: string) => join(projectDir(deps.dataDir, projectId), "runs", runId);

  // Nothing runs when the app starts: runs left running were cut by a crash or kill.
  db.update(trainingRuns).set({ status: "interrupted" }).where(inArray(trainingRuns.status, ["running"])).run();

  const getRun = (runId: string) => db.select().from(trainingRuns).where(eq(trainingRuns.id, runId)).get();
  const setRun = (runId: string, changes: Partial<typeof trainingRuns.$inferInsert>) => db.update(trainingRuns).set(changes).where(eq(trainingRuns.id, runId)).run();

  function record(runId: string, seq: number, event: string, data: Record<string, unknown>) {
    const step = typeof data.step === "number" ? data.step : null;
    db.insert(runMetrics).values({ runId, seq, event, step, data, createdAt: now() }).run();
    hub.publish(runId, { seq, event, data });
  }

  deps.queue.register(TRAINING_JOB, {
    payload: z.object({ runId: z.string(), resume: z.boolean() }),
    group: "gpu",
    maxAttempts: 1,
    onRestart: "fail",
    run: async ({ payload, signal, progress, job }) => {
      const run = getRun(payload.runId);
      if (!run) return { skipped: "run deleted" };
      const dir = runDir(run.projectId, run.id);
      let seq = db.select({ n: sql<number>`coalesce(max(${runMetrics.seq}), 0)` }).from(runMetrics).where(eq(runMetrics.runId, run.id)).get()!.n;
      let stderrLines = 0;
      let lastTrainLoss: number | null = run.finalTrainLoss;
      let lastEvalLoss: number | null = run.finalEvalLoss;
      const tail: string[] = [];
      setRun(run.id, { status: "running", jobId: job.id, startedAt: run.startedAt ?? now(), errorCode: null, errorMessage: null });
      deps.projects.setStatus(run.projectId, "training");
      const result = await runTrainer({
        trainer: deps.trainer,
        args: ["train", "--config", join(dir, "run.json"), ...(payload.resume ? ["--resume"] : [])],
        signal,
        logger: deps.logger,
        handlers: {
          onEvent: (e: TrainerEvent) => {
            const { event, ...data } = e;
            record(run.id, ++seq, event, data);
            if (e.event === "log") lastTrainLoss = e.train_loss;
            if (e.event === "eval") lastEvalLoss = e.eval_loss;
            if (e.event === "progress") progress(e.progress_pct * 0.95, e.step !== undefined ? `step ${e.step}/${e.total_steps}` : undefined);
          },
          onStderr: (line) => {
            tail.push(line);
            if (tail.length > 20) tail.shift();
            if (++stderrLines <= MAX_STDERR_LINES) record(run.id, ++seq, "stderr", { line: line.slice(0, 2000) });
          },
          onRejected: (line, reason) => deps.logger.warn("trainer line rejected", { run_id: run.id, reason, line: line.slice(0, 300) }),
        },
      });
      setRun(run.id, { finalTrainLoss: lastTrainLoss, finalEvalLoss: lastEvalLoss });
      if (result.stopped) {
        const shutdown = signal.reason === "shutdown";
        setRun(run.id, { status: shutdown ? "interrupted" : "cancelled", finishedAt: now() });
        deps.projects.setStatus(run.projectId, "ready_to_train");
        throw signal.reason ?? new DOMException("cancelled", "AbortError");
      }
      if (result.exitCode !== 0) {
        const message = result.lastError
          ? `${result.lastError.message}${result.lastError.advice ? ` ${result.lastError.advice}` : ""}`
          : `The trainer stopped unexpectedly (exit code ${result.exitCode}). Last log lines: ${tail.slice(-3).join(" | ")}`;
        setRun(run.id, { status: "failed", finishedAt: now(), errorCode: result.lastError?.error_code ?? "trainer_crashed", errorMessage: message });
        deps.projects.setStatus(run.projectId, "failed");
        throw new JobError(message);
      }
      // Evaluation for the Export step: before/after samples, eval loss, perplexity.
      deps.projects.setStatus(run.projectId, "evaluating");
      progress(96, "evaluating");
      const evaluation = await runTrainer({
        trainer: deps.trainer,
        args: ["evaluate", "--run", dir, "--samples", "5", "--max-new-tokens", "64"],
        signal,
        logger: deps.logger,
        handlers: { onEvent: () => {}, onStderr: () => {} },
      });
      if (evaluation.exitCode !== 0) deps.logger.warn("evaluation failed", { run_id: run.id, error: evaluation.lastError?.message });
      setRun(run.id, { status: "success", finishedAt: now() });
      deps.projects.setStatus(run.projectId, "completed");
      return { run_id: run.id, final_train_loss: lastTrainLoss, final_eval_loss: lastEvalLoss };
    },
  });

  function latestRun(projectId: string): TrainingRunRow | undefined {
    return db.select().from(trainingRuns).where(eq(trainingRuns.projectId, projectId)).orderBy(desc(trainingRuns.createdAt), desc(sql`rowid`)).limit(1).get();
  }

  function writeDataset(projectId: string, dir: string): { train: string; eval: string | null } {
    const write = (split: "train" | "eval") => {
      let n = 0;
      let text = "";
      for (const batch of deps.review.exportRows(projectId, split)) {
        for (const e of batch) text += exportLine("alpaca", e);
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

  return {
    latestRun,
    getRun,

    runs(projectId: string): TrainingRunRow[] {
      return db.select().from(trainingRuns).where(eq(trainingRuns.projectId, projectId)).orderBy(desc(trainingRuns.createdAt)).all();
    },

    runDir,

    start(projectId: string, config: TrainingConfig): { run: TrainingRunRow; jobId: string } {
      const project = deps.projects.get(projectId);
      deps.diskGuard?.();
      const stats = deps.review.stats(projectId);
      if (stats.by_split.train.count + stats.by_split.eval.count < MIN_VALID_EXAMPLES) {
        throw new AppError(409, "dataset_not_ready", `The dataset needs at least ${MIN_VALID_EXAMPLES} valid train/eval examples first.`);
      }
      const hw = project.hardwareInfo as { recommended_method?: "lora" | "qlora" | null; cuda_available?: boolean; bnb_available?: boolean } | null;
      if (!hw) throw new AppError(409, "hardware_not_checked", "Check the hardware first (Hardware step).");
      const method = config.method ?? hw.recommended_method ?? "lora";
      if (method === "qlora" && !(hw.cuda_available && hw.bnb_available)) {
        throw new AppError(409, "qlora_unavailable", "QLoRA needs a CUDA GPU with a working bitsandbytes; this machine has none. Use LoRA.");
      }
      const active = db.select().from(trainingRuns).where(and(eq(trainingRuns.projectId, projectId), inArray(trainingRuns.status, ["queued", "running"]))).get();
      if (active) throw new AppError(409, "training_running", "A training run of this project is already queued or running.");
      const info = project.modelInfo as ModelInfo | null;
      if (!info) throw new AppError(409, "model_not_resolved", "Resolve a base model first (Model step).");
      const id = crypto.randomUUID();
      const dir = runDir(projectId, id);
      mkdirSync(dir, { recursive: true });
      const data = writeDataset(projectId, dir);
      const full = { ...config, method };
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
        gradient_checkpointing: hw.cuda_available === true,
        logging_steps: 1,
        trust_remote_code: info.warnings.some((w) => w.includes("trust_remote_code")),
        ...(full.max_steps ? { max_steps: full.max_steps } : {}),
      };
      writeFileSync(join(dir, "run.json"), JSON.stringify(trainerConfig, null, 2));
      writeFileSync(
        join(dir, "provenance.json"),
        JSON.stringify({ Project: project.name, "Valid examples": stats.valid, "Train / eval": `${stats.by_split.train.count} / ${stats.by_split.eval.count}`, "Duplicates removed": stats.duplicates_removed }),
      );
      db.insert(trainingRuns).values({ id, projectId, status: "queued", method, config: full, outputDir: dir, createdAt: now() }).run();
      deps.projects.updateConfig(projectId, { training: full });
      const job = deps.queue.enqueue(TRAINING_JOB, projectId, { runId: id, resume: false });
      setRun(id, { jobId: job.id });
      return { run: getRun(id)!, jobId: job.id };
    },

    resume(projectId: string, runId?: string): { run: TrainingRunRow; jobId: string } {
      const run = runId ? getRun(runId) : latestRun(projectId);
      if (!run || run.projectId !== projectId) throw new AppError(404, "run_not_found", "Training run not found.");
      if (run.status !== "interrupted" && run.status !== "cancelled") throw new AppError(409, "run_not_resumable", `Only an interrupted or cancelled run can resume (this one is ${run.status}).`);
      setRun(run.id, { status: "queued" });
      const job = deps.queue.enqueue(TRAINING_JOB, projectId, { runId: run.id, resume: true });
      setRun(run.id, { jobId: job.id });
      return { run: getRun(run.id)!, jobId: job.id };
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
      return this.runs(projectId).map((r) => ({
        run_id: r.id,
        label: `${new Date(r.createdAt).toISOString().slice(0, 16).replace("T", " ")} · ${r.method} · ${r.status}`,
        points: (
          db.$client.query("select step, json_extract(data, '$.train_loss') as loss from run_metrics where run_id = ? and event = 'log' order by seq").all(r.id) as { step: number; loss: number }[]
        ).map((p) => [p.step, p.loss]),
      }));
    },

    eventsAfter(runId: string, afterSeq: number): RunEvent[] {
      return db
        .select({ seq: runMetrics.seq, event: runMetrics.event, data: runMetrics.data })
        .from(runMetrics)
        .where(and(eq(runMetrics.runId, runId), gt(runMetrics.seq, afterSeq)))
        .orderBy(runMetrics.seq)
        .all() as RunEvent[];
    },

    lastEvent(runId: string, event: string): Record<string, unknown> | null {
      return (db.select({ data: runMetrics.data }).from(runMetrics).where(and(eq(runMetrics.runId, runId), eq(runMetrics.event, event))).orderBy(desc(runMetrics.seq)).limit(1).get()?.data as Record<string, unknown>) ?? null;
    },

    status(projectId: string) {
      deps.projects.get(projectId);
      const run = latestRun(projectId);
      if (!run) return null;
      const job = run.jobId ? db.select().from(jobs).where(eq(jobs.id, run.jobId)).get() : undefined;
      const log = this.lastEvent(run.id, "log") as { step?: number; total_steps?: number; train_loss?: number; learning_rate?: number; epoch?: number } | null;
      const evalEvent = this.lastEvent(run.id, "eval") as { eval_loss?: number } | null;
      const terminal = run.status === "success" || run.status === "failed" || run.status === "cancelled" || run.status === "interrupted";
      return {
        run_id: run.id,
        job_id: run.jobId,
        status: run.status,
        progress_pct: run.status === "success" ? 100 : (job?.progressPct ?? 0),
        current_metrics: {
          step: log?.step ?? 0,
          total_steps: log?.total_steps ?? 0,
          train_loss: log?.train_loss ?? null,
          eval_loss: evalEvent?.eval_loss ?? null,
          learning_rate: log?.learning_rate ?? null,
          epoch: log?.epoch ?? null,
        },
        started_at: run.startedAt ? new Date(run.startedAt).toISOString() : null,
        elapsed_seconds: run.startedAt ? Math.round(((terminal && run.finishedAt ? run.finishedAt : now()) - run.startedAt) / 100) / 10 : null,
        queue_position: run.jobId ? deps.queue.queuePosition(run.jobId) : 0,
        error_code: run.errorCode,
        error_message: run.errorMessage,
      };
    },
  };
}

export type TrainingService = ReturnType<typeof createTrainingService>;
