import { isActiveJob } from "../../../src/jobs/schemas.ts";
import type { ProjectSummary } from "../../../src/projects/schemas.ts";
import { JobProgress } from "../../components/JobProgress.tsx";
import { ProbePanel } from "../../components/ProbePanel.tsx";
import type { HardwareData } from "../../../src/training/step.ts";
import type { ProjectHardware } from "../../../src/training/schemas.ts";


export function HardwareStep(props: { project: ProjectSummary; data: HardwareData }) {
  const { job, hw } = props.data;
  const active = job && isActiveJob(job.status);
  const id = props.project.id;
  return (
    <div class="hardware-step" {...(active ? { "hx-get": `/projects/${id}/step/hardware`, "hx-trigger": "every 2s", "hx-target": "#wizard", "hx-swap": "outerHTML" } : {})}>
      <p>Checks the GPU this machine can train on, and whether LoRA (16-bit) or QLoRA (4-bit) fits this model and dataset.</p>
      <form hx-post={`/projects/${id}/hardware`} hx-target="#wizard" hx-swap="outerHTML" hx-disinherit="*">
        <button type="submit" class="btn btn-primary" disabled={active}>
          {hw ? "Check again" : "Check Hardware"}
        </button>
      </form>
      {active ? <JobProgress job={job} label="Checking the hardware" poll={false} cancellable={false} /> : null}
      {job?.status === "failed" ? (
        <div class="panel panel-error" role="alert">
          <strong>The hardware check failed</strong>
          <p>{job.error_message}</p>
        </div>
      ) : null}
      {hw ? <HardwarePanel hw={hw} /> : null}
      {hw ? <ProbePanel projectId={id} step="hardware" data={props.data.probe} gpu={hw.cuda_available} /> : null}
    </div>
  );
}

function HardwarePanel({ hw }: { hw: ProjectHardware }) {
  const yes = (b: boolean) => (b ? "Yes" : "No");
  const est = hw.estimate;
  return (
    <>
      <dl class="facts-grid hardware-facts">
        <div>
          <dt>GPU</dt>
          <dd>{hw.gpu_name ? `${hw.gpu_name}${hw.gpu_count > 1 ? ` × ${hw.gpu_count}` : ""}` : "None (CPU only)"}</dd>
        </div>
        <div>
          <dt>VRAM total / free</dt>
          <dd>{hw.vram_total_gb !== null ? `${hw.vram_total_gb} GB / ${hw.vram_free_gb} GB` : "—"}</dd>
        </div>
        <div>
          <dt>CUDA</dt>
          <dd>{hw.cuda_available ? `Yes (${hw.cuda_version})` : "No"}</dd>
        </div>
        <div>
          <dt>PyTorch</dt>
          <dd class="mono">{hw.torch_version ?? "—"}</dd>
        </div>
        <div>
          <dt>bitsandbytes (4-bit)</dt>
          <dd title={hw.bnb_error ?? ""}>{yes(hw.bnb_available)}</dd>
        </div>
        <div>
          <dt>CPU / RAM</dt>
          <dd>
            {hw.cpu_count} cores{hw.ram_total_gb ? ` / ${hw.ram_total_gb} GB` : ""}
          </dd>
        </div>
      </dl>
      <section class={`panel ${hw.recommended_method ? "panel-success" : "panel-error"} recommendation`} aria-labelledby="rec-title">
        <h3 id="rec-title">{hw.recommended_method ? `Recommended: ${hw.recommended_method === "qlora" ? "QLoRA (4-bit)" : "LoRA (16-bit)"}` : "No method fits"}</h3>
        <p>{hw.recommendation_reason}</p>
        {est ? (
          <p class="muted">
            Estimated peak VRAM at batch 4 and {est.seq_len} tokens per example (95% of examples are ≤ {est.p95_tokens ?? "?"} tokens): LoRA ~{est.lora.total_gb} GB,
            QLoRA ~{est.qlora.total_gb} GB.
          </p>
        ) : null}
        {hw.warnings.length ? (
          <ul class="warnings">
            {hw.warnings.map((w) => (
              <li>⚠ {w}</li>
            ))}
          </ul>
        ) : null}
      </section>
    </>
  );
}
