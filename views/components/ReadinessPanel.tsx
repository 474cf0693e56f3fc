import { CUT_WARNING_SHARE, type ReadinessReport } from "../../src/readiness/schemas.ts";
import { fromBody, HTMX_EVENTS } from "../htmx.ts";

const n = (x: number | null) => (x === null ? "—" : x.toLocaleString("en-US"));
const pct = (part: number, whole: number) => (whole ? `${Math.round((1000 * part) / whole) / 10}%` : "0%");

/** Where the panel loads (and reloads when the Train form's length changes). */
export const readinessUrl = (projectId: string) => `/projects/${projectId}/readiness`;

/** A placeholder that fetches the panel once the page is shown (the render tokenizes). */
export function ReadinessSlot(props: { projectId: string; lengthInput?: string }) {
  // Reloads when the Train form's length changes, or when Review deletes examples. Not on
  // an edit's dataset-changed: Review's table refreshes on that event, and the suite once
  // timed out waiting for that table while both refreshed (not reproduced since).
  const trigger = ["load", fromBody(HTMX_EVENTS.examplesDeleted), props.lengthInput ? `change from:${props.lengthInput}` : ""].filter(Boolean).join(", ");
  return (
    <div id="readiness" hx-get={readinessUrl(props.projectId)} hx-trigger={trigger} hx-include={props.lengthInput} hx-swap="innerHTML" aria-live="polite">
      <section class="panel readiness" aria-busy="true">
        <p class="muted">Rendering a few examples the way training will see them…</p>
      </section>
    </div>
  );
}

export function ReadinessError({ message }: { message: string }) {
  return (
    <section class="panel readiness">
      <p class="error-text">{message}</p>
    </section>
  );
}

/** What training will see: totals at a length, and a sample with trained / masked tokens. */
export function ReadinessPanel({ report: r }: { report: ReadinessReport }) {
  const t = r.totals;
  const lost = t.truncated + t.dropped;
  return (
    <section class="panel readiness" aria-labelledby="readiness-title">
      <h3 id="readiness-title">What training will see</h3>
      <p class="readiness-meta">
        {r.preset ? <span>Preset: {r.preset.label}</span> : <span>No preset for this model family: safe defaults</span>} ·{" "}
        {r.template_source === "model" ? "the model's own chat template" : "no chat template in the model: the generic instruction template"} · at{" "}
        <strong>{n(r.max_seq_length)}</strong> tokens
      </p>
      {!r.exact ? (
        <p class="readiness-note" role="note">
          {r.template_error
            ? `The chat template failed on an example (${r.template_error}): training would fail the same way. Counts below are estimates.`
            : "The app could not read this model's tokenizer (tokenizer.json): counts are estimates, and the split between prompt and answer is approximate."}
        </p>
      ) : null}
      <dl class="readiness-totals">
        <div>
          <dt>Fit whole</dt>
          <dd data-readiness="fit">
            {n(t.fit)} of {n(t.examples)}
          </dd>
        </div>
        <div>
          <dt>Cut (answer loses its end)</dt>
          <dd data-readiness="truncated">{n(t.truncated)}</dd>
        </div>
        <div>
          <dt>Dropped (no answer left)</dt>
          <dd data-readiness="dropped">{n(t.dropped)}</dd>
        </div>
        <div>
          <dt>Tokens p50 / p95 / max</dt>
          <dd>
            {n(t.p50_tokens)} / {n(t.p95_tokens)} / {n(t.max_tokens)}
          </dd>
        </div>
        <div>
          <dt>Suggested length</dt>
          <dd data-readiness="suggested">{n(r.suggested_max_seq_length)}</dd>
        </div>
      </dl>
      {t.examples && t.fit === 0 ? (
        <p class="form-error" role="alert">
          No example fits in {n(r.max_seq_length)} tokens: training would refuse to start. Use {n(r.suggested_max_seq_length)}.
        </p>
      ) : t.examples && lost / t.examples > CUT_WARNING_SHARE ? (
        <p class="warning-text">
          ⚠ {pct(lost, t.examples)} of the examples would be cut or dropped at this length. {n(r.suggested_max_seq_length)} tokens keeps 99% whole.
        </p>
      ) : null}
      <p class="readiness-legend" id="readiness-legend">
        <mark class="seg trained">trained on</mark> <span class="seg masked">masked (not trained)</span> <span class="seg special masked">special token</span>
      </p>
      {r.examples.map((e, i) => (
        <figure class="readiness-example" aria-describedby="readiness-legend">
          <figcaption>
            Example {i + 1} · {n(e.tokens)} tokens · {n(e.trained_tokens)} trained
            {e.dropped ? " · dropped: the prompt fills the window" : e.truncated ? ` · cut after ${n(r.max_seq_length)} tokens` : ""}
          </figcaption>
          {/* Long examples scroll: focusable so a keyboard can scroll them too (WCAG 2.1.1). */}
          <pre class="render" tabindex={0} aria-label={`Example ${i + 1} as training sees it`}>
            {e.segments.map((s) => {
              const cls = `seg ${s.trained ? "trained" : "masked"}${s.special ? " special" : ""}`;
              return s.trained ? <mark class={cls}>{s.text}</mark> : <span class={cls}>{s.text}</span>;
            })}
            {e.truncated || e.dropped ? <span class="seg cut">{` ✂ ${n(e.tokens - Math.min(e.tokens, r.max_seq_length))} more tokens cut`}</span> : null}
          </pre>
        </figure>
      ))}
      {r.examples.length === 0 ? <p class="muted">No valid training examples yet.</p> : null}
    </section>
  );
}
