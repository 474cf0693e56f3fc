import type { ExampleView, ReviewFilter } from "../../../src/datasets/review-schemas.ts";
import { contentWords } from "../../../src/generation/quality.ts";
import { filterQuery } from "./ReviewStep.tsx";

export type Provenance = {
  chunk: { text: string; filename: string; pageStart: number | null; pageEnd: number | null; headingPath: string | null } | null;
  sourceFile: string | null;
};

/** The chunk with the answer's supporting words marked; every piece is rendered as text. */
function Highlighted({ text, answer }: { text: string; answer: string }) {
  const words = new Set(contentWords(answer));
  const parts = text.split(/([\p{L}\p{N}]+)/u);
  return (
    <>
      {parts.map((p) => {
        const w = contentWords(p)[0];
        return w && words.has(w) ? <mark>{p}</mark> : p;
      })}
    </>
  );
}

export function ExampleModal(props: {
  projectId: string;
  example: ExampleView;
  provenance: Provenance;
  neighbours: { prev: string | null; next: string | null };
  filter: ReviewFilter;
  error?: string;
  saved?: boolean;
}) {
  const { example: e, provenance: p } = props;
  const base = `/projects/${props.projectId}/examples`;
  const q = filterQuery(props.filter);
  const nav = (id: string | null, label: string, rel: string) =>
    id ? (
      <button type="button" class="btn btn-small" data-modal-nav={rel} hx-get={`${base}/${id}?${q}`} hx-target="#example-modal-slot" hx-swap="innerHTML">
        {label}
      </button>
    ) : (
      <button type="button" class="btn btn-small" disabled>
        {label}
      </button>
    );
  const pages = p.chunk?.pageStart ? (p.chunk.pageEnd && p.chunk.pageEnd !== p.chunk.pageStart ? `pages ${p.chunk.pageStart}–${p.chunk.pageEnd}` : `page ${p.chunk.pageStart}`) : null;
  return (
    <dialog id="example-modal" class="dialog dialog-wide" aria-labelledby="example-title" data-example-id={e.id} x-data="exampleModal" x-on:keydown="navigate" x-on:close="closed">
      <div class="modal-head">
        <h2 id="example-title">Example</h2>
        <div class="modal-nav">
          {nav(props.neighbours.prev, "← Previous", "prev")}
          {nav(props.neighbours.next, "Next →", "next")}
          <button type="button" class="btn btn-small modal-close" aria-label="Close" x-on:click="close">
            ×
          </button>
        </div>
      </div>
      {props.error ? (
        <div class="form-error" role="alert">
          {props.error}
        </div>
      ) : null}
      {props.saved ? (
        <p class="notice" role="status">
          Saved.
        </p>
      ) : null}
      <div class="example-meta">
        <span class={`badge ${e.isValid ? "status-success" : "status-failed"}`}>{e.isValid ? "Valid" : `Invalid: ${e.validationError}`}</span>
        <span class="badge">
          {e.tokenCountApprox ? "~" : ""}
          {e.tokenCount} tokens
        </span>
        {e.groundingScore !== null ? <span class="badge">grounding {Math.round(e.groundingScore * 100)}%</span> : null}
        <span class="badge">{e.split}</span>
        {e.generatorModel ? <span class="badge">{e.generatorModel}</span> : null}
      </div>
      <form class="example-form" hx-post={`${base}/${e.id}?${q}`} hx-target="#example-modal-slot" hx-swap="innerHTML">
        <label>
          Instruction
          <textarea name="instruction" rows={3}>
            {e.instruction}
          </textarea>
        </label>
        <label>
          Input
          <textarea name="input" rows={e.input.length > 300 ? 6 : 2}>
            {e.input}
          </textarea>
        </label>
        <label>
          Output
          <textarea name="output" rows={5}>
            {e.output}
          </textarea>
        </label>
        <div class="example-form-row">
          <label>
            Split
            <select name="split" disabled={e.split === "preview"}>
              {e.split === "preview" ? <option value="preview">preview</option> : null}
              <option value="train" selected={e.split === "train"}>
                train
              </option>
              <option value="eval" selected={e.split === "eval"}>
                eval
              </option>
            </select>
          </label>
          <label class="checkbox">
            <input type="checkbox" name="is_valid" value="true" checked={e.isValid} /> Valid
          </label>
          <button type="submit" class="btn btn-primary">
            Save
          </button>
        </div>
      </form>
      <section class="provenance" aria-labelledby="provenance-title">
        <h3 id="provenance-title">Where it comes from</h3>
        {p.chunk ? (
          <>
            <p>
              {p.chunk.filename}
              {pages ? `, ${pages}` : ""}
              {p.chunk.headingPath ? ` — ${p.chunk.headingPath}` : ""}
            </p>
            <blockquote class="chunk-text">
              <Highlighted text={p.chunk.text} answer={e.output} />
            </blockquote>
          </>
        ) : (
          <p>{p.sourceFile ? `Imported from ${p.sourceFile}${e.sourceLine ? `, line ${e.sourceLine}` : ""}.` : "No source recorded."}</p>
        )}
      </section>
    </dialog>
  );
}
