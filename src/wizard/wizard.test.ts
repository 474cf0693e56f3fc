import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  checkHardware, chooseTask, insertExamples, insertFile, insertJob, insertProject, insertRun, resolveModel,
} from "../../tests/helpers/builders.ts";
import { makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { STEP_IDS, type StepId } from "./steps.ts";

let t: TestApp;
beforeEach(() => {
  t = makeTestApp();
});
afterEach(() => t.close());

const wizard = (id: string, step: string, htmx = false) =>
  t.request(`/projects/${id}/wizard?step=${step}`, { headers: htmx ? { "HX-Request": "true" } : {} });

/** Which steps a GET lets through (200) rather than redirecting. */
async function openSteps(id: string): Promise<StepId[]> {
  const open: StepId[] = [];
  for (const step of STEP_IDS) if ((await wizard(id, step)).status === 200) open.push(step);
  return open;
}

describe("wizard routes", () => {
  test("/projects/:id redirects to the first incomplete step", async () => {
    const id = insertProject(t.db);
    expect((await t.request(`/projects/${id}`)).headers.get("location")).toBe(`/projects/${id}/wizard?step=model`);
    resolveModel(t.db, id);
    chooseTask(t.db, id);
    expect((await t.request(`/projects/${id}`)).headers.get("location")).toBe(`/projects/${id}/wizard?step=data`);
  });

  test("an unknown project is a 404 page and an unknown step a 400 page", async () => {
    const missing = await t.request("/projects/nope/wizard?step=model");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("Project not found.");
    expect((await t.request("/projects/nope")).status).toBe(404);
    const id = insertProject(t.db);
    const bad = await wizard(id, "flying");
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain("<!DOCTYPE html>");
    expect(html).toContain("There is no wizard step “flying”");
  });

  test("a step renders the progress bar with complete, current and locked steps", async () => {
    const id = insertProject(t.db);
    resolveModel(t.db, id);
    const html = await (await wizard(id, "task")).text();
    expect(html).toMatch(/class="step step-complete" data-step="model"/);
    expect(html).toMatch(/class="step step-current" data-step="task"/);
    expect(html).toMatch(/class="step step-locked" data-step="data"/);
    expect(html).toContain('title="Choose a task first."');
    expect(html).toContain('aria-current="step"');
  });

  test("a locked step asked by URL redirects to the first incomplete step with a message", async () => {
    const id = insertProject(t.db);
    const res = await wizard(id, "train");
    expect(res.status).toBe(302);
    const location = res.headers.get("location")!;
    expect(location).toBe(`/projects/${id}/wizard?step=model&locked=train`);
    const html = await (await t.request(location)).text();
    expect(html).toContain("The Train step is locked: Check the hardware first.");
  });

  test("an htmx step change returns only the wizard fragment", async () => {
    const id = insertProject(t.db);
    const res = await wizard(id, "task", true);
    const html = await res.text();
    expect(html.startsWith('<div id="wizard"')).toBe(true);
    expect(html).not.toContain("<html");
  });

  test("an htmx request for a locked step returns the fallback step and corrects the pushed URL", async () => {
    const id = insertProject(t.db);
    const res = await wizard(id, "export", true);
    expect(res.status).toBe(200);
    expect(res.headers.get("HX-Push-Url")).toBe(`/projects/${id}/wizard?step=model`);
    expect(await res.text()).toContain("The Export step is locked");
  });

  test("a history restore gets the full page", async () => {
    const id = insertProject(t.db);
    const res = await t.request(`/projects/${id}/wizard?step=task`, {
      headers: { "HX-Request": "true", "HX-History-Restore-Request": "true" },
    });
    expect(await res.text()).toContain("<html");
  });

  test("each row of the prerequisites table is enforced over HTTP", async () => {
    const id = insertProject(t.db);
    expect(await openSteps(id)).toEqual(["model", "task"]);
    resolveModel(t.db, id);
    expect(await openSteps(id)).toEqual(["model", "task"]);
    chooseTask(t.db, id);
    expect(await openSteps(id)).toEqual(["model", "task", "data"]);
    insertFile(t.db, id, { status: "failed" });
    expect(await openSteps(id)).toEqual(["model", "task", "data"]);
    insertFile(t.db, id);
    expect(await openSteps(id)).toEqual(["model", "task", "data", "preview"]);
    insertJob(t.db, id, { type: "dataset_preview", status: "success" });
    expect(await openSteps(id)).toEqual(["model", "task", "data", "preview", "review"]);
    insertExamples(t.db, id, 9);
    insertExamples(t.db, id, 5, { isValid: false });
    insertExamples(t.db, id, 5, { split: "preview" });
    expect(await openSteps(id)).not.toContain("hardware");
    insertExamples(t.db, id, 1, { split: "eval" });
    expect(await openSteps(id)).toEqual(["model", "task", "data", "preview", "review", "hardware"]);
    checkHardware(t.db, id);
    expect(await openSteps(id)).toEqual(["model", "task", "data", "preview", "review", "hardware", "train"]);
    insertRun(t.db, id, "failed");
    expect(await openSteps(id)).not.toContain("export");
    insertRun(t.db, id, "success");
    expect(await openSteps(id)).toEqual([...STEP_IDS]);
  });

  test("an uploaded dataset opens Review without a preview", async () => {
    const id = insertProject(t.db);
    resolveModel(t.db, id);
    chooseTask(t.db, id);
    insertFile(t.db, id, { kind: "dataset_upload", filename: "data.jsonl" });
    expect(await openSteps(id)).toEqual(["model", "task", "data", "preview", "review"]);
  });
});
