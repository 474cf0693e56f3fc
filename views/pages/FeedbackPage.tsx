import type { ProjectSummary } from "../../src/projects/schemas.ts";
import { PREFERENCE_SOURCES, SOURCE_LABELS, type PreferencePage, type PreferenceSource, type PreferenceView } from "../../src/preferences/schemas.ts";
import { pageCsrfToken } from "../../src/security/page-token.ts";
import { Layout } from "../layouts/Layout.tsx";

/**
 * The Feedback view: the project's preference pairs (filters by source, edit, delete),
 * their counts, the JSONL export, and "Improve with feedback" (a preference round).
 */
export function FeedbackPage(props: { project: ProjectSummary; list: PreferencePage; source: PreferenceSource | null; error?: { message: string; pairId?: string } }) {
  const { project, list, source, error } = props;
  const id = project.id;
  const base = `/projects/${id}/feedback`;
  const pages = Math.max(1, Math.ceil(list.total / list.page_size));
  const link = (s: PreferenceSource | null, page = 1) => {
    const q = new URLSearchParams();
    if (s) q.set("source", s);
    if (page > 1) q.set("page", String(page));
    return q.size ? `${base}?${q}` : base;
  };
  return (
    <Layout title={`Feedback · ${project.name}`}>
      <div class="feedback">
        <p>
          <a href={`/projects/${id}/step/export`}>Back to Export</a> · <a href={`/projects/${id}/playground`}>Open the playground</a>
        </p>
        <h1>Feedback: {project.name}</h1>
        <p>
          Each pair is one prompt with the reply you prefer (chosen) and one you do not (rejected). A preference round (DPO) trains the latest adapter to prefer the chosen
          replies, then the scorecard compares it with the adapter before.
        </p>
        {error && !error.pairId ? (
          <p class="error-text" role="alert">
            {error.message}
          </p>
        ) : null}
        <RoundPanel projectId={id} list={list} />
        <nav class="feedback-filters" aria-label="Pairs by source">
          <ul>
            <li>
              <a href={link(null)} aria-current={source === null ? "page" : undefined}>
                All ({list.counts.total})
              </a>
            </li>
            {PREFERENCE_SOURCES.map((s) => (
              <li>
                <a href={link(s)} aria-current={source === s ? "page" : undefined}>
                  {SOURCE_LABELS[s]} ({list.counts[s]})
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p>
          <a href={`/api/projects/${id}/preferences/export`} download="preferences.jsonl">
            Download as JSONL
          </a>{" "}
          <span class="muted">(TRL's prompt / chosen / rejected conversational format)</span>
        </p>
        {list.items.length === 0 ? (
          <p class="empty-state" data-testid="no-pairs">
            {source ? "No pair from this source yet." : "No pair yet: in the playground, pick the better reply or write the right one; on the scorecard, use a wrong answer as feedback."}
          </p>
        ) : (
          <ol class="pairs" data-testid="pairs">
            {list.items.map((p) => (
              <Pair projectId={id} pair={p} error={error?.pairId === p.id ? error.message : undefined} />
            ))}
          </ol>
        )}
        {pages > 1 ? (
          <nav class="pagination" aria-label="Pages of pairs">
            {list.page > 1 ? <a href={link(source, list.page - 1)}>← Newer</a> : null}
            <span>
              Page {list.page} of {pages}
            </span>
            {list.page < pages ? <a href={link(source, list.page + 1)}>Older →</a> : null}
          </nav>
        ) : null}
      </div>
    </Layout>
  );
}

function RoundPanel(props: { projectId: string; list: PreferencePage }) {
  const { counts, min_pairs } = props.list;
  const short = min_pairs - counts.total;
  return (
    <section class="panel" aria-labelledby="round-title">
      <h2 id="round-title">Improve with feedback</h2>
      {short > 0 ? (
        <p data-testid="round-needs">
          A round needs at least {min_pairs} pairs: {short} more to go.
        </p>
      ) : (
        <p>
          Train the latest adapter on these {counts.total} pairs. Its run appears on the Train step (live loss and rewards); the scorecard then runs on the same questions.
        </p>
      )}
      <form method="post" action={`/projects/${props.projectId}/feedback/round`} class="round-form">
        <input type="hidden" name="_csrf" value={pageCsrfToken()} />
        <label>
          Beta
          <input type="number" name="beta" min="0.01" max="5" step="0.01" placeholder="0.1" aria-describedby="beta-hint" />
          <span id="beta-hint" class="field-hint">
            Higher stays nearer the current adapter
          </span>
        </label>
        <label>
          Epochs
          <input type="number" name="num_epochs" min="0.1" max="20" step="0.1" placeholder="3" />
        </label>
        <button type="submit" class="btn btn-primary" disabled={short > 0}>
          Improve with feedback
        </button>
      </form>
    </section>
  );
}

function Pair(props: { projectId: string; pair: PreferenceView; error?: string }) {
  const p = props.pair;
  const action = `/projects/${props.projectId}/feedback/${p.id}`;
  const prompt = p.prompt.at(-1)?.content ?? "";
  return (
    <li class="pair panel" data-pair={p.id} data-source={p.source}>
      <p class="muted">
        {SOURCE_LABELS[p.source]} · {new Date(p.created_at).toISOString().slice(0, 16).replace("T", " ")}
        {p.prompt.length > 1 ? ` · ${p.prompt.length - 1} earlier message${p.prompt.length === 2 ? "" : "s"}` : ""}
      </p>
      <p class="pair-prompt">
        <strong>Prompt:</strong> {prompt}
      </p>
      <div class="pair-replies">
        <div>
          <h3 class="pair-label">Chosen ({p.chosen_by})</h3>
          <p class="pair-text">{p.chosen}</p>
        </div>
        <div>
          <h3 class="pair-label">Rejected ({p.rejected_by})</h3>
          <p class="pair-text">{p.rejected}</p>
        </div>
      </div>
      <details open={props.error ? true : undefined}>
        <summary>Edit</summary>
        <form method="post" action={`${action}/edit`} class="pair-edit">
          <input type="hidden" name="_csrf" value={pageCsrfToken()} />
          <label>
            Chosen reply
            <textarea name="chosen" rows={3} required maxlength={20000}>
              {p.chosen}
            </textarea>
          </label>
          <label>
            Rejected reply
            <textarea name="rejected" rows={3} required maxlength={20000}>
              {p.rejected}
            </textarea>
          </label>
          {props.error ? (
            <p class="error-text" role="alert">
              {props.error}
            </p>
          ) : null}
          <button type="submit" class="btn">
            Save
          </button>
        </form>
      </details>
      <form method="post" action={`${action}/delete`}>
        <input type="hidden" name="_csrf" value={pageCsrfToken()} />
        <button type="submit" class="btn btn-danger-outline" aria-label={`Delete the pair for “${prompt.slice(0, 60)}”`}>
          Delete
        </button>
      </form>
    </li>
  );
}

/** What "Use as feedback" on the scorecard becomes once saved. */
export function ScorecardFeedbackSaved(props: { projectId: string }) {
  return (
    <span role="status">
      Saved as feedback · <a href={`/projects/${props.projectId}/feedback`}>see the pairs</a>
    </span>
  );
}
