import { ReadinessSlot } from "../../components/ReadinessPanel.tsx";
import { SelectField } from "../../components/SelectField.tsx";
import { fromBody, HTMX_EVENTS } from "../../htmx.ts";
import type { DatasetStats, ExampleView, ReviewFilter, ReviewPageView } from "../../../src/datasets/review-schemas.ts";
import type { ReviewData } from "../../../src/datasets/step.ts";
import { formatCount } from "../../../src/lib/format.ts";
import type { ProjectSummary } from "../../../src/projects/schemas.ts";


const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function filterQuery(f: Partial<ReviewFilter>, extra: Record<string, string | number> = {}): string {
  const p = new URLSearchParams({ step: "review" });
  if (f.split && f.split !== "all") p.set("split", f.split);
  if (f.valid && f.valid !== "all") p.set("valid", f.valid);
  if (f.kind && f.kind !== "all") p.set("kind", f.kind);
  if (f.q) p.set("q", f.q);
  if (f.sort && f.sort !== "created") p.set("sort", f.sort);
  for (const [k, v] of Object.entries(extra)) p.set(k, String(v));
  return p.toString();
}

export function ReviewStep(props: { project: ProjectSummary; data: ReviewData }) {
  const { project } = props;
  const id = project.id;
  return (
    <div class="review-step">
      {/* Outside the swapped results, so typing in Search survives a filter's swap. */}
      <ReviewFilters project={project} filter={props.data.filter} />
      <ReviewResults project={project} data={props.data} />
      <div id="example-modal-slot"></div>
      <Coverage coverage={props.data.coverage} />
      <ReadinessSlot projectId={id} />
      <section class="exports" aria-labelledby="export-title">
        <h3 id="export-title">Export the valid examples</h3>
        <p class="export-links">
          {(["train", "eval", "all"] as const).map((split) => (
            <span class="export-group">
              <strong>{split}:</strong>{" "}
              <a href={`/api/projects/${id}/dataset/export?format=alpaca&split=${split}`} download>
                Alpaca JSONL
              </a>{" "}
              ·{" "}
              <a href={`/api/projects/${id}/dataset/export?format=chat&split=${split}`} download>
                Chat JSONL
              </a>{" "}
              ·{" "}
              <a href={`/api/projects/${id}/dataset/export?format=csv&split=${split}`} download>
                CSV
              </a>
            </span>
          ))}
        </p>
      </section>
    </div>
  );
}

const VALIDITY_OPTIONS = [["all", "Valid and invalid"], ["valid", "Valid only"], ["invalid", "Invalid only"]] as const;
const KIND_OPTIONS = [["all", "Everything"], ["example", "Questions and instructions"], ["note", "Study notes"]] as const;
const SORT_OPTIONS = [["created", "Oldest first"], ["tokens_desc", "Most tokens"], ["tokens_asc", "Fewest tokens"]] as const;

function ReviewFilters({ project, filter }: { project: ProjectSummary; filter: ReviewFilter }) {
  const id = project.id;
  const swap = { "hx-target": "#review-results", "hx-select": "#review-results", "hx-swap": "outerHTML" };
  return (
    <form class="review-filters" role="search" hx-get={`/projects/${id}/wizard`} hx-push-url="true" hx-trigger="change, submit, input delay:400ms from:#review-q" hx-sync="this:queue last" {...swap}>
      <input type="hidden" name="step" value="review" />
      <SelectField label="Split" name="split" value={filter.split} options={(["all", "train", "eval", "preview"] as const).map((v) => [v, v === "all" ? "All splits" : v] as const)} />
      <SelectField label="Validity" name="valid" value={filter.valid} options={VALIDITY_OPTIONS} />
      <SelectField label="Kind" name="kind" value={filter.kind} options={KIND_OPTIONS} />
      <label class="grow">
        Search
        <input id="review-q" type="search" name="q" value={filter.q} placeholder="Words in the instruction, input or output" maxlength={200} />
      </label>
      <SelectField label="Sort" name="sort" value={filter.sort} options={SORT_OPTIONS} />
    </form>
  );
}

export function ReviewResults(props: { project: ProjectSummary; data: ReviewData }) {
  const { stats, page, filter } = props.data;
  const id = props.project.id;
  const wizardUrl = `/projects/${id}/wizard?${filterQuery(filter, { page: filter.page })}`;
  const swap = { "hx-target": "#review-results", "hx-select": "#review-results", "hx-swap": "outerHTML" };
  const qa = props.project.taskType === "qa";
  return (
    <div id="review-results" hx-get={wizardUrl} hx-trigger={fromBody(HTMX_EVENTS.datasetChanged)} hx-disinherit="*" {...swap}>
      <StatsBar stats={stats} />

      <form id="review-selection" class="review-selection" x-data="reviewSelection" x-on:change="changed" x-bind:hx-confirm="confirmText" hx-disinherit="*" hx-post={`/projects/${id}/review/delete`} hx-confirm="Delete the selected examples? This cannot be undone." data-confirm-label="Delete examples" data-total={String(page.total)} {...swap}>
        <input type="hidden" name="split" value={filter.split} />
        <input type="hidden" name="valid" value={filter.valid} />
        <input type="hidden" name="kind" value={filter.kind} />
        <input type="hidden" name="q" value={filter.q} />
        <input type="hidden" name="sort" value={filter.sort} />
        <input type="hidden" name="page" value={String(filter.page)} />
        <input type="hidden" name="all_matching" value="" x-bind:value="allMatchingValue" />
        <div class="selection-bar">
          <span class="selection-count" aria-live="polite">
            {page.total_is_capped ? `More than ${formatCount(page.total)}` : formatCount(page.total)} matching
          </span>
          <button type="button" class="btn btn-small select-all-matching" hidden x-bind:hidden="hideAllMatching" x-on:click="selectAllMatching">
            Select all {page.total_is_capped ? "matching" : formatCount(page.total)} examples
          </button>
          <button type="submit" class="btn btn-small btn-danger-outline delete-selected" disabled x-bind:disabled="nothingSelected" x-text="deleteLabel">
            Delete selected
          </button>
        </div>
        {page.items.length === 0 ? (
          <p class="empty-state">No examples match these filters.</p>
        ) : (
          <table class="table review-table">
            <thead>
              <tr>
                <th scope="col" class="check-col">
                  <input type="checkbox" class="select-page" aria-label="Select every example on this page" x-bind:checked="pageChecked" />
                </th>
                <th scope="col">{qa ? "Question" : "Instruction"}</th>
                <th scope="col">{qa ? "Answer" : "Output"}</th>
                <th scope="col">Tokens</th>
                <th scope="col">Valid</th>
                <th scope="col">Split</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((e) => (
                <Row projectId={id} example={e} filter={filter} />
              ))}
            </tbody>
          </table>
        )}
      </form>
      <Pagination projectId={id} page={page} filter={filter} />
    </div>
  );
}

function Row({ projectId, example: e, filter }: { projectId: string; example: ExampleView; filter: ReviewFilter }) {
  return (
    <tr class={`example-row${e.isValid ? "" : " invalid-row"}`} tabindex={0} hx-get={`/projects/${projectId}/examples/${e.id}?${filterQuery(filter)}`} hx-target="#example-modal-slot" hx-swap="innerHTML" data-example-id={e.id} {...{ "x-on:keydown.enter": "openRow" }}>
      {/* A click on the checkbox selects the row; anywhere else on the row opens the example. */}
      <td class="check-col" {...{ "x-on:click.stop": "keepRowClosed" }}>
        <input type="checkbox" name="ids" value={e.id} aria-label={`Select example: ${truncate(e.instruction, 60)}`} />
      </td>
      <td>
        {e.kind === "note" ? <span class="badge kind-note">Note</span> : null} {truncate(e.instruction, 140)}
      </td>
      <td>{truncate(e.output, 160)}</td>
      <td>
        {e.tokenCountApprox ? "~" : ""}
        {e.tokenCount}
      </td>
      <td title={e.validationError ?? "valid"}>{e.isValid ? <span aria-label="valid">✓</span> : <span aria-label={`invalid: ${e.validationError}`}>✗</span>}</td>
      <td>{e.split}</td>
    </tr>
  );
}

function Pagination({ projectId, page, filter }: { projectId: string; page: ReviewPageView; filter: ReviewFilter }) {
  if (page.pages <= 1) return <></>;
  const link = (n: number, label: string, rel?: string) => {
    const url = `/projects/${projectId}/wizard?${filterQuery(filter, { page: n })}`;
    return (
      <a class="btn btn-small" href={url} rel={rel} hx-get={url} hx-push-url="true" hx-target="#review-results" hx-select="#review-results" hx-swap="outerHTML">
        {label}
      </a>
    );
  };
  return (
    <nav class="pagination" aria-label="Pages">
      {page.page > 1 ? link(1, "« First") : null}
      {page.page > 1 ? link(page.page - 1, "‹ Prev", "prev") : null}
      <span>
        Page {formatCount(page.page)} of {formatCount(page.pages)}
      </span>
      {page.page < page.pages ? link(page.page + 1, "Next ›", "next") : null}
      {page.page < page.pages ? link(page.pages, "Last »") : null}
    </nav>
  );
}

function StatsBar({ stats }: { stats: DatasetStats }) {
  const s = stats.by_split;
  const badge = (label: string, value: string, cls = "", detail?: string) => (
    <span class={`stat ${cls}`}>
      <span class="stat-label">{label}</span> <strong>{value}</strong>
      {detail ? <span class="stat-detail"> ({detail})</span> : null}
    </span>
  );
  const range = (x: DatasetStats["by_split"]["train"]) => (x.count ? `${x.avg_tokens} avg · ${x.min_tokens}–${x.max_tokens}` : "—");
  return (
    <div class="stats-bar" role="group" aria-label="Dataset statistics">
      {badge("Total", formatCount(stats.total))}
      {badge("Valid", formatCount(stats.valid), "stat-good")}
      {badge("Invalid", formatCount(stats.invalid), stats.invalid ? "stat-bad" : "")}
      {badge("Train", formatCount(s.train.count))}
      {badge("Eval", formatCount(s.eval.count))}
      {badge("Train tokens", range(s.train))}
      {badge("Eval tokens", range(s.eval))}
      {badge("Duplicates removed", formatCount(stats.duplicates_removed), "", `${formatCount(stats.duplicates_by_kind.exact)} identical, ${formatCount(stats.duplicates_by_kind.near)} by word overlap, ${formatCount(stats.duplicates_by_kind.semantic)} by meaning`)}
      {badge(`Over ${formatCount(stats.max_seq_length)} tokens`, formatCount(stats.over_max_length), stats.over_max_length ? "stat-warn" : "")}
    </div>
  );
}

/** How many distinct questions each document's parts gave: where generation covered a document, and where not. */
function Coverage({ coverage }: { coverage: ReviewData["coverage"] }) {
  if (!coverage.some((d) => d.questions > 0)) return null;
  return (
    <details class="coverage" data-testid="coverage">
      <summary>Coverage per document: distinct questions per part</summary>
      <table class="table">
        <caption>Valid train and eval examples per document part (chunk)</caption>
        <thead>
          <tr>
            <th scope="col">Document</th>
            <th scope="col">Parts with questions</th>
            <th scope="col">Questions</th>
            <th scope="col">Per part: fewest · median · most</th>
          </tr>
        </thead>
        <tbody>
          {coverage.map((d) => (
            <tr>
              <td>{d.filename}</td>
              <td>
                {d.parts_used} of {d.parts}
              </td>
              <td>{formatCount(d.questions)}</td>
              <td>{d.parts_used ? `${d.min} · ${d.median} · ${d.max}` : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
