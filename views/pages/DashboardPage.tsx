import type { ProjectSummary } from "../../src/projects/schemas.ts";
import { formatCount, relativeTime } from "../../src/lib/format.ts";
import { Layout } from "../layouts/Layout.tsx";
import { html } from "hono/html";
import { statusBadge } from "../components/StatusBadge.tsx";

const TASK_LABELS = { instruction: "Instruction", qa: "Q&A" } as const;

export function DashboardPage(props: { projects: ProjectSummary[]; now: number }) {
  return (
    <Layout title="Projects">
      <div class="page-head">
        <h1>Projects</h1>
        <a class="btn btn-primary" href="/projects/new">
          + New Project
        </a>
      </div>
      <ProjectList {...props} />
    </Layout>
  );
}

/** The swappable part of the dashboard: re-rendered after a delete so the empty state appears. */
export function ProjectList(props: { projects: ProjectSummary[]; now: number }) {
  if (props.projects.length === 0) {
    return (
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
    <ul id="project-list" class="card-grid" aria-label={`${props.projects.length} projects`}>
      {props.projects.map((p) => projectCard(p, props.now))}
    </ul>
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
