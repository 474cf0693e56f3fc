import { isActiveJob } from "../../src/jobs/schemas.ts";
import type { ProbeRecord } from "../../src/training/schemas.ts";
import type { ProbeData } from "../../src/training/step.ts";
import { JobProgress } from "./JobProgress.tsx";


/**
 * "Measure on this GPU" (Hardware and Train steps): a few real steps at the planned
 * settings. While the measurement runs the panel re-fetches itself; the plan then uses
 * the measured peak and speed. On the Train step the button sits in the Train form, so htmx sends the form's settings.
 */
export function ProbePanel(props: { projectId: string; step: "hardware" | "train"; data: ProbeData; gpu: boolean }) {
  const { job, result, error } = props.data;
  const active = job && isActiveJob(job.status);
  const where = props.gpu ? "this GPU" : "this machine";
  const url = `/projects/${props.projectId}/hardware/probe`;
  const polling = active ? { "hx-get": `${url}/panel?step=${props.step}`, "hx-trigger": "every 2s", "hx-swap": "outerHTML" } : {};
  const button = (
    <button type="button" class="btn" hx-post={url} hx-vals={JSON.stringify({ step: props.step })} hx-target="#wizard" hx-swap="outerHTML" disabled={active} aria-describedby="probe-hint">
      {result ? `Measure again on ${where}` : `Measure on ${where}`}
    </button>
  );
  return (
    <section id="probe-panel" class="panel probe" aria-labelledby="probe-title" {...polling}>
      <h3 id="probe-title">Measure on {where}</h3>
      <p id="probe-hint" class="muted">
        Six real training steps at {props.step === "train" ? "the settings above" : "the planned settings"}, longest examples first: the peak memory and the speed, measured. If
        they run out of memory it lowers the batch, then the sequence length, then turns on checkpointing, then tries QLoRA, and says what fits.
      </p>
      {button}
      {error ? (
        <p class="error-text" role="alert">
          {error}
        </p>
      ) : null}
      {active ? <JobProgress job={job} label="Measuring" poll={false} cancellable={false} /> : null}
      {job?.status === "failed" ? (
        <p class="error-text" role="alert">
          The measurement failed: {job.error_message}
        </p>
      ) : null}
      {result && !active ? <ProbeResult result={result} /> : null}
    </section>
  );
}

function ProbeResult({ result }: { result: ProbeRecord }) {
  const c = result.chosen;
  return (
    <>
      <dl class="facts-grid probe-facts" data-testid="probe-result">
        <div>
          <dt>Fits</dt>
          <dd>{result.fits ? "Yes" : "No"}</dd>
        </div>
        <div>
          <dt>Peak memory</dt>
          <dd>
            {result.peak_vram_gb !== null ? `${result.peak_vram_gb} GB measured` : "— (no GPU)"}
            {result.peak_vram_gb !== null && result.estimate_allocated_gb ? ` (estimated ${result.estimate_allocated_gb} GB)` : ""}
          </dd>
        </div>
        <div>
          <dt>Speed</dt>
          <dd>{result.tokens_per_second !== null ? `${Math.round(result.tokens_per_second).toLocaleString("en")} tokens/s` : "—"}</dd>
        </div>
        <div>
          <dt>Settings that fit</dt>
          <dd>{c ? `${c.method === "qlora" ? "QLoRA" : "LoRA"} · batch ${c.per_device_batch_size} · ${c.max_seq_length} tokens · checkpointing ${c.checkpointing}` : "none"}</dd>
        </div>
        <div>
          <dt>Trainer</dt>
          <dd>
            {result.attn_implementation ?? "—"} · packing {result.packing ? "on" : "off"} · Liger {result.liger ? "on" : "off"}
          </dd>
        </div>
        <div>
          <dt>Measured</dt>
          <dd>
            <time datetime={result.checked_at}>{result.checked_at.slice(0, 16).replace("T", " ")}</time> on {result.device}
          </dd>
        </div>
      </dl>
      {result.changes.length ? <p class="warning-text">The planned settings ran out of memory: {result.changes.join(", then ")}.</p> : null}
    </>
  );
}
