import { afterEach, describe, expect, test } from "bun:test";
import { servedRoutes as routes } from "../../tests/helpers/routes.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { waitFor } from "../../tests/helpers/training-harness.ts";
import { csrfTokenFor } from "./csrf.ts";
import { MAX_HELD } from "./rate-limit.ts";

const TOKEN = "correct-horse-battery-staple";
let t: TestApp;
afterEach(() => t?.close());

const PUBLIC = new Set(["/healthz", "/login", "/static/:name"]);

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

  test("wrong tokens on /login wait out a growing back-off; the right token always gets through at once", async () => {
    const clock = 1_000_000;
    const held: number[] = [];
    t = makeTestApp({ authToken: TOKEN, now: () => clock, sleep: async (ms) => held.push(ms) });
    const attempt = (token: string) => t.request("/login", { method: "POST", body: new URLSearchParams({ token }) });
    // Ten successful logins in a row: never limited.
    for (let i = 0; i < 10; i++) expect((await attempt(TOKEN)).status).toBe(303);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await attempt("guess")).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    // The first five are answered at once; then each wrong one is held for the doubling wait.
    expect(held).toEqual([1000, 2000]);
    // During the back-off the right token is not held and not refused: nobody is locked out.
    expect((await attempt(TOKEN)).status).toBe(303);
    expect(held).toEqual([1000, 2000]);
    // …and it reset the count: the next wrong one is answered at once again.
    expect((await attempt("guess")).status).toBe(401);
  });

  test("bearer-token guesses are limited per client as login is; the right bearer passes during the back-off", async () => {
    const held: number[] = [];
    t = makeTestApp({ authToken: TOKEN, sleep: async (ms) => held.push(ms) });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await t.request("/api/projects", { headers: { Authorization: `Bearer guess-${i}` } })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(held).toEqual([1000, 2000, 4000]);
    expect((await (await t.request("/api/projects", { headers: { Authorization: "Bearer more" } })).json()).error_code).toBe("too_many_attempts");
    expect((await t.request("/api/projects", { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  test("parallel guesses cannot be answered at full speed: past the held ones, every attempt is refused unchecked", async () => {
    const releases: (() => void)[] = [];
    t = makeTestApp({ authToken: TOKEN, sleep: () => new Promise<void>((r) => releases.push(r)) });
    const guess = (i: number) => t.request("/api/projects", { headers: { Authorization: `Bearer guess-${i}` } });
    for (let i = 0; i < 5; i++) expect((await guess(i)).status).toBe(401);
    const pending = Array.from({ length: MAX_HELD }, (_, i) => guess(100 + i));
    await waitFor(() => releases.length === MAX_HELD);
    // The client holds the most wrong attempts it may: the next, even the right token, is refused unchecked.
    const refused = await t.request("/api/projects", { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(refused.status).toBe(429);
    for (const release of releases) release();
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual(Array(MAX_HELD).fill(429));
    expect((await t.request("/api/projects", { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
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

  test.each([
    "/\\evil.example/",
    "/\tevil.example/",
    "//evil.example",
    "/\t/evil.example",
    "https://evil.example",
    "/%09/evil.example",
    // Dot segments that collapse into a scheme-relative path once resolved.
    "/.//evil.example/",
    "/./\\evil.example/",
    "/a/..//evil.example/",
    "/%2e//evil.example/",
    "/.///evil.example",
  ])("login never redirects off-site (next=%s)", async (next) => {
    t = makeTestApp({ authToken: TOKEN });
    const ok = await t.request("/login", { method: "POST", body: new URLSearchParams({ token: TOKEN, next }) });
    const location = ok.headers.get("location")!;
    expect(new URL(location, "http://127.0.0.1:8000").origin).toBe("http://127.0.0.1:8000");
    expect(location).not.toMatch(/^\/[\/\\]/);
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
