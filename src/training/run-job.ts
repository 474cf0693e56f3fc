/**
 * The `training` job: supervise `train`, then `evaluate`, then settle the run row.
 *
 * Store, then publish: the trainer's terminal events (`complete`, `error`,
 * `cancelled`) are held back until the run row says how the run ended, so a client
 * that reacts to `complete` by reading train/status sees `success`, never `running`.
 */
import { z } from "zod";
import { JobError, type JobContext } from "../jobs/queue.ts";
import type { Logger } from "../lib/logger.ts";
import type { TrainingRunRow } from "./tables.ts";
import type { TrainerEvent } from "./events.ts";
import type { TrainerClient } from "./trainer-client.ts";
import type { RunStore } from "./run-store.ts";

export const TRAINING_JOB = "training";
export const trainingJobPayload = z.object({ runId: z.string(), resume: z.boolean() });
const MAX_STDERR_LINES = 5000;
const TERMINAL = new Set(["complete", "error", "cancelled"]);

type Deps = {
  store: RunStore;
  trainer: TrainerClient;
  logger: Logger;
  now: () => number;
  setProjectStatus: (projectId: string, transition: "training_started" | "training_evaluating" | "training_stopped" | "training_succeeded" | "training_failed") => void;
  /** Fetches the base model's weights if missing; the env that points the trainer at them, offline. */
  prepareWeights: (projectId: string, signal: AbortSignal, progress: (pct: number, message: string) => void) => Promise<Record<string, string>>;
  /** After a run succeeds (the judged evaluation starts here). */
  onSucceeded?: (projectId: string) => void;
};

/** How often a download's progress is written to the run's event stream (the job's own progress follows every report). */
const DOWNLOAD_EVENT_EVERY_MS = 2000;

type Outcome = { exitCode: number; stopped: boolean; lastError: { error_code: string; message: string; advice: string | null } | null; spawnError?: string };

export function createTrainingJob(deps: Deps) {
  const { store } = deps;

  /** Runs `train`, storing each event; terminal ones come back unpublished. */
  async function train(run: TrainingRunRow, ctx: JobContext<z.infer<typeof trainingJobPayload>>, env: Record<string, string>) {
    const tail: string[] = [];
    const held: TrainerEvent[] = [];
    let stderrLines = 0;
    const losses = { train: run.finalTrainLoss, eval: run.finalEvalLoss };
    const outcome: Outcome = await deps.trainer.train(run.projectId, run.outputDir, ctx.payload.resume, {
      env,
      signal: ctx.signal,
      onEvent: (e) => {
        if (TERMINAL.has(e.event)) return void held.push(e);
        store.record(run.id, e);
        if (e.event === "log") losses.train = e.train_loss;
        if (e.event === "eval") losses.eval = e.eval_loss;
        if (e.event === "progress") ctx.progress(e.progress_pct * 0.95, e.step !== undefined ? `step ${e.step}/${e.total_steps}` : undefined);
      },
      onStderr: (line) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (++stderrLines <= MAX_STDERR_LINES) store.recordServer(run.id, "stderr", { line: line.slice(0, 2000) });
      },
      // Never drop a line silently: the user sees it in the trainer log.
      onRejected: (line, reason) => {
        deps.logger.warn("trainer line rejected", { run_id: run.id, reason, line: line.slice(0, 300) });
        store.recordServer(run.id, "stderr", { line: `[unreadable trainer output: ${reason}] ${line.slice(0, 500)}` });
      },
    });
    store.update(run.id, { finalTrainLoss: losses.train, finalEvalLoss: losses.eval });
    return { outcome, held, tail };
  }

  /** Before/after samples, eval loss and perplexity for the Export step. */
  async function evaluate(run: TrainingRunRow, ctx: JobContext<unknown>, env: Record<string, string>) {
    deps.setProjectStatus(run.projectId, "training_evaluating");
    ctx.progress(96, "evaluating");
    store.recordServer(run.id, "progress", { progress_pct: 100, message: "Evaluating the tuned model…" });
    const result = await deps.trainer.evaluate(run.projectId, run.outputDir, { samples: 5, maxNewTokens: 64 }, { env, signal: ctx.signal });
    if (result.failure) deps.logger.warn("evaluation failed", { run_id: run.id, error: result.failure });
  }

  function failureMessage(o: Outcome, tail: string[]): { code: string; message: string } {
    if (o.spawnError) return { code: "trainer_not_started", message: `The trainer could not start: ${o.spawnError}. Check FTF_PYTHON and the Python env (npm start sets it up).` };
    if (o.lastError) return { code: o.lastError.error_code, message: `${o.lastError.message}${o.lastError.advice ? ` ${o.lastError.advice}` : ""}` };
    return { code: "trainer_crashed", message: `The trainer stopped unexpectedly (exit code ${o.exitCode}). Last log lines: ${tail.slice(-3).join(" | ")}` };
  }

  async function run(ctx: JobContext<z.infer<typeof trainingJobPayload>>) {
    const run = store.get(ctx.payload.runId);
    if (!run) return { skipped: "run deleted" };
    const held: TrainerEvent[] = [];
    try {
      if (ctx.payload.resume) store.dropPointsAfterCheckpoint(run);
      store.update(run.id, { status: "running", jobId: ctx.job.id, startedAt: run.startedAt ?? deps.now(), errorCode: null, errorMessage: null, finishedAt: null });
      deps.setProjectStatus(run.projectId, "training_started");
      const env = await weightsFirst(run, ctx);
      const trained = await train(run, ctx, env);
      held.push(...trained.held);
      const { outcome } = trained;
      if (outcome.stopped) {
        store.update(run.id, { status: ctx.signal.reason === "shutdown" ? "interrupted" : "cancelled", finishedAt: deps.now() });
        deps.setProjectStatus(run.projectId, "training_stopped");
        store.publishHeld(run.id, held);
        throw ctx.signal.reason ?? new DOMException("cancelled", "AbortError");
      }
      if (outcome.exitCode !== 0) {
        const { code, message } = failureMessage(outcome, trained.tail);
        settleFailed(run, code, message, held);
        throw new JobError(message);
      }
      await evaluate(run, ctx, env);
      store.update(run.id, { status: "success", finishedAt: deps.now() });
      deps.setProjectStatus(run.projectId, "training_succeeded");
      store.publishHeld(run.id, held);
      deps.onSucceeded?.(run.projectId);
      const final = store.get(run.id)!;
      return { run_id: run.id, final_train_loss: final.finalTrainLoss, final_eval_loss: final.finalEvalLoss };
    } catch (err) {
      // Whatever went wrong, the run never stays `running`.
      const current = store.get(run.id);
      if (current && (current.status === "running" || current.status === "queued")) {
        const message = err instanceof Error ? err.message : String(err);
        settleFailed(run, "training_failed", `Training failed: ${message}`, held);
      }
      throw err;
    }
  }

  /** The base model's weights before the trainer starts; a cancel here ends the run like a cancel in training. */
  async function weightsFirst(run: TrainingRunRow, ctx: JobContext<unknown>): Promise<Record<string, string>> {
    let lastEvent = 0;
    try {
      const env = await deps.prepareWeights(run.projectId, ctx.signal, (pct, message) => {
        ctx.progress(0, message);
        if (deps.now() - lastEvent < DOWNLOAD_EVENT_EVERY_MS) return;
        lastEvent = deps.now();
        store.recordServer(run.id, "progress", { progress_pct: 0, message });
      });
      return env;
    } catch (err) {
      if (ctx.signal.aborted) {
        store.update(run.id, { status: ctx.signal.reason === "shutdown" ? "interrupted" : "cancelled", finishedAt: deps.now() });
        deps.setProjectStatus(run.projectId, "training_stopped");
        store.publishHeld(run.id, [{ event: "cancelled", step: 0, checkpoint_path: null, adapter_path: null }]);
        throw ctx.signal.reason ?? err;
      }
      const message = err instanceof Error ? err.message : String(err);
      settleFailed(run, "download_failed", `The base model could not be downloaded: ${message}`, []);
      throw new JobError(message);
    }
  }

  function settleFailed(run: TrainingRunRow, code: string, message: string, held: TrainerEvent[]) {
    store.update(run.id, { status: "failed", finishedAt: deps.now(), errorCode: code, errorMessage: message });
    deps.setProjectStatus(run.projectId, "training_failed");
    // A client must always see why the run ended, even when the trainer said nothing.
    if (!held.some((e) => e.event === "error")) held.push({ event: "error", error_code: code, message, advice: null });
    store.publishHeld(run.id, held);
  }

  return { run };
}
