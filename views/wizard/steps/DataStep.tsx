import { fromBody, HTMX_EVENTS } from "../../htmx.ts";
import type { FileJson } from "../../../src/documents/schemas.ts";
import { MAX_FILE_BYTES } from "../../../src/documents/schemas.ts";
import { formatBytes, plural } from "../../../src/lib/format.ts";
import type { ProjectSummary } from "../../../src/projects/schemas.ts";
import type { StepState } from "../../../src/wizard/steps.ts";
import { StatusBadge } from "../../components/StatusBadge.tsx";
import { WizardChromeOob } from "../WizardPage.tsx";

const MB = Math.round(MAX_FILE_BYTES / 1024 / 1024);

export function DataStep(props: { project: ProjectSummary; states: StepState[]; files: FileJson[] }) {
  const { project } = props;
  return (
    <div class="data-step">
      <DropZone
        projectId={project.id}
        kind="raw_doc"
        title="Documents"
        accept=".pdf,.docx,.txt,.md"
        help={`PDF, DOCX, TXT or MD — up to ${MB} MB each. A local model writes training examples from them in the next step.`}
      />
      <DropZone
        projectId={project.id}
        kind="dataset_upload"
        title="Or a ready dataset"
        accept=".jsonl,.json,.csv"
        help="JSONL, JSON (an array of objects) or CSV with instruction/output, question/answer, or chat messages."
      />
      <FileList projectId={project.id} files={props.files} />
    </div>
  );
}

function DropZone(props: { projectId: string; kind: string; title: string; accept: string; help: string }) {
  const id = `${props.kind}-input`;
  return (
    <section class="upload-section" aria-labelledby={`${props.kind}-title`}>
      <h3 id={`${props.kind}-title`}>{props.title}</h3>
      <div
        class="dropzone"
        x-data="uploadZone"
        x-bind:class="dropClass"
        x-on:dragover="dragOver"
        x-on:dragleave="dragLeave"
        x-on:drop="drop"
        data-dropzone
        data-upload-url={`/api/projects/${props.projectId}/files/upload`}
        data-kind={props.kind}
        data-accept={props.accept}
        data-max-bytes={String(MAX_FILE_BYTES)}
        data-changed-event={HTMX_EVENTS.filesChanged}
      >
        <p>
          Drag &amp; drop files here, or{" "}
          <label for={id} class="link-label" tabindex={0} role="button" {...{ "x-on:keydown.enter": "browse" }} {...{ "x-on:keydown.space": "browse" }}>
            browse your computer
          </label>
        </p>
        <p class="field-hint">{props.help}</p>
        <input id={id} type="file" multiple accept={props.accept} class="visually-hidden" x-ref="input" x-on:change="pick" />
        <ul class="upload-queue" aria-live="polite" aria-label="Uploads in progress">
          <template x-for="item in items" x-bind:key="item.id">
            <li x-bind:class="item.cls">
              <span class="upload-name" x-text="item.name"></span>
              <progress class="progress" max={100} x-show="item.uploading" x-bind:value="item.progress" x-bind:aria-label="item.label"></progress>
              <span class="upload-status" x-text="item.status"></span>
            </li>
          </template>
        </ul>
      </div>
    </section>
  );
}

/**
 * Keep polling while a file is processed, and for a few seconds after one arrives:
 * a refresh answered between two uploads of one batch must not be the last word.
 */
const inProgress = (files: FileJson[]) =>
  files.some((f) => f.status === "uploading" || f.status === "extracting" || Date.now() - Date.parse(f.created_at) < 10_000);

/** The uploaded files; refreshes itself while any file is still being processed. */
export function FileList(props: { projectId: string; files: FileJson[] }) {
  const trigger = inProgress(props.files) ? `every 2s, ${fromBody(HTMX_EVENTS.filesChanged)}` : fromBody(HTMX_EVENTS.filesChanged);
  return (
    <section id="file-list" class="file-list" aria-labelledby="file-list-title" hx-get={`/projects/${props.projectId}/files/list`} hx-trigger={trigger} hx-sync="this:queue last" hx-swap="outerHTML">
      <h3 id="file-list-title">Uploaded files</h3>
      {props.files.length === 0 ? (
        <p class="muted">Nothing uploaded yet.</p>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Size</th>
              <th scope="col">Status</th>
              <th scope="col">Details</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.files.map((f) => (
              <FileRow projectId={props.projectId} file={f} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function FileRow({ projectId, file: f }: { projectId: string; file: FileJson }) {
  return (
    <tr data-file-id={f.id}>
      <td class="file-name">
        {f.filename}
        <span class="muted"> · {f.kind === "raw_doc" ? "document" : "dataset"}</span>
      </td>
      <td>{formatBytes(f.size_bytes)}</td>
      <td>
        <StatusBadge status={f.status} />
      </td>
      <td class="file-details">
        <FileDetails projectId={projectId} file={f} />
      </td>
      <td>
        <button
          type="button"
          class="btn btn-small btn-danger-outline"
          aria-label={`Delete ${f.filename}`}
          hx-delete={`/projects/${projectId}/files/${f.id}`}
          hx-target="#file-list"
          hx-swap="outerHTML"
          hx-confirm={`Delete “${f.filename}” with its chunks and the examples made from it?`}
          data-confirm-label="Delete file"
        >
          Delete
        </button>
      </td>
    </tr>
  );
}

function FileDetails({ projectId, file: f }: { projectId: string; file: FileJson }) {
  const d = f.details;
  if (f.status === "failed") return <span class="error-text">{f.error_message}</span>;
  if (f.status === "extracting") return <span class="muted">{f.kind === "raw_doc" ? "Extracting text…" : "Importing…"}</span>;
  if (f.status === "needs_mapping") return <MappingForm projectId={projectId} file={f} />;
  if (f.kind === "dataset_upload") return <span>{d.summary}</span>;
  return (
    <span>
      {f.page_count ? `${plural(f.page_count, "page")} · ` : ""}
      {plural(f.char_count ?? 0, "character")} · {plural(d.chunks ?? 0, "chunk")}
      {d.encoding && d.encoding !== "utf-8" ? ` · ${d.encoding}` : ""}
      {(d.warnings ?? []).map((w) => (
        <span class="warning-text"> · {w}</span>
      ))}
    </span>
  );
}

function MappingForm({ projectId, file: f }: { projectId: string; file: FileJson }) {
  const columns = f.details.columns ?? [];
  const select = (name: string, label: string, optional: boolean) => (
    <label class="mapping-field">
      {label}
      <select name={name} required={!optional}>
        {optional ? <option value="">— none —</option> : <option value="">Choose…</option>}
        {columns.map((c) => (
          <option value={c}>{c}</option>
        ))}
      </select>
    </label>
  );
  return (
    <form class="mapping-form" hx-post={`/projects/${projectId}/files/${f.id}/mapping`} hx-target="#file-list" hx-swap="outerHTML">
      <p>Which column is which? Columns found: {columns.join(", ")}</p>
      {select("instruction", "Instruction / question", false)}
      {select("input", "Input / context", true)}
      {select("output", "Output / answer", false)}
      <button type="submit" class="btn btn-small btn-primary">
        Import with these columns
      </button>
    </form>
  );
}

/** The list plus the wizard's progress bar and Prev/Next, refreshed out of band. */
export function FileListFragment(props: { project: ProjectSummary; states: StepState[]; files: FileJson[] }) {
  return (
    <>
      <FileList projectId={props.project.id} files={props.files} />
      <WizardChromeOob projectId={props.project.id} steps={props.states} current="data" />
    </>
  );
}
