import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { insertProject, insertRun } from "../../tests/helpers/builders.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { projectDir } from "../lib/data-dir.ts";
import { csrfTokenFor } from "./csrf.ts";

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
    const login = (token: string) => t.request("/login", { method: "POST", body: new URLSearchParams({ token, next: "/projects/new" }) });
    expect((await login("wrong")).status).toBe(401);
    const ok = await login(TOKEN);
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/projects/new");
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith("ftf_session="))!;
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).not.toContain(TOKEN);
    const page = await t.request("/", { headers: { Cookie: cookie.split(";")[0]! } });
    expect(page.status).toBe(200);
  });

  test("wrong tokens on /login slow the client down; successes never count; the right token gets through after the wait", async () => {
    let clock = 1_000_000;
    t = makeTestApp({ authToken: TOKEN, now: () => clock });
    const attempt = (token: string) => t.request("/login", { method: "POST", body: new URLSearchParams({ token }) });
    // Ten successful logins in a row: never limited.
    for (let i = 0; i < 10; i++) expect((await attempt(TOKEN)).status).toBe(303);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await attempt("guess")).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    // Locked for now, even with the right token (no oracle for the attacker)…
    expect((await attempt(TOKEN)).status).toBe(429);
    // …but not locked out: once the wait is over the user signs in.
    clock += 5 * 60_000;
    expect((await attempt(TOKEN)).status).toBe(303);
  });

  test("bearer-token guesses are limited per client as login is", async () => {
    t = makeTestApp({ authToken: TOKEN });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await t.request("/api/projects", { headers: { Authorization: `Bearer guess-${i}` } })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    expect((await (await t.request("/api/projects", { headers: { Authorization: "Bearer more" } })).json()).error_code).toBe("too_many_attempts");
  });

  test("the login body is limited to a few KB, checked while it streams, before anything else", async () => {
    t = makeTestApp({ authToken: TOKEN });
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 64 * 1024;
        if (sent > 300 * 1024 * 1024) controller.close();
        else controller.enqueue(new Uint8Array(64 * 1024).fill(0x61));
      },
    });
    const res = await t.request("/login", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(1024 * 1024);
  });

  test("log out clears the session cookie; the Log out button is in the header", async () => {
    t = makeTestApp({ authToken: TOKEN });
    const ok = await t.request("/login", { method: "POST", body: new URLSearchParams({ token: TOKEN }) });
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith("ftf_session="))!.split(";")[0]!;
    const page = await (await t.request("/", { headers: { Cookie: cookie } })).text();
    expect(page).toContain('action="/logout"');
    const out = await t.request("/logout", { method: "POST", headers: { Cookie: cookie } });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/ftf_session=;.*Max-Age=0/);
  });

  test("the session lasts FTF_SESSION_DAYS", async () => {
    t = makeTestApp({ authToken: TOKEN, sessionDays: 2 });
    const ok = await t.request("/login", { method: "POST", body: new URLSearchParams({ token: TOKEN }) });
    expect(ok.headers.getSetCookie().find((c) => c.startsWith("ftf_session="))).toContain(`Max-Age=${2 * 24 * 3600}`);
  });

  test.each(["/\\evil.example/", "/\tevil.example/", "//evil.example", "/\t/evil.example", "https://evil.example", "/%09/evil.example"])("login never redirects off-site (next=%s)", async (next) => {
    t = makeTestApp({ authToken: TOKEN });
    const ok = await t.request("/login", { method: "POST", body: new URLSearchParams({ token: TOKEN, next }) });
    const location = ok.headers.get("location")!;
    expect(new URL(location, "http://127.0.0.1:8000").origin).toBe("http://127.0.0.1:8000");
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

  /** What a browser gets from a page: its id cookie and the page's token. */
  async function browser(path = "/", headers: Record<string, string> = {}) {
    const res = await t.request(path, { headers });
    const cookie = res.headers.get("set-cookie")?.split(";")[0] ?? headers.Cookie!;
    const token = (await res.text()).match(/name="_?csrf(?:-token)?" (?:content|value)="([0-9a-f]+)"/)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path}`);
    return { cookie, token };
  }

  test("a same-origin browser request needs its own browser's token", async () => {
    t = makeTestApp();
    const me = await browser();
    const base = { method: "POST", headers: { Origin: "http://localhost", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json", Cookie: me.cookie }, body: '{"name":"x"}' };
    const without = await t.request("http://localhost/api/projects", base);
    expect(without.status).toBe(403);
    expect((await without.json()).error_code).toBe("csrf_token_missing");
    const withToken = await t.request("http://localhost/api/projects", { ...base, headers: { ...base.headers, "X-CSRF-Token": me.token } });
    expect(withToken.status).toBe(201);
    const form = await t.request("http://localhost/projects", {
      method: "POST",
      headers: { Origin: "http://localhost", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded", Cookie: me.cookie },
      body: new URLSearchParams({ name: "from the form", _csrf: me.token }),
    });
    expect(form.status).toBe(303);
  });

  test("a token read off the public login page is worth nothing in another browser", async () => {
    t = makeTestApp({ authToken: TOKEN });
    const attacker = await browser("/login");
    const victim = await browser("/login");
    expect(attacker.token).not.toBe(victim.token);
    const login = await t.request("/login", { method: "POST", headers: { Cookie: victim.cookie }, body: new URLSearchParams({ token: TOKEN }) });
    const session = login.headers.getSetCookie().find((c) => c.startsWith("ftf_session="))!.split(";")[0]!;
    const res = await t.request("http://localhost/projects", {
      method: "POST",
      headers: { Origin: "http://localhost", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded", Cookie: `${victim.cookie}; ${session}` },
      body: new URLSearchParams({ name: "forged", _csrf: attacker.token }),
    });
    expect(res.status).toBe(403);
    expect(csrfTokenFor("x", "a".repeat(64))).not.toBe(csrfTokenFor("x", "b".repeat(64)));
  });

  test("Origin: null (sandboxed frames, files) is refused on state-changing requests", async () => {
    t = makeTestApp();
    const me = await browser();
    const res = await t.request("http://localhost/api/projects", { method: "POST", headers: { Origin: "null", "Content-Type": "application/json", Cookie: me.cookie, "X-CSRF-Token": me.token }, body: '{"name":"x"}' });
    expect(res.status).toBe(403);
    expect((await (await t.request("/api/projects")).json()).total).toBe(0);
  });

  test("scripts (no Origin) and bearer clients are not asked for it", async () => {
    t = makeTestApp({ authToken: TOKEN });
    const res = await t.request("http://localhost/api/projects", { method: "POST", headers: { Authorization: `Bearer ${TOKEN}`, Origin: "http://localhost", "Content-Type": "application/json" }, body: '{"name":"api"}' });
    expect(res.status).toBe(201);
    const script = await t.request("http://localhost/api/projects", { method: "POST", headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" }, body: '{"name":"script"}' });
    expect(script.status).toBe(201);
    // A foreign Origin is refused whatever it carries.
    const foreign = await t.request("http://localhost/api/projects", { method: "POST", headers: { Authorization: `Bearer ${TOKEN}`, Origin: "http://elsewhere", "Content-Type": "application/json" }, body: '{"name":"api"}' });
    expect(foreign.status).toBe(403);
  });
});

describe("DNS rebinding: only our own names", () => {
  test.each(["rebind.attacker.example", "rebind.attacker.example:8000", "10.0.0.5:8000", "localhost.attacker.example"])("Host %s is refused with 421 and a sentence, on every route", async (host) => {
    t = makeTestApp({ trainer: { command: FAKE_TRAINER } });
    for (const r of routes(t.app)) {
      const path = r.path.replace(/:[a-zA-Z]+/g, "x");
      const res = await t.request(path, { method: r.method, headers: { Host: host } });
      expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({ route: `${r.method} ${r.path}`, status: 421 });
      // And from a page of that name against our real name: the Origin gives it away.
      const cross = await t.request(`http://localhost${path}`, { method: r.method, headers: { Origin: `http://${host}` } });
      expect({ route: `${r.method} ${r.path}`, status: cross.status }).toEqual({ route: `${r.method} ${r.path}`, status: 403 });
    }
    const res = await t.request("/api/projects", { headers: { Host: host } });
    expect((await res.json()).detail).toContain("FTF_ALLOWED_HOSTS");
  });

  test.each(["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "127.0.0.1"])("Host %s is served", async (host) => {
    t = makeTestApp();
    expect((await t.request("/api/projects", { headers: { Host: host } })).status).toBe(200);
  });

  test("names in FTF_ALLOWED_HOSTS are served; with a token, the bound address and LAN IPs too", async () => {
    t = makeTestApp({ allowedHosts: ["gpu-box.lan"] });
    expect((await t.request("/api/projects", { headers: { Host: "gpu-box.lan:8000" } })).status).toBe(200);
    expect((await t.request("/api/projects", { headers: { Host: "192.168.1.20:8000" } })).status).toBe(421);
    t.close();
    t = makeTestApp({ authToken: TOKEN, host: "0.0.0.0" });
    const auth = { Authorization: `Bearer ${TOKEN}` };
    expect((await t.request("/api/projects", { headers: { ...auth, Host: "192.168.1.20:8000" } })).status).toBe(200);
    expect((await t.request("/api/projects", { headers: { ...auth, Host: "gpu-box.lan:8000" } })).status).toBe(421);
  });

  test("a request whose Origin is not this host is refused, even a GET", async () => {
    t = makeTestApp();
    const res = await t.request("http://localhost/api/projects", { headers: { Origin: "http://rebind.attacker.example:8000" } });
    expect(res.status).toBe(403);
  });

  test("a model that ships its own code trains only after the user allows it, for that model", async () => {
    const { insertExamples, resolveModel, checkHardware } = await import("../../tests/helpers/builders.ts");
    t = makeTestApp({ trainer: { command: FAKE_TRAINER } });
    const pid = insertProject(t.db);
    resolveModel(t.db, pid);
    t.db.$client.run("update projects set model_info = json_set(model_info, '$.needs_remote_code', json('true')) where id = ?", [pid]);
    insertExamples(t.db, pid, 20, { split: "train" });
    checkHardware(t.db, pid);
    const start = () => t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1 });
    const refused = await start();
    expect(refused.status).toBe(409);
    expect((await refused.json()).error_code).toBe("remote_code_not_allowed");
    const modelId = (await (await t.request(`/api/projects/${pid}`)).json()).base_model_id;
    expect((await t.json("POST", `/api/projects/${pid}/model/remote-code`, { model_id: "someone/else" })).status).toBe(409);
    expect((await t.json("POST", `/api/projects/${pid}/model/remote-code`, { model_id: modelId })).status).toBe(200);
    const ok = await start();
    expect(ok.status).toBe(202);
    const run = t.db.$client.query("select output_dir from training_runs where project_id = ?").get(pid) as { output_dir: string };
    expect(JSON.parse(await Bun.file(`${run.output_dir}/run.json`).text()).trust_remote_code).toBe(true);
  });
});

describe("bodies: the type the route takes, the size it allows, never a 500", () => {
  test("a JSON route refuses multipart (and any other type) with 415 before reading, however large", async () => {
    t = makeTestApp();
    const form = new FormData();
    form.append("name", "x".repeat(2 * 1024 * 1024));
    const res = await t.request("/api/projects", { method: "POST", body: form });
    expect(res.status).toBe(415);
    expect((await t.request("/api/projects", { method: "POST", headers: { "Content-Type": "text/plain" }, body: '{"name":"x"}' })).status).toBe(415);
    expect((await (await t.request("/api/projects")).json()).total).toBe(0);
  });

  test("JSON over 1 MB and forms over 64 KB are 413, streamed or not", async () => {
    t = makeTestApp();
    const big = JSON.stringify({ name: "x", description: "y".repeat(1024 * 1024) });
    expect((await t.json("POST", "/api/projects", big)).status).toBe(413);
    const form = await t.request("/projects", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `name=${"z".repeat(70 * 1024)}` });
    expect(form.status).toBe(413);
  });

  test("malformed multipart and bodies on page routes and /login answer 400 with a sentence, never 500", async () => {
    t = makeTestApp({ authToken: TOKEN });
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const pid = insertProject(t.db);
    const bodies = ["--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb", "garbage", "--x--", "%%%&=&&=", ""];
    // Every page route that takes a body, from Hono's own table, plus the login form.
    const pageRoutes = routes(t.app)
      .filter((r) => ["POST", "PUT", "PATCH", "DELETE"].includes(r.method) && !r.path.startsWith("/api/"))
      .map((r) => ({ method: r.method, path: r.path.replace(/:id/g, pid).replace(/:[a-zA-Z]+/g, "x") }));
    expect(pageRoutes.length).toBeGreaterThanOrEqual(13);
    for (const { method, path } of [{ method: "POST", path: "/login" }, ...pageRoutes]) {
      for (const body of bodies) {
        for (const type of ["multipart/form-data; boundary=x", "multipart/form-data", "application/x-www-form-urlencoded"]) {
          const res = await t.request(path, { method, headers: { ...auth, "Content-Type": type }, body });
          expect({ method, path, type, body, status: res.status < 500 }).toEqual({ method, path, type, body, status: true });
        }
      }
    }
  });

  test.each(["/static/__proto__", "/static/constructor", "/static/toString", "/static/hasOwnProperty"])("%s is a 404, not a 500", async (path) => {
    t = makeTestApp();
    expect((await t.request(path)).status).toBe(404);
  });
});

describe("what leaves the server", () => {
  test("CSV exports neutralise cells a spreadsheet would run as formulas", async () => {
    const { exportLine } = await import("../datasets/export.ts");
    const line = exportLine("csv", { instruction: "=HYPERLINK(\"http://evil\")", input: "+1+1", output: "@SUM(A1)" } as never);
    expect(line).toBe(`"'=HYPERLINK(""http://evil"")",'+1+1,'@SUM(A1)\n`);
    expect(exportLine("csv", { instruction: "-2", input: "\tcmd", output: "safe" } as never)).toBe(`'-2,'\tcmd,safe\n`);
  });

  test("the disk-full message names the setting, not the server's path", async () => {
    t = makeTestApp({ minFreeMb: 1_000_000_000 });
    const pid = (await (await t.json("POST", "/api/projects", { name: "full" })).json()).id;
    const form = new FormData();
    form.append("files", new File(["hello"], "a.txt"));
    const detail = (await (await t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form })).json()).detail;
    expect(detail).not.toContain(t.dataDir);
    expect(detail).toContain("FTF_DATA_DIR");
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
