/** Jobs as the API and the JobProgress component see them (PRODUCT.md's Job shape). */
import type { JobRow } from "../db/schema.ts";

export const JOB_STATUSES = ["queued", "running", "success", "failed", "retrying", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

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
