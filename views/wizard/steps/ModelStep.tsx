import { WeightsPanel } from "./WeightsPanel.tsx";
import type { ModelData } from "../../../src/models/step.ts";
import type { ModelInfo } from "../../../src/models/schemas.ts";
import { formatParams } from "../../../src/models/schemas.ts";
import { formatCount } from "../../../src/lib/format.ts";
import type { StepProps } from "../StepBody.tsx";

const ERROR_TITLES: Record<string, string> = {
  model_not_found: "Model not found",
  model_gated: "Gated model",
  hub_timeout: "The Hub did not answer",
  hub_unreachable: "The Hub is unreachable",
  not_causal_lm: "Not a text-generation model",
  not_a_model_folder: "Not a model folder",
};

import { remoteCodeConsented } from "../../../src/models/remote-code.ts";

export function ModelStep({ project, extras, data }: StepProps & { data: ModelData | null }) {
  const info = project.modelInfo;
  const value = extras.modelInput ?? project.baseModelId ?? "";
  return (
    <div class="model-step">
      <p>Pick the base model to fine-tune: a Hugging Face model id, or the absolute path of a model folder on this machine.</p>
      <form
        class="resolve-form"
        hx-post={`/projects/${project.id}/model`}
        hx-target="#wizard"
        hx-swap="outerHTML"
        hx-indicator="#resolve-spinner"
        hx-disabled-elt="find button"
        method="post"
        action={`/projects/${project.id}/model`}
      >
        <label for="model_id">Hugging Face model id or local folder</label>
        <div class="input-row">
          <input
            id="model_id"
            name="model_id"
            type="text"
            value={value}
            required
            spellcheck={false}
            autocomplete="off"
            placeholder="meta-llama/Llama-3.1-8B-Instruct"
            aria-describedby="model_id-hint"
            aria-invalid={extras.modelError ? "true" : undefined}
          />
          <button type="submit" class="btn btn-primary">
            Resolve
          </button>
          <span id="resolve-spinner" class="spinner htmx-indicator" role="status" aria-label="Resolving the model…"></span>
        </div>
        <p id="model_id-hint" class="field-hint">
          e.g. Qwen/Qwen2.5-7B-Instruct, or /models/Llama-3.1-8B-Instruct on an offline GPU box.
        </p>
      </form>
      {extras.modelError ? (
        <div class="panel panel-error" role="alert" data-error-code={extras.modelError.code}>
          <strong>{ERROR_TITLES[extras.modelError.code] ?? "Could not resolve the model"}</strong>
          <p>{extras.modelError.message}</p>
        </div>
      ) : null}
      {info ? <ModelPanel info={info} warnings={extras.modelWarnings ?? info.warnings} saved={!extras.modelError} /> : null}
      {info && data ? <WeightsPanel projectId={project.id} data={data} /> : null}
      {info?.needs_remote_code ? <RemoteCodeConsent projectId={project.id} modelId={info.model_id} consented={remoteCodeConsented(project.config, info.model_id)} /> : null}
    </div>
  );
}

/** Training a model that ships its own code runs that code: only after the user says so, for this model. */
function RemoteCodeConsent(props: { projectId: string; modelId: string; consented: boolean }) {
  if (props.consented) {
    return (
      <p class="panel panel-warn" data-remote-code="allowed">
        You allowed <span class="mono">{props.modelId}</span> to run its own Python code during training.
      </p>
    );
  }
  return (
    <form class="panel panel-warn" hx-post={`/projects/${props.projectId}/model/remote-code`} hx-target="#wizard" hx-swap="outerHTML" method="post" action={`/projects/${props.projectId}/model/remote-code`}>
      <h3>This model runs its own code</h3>
      <p>
        <span class="mono">{props.modelId}</span> needs Python code from its repository to load. Training will not start until you allow it for this model. Only do so if you trust its authors.
      </p>
      <input type="hidden" name="model_id" value={props.modelId} />
      <label class="checkbox">
        <input type="checkbox" name="confirm" value="yes" required /> I trust the authors of this model and allow its code to run on this machine.
      </label>
      <div class="form-actions">
        <button type="submit" class="btn">
          Allow its code
        </button>
      </div>
    </form>
  );
}

function ModelPanel(props: { info: ModelInfo; warnings: string[]; saved: boolean }) {
  const i = props.info;
  return (
    <section class="panel panel-success" aria-labelledby="model-panel-title">
      <h3 id="model-panel-title">
        {props.saved ? "✓ Model found: " : "Currently saved: "}
        <span class="mono">{i.architecture}</span>
      </h3>
      <p class="mono muted">{i.model_id}</p>
      <dl class="facts-grid">
        <div>
          <dt>Parameters</dt>
          <dd>
            {formatParams(i.num_parameters)}{" "}
            <span class="muted">({i.parameter_source === "safetensors" ? "exact, from the weights" : "computed from config.json"})</span>
          </dd>
        </div>
        <div>
          <dt>VRAM to load (FP16 / BF16)</dt>
          <dd>~{i.estimated_vram_fp16_gb.toFixed(1)} GB</dd>
        </div>
        <div>
          <dt>VRAM to load (4-bit)</dt>
          <dd>~{i.estimated_vram_4bit_gb.toFixed(1)} GB</dd>
        </div>
        <div>
          <dt>Model type</dt>
          <dd class="mono">{i.model_type}</dd>
        </div>
        <div>
          <dt>Vocabulary</dt>
          <dd>{formatCount(i.vocab_size)} tokens</dd>
        </div>
        <div>
          <dt>Context length</dt>
          <dd>{i.context_length ? `${formatCount(i.context_length)} tokens` : "—"}</dd>
        </div>
        <div>
          <dt>License</dt>
          <dd class="mono">{i.license}</dd>
        </div>
        <div>
          <dt>Gated</dt>
          <dd>{i.gated ? "Yes — needs HF_TOKEN with access" : "No"}</dd>
        </div>
        <div>
          <dt>Chat template</dt>
          <dd>{i.has_chat_template ? "Yes" : "No (generic template)"}</dd>
        </div>
      </dl>
      {props.warnings.length > 0 ? (
        <ul class="warnings" aria-label="Warnings">
          {props.warnings.map((w) => (
            <li>⚠ {w}</li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
