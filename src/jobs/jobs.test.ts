import { afterEach, beforeEach, expect, test } from "bun:test";
import { insertJob, insertProject } from "../../tests/helpers/builders.ts";
import { makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";

let t: TestApp;
beforeEach(() => {
  t = makeTestApp();
});
afterEach(() => t.close());

test("GET /api/jobs/:id returns the job in the spec's shape", async () => {
  const pid = insertProject(t.db);
  const id = insertJob(t.db, pid, { status: "running", progressPct: 40, progressMessage: "4/10 examples" });
  const job = await (await t.request(`/api/jobs/${id}`)).json();
  expect(job).toMatchObject({ id, type: "dataset_preview", status: "running", progress_pct: 40, error_message: null, finished_at: null });
});

test("GET /api/projects/:id/jobs lists that project's jobs only", async () => {
  const a = insertProject(t.db);
  const b = insertProject(t.db);
  insertJob(t.db, a);
  insertJob(t.db, b);
  const body = await (await t.request(`/api/projects/${a}/jobs`)).json();
  expect(body.jobs).toHaveLength(1);
  expect(body.jobs[0].project_id).toBe(a);
  expect((await t.request("/api/projects/nope/jobs")).status).toBe(404);
});

test("an unknown job is a 404 with a job_not_found code", async () => {
  const res = await t.request("/api/jobs/missing");
  expect(res.status).toBe(404);
  expect((await res.json()).error_code).toBe("job_not_found");
});

test("the JobProgress fragment polls while running and stops once finished", async () => {
  const pid = insertProject(t.db);
  const running = await (await t.request(`/jobs/${insertJob(t.db, pid, { status: "running", progressPct: 42.4 })}/progress`)).text();
  expect(running).toContain('hx-trigger="every 2s"');
  expect(running).toContain('value="42"');
  const done = await (await t.request(`/jobs/${insertJob(t.db, pid, { status: "success", progressPct: 100 })}/progress`)).text();
  expect(done).not.toContain("hx-trigger");
});
