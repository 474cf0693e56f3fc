import { isFinishedJob } from "../../src/jobs/schemas.ts";
import type { JobView } from "../../src/jobs/schemas.ts";
import { StatusBadge } from "./StatusBadge.tsx";


/**
 * A job's bar, percentage and message. While the job is unfinished the fragment
 * re-fetches itself every 2 s; once finished it stops polling (the returned
 * fragment has no trigger) and announces the outcome to screen readers.
 */
export function JobProgress(props: { job: JobView; label?: string; cancellable?: boolean; poll?: boolean }) {
  const { job } = props;
  const finished = isFinishedJob(job.status);
  const pct = Math.round(job.progress_pct);
  const polling = finished || props.poll === false ? {} : { "hx-get": `/jobs/${job.id}/progress`, "hx-trigger": "every 2s", "hx-swap": "outerHTML" };
  return (
    <div class="job-progress" id={`job-${job.id}`} data-status={job.status} {...polling}>
      <div class="job-progress-head">
        <span class="job-progress-label">{props.label ?? job.type}</span>
        <StatusBadge status={job.status} />
      </div>
      <progress class="progress" max={100} value={pct} aria-label={`${props.label ?? job.type} progress`}>
        {pct}%
      </progress>
      <div class="job-progress-foot" aria-live="polite">
        <span>{pct}%</span>
        {job.progress_message ? <span> · {job.progress_message}</span> : null}
        {job.error_message ? <span class="error-text"> · {job.error_message}</span> : null}
      </div>
      {finished || props.cancellable === false ? null : (
        <button
          type="button"
          class="btn btn-small"
          hx-post={`/jobs/${job.id}/cancel`}
          hx-target={`#job-${job.id}`}
          hx-swap="outerHTML"
          hx-confirm="Cancel this job? Work done so far is kept."
          data-confirm-label="Cancel job"
        >
          Cancel
        </button>
      )}
    </div>
  );
}
