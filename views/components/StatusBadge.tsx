import { html } from "hono/html";

const LABELS: Record<string, string> = {
  draft: "Draft",
  uploading: "Uploading",
  chunking: "Chunking",
  generating: "Generating",
  ready_to_train: "Ready to train",
  training: "Training",
  evaluating: "Evaluating",
  completed: "Completed",
  failed: "Failed",
  queued: "Queued",
  running: "Running",
  success: "Success",
  retrying: "Retrying",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
  ready: "Ready",
  extracting: "Processing",
  needs_mapping: "Needs mapping",
};

export const statusLabel = (status: string) => LABELS[status] ?? status;

/** The same pill as an html`` template, for long lists rendered outside JSX. */
export const statusBadge = (status: string) => html`<span class="badge status-${status}">${statusLabel(status)}</span>`;

/** A coloured pill for any status the product has (projects, jobs, runs, files). */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge status-${props.status}`}>{statusLabel(props.status)}</span>;
}
