import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { insertProject, insertRun } from "../../tests/helpers/builders.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { projectDir } from "../lib/data-dir.ts";
import { CSRF_TOKEN } from "./page-token.ts";

const TOKEN = "correct-horse-battery-staple";
let t: TestApp;
afterEach(() => t?.close());

const PUBLIC = new Set(["/healthz", "/login", "/static/:name"]);

/** Every route the app serves, from Hono's own table, so a new route cannot skip auth. */
function routes(app: TestApp["app"]) {
  const seen = new Set<string>();
  return app.routes
    .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
    .map((r) => ({ method: r.method, path: r.path }))
    .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`));
}

describe("access token on the LAN", () => {
  test("every route but health, login and static files requires the token", async () => {
    t = makeTestApp({ authToken: TOKEN, trainer: { command: FAKE_TRAINER } });
    const all = routes(t.app);
    expect(all.length).toBeGreaterThan(40);
    for (const r of all) {
      const path = r.path.replace(/:[a-zA-Z]+/g, "x");
      const anon = await t.request(path, { method: r.method });
      if (PUBLIC.has(r.path)) {
        expect([200, 302, 401, 404]).toContain(anon.status);
        continue;
      }
      if (r.path.startsWith("/api/")) expect({ route: `${r.method} ${r.path}`, status: anon.status }).toEqual({ route: `${r.method} ${r.path}`, status: 401 });
      else expect(anon.headers.get("location") ?? String(anon.status)).toStartWith("/login");
      const authed = await t.request(path, { method: r.method, headers: { Authorization: `Bearer ${TOKEN}` } });
      expect({ route: `${r.method} ${r.path}`, status: authed.status === 401 }).toEqual({ route: `${r.method} ${r.path}`, status: false });
    }
  });

  test("without a token configured (loopback) nothing is asked", async () => {
    t = makeTestApp();
    expect((await t.request("/api/projects")).status).toBe(200);
    expect((await t.request("/login")).status).toBe(302);
  });

  test("a wrong bearer token is refused; the right one works", async () => {
    t = makeTestApp({ authToken: TOKEN });
    expect((await t.request("/api/projects", { headers: { Authorization: "Bearer nope" } })).status).toBe(401);
    expect((await t.request("/api/projects", { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  test("logging in sets an HttpOnly, SameSite=Strict session cookie that opens the pages", async () => {
    t = makeTestApp({ authToken: TOKEN });
    const login = (token: string) =>
      t.request("/login", { method: "POST", body: new URLSearchParams({ token, next: "/projects/new", _csrf: CSRF_TOKEN }) });
    expect((await login("wrong")).status).toBe(401);
    const ok = await login(TOKEN);
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/projects/new");
    const cookie = ok.headers.get("set-cookie")!;
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).not.toContain(TOKEN);
    const page = await t.request("/", { headers: { Cookie: cookie.split(";")[0]! } });
    expect(page.status).toBe(200);
  });

  test("login attempts are rate-limited", async () => {
    t = makeTestApp({ authToken: TOKEN });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await t.request("/login", { method: "POST", body: new URLSearchParams({ token: "guess", _csrf: CSRF_TOKEN }) })).status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  test("/healthz answers without the token and reveals nothing else", async () => {
    t = makeTestApp({ authToken: TOKEN });
    const res = await t.request("/healthz");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(["checks", "status"]);
    expect(body.checks.database).toBe("ok");
    expect((await t.request("/api/version")).status).toBe(401);
  });
});

describe("CSRF", () => {
  test("a cross-site form post is refused", async () => {
    t = makeTestApp();
    const res = await t.request("http://localhost/projects", {
      method: "POST",
      headers: { Origin: "http://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "pwned" }),
    });
    expect(res.status).toBe(403);
    expect((await (await t.request("/api/projects")).json()).total).toBe(0);
  });

  test("a same-origin browser request needs the page's token", async () => {
    t = makeTestApp();
    const base = { method: "POST", headers: { Origin: "http://localhost", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json" }, body: '{"name":"x"}' };
    const without = await t.request("http://localhost/api/projects", base);
    expect(without.status).toBe(403);
    expect((await without.json()).error_code).toBe("csrf_token_missing");
    const withToken = await t.request("http://localhost/api/projects", { ...base, headers: { ...base.headers, "X-CSRF-Token": CSRF_TOKEN } });
    expect(withToken.status).toBe(201);
    const form = await t.request("http://localhost/projects", {
      method: "POST",
      headers: { Origin: "http://localhost", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "from the form", _csrf: CSRF_TOKEN }),
    });
    expect(form.status).toBe(303);
  });

  test("scripts (no Origin) and bearer clients are not asked for it", async () => {
    t = makeTestApp({ authToken: TOKEN });
    const res = await t.request("http://localhost/api/projects", { method: "POST", headers: { Authorization: `Bearer ${TOKEN}`, Origin: "http://elsewhere", "Content-Type": "application/json" }, body: '{"name":"api"}' });
    expect(res.status).toBe(201);
  });
});

describe("headers and paths", () => {
  test("every response carries the security headers", async () => {
    t = makeTestApp();
    for (const path of ["/", "/api/projects", "/static/app.css", "/nope"]) {
      const res = await t.request(path);
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  test.each(["/static/../package.json", "/static/..%2Fpackage.json", "/static/%2e%2e%2fpackage.json", "/static/%2Fetc%2Fpasswd", "/static/app.css%00.js"])("%s serves nothing", async (path) => {
    t = makeTestApp();
    const res = await t.request(path);
    expect(res.status).toBe(404);
  });

  test("an exported file that is a symlink out of the data dir is not served", async () => {
    t = makeTestApp();
    const pid = insertProject(t.db);
    const run = insertRun(t.db, pid);
    const dir = join(projectDir(t.dataDir, pid), "runs", run, "export");
    mkdirSync(dir, { recursive: true });
    symlinkSync("/etc/hostname", join(dir, "report.md"));
    t.db.$client.run("insert into artifacts (id, project_id, run_id, filename, relative_path, size_bytes) values ('a', ?, ?, 'report.md', ?, 10)", [pid, run, `runs/${run}/export/report.md`]);
    expect((await t.request(`/api/projects/${pid}/export/download?file=report.md`)).status).toBe(404);
  });

  test("uploads are refused when the data dir's disk is nearly full", async () => {
    t = makeTestApp({ minFreeMb: 1_000_000_000 });
    const pid = (await (await t.json("POST", "/api/projects", { name: "full" })).json()).id;
    const form = new FormData();
    form.append("files", new File(["hello"], "a.txt"));
    const res = await t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form });
    expect(res.status).toBe(507);
    expect((await res.json()).detail).toContain("MB are free");
  });
});
