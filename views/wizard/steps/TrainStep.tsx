import { ProbePanel } from "../../components/ProbePanel.tsx";
import type { PresetSummary, TrainData, TrainStatusView } from "../../../src/training/step.ts";
import type { ProjectSummary } from "../../../src/projects/schemas.ts";
import { isActiveRun, isFinishedRun, RAFT_PASSAGES, runMethodLabel, TRAINING_FIELDS, type RunView, type TrainingField, type TrainPlanView } from "../../../src/training/schemas.ts";
import { ReadinessSlot } from "../../components/ReadinessPanel.tsx";


const FIELDS = Object.entries(TRAINING_FIELDS).map(([name, f]) => ({ name: name as TrainingField, ...f }));

const minutes = (s: number) => (s < 90 ? `${Math.max(1, Math.round(s))} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

export function TrainStep(props: { project: ProjectSummary; data: TrainData }) {
  const { status } = props.data;
  const id = props.project.id;
  const live = status && (isActiveRun(status.status) || isFinishedRun(status.status));
  return (
    <div class="train-step">
      {status && isActiveRun(status.status) ? null : <HyperparamForm project={props.project} data={props.data} />}
      {status && isActiveRun(status.status) ? null : <ReadinessSlot projectId={id} lengthInput="#max_seq_length" />}
      {live ? <LiveRun projectId={id} status={status!} /> : null}
      {props.data.runs.length > 1 ? <PastRuns projectId={id} runs={props.data.runs} /> : null}
    </div>
  );
}

function HyperparamForm({ project, data }: { project: ProjectSummary; data: TrainData }) {
  const v = data.values;
  const errors = data.errors ?? {};
  const id = project.id;
  return (
    <form class="hyperparams" x-data="trainForm" method="post" action={`/projects/${id}/train`} hx-post={`/projects/${id}/train`} hx-target="#wizard" hx-swap="outerHTML" novalidate>
      {errors._ ? (
        <div class="form-error" role="alert">
          {errors._}
        </div>
      ) : null}
      <div class="hp-grid" hx-post={`/projects/${id}/train/plan`} hx-trigger="input changed delay:300ms, change" hx-target="#train-plan" hx-swap="outerHTML" hx-include="closest form">
        <label class="hp-field">
          Method
          <select name="method">
            <option value="lora" selected={v.method === "lora"}>
              LoRA (16-bit)
            </option>
            <option value="qlora" selected={v.method === "qlora"}>
              QLoRA (4-bit)
            </option>
          </select>
        </label>
        <label class="hp-field">
          Activation checkpointing
          <select name="checkpointing" aria-describedby="checkpointing-hint">
            <option value="auto" selected={(v.checkpointing ?? "auto") === "auto"}>
              Auto
            </option>
            <option value="all" selected={v.checkpointing === "all"}>
              Every layer
            </option>
            <option value="none" selected={v.checkpointing === "none"}>
              None
            </option>
          </select>
          <span id="checkpointing-hint" class="field-hint">
            Auto recomputes only as many layers as the GPU's memory needs: the rest run faster.
          </span>
        </label>
        {project.taskType === "qa" ? (
          <label class="hp-field hp-check">
            <span>
              <input type="checkbox" name="retrieval_training" checked={v.retrieval_training === true || v.retrieval_training === "on"} aria-describedby="retrieval-training-hint" /> Train for retrieval
            </span>
            <span id="retrieval-training-hint" class="field-hint">
              For a model you will run behind search: each question is trained with its passage among {RAFT_PASSAGES - 1} look-alike passages (sometimes without it), so it learns to
              find the answer in what it is handed. Needs a longer max sequence length.
            </span>
          </label>
        ) : null}
        {FIELDS.map((f) => (
          <label class="hp-field">
            {f.label}
            <input type="number" id={f.name} name={f.name} value={String(v[f.name] ?? data.defaults[f.name])} step={f.step} min={f.min} max={f.max} data-default={String(data.defaults[f.name])} aria-invalid={errors[f.name] ? "true" : undefined} aria-describedby={`${f.name}-hint`} />
            <span id={`${f.name}-hint`} class={errors[f.name] ? "field-error" : "field-hint"}>
              {errors[f.name] ?? f.hint}
            </span>
          </label>
        ))}
      </div>
      <PresetNote preset={data.preset} />
      <TrainPlan project={project} plan={data.plan} />
      <ProbePanel projectId={id} step="train" data={data.probe} gpu={data.gpu} />
      <div class="form-actions">
        <button type="button" class="btn reset-defaults" x-on:click="reset">
          {data.preset.label ? `Reset to the ${data.preset.label} preset` : "Reset to defaults"}
        </button>
        <button type="submit" class="btn btn-primary">
          Start training
        </button>
      </div>
    </form>
  );
}

function PresetNote({ preset }: { preset: PresetSummary }) {
  return (
    <details class="preset-note">
      <summary>
        {preset.label ? (
          <>
            Preset: <strong>{preset.label}</strong>
          </>
        ) : (
          "No preset for this model family: safe defaults"
        )}{" "}
        · learning rate band {preset.learningRateBand}
      </summary>
      <ul>
        {preset.changes.map((c) => (
          <li>{c}</li>
        ))}
      </ul>
    </details>
  );
}

export function TrainPlan(props: { project: ProjectSummary; plan: TrainPlanView | null; error?: string }) {
  const p = props.plan;
  if (!p) return <div id="train-plan" class="panel plan">{props.error ? <p class="error-text">{props.error}</p> : <p class="muted">Fill in the form to see the plan.</p>}</div>;
  const fitText: Record<string, string> = { fits: "fits", tight: "tight", no_fit: "will not fit", cpu: "CPU only", unknown: "unknown" };
  return (
    <div id="train-plan" class={`panel plan plan-${p.fit}`} aria-live="polite">
      <div class="plan-facts">
        <span class="stat">
          <span class="stat-label">Peak VRAM</span> <strong>{p.peak_gb !== null ? `~${p.peak_gb} GB` : "—"}</strong>
          {p.free_gb !== null ? ` of ${p.free_gb} GB free` : ""} · <strong class="fit">{fitText[p.fit]}</strong>
        </span>
        <span class="stat">
          <span class="stat-label">Optimizer steps</span> <strong>{p.optimizer_steps}</strong> ({p.train_examples} training examples)
        </span>
        <span class="stat">
          <span class="stat-label">ETA</span> <strong>{p.eta_seconds !== null ? `≈ ${minutes(p.eta_seconds)}` : "—"}</strong> ({p.measured?.tokens_per_second ? "from the measured speed" : "rough; measured live"})
        </span>
        <span class="stat">
          <span class="stat-label">Packing</span> {p.packing}
        </span>
        {p.checkpointing ? (
          <span class="stat">
            <span class="stat-label">Activation checkpointing</span> {checkpointingText(p.checkpointing.layers, p.checkpointing.of)}
            {p.checkpointing.mode === "auto" ? " (the fewest layers that fit)" : ""}
          </span>
        ) : null}
        {p.calibrated ? (
          <span class="stat">
            <span class="stat-label">Memory estimate</span> calibrated by the measurement on this GPU
          </span>
        ) : null}
      </div>
      {p.warnings.length ? (
        <ul class="warnings">
          {p.warnings.map((w) => (
            <li>⚠ {w}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** "checkpointing 12 of 32 layers" (public/train.js writes the same on `started`). */
export function checkpointingText(layers: number | null | undefined, of: number | null | undefined): string | null {
  if (layers === null || layers === undefined || !of) return null;
  return layers === 0 ? "no checkpointing" : layers >= of ? "checkpointing every layer" : `checkpointing ${layers} of ${of} layers`;
}

/** "NVIDIA H200 × 2 processes · sdpa · packed · Liger · checkpointing 12 of 32 layers" (public/train.js writes the same on `started`). */
function runSetup(e: NonNullable<NonNullable<TrainStatusView>["execution"]>) {
  return [e.world_size > 1 ? `${e.device} × ${e.world_size} processes` : e.device, e.attn_implementation, e.packing === null ? null : e.packing ? "packed" : "padded", e.liger ? "Liger" : null, checkpointingText(e.checkpointed_layers, e.decoder_layers)]
    .filter(Boolean)
    .join(" · ");
}

function LiveRun({ projectId, status }: { projectId: string; status: NonNullable<TrainStatusView> }) {
  const active = isActiveRun(status.status);
  return (
    <section class="live-run" aria-labelledby="live-title" data-live-run data-stream-url={`/api/projects/${projectId}/train/logs/stream?run_id=${status.run_id}`} data-refresh-url={`/projects/${projectId}/step/train`} data-active={active ? "1" : ""}>
      <div class="live-head">
        <h3 id="live-title">{status.preference_round ? "Preference round" : "Training run"}</h3>
        <span class={`badge status-${status.status}`} data-run-status>
          {status.status === "queued" && status.queue_position > 1 ? `Queued (position ${status.queue_position})` : status.status}
        </span>
      </div>
      {status.error_message ? (
        <div class="panel panel-error" role="alert">
          <strong>The training failed</strong>
          <p>{status.error_message}</p>
        </div>
      ) : null}
      <p class="muted run-setup" data-run-setup>
        {status.execution ? runSetup(status.execution) : ""}
      </p>
      <progress class="progress" max={100} value={Math.round(status.progress_pct)} data-progress aria-label="Training progress"></progress>
      <dl class="facts-grid live-metrics">
        {(["step", "train_loss", "eval_loss", "learning_rate", "epoch", "tokens_per_second", "elapsed", "eta"] as const).map((k) => (
          <div>
            <dt>{{ step: "Step", train_loss: "Train loss", eval_loss: "Eval loss", learning_rate: "LR", epoch: "Epoch", tokens_per_second: "Tokens/s", elapsed: "Elapsed", eta: "ETA" }[k]}</dt>
            <dd data-metric={k}>—</dd>
          </div>
        ))}
      </dl>
      <div class="chart-head">
        <span>Loss</span>
        <label class="checkbox">
          <input type="checkbox" data-log-scale /> Log scale
        </label>
      </div>
      <div class="loss-chart" data-loss-chart role="img" aria-label="Train and eval loss by step"></div>
      {status.preference_round ? (
        <div class="reward-panel" data-reward-panel>
          <p class="muted">
            DPO on the adapter of run {status.preference_round.parent_run_id.slice(0, 8)} with {status.preference_round.pairs} pairs, beta {status.preference_round.beta}. Rewards: how much more
            likely than the starting adapter each reply became (×beta); the margin is chosen minus rejected; accuracy, the share of pairs ranked right.
          </p>
          <dl class="facts-grid live-metrics">
            {(["margin", "accuracy"] as const).map((k) => (
              <div>
                <dt>{k === "margin" ? "Reward margin" : "Accuracy"}</dt>
                <dd data-metric={k}>—</dd>
              </div>
            ))}
          </dl>
          <div class="chart-head">
            <span>Rewards</span>
          </div>
          <div class="loss-chart" data-reward-chart role="img" aria-label="Rewards of the chosen and rejected replies, and their margin, by step"></div>
        </div>
      ) : null}
      <details class="log-stream">
        <summary>Trainer log</summary>
        <pre data-log-stream aria-live="off"></pre>
      </details>
      <div class="form-actions">
        {active ? (
          <button type="button" class="btn btn-danger-outline" hx-post={`/projects/${projectId}/train/cancel`} hx-target="#wizard" hx-swap="outerHTML" hx-confirm="Cancel the training? The last checkpoint is kept and you can resume." data-confirm-label="Cancel training">
            Cancel
          </button>
        ) : null}
        {status.resume_from_step !== null ? (
          <button type="button" class="btn btn-primary" hx-post={`/projects/${projectId}/train/resume`} hx-target="#wizard" hx-swap="outerHTML">
            Resume from step {status.resume_from_step}
          </button>
        ) : null}
      </div>
    </section>
  );
}

function PastRuns({ projectId, runs }: { projectId: string; runs: RunView[] }) {
  return (
    <section class="past-runs" aria-labelledby="runs-title">
      <h3 id="runs-title">Runs of this project</h3>
      <div class="loss-chart" data-compare-runs={`/api/projects/${projectId}/train/curves`} role="img" aria-label="Train loss of every run, by step"></div>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Method</th>
            <th scope="col">Status</th>
            <th scope="col">Final train loss</th>
            <th scope="col">Final eval loss</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr>
              <td>{new Date(r.createdAt).toISOString().slice(0, 16).replace("T", " ")}</td>
              <td>{runMethodLabel(r)}</td>
              <td>{r.status}</td>
              <td>{r.finalTrainLoss?.toFixed(4) ?? "—"}</td>
              <td>{r.finalEvalLoss?.toFixed(4) ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
