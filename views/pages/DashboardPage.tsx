import { PROJECT_STATUSES, type ProjectListQuery, type ProjectSummary } from "../../src/projects/schemas.ts";
import { formatCount, relativeTime } from "../../src/lib/format.ts";
import { Layout } from "../layouts/Layout.tsx";
import { SelectField } from "../components/SelectField.tsx";
import { html } from "hono/html";
import { statusBadge, statusLabel } from "../components/StatusBadge.tsx";

const TASK_LABELS = { instruction: "Instruction", qa: "Q&A" } as const;

type ProjectPage = { items: ProjectSummary[]; total: number; page: number; pages: number };
type ListProps = { list: ProjectPage; query: ProjectListQuery; now: number };

export function DashboardPage(props: ListProps) {
  const { query } = props;
  return (
    <Layout title="Projects">
      <div class="page-head">
        <h1>Projects</h1>
        <a class="btn btn-primary" href="/projects/new">
          + New Project
        </a>
      </div>
      <form class="dashboard-filters" role="search" method="get" action="/">
        <label class="grow">
          Search by name
          <input type="search" name="q" value={query.q} maxlength={120} />
        </label>
        <SelectField label="Status" name="status" value={query.status} options={[["all", "Any status"], ...PROJECT_STATUSES.map((st) => [st, statusLabel(st)] as const)]} />
        <button type="submit" class="btn">
          Filter
        </button>
      </form>
      <ProjectList {...props} />
    </Layout>
  );
}

/** The query string of a dashboard page, keeping the search and the filter. */
function pageUrl(query: ProjectListQuery, page: number): string {
  const p = new URLSearchParams();
  if (query.q) p.set("q", query.q);
  if (query.status !== "all") p.set("status", query.status);
  if (page > 1) p.set("page", String(page));
  const qs = p.toString();
  return qs ? `/?${qs}` : "/";
}

/** The swappable part of the dashboard: re-rendered after a delete so the empty state appears. */
export function ProjectList(props: ListProps) {
  const { list, query } = props;
  const filtered = query.q !== "" || query.status !== "all";
  if (list.total === 0) {
    return filtered ? (
      <section id="project-list" class="empty-state" aria-labelledby="empty-title">
        <h2 id="empty-title">No project matches</h2>
        <p>Nothing matches this search and status.</p>
        <a class="btn" href="/">
          Show every project
        </a>
      </section>
    ) : (
      <section id="project-list" class="empty-state" aria-labelledby="empty-title">
        <h2 id="empty-title">No projects yet</h2>
        <p>A project takes your documents to a fine-tuned model in eight guided steps.</p>
        <a class="btn btn-primary" href="/projects/new">
          Create your first project
        </a>
      </section>
    );
  }
  return (
    <div id="project-list">
      <ul class="card-grid" aria-label={`${list.total} projects`}>
        {list.items.map((p) => projectCard(p, props.now))}
      </ul>
      {list.pages > 1 ? (
        <nav class="pagination" aria-label="Project pages">
          {list.page > 1 ? (
            <a class="btn btn-small" href={pageUrl(query, list.page - 1)} rel="prev">
              ← Newer
            </a>
          ) : null}
          <span>
            Page {list.page} of {list.pages} · {formatCount(list.total)} projects
          </span>
          {list.page < list.pages ? (
            <a class="btn btn-small" href={pageUrl(query, list.page + 1)} rel="next">
              Older →
            </a>
          ) : null}
        </nav>
      ) : null}
    </div>
  );
}

/**
 * Written with hono/html's tagged template rather than JSX: the dashboard may list
 * thousands of cards, and the template renders them ~10× faster (bench/skeleton).
 * Interpolated values are escaped just the same.
 */
function projectCard(p: ProjectSummary, now: number) {
  const created = new Date(p.createdAt).toISOString();
  const task = p.taskType ? html`<span class="badge task-${p.taskType}">${TASK_LABELS[p.taskType]}</span>` : "—";
  return html`<li class="card project-card" aria-labelledby="project-${p.id}-title">
<div class="card-head"><h2 id="project-${p.id}-title" class="card-title"><a href="/projects/${p.id}">${p.name}</a></h2>${statusBadge(p.status)}</div>
<dl class="card-facts"><div><dt>Task</dt><dd>${task}</dd></div><div><dt>Base model</dt><dd class="mono">${p.baseModelId ?? "—"}</dd></div><div><dt>Files</dt><dd>${formatCount(p.fileCount)}</dd></div><div><dt>Examples</dt><dd>${formatCount(p.exampleCount)}</dd></div></dl>
<div class="card-foot"><time datetime="${created}" title="${created}">Created ${relativeTime(p.createdAt, now)}</time>
<div class="card-actions"><a class="btn btn-small" href="/projects/${p.id}" aria-label="Open ${p.name}">Open</a><button type="button" class="btn btn-small btn-danger-outline" aria-label="Delete ${p.name}" hx-delete="/projects/${p.id}" hx-target="#project-list" hx-swap="outerHTML" hx-confirm="Delete “${p.name}” with all its files, examples and runs? This cannot be undone." data-confirm-label="Delete project">Delete</button></div></div>
</li>`;
}
