import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectDir } from "../lib/data-dir.ts";
import { insertArtifact, insertExamples, insertFile, insertJob, insertRun } from "../../tests/helpers/builders.ts";
import { makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";

let t: TestApp;
beforeEach(() => {
  t = makeTestApp();
});
afterEach(() => t.close());

const create = async (body: unknown) => t.json("POST", "/api/projects", body);

describe("the project list, paged", () => {
  async function many(n: number) {
    for (let i = 0; i < n; i++) {
      const { id } = await (await create({ name: `${i % 3 === 0 ? "Support" : "Legal"} bot ${i}` })).json();
      t.db.$client.run("update projects set created_at = ?, status = ? where id = ?", [1_700_000_000_000 + i * 1000, i % 5 === 0 ? "completed" : "draft", id]);
    }
  }

  test("the dashboard sends one page of 24 cards, with pages that keep the search and status in the URL", async () => {
    await many(60);
    const first = await (await t.request("/")).text();
    expect(first.match(/class="card project-card"/g)).toHaveLength(24);
    expect(first).toContain("Page 1 of 3");
    expect(first).toContain("Legal bot 59");
    const third = await (await t.request("/?page=3")).text();
    expect(third.match(/class="card project-card"/g)).toHaveLength(12);
    const filtered = await (await t.request("/?q=support&status=completed")).text();
    // i % 3 == 0 and i % 5 == 0: 0, 15, 30, 45
    expect(filtered.match(/class="card project-card"/g)).toHaveLength(4);
    expect(filtered).toContain('value="support"');
    const filteredPaged = await (await t.request("/?q=bot&status=draft")).text();
    expect(filteredPaged).toContain('href="/?q=bot&amp;status=draft&amp;page=2"');
  });

  test("a search with LIKE wildcards matches them literally; no match says so", async () => {
    await create({ name: "100% done" });
    await create({ name: "100 done" });
    const page = await (await t.request(`/?q=${encodeURIComponent("100%")}`)).text();
    expect(page.match(/class="card project-card"/g)).toHaveLength(1);
    expect(await (await t.request("/?q=nothing-like-this")).text()).toContain("No project matches");
  });

  test("the API pages too: ?q=&status=&page=&page_size= → {items, total, page, pages}", async () => {
    await many(30);
    const body = await (await t.request("/api/projects?page_size=10&page=2&status=draft")).json();
    expect(body).toMatchObject({ total: 24, page: 2, pages: 3 });
    expect(body.items).toHaveLength(10);
    expect((await (await t.request("/api/projects")).json()).items).toHaveLength(30);
    // Garbage in the query falls back to the defaults rather than failing a script.
    expect((await t.request("/api/projects?page=-4&page_size=abc&status=nope")).status).toBe(200);
  });

  test("deleting from a filtered dashboard page re-renders that page", async () => {
    await many(6);
    const target = (await (await t.request("/api/projects?q=Support")).json()).items[0];
    const res = await t.request(`/projects/${target.id}`, { method: "DELETE", headers: { "HX-Request": "true", "HX-Current-URL": "http://127.0.0.1:8000/?q=Support" } });
    const html = await res.text();
    expect(html.match(/class="card project-card"/g)).toHaveLength(1);
    expect(html).not.toContain("Legal");
  });
});

describe("projects API", () => {
  test("creates a project with a trimmed name and returns it with 201", async () => {
    const res = await create({ name: "  Support bot  ", description: "Manuals" });
    expect(res.status).toBe(201);
    const p = await res.json();
    expect(p).toMatchObject({ name: "Support bot", description: "Manuals", status: "draft", task_type: null, file_count: 0 });
    expect(typeof p.id).toBe("string");
    expect(new Date(p.created_at).toISOString()).toBe(p.created_at);
  });

  test("lists projects newest first as {items, total}", async () => {
    let clock = 1_000;
    t.close();
    t = makeTestApp({ now: () => (clock += 1000) });
    await create({ name: "first" });
    await create({ name: "second" });
    const res = await t.request("/api/projects");
    const body = await res.json();
    expect(body.total).toBe(2);
    expect(body.items.map((p: { name: string }) => p.name)).toEqual(["second", "first"]);
  });

  test("counts files and examples per project", async () => {
    const { id } = await (await create({ name: "p" })).json();
    insertFile(t.db, id);
    insertExamples(t.db, id, 3);
    const p = await (await t.request(`/api/projects/${id}`)).json();
    expect(p.file_count).toBe(1);
    expect(p.example_count).toBe(3);
  });

  test("patches name, description and task type", async () => {
    const { id } = await (await create({ name: "p" })).json();
    const res = await t.json("PATCH", `/api/projects/${id}`, { name: "renamed", description: null, task_type: "qa" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: "renamed", description: null, task_type: "qa" });
  });

  test.each([
    [{}, "name"],
    [{ name: "" }, "name"],
    [{ name: "   " }, "name"],
    [{ name: "x".repeat(121) }, "name"],
    [{ name: 42 }, "name"],
    [{ name: "ok", description: "d".repeat(2001) }, "description"],
  ])("refuses invalid create body %j with 422 naming the field", async (body, field) => {
    const res = await create(body);
    expect(res.status).toBe(422);
    const err = await res.json();
    expect(err.error_code).toBe("validation_error");
    expect(err.fields[field]).toBeString();
    expect(err.detail).toContain(field);
  });

  test("accepts a name of exactly 120 characters and any Unicode", async () => {
    const name = "日本語のマニュアル 🚀 ".padEnd(120, "é");
    const res = await create({ name });
    expect(res.status).toBe(201);
    expect((await res.json()).name).toBe(name.trim());
  });

  test("refuses malformed JSON, an empty body and a non-object with 400", async () => {
    for (const body of ["{not json", "", "[1,2]", "null"]) {
      const res = await t.json("POST", "/api/projects", body);
      expect(res.status).toBe(400);
      const err = await res.json();
      expect(["invalid_json", "empty_body"]).toContain(err.error_code);
      expect(err.detail).toBeString();
    }
  });

  test("refuses a body over 1 MB with 413", async () => {
    const res = await create({ name: "p", description: "x".repeat(1_100_000) });
    expect(res.status).toBe(413);
    expect((await res.json()).error_code).toBe("payload_too_large");
  });

  test("refuses unknown and read-only fields on PATCH", async () => {
    const { id } = await (await create({ name: "p" })).json();
    for (const body of [{ status: "completed" }, { task_type: "chat" }, { name: "" }]) {
      const res = await t.json("PATCH", `/api/projects/${id}`, body);
      expect(res.status).toBe(422);
    }
    expect((await (await t.request(`/api/projects/${id}`)).json()).status).toBe("draft");
  });

  test("answers 404 with {detail, error_code} for an unknown project", async () => {
    for (const [method, body] of [["GET"], ["PATCH", { name: "x" }], ["DELETE"]] as const) {
      const res = await t.json(method, "/api/projects/nope", body);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ detail: "Project not found.", error_code: "project_not_found" });
    }
  });

  test("answers 404 JSON for an unknown API route", async () => {
    const res = await t.request("/api/nothing-here");
    expect(res.status).toBe(404);
    expect((await res.json()).error_code).toBe("route_not_found");
  });

  test("deleting a project removes its rows in every table and its folder on disk", async () => {
    const { id } = await (await create({ name: "doomed" })).json();
    const { id: keep } = await (await create({ name: "kept" })).json();
    for (const pid of [id, keep]) {
      insertFile(t.db, pid);
      insertExamples(t.db, pid, 2);
      insertJob(t.db, pid);
      insertArtifact(t.db, pid, insertRun(t.db, pid));
      mkdirSync(join(projectDir(t.dataDir, pid), "uploads"), { recursive: true });
      writeFileSync(join(projectDir(t.dataDir, pid), "uploads", "a.pdf"), "x");
    }
    const res = await t.request(`/api/projects/${id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: true, id });
    const count = (table: string, pid: string) =>
      (t.db.$client.query(`select count(*) as n from ${table} where project_id = ?`).get(pid) as { n: number }).n;
    for (const table of ["files", "examples", "jobs", "training_runs", "artifacts"]) {
      expect(count(table, id)).toBe(0);
      expect(count(table, keep)).toBeGreaterThan(0);
    }
    expect(existsSync(projectDir(t.dataDir, id))).toBe(false);
    expect(existsSync(join(projectDir(t.dataDir, keep), "uploads", "a.pdf"))).toBe(true);
  });
});

describe("project pages", () => {
  test("the dashboard shows an empty state inviting to create a project", async () => {
    const html = await (await t.request("/")).text();
    expect(html).toContain("No projects yet");
    expect(html).toContain('href="/projects/new"');
  });

  test("the dashboard shows each project's card with its facts", async () => {
    const { id } = await (await create({ name: "Manuals <b>bot</b>" })).json();
    await t.json("PATCH", `/api/projects/${id}`, { task_type: "qa" });
    insertFile(t.db, id);
    insertExamples(t.db, id, 1234);
    const html = await (await t.request("/")).text();
    expect(html).toContain("Manuals &lt;b&gt;bot&lt;/b&gt;");
    expect(html).toContain("Q&amp;A");
    expect(html).toContain("1,234");
    expect(html).toContain("just now");
    expect(html).toContain('class="badge status-draft"');
    expect(html).toContain(`hx-delete="/projects/${id}"`);
  });

  test("the new project form creates the project and redirects to its wizard", async () => {
    const res = await t.request("/projects", { method: "POST", body: new URLSearchParams({ name: " Bot ", description: "" }) });
    expect(res.status).toBe(303);
    const { items } = await (await t.request("/api/projects")).json();
    expect(items[0]).toMatchObject({ name: "Bot", description: null });
    expect(res.headers.get("location")).toBe(`/projects/${items[0].id}`);
  });

  test("the new project form re-renders with the field error and 422 on bad input", async () => {
    for (const form of [{ name: "" }, { name: "x".repeat(121), description: "kept text" }, {}] as Record<string, string>[]) {
      const res = await t.request("/projects", { method: "POST", body: new URLSearchParams(form) });
      expect(res.status).toBe(422);
      const html = await res.text();
      expect(html).toContain('id="name-error"');
      expect(html).toContain('aria-invalid="true"');
      if (form.description) expect(html).toContain("kept text");
    }
    expect((await (await t.request("/api/projects")).json()).total).toBe(0);
  });

  test("deleting from the dashboard returns the refreshed list", async () => {
    const { id } = await (await create({ name: "only" })).json();
    const res = await t.request(`/projects/${id}`, { method: "DELETE", headers: { "HX-Request": "true" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("No projects yet");
  });

  test("an htmx request that fails gets an error toast aimed at #toasts", async () => {
    const res = await t.request("/projects/missing", { method: "DELETE", headers: { "HX-Request": "true" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("HX-Retarget")).toBe("#toasts");
    expect(await res.text()).toContain('role="alert"');
  });

  test("serves htmx, Alpine and uPlot from its own origin", async () => {
    for (const name of ["htmx.min.js", "alpine.min.js", "uplot.min.js", "uplot.min.css", "app.css", "app.js"]) {
      const res = await t.request(`/static/${name}`);
      expect(res.status).toBe(200);
      expect((await res.text()).length).toBeGreaterThan(10);
    }
    expect((await t.request("/static/..%2Fpackage.json")).status).toBe(404);
  });
});

describe("project status: named transitions, one writer", () => {
  test("a transition applies only from the statuses it names; the training ones from any", async () => {
    const { createProjectService } = await import("./service.ts");
    const projects = createProjectService({ db: t.db, dataDir: t.dataDir });
    const id = projects.create({ name: "Status", description: null }).id;
    const status = () => projects.get(id).status;
    projects.transition(id, "upload_started");
    expect(status()).toBe("uploading");
    projects.transition(id, "extraction_queued");
    expect(status()).toBe("chunking");
    projects.transition(id, "training_succeeded");
    expect(status()).toBe("completed");
    // An upload to a trained project does not send it back to a draft.
    projects.transition(id, "upload_started");
    projects.transition(id, "extraction_done");
    expect(status()).toBe("completed");
    projects.transition(id, "training_failed");
    expect(status()).toBe("failed");
  });
});
