// The compiled single executable embeds views, static assets and migrations: built
// here, started from an unrelated folder with a temp data dir, and asked for pages.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { buildBinary } from "../scripts/build.ts";
import { makeTempDir } from "./helpers/test-app.ts";
import { buildPdf } from "./fakes/pdf.ts";
import { startServer, type RunningServer } from "./helpers/server-process.ts";

let server: RunningServer;
let binaryPath: string;

beforeAll(async () => {
  binaryPath = await buildBinary(join(makeTempDir("ftf-bin-"), "finetuneflow"));
  server = await startServer({ cmd: [binaryPath], cwd: makeTempDir("ftf-elsewhere-") });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

test("the compiled binary serves the dashboard, its assets and the API", async () => {
  const home = await fetch(server.url + "/");
  expect(home.status).toBe(200);
  expect(await home.text()).toContain("No projects yet");
  const htmx = await fetch(server.url + "/static/htmx.min.js");
  expect(htmx.status).toBe(200);
  expect(await htmx.text()).toContain("htmx");
  const created = await fetch(server.url + "/api/projects", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: "from the binary" }),
  });
  expect(created.status).toBe(201);
});

test("the binary answers --version and --help, and drives an upload through extraction", async () => {
  const version = Bun.spawnSync([binaryPath, "--version"]).stdout.toString().trim();
  expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  expect(Bun.spawnSync([binaryPath, "--help"]).stdout.toString()).toContain("--data-dir");
  const { id } = await (await fetch(server.url + "/api/projects", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"name":"binary"}' })).json();
  const form = new FormData();
  form.append("files", new File([buildPdf([{ cjk: ["保証期間は二年間です"] }]) as BlobPart], "cjk.pdf"));
  await fetch(`${server.url}/api/projects/${id}/files/upload`, { method: "POST", body: form });
  let file: { status: string; char_count: number } = { status: "extracting", char_count: 0 };
  for (let i = 0; i < 100 && file.status === "extracting"; i++) {
    await Bun.sleep(50);
    file = (await (await fetch(`${server.url}/api/projects/${id}/files`)).json()).files[0];
  }
  expect(file.status).toBe("ready");
  expect(file.char_count).toBeGreaterThan(5);
  expect((await (await fetch(server.url + "/healthz")).json()).checks.database).toBe("ok");
});

test("the binary exits cleanly on SIGTERM", async () => {
  expect(await server.stop("SIGTERM")).toBe(0);
});
