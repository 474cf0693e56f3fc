// The compiled single executable embeds views, static assets and migrations: built
// here, started from an unrelated folder with a temp data dir, and asked for pages.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { buildBinary } from "../scripts/build.ts";
import { makeTempDir } from "./helpers/test-app.ts";
import { startServer, type RunningServer } from "./helpers/server-process.ts";

let server: RunningServer;

beforeAll(async () => {
  const binary = await buildBinary(join(makeTempDir("ftf-bin-"), "finetuneflow"));
  server = await startServer({ cmd: [binary], cwd: makeTempDir("ftf-elsewhere-") });
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

test("the binary exits cleanly on SIGTERM", async () => {
  expect(await server.stop("SIGTERM")).toBe(0);
});
