/** The request guard: host names, body types and sizes, what leaves the server, headers and paths. */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { insertProject, insertRun } from "../../tests/helpers/builders.ts";
import { servedRoutes as routes } from "../../tests/helpers/routes.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { projectDir } from "../lib/data-dir.ts";

const TOKEN = "correct-horse-battery-staple";
let t: TestApp;
afterEach(() => t?.close());

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

  // Names that DNS can point at 127.0.0.1 (rebinding), malformed headers, and IP literals that are not loopback.
  const HOSTILE = [
    "127.attacker.example",
    "127.0.0.1.nip.io",
    "127.0.0.1.nip.io:8000",
    "127.0.0.1.",
    "127.0.0.1.:8000",
    "localhost.",
    "LOCALHOST.attacker.example",
    "127.1.attacker.example:8000",
    "127.0.0.1x",
    "127.0.0.1:8000@evil.example",
    "127.0.0.1:80:80",
    "[::1].attacker.example",
    "[::ffff:10.0.0.5]:8000",
    "[fe80::1]",
    "0x7f.0.0.1",
    "2130706433",
  ];
  test.each(HOSTILE)("Host %s gets 421 for the page, its CSRF token, project creation and remote-code consent", async (host) => {
    t = makeTestApp();
    const page = await t.request("/", { headers: { Host: host } });
    expect(page.status).toBe(421);
    expect(await page.text()).not.toMatch(/name="csrf-token" content="[^"]/);
    expect((await t.request("/api/projects", { headers: { Host: host } })).status).toBe(421);
    const create = await t.request("/api/projects", { method: "POST", headers: { Host: host, "Content-Type": "application/json" }, body: JSON.stringify({ name: "x" }) });
    expect(create.status).toBe(421);
    const pid = insertProject(t.db, { name: "P" });
    const consent = await t.request(`/api/projects/${pid}/model/remote-code`, { method: "POST", headers: { Host: host, "Content-Type": "application/json" }, body: JSON.stringify({ model_id: "org/x" }) });
    expect(consent.status).toBe(421);
    expect((await (await t.request("/api/projects")).json()).total).toBe(1);
  });

  test.each(["localhost:8000", "LOCALHOST", "127.0.0.1:8000", "127.0.0.2", "[::1]:8000", "[0:0:0:0:0:0:0:1]:8000", "[::ffff:127.0.0.1]", "127.0.0.1"])("Host %s is served", async (host) => {
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
    // Each malformed login is a wrong token: its back-off is not what this test waits for.
    t = makeTestApp({ authToken: TOKEN, sleep: async () => {} });
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
