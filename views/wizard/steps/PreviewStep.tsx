import { isActiveJob } from "../../../src/jobs/schemas.ts";
import { formatCount } from "../../../src/lib/format.ts";
import type { ProjectSummary } from "../../../src/projects/schemas.ts";
import type { PreviewData } from "../../../src/generation/step.ts";
import type { StepState } from "../../../src/wizard/steps.ts";
import { JobProgress } from "../../components/JobProgress.tsx";
import { WizardChromeOob } from "../WizardPage.tsx";


const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function PreviewStep(props: { project: ProjectSummary; data: PreviewData }) {
  const { project } = props;
  return (
    <div class="preview-step">
      <p>A local model served by Ollama writes examples from your documents. Judge 10 first, then generate the full dataset.</p>
      <form class="generate-form" hx-post={`/projects/${project.id}/preview`} hx-target="#preview-panel" hx-swap="outerHTML" hx-disabled-elt="find button" hx-disinherit="*">
        <div id="model-picker" hx-get={`/projects/${project.id}/generation/models`} hx-trigger="load" hx-target="this" hx-swap="outerHTML">
          <p class="muted">Looking for installed models…</p>
        </div>
        <button type="submit" class="btn btn-primary">
          Generate Preview (10 examples)
        </button>
      </form>
      <PreviewPanel project={project} data={props.data} />
    </div>
  );
}

export function ModelPicker(props: { models: string[]; selected?: string; error?: string }) {
  if (props.error || props.models.length === 0) {
    return (
      <div id="model-picker" class="panel panel-error" role="alert">
        <strong>{props.error ? "Ollama is not available" : "No models installed"}</strong>
        <p>{props.error ?? "Ollama runs but has no models. Install one with `ollama pull llama3.1:8b`, then reload this page."}</p>
      </div>
    );
  }
  return (
    <div id="model-picker" class="field">
      <label for="gen-model">Generation model</label>
      <select id="gen-model" name="model">
        {props.models.map((m) => (
          <option value={m} selected={m === props.selected}>
            {m}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Refreshes itself every 2 s while a generation job runs; stops when none does. */
export function PreviewPanel(props: { project: ProjectSummary; data: PreviewData }) {
  const { previewJob, fullJob, previewExamples, chunkCount } = props.data;
  const active = [previewJob, fullJob].some((j) => j && isActiveJob(j.status));
  const poll = active ? { "hx-get": `/projects/${props.project.id}/preview/panel`, "hx-trigger": "every 2s", "hx-swap": "outerHTML" } : {};
  const valid = previewExamples.filter((e) => e.isValid).length;
  const filtered = previewJob?.result?.filtered ?? {};
  const filteredCount = previewExamples.length - valid;
  const speed = previewJob?.result?.examples_per_second ?? null;
  // A second look is one short call per example: the preview's seconds per request.
  const secondsPerCall = previewJob?.result?.seconds && previewJob.result.requests ? previewJob.result.seconds / previewJob.result.requests : null;
  return (
    <section id="preview-panel" class="preview-panel" aria-live="polite" {...poll}>
      {previewJob && isActiveJob(previewJob.status) ? <JobProgress job={previewJob} label="Preview" poll={false} /> : null}
      {previewJob?.status === "failed" ? (
        <div class="panel panel-error" role="alert">
          <strong>The preview failed</strong>
          <p>{previewJob.error_message}</p>
        </div>
      ) : null}
      {previewExamples.length > 0 ? (
        <>
          <div class="preview-summary">
            <span class="badge status-success">
              {valid}/{previewExamples.length} valid
            </span>
            {filteredCount > 0 ? <span class="badge status-failed">{filteredCount} filtered out</span> : null}
            {previewJob?.result?.duplicates_removed ? <span class="badge">{previewJob.result.duplicates_removed} duplicates removed</span> : null}
          </div>
          {props.data.advice ? (
            <div class="panel panel-warning" role="status" data-testid="preview-advice">
              <strong>{props.data.advice.headline}</strong>
              <p>{props.data.advice.cause}</p>
              <p>{props.data.advice.tryThis}</p>
            </div>
          ) : null}
          {Object.keys(filtered).length > 0 ? (
            <ul class="filter-reasons">
              {Object.entries(filtered).map(([reason, n]) => (
                <li>
                  {n} × {reason}
                </li>
              ))}
            </ul>
          ) : null}
          <table class="table preview-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{props.project.taskType === "qa" ? "Question" : "Instruction"}</th>
                <th scope="col">{props.project.taskType === "qa" ? "Answer" : "Output"} (truncated)</th>
                <th scope="col">Valid</th>
              </tr>
            </thead>
            <tbody>
              {previewExamples.map((e, i) => (
                <tr class={e.isValid ? "" : "invalid-row"}>
                  <td>{i + 1}</td>
                  <td>{truncate(e.instruction, 160)}</td>
                  <td>{truncate(e.output, 200)}</td>
                  <td title={e.validationError ?? "valid"}>
                    {e.isValid ? <span aria-label="valid">✓</span> : <span aria-label={`invalid: ${e.validationError}`}>✗ {e.validationError}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <FullGeneration projectId={props.project.id} fullJob={fullJob} speed={speed} chunkCount={chunkCount} model={(props.project.config as { generation_model?: string }).generation_model} secondsPerCall={secondsPerCall} />
        </>
      ) : null}
    </section>
  );
}

function FullGeneration(props: { projectId: string; fullJob?: PreviewData["fullJob"]; speed: number | null; chunkCount: number; model?: string; secondsPerCall?: number | null }) {
  const job = props.fullJob;
  if (job && isActiveJob(job.status)) return <JobProgress job={job} label="Full dataset" poll={false} />;
  const target = 2000;
  const minutes = props.speed ? Math.max(1, Math.round(target / props.speed / 60)) : null;
  return (
    <div class="full-generation">
      {job?.status === "success" ? (
        <p class="panel panel-success">
          ✓ {formatCount(job.result?.valid ?? 0)} examples generated
          {job.result?.duplicates_removed ? `, ${formatCount(job.result.duplicates_removed)} duplicates removed` : ""}. Continue to Review.
          {job.result?.dedup ? <span class="muted"> Near-duplicates found by {job.result.dedup}.</span> : null}
        </p>
      ) : null}
      {job?.status === "success" && job.result ? <StoppedShort result={job.result} /> : null}
      {job?.status === "failed" ? (
        <div class="panel panel-error" role="alert">
          <strong>The generation stopped</strong>
          <p>{job.error_message} The examples made so far are kept.</p>
        </div>
      ) : null}
      <form class="generate-form" hx-post={`/projects/${props.projectId}/generate`} hx-target="#preview-panel" hx-swap="outerHTML">
        <input type="hidden" name="model" value={props.model ?? ""} />
        <div class="field field-inline">
          <label for="target">Target examples</label>
          <input id="target" name="target" type="number" min={10} max={100000} step={1} value={String(target)} />
        </div>
        <p class="field-hint" id="projection" data-speed={props.speed ? String(props.speed) : ""} data-chunks={String(props.chunkCount)} aria-live="polite">
          {minutes
            ? `At the preview's pace (${props.speed!.toFixed(2)} examples/s), about ${minutes} min for ${formatCount(target)} examples, spread over ${formatCount(Math.min(props.chunkCount, target))} of ${formatCount(props.chunkCount)} chunks.`
            : `${formatCount(props.chunkCount)} chunks available.`}
        </p>
        <label class="field-check">
          <input type="checkbox" name="answerability_check" aria-describedby="second-look-cost" />
          Second look: a model checks that each question is answered by its passage and each answer says what the passage says
        </label>
        <p class="field-hint" id="second-look-cost">
          Costs one more LLM call per example: about {formatCount(target)} more calls
          {props.secondsPerCall ? `, ≈ ${Math.max(1, Math.round((target * props.secondsPerCall) / 60))} min more at the preview's pace` : ""}. Examples it rejects stay in Review with its reason.
        </p>
        <button type="submit" class="btn btn-primary">
          Generate Full Dataset
        </button>
      </form>
    </div>
  );
}

/** Why a finished generation gave fewer examples than asked, and what to do about it. */
function StoppedShort({ result }: { result: NonNullable<NonNullable<PreviewData["fullJob"]>["result"]> }) {
  if (!result.target || !result.stopped || result.stopped === "target" || (result.valid ?? 0) >= result.target) return null;
  const got = `${formatCount(result.valid ?? 0)} of the ${formatCount(result.target)} examples asked for`;
  return (
    <div class="panel panel-warning" role="status" data-stopped={result.stopped}>
      <strong>The generation stopped at {got}</strong>
      {result.stopped === "documents_exhausted" ? (
        <p>
          The documents gave nothing new after that
          {result.chunks_total ? ` (${formatCount(result.chunks_exhausted ?? 0)} of ${formatCount(result.chunks_total)} passages kept repeating what was already asked)` : ""}. Add documents for more, or
          continue with these.
        </p>
      ) : (
        <p>
          After {formatCount(result.requests ?? 0)} requests most answers still failed the checks (ungrounded, malformed or repeated). A larger generation model usually
          does better; the refused examples are in Review with their reasons.
        </p>
      )}
    </div>
  );
}

export function PreviewPanelFragment(props: { project: ProjectSummary; states: StepState[]; data: Record<string, unknown> }) {
  return (
    <>
      <PreviewPanel project={props.project} data={props.data as PreviewData} />
      <WizardChromeOob projectId={props.project.id} steps={props.states} current="preview" />
    </>
  );
}
