/**
 * A run as the Train step and `GET /api/projects/:id/train/status` see it: progress,
 * the latest metrics, how the trainer runs it, and whether (and from where) it resumes.
 */
import type { JobRow } from "../jobs/table.ts";
import type { RunStore } from "./run-store.ts";
import { checkpointStep } from "./run-store.ts";
import { isFinishedRun, isResumableRun } from "./schemas.ts";
import type { TrainingRunRow } from "./tables.ts";

export function runStatusView(run: TrainingRunRow, job: JobRow | undefined, store: Pick<RunStore, "lastEvent">, queuePosition: number, now: number) {
  const log = store.lastEvent(run.id, "log");
  const evalEvent = store.lastEvent(run.id, "eval");
  const started = store.lastEvent(run.id, "started");
  const terminal = isFinishedRun(run.status);
  const resumable = isResumableRun(run.status);
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
    /** How the trainer runs this attempt (its `started` event): device, processes, packing, attention, Liger. */
    execution: started
      ? {
          device: started.device,
          world_size: started.world_size ?? 1,
          packing: started.packing ?? null,
          attn_implementation: started.attn_implementation ?? null,
          liger: started.liger ?? null,
          checkpointed_layers: started.checkpointed_layers ?? null,
          decoder_layers: started.decoder_layers ?? null,
        }
      : null,
    started_at: run.startedAt ? new Date(run.startedAt).toISOString() : null,
    elapsed_seconds: run.startedAt ? Math.round(((terminal && run.finishedAt ? run.finishedAt : now) - run.startedAt) / 100) / 10 : null,
    queue_position: queuePosition,
    error_code: run.errorCode,
    error_message: run.errorMessage,
    /** The checkpoint a resume continues from (not the last step reached). */
    resume_from_step: resumable ? checkpointStep(run.outputDir) : null,
    preference_round: run.config.preference ?? null,
  };
}
