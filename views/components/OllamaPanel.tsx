import { isActiveJob } from "../../src/jobs/schemas.ts";
import type { OllamaData } from "../../src/publish/schemas.ts";
import { JobProgress } from "./JobProgress.tsx";


/** "Run in Ollama" on the Export step: the form, the job's progress, then the parity verdicts. */
export function OllamaPanel(props: { projectId: string; data: OllamaData }) {
  const { job, record, error } = props.data;
  const active = job && isActiveJob(job.status);
  return (
    <section class="panel ollama-publish" aria-labelledby="ollama-title">
      <h3 id="ollama-title">Run in Ollama</h3>
      <p>
        <a href={`/projects/${props.projectId}/playground`}>Open the playground</a>: chat with the tuned model and the base side by side.
      </p>
      <p class="muted">Creates the model in Ollama (the adapter over the same base, or merged weights), with the chat template and stop tokens training used, then checks that it answers like the tuned model.</p>
      <form class="ollama-form" hx-post={`/projects/${props.projectId}/export/ollama`} hx-target="#wizard" hx-swap="outerHTML">
        <label>
          Model name
          <input name="name" value={record?.model ?? props.data.defaultName} required maxlength={80} aria-describedby="ollama-name-hint" />
          <span id="ollama-name-hint" class="field-hint">
            Lower-case, digits, '.', '_', '-', optional :tag
          </span>
        </label>
        <label>
          Lane
          <select name="lane">
            <option value="">Adapter if the base is in Ollama, else merged</option>
            <option value="adapter">Adapter over the Ollama base</option>
            <option value="merged">Merged weights</option>
          </select>
        </label>
        <label>
          Ollama base (adapter lane)
          <input name="base" placeholder="found from the training base" />
        </label>
        <label>
          Quantization (merged lane)
          <select name="quantize">
            <option value="q4_K_M">q4_K_M</option>
            <option value="q8_0">q8_0</option>
            <option value="none">none (16-bit)</option>
          </select>
        </label>
        <button type="submit" class="btn btn-primary" disabled={active}>
          Run in Ollama
        </button>
      </form>
      {error ? (
        <p class="error-text" role="alert">
          {error}
        </p>
      ) : null}
      {active ? <JobProgress job={job} label="Publishing to Ollama" poll={false} cancellable={false} /> : null}
      {job?.status === "failed" ? (
        <p class="error-text" role="alert">
          Publishing failed: {job.error_message}
        </p>
      ) : null}
      {record && !active ? (
        <div data-testid="ollama-result">
          <p>
            Run it: <code>ollama run {record.model}</code> ({record.lane === "adapter" ? `adapter over ${record.base}` : `merged${record.quantize && record.quantize !== "none" ? `, ${record.quantize}` : ""}`})
          </p>
          {record.lane_note ? <p class="muted">{record.lane_note}</p> : null}
          <ul class="verdicts">
            {record.verdicts.map((v) => (
              <li class={v.ok ? "verdict-ok" : "verdict-bad"} data-check={v.check}>
                {v.ok ? "✓" : "✗"} {v.summary}
                {v.advice ? <span class="muted"> — {v.advice}</span> : null}
              </li>
            ))}
          </ul>
          {record.answers.length ? (
            <details class="parity-answers">
              <summary>What each side answered ({record.answers.length} held-out prompts)</summary>
              <table class="table">
                <caption class="muted">The tuned model in PyTorch (greedy), then Ollama as a chat and raw on the training template's rendering.</caption>
                <thead>
                  <tr>
                    <th scope="col">Prompt</th>
                    <th scope="col">Tuned model</th>
                    <th scope="col">Ollama chat</th>
                    <th scope="col">Ollama raw</th>
                  </tr>
                </thead>
                <tbody>
                  {record.answers.map((a) => (
                    <tr data-prompt={a.id}>
                      <td>{a.prompt}</td>
                      <td>{a.tuned}</td>
                      <td class={a.chat === a.raw ? undefined : "verdict-bad"}>{a.chat}</td>
                      <td>{a.raw}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
