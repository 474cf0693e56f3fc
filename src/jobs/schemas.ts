/** Jobs as the API and the JobProgress component see them (the spec's Job type; README's API table). */
import { z } from "zod";
import type { JobRow } from "./table.ts";

export const JOB_STATUSES = ["queued", "running", "success", "failed", "retrying", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** A job in these statuses will still run (or is running): it holds its slot. */
export const ACTIVE_JOB_STATUSES = ["queued", "running", "retrying"] as const satisfies readonly JobStatus[];
/** A job in these statuses is over. */
export const FINISHED_JOB_STATUSES = ["success", "failed", "cancelled"] as const satisfies readonly JobStatus[];
export const isActiveJob = (status: string) => (ACTIVE_JOB_STATUSES as readonly string[]).includes(status);
export const isFinishedJob = (status: string) => (FINISHED_JOB_STATUSES as readonly string[]).includes(status);

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toJobJson(j: JobRow) {
  return {
    id: j.id,
    project_id: j.projectId,
    type: j.type,
    status: j.status,
    progress_pct: j.progressPct,
    progress_message: j.progressMessage,
    error_message: j.errorMessage,
    attempts: j.attempts,
    max_attempts: j.maxAttempts,
    created_at: iso(j.createdAt)!,
    started_at: iso(j.startedAt),
    finished_at: iso(j.finishedAt),
  };
}

export type JobView = ReturnType<typeof toJobJson>;

/** The spec's Job, as the API answers it. */
export const jobJsonSchema = z.object({
  id: z.string(),
  project_id: z.string().nullable().meta({ description: "Null for a machine-wide job (a hardware check outside a project)." }),
  type: z.string().meta({ description: "document_extract, dataset_import, dataset_preview, dataset_generate, hardware_check, training, evaluation, export, ollama_publish, …" }),
  status: z.enum(JOB_STATUSES),
  progress_pct: z.number(),
  progress_message: z.string().nullable(),
  error_message: z.string().nullable(),
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
/** What an operation that starts a job answers. */
export const jobStartedSchema = z.object({ job_id: z.string() });
