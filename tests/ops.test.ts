// The server as an operator meets it: refusing an unsafe bind, its CLI, and a
// graceful shutdown in the middle of a (fake) training run.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeTinyModelFolder } from "./fakes/tiny-model-folder.ts";
import { startServer, type RunningServer } from "./helpers/server-process.ts";
import { makeTempDir } from "./helpers/test-app.ts";

const ROOT = join(import.meta.dir, "..");
const MAIN = join(ROOT, "src/main.ts");
let server: RunningServer | undefined;
afterAll(async () => void (await server?.stop()));

async function runMain(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { env: { ...process.env, FTF_DATA_DIR: makeTempDir(), ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { out, err, code };
}

test("refuses to bind 0.0.0.0 without FTF_AUTH_TOKEN, saying why", async () => {
  const r = await runMain([], { HOST: "0.0.0.0", PORT: "0" });
  expect(r.code).toBe(2);
  expect(r.err).toContain("Refusing to listen on 0.0.0.0 without an access token");
});

test("--help, --version and flags that override the environment", async () => {
  const help = await runMain(["--help"]);
  expect(help.out).toContain("--data-dir <dir>");
  expect(help.out).toContain("backup <file>");
  expect((await runMain(["--version"])).out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  expect((await runMain(["--port", "nope"])).err).toContain("PORT: must be a whole number");
  expect((await runMain(["frobnicate"])).err).toContain('Unknown command "frobnicate"');
});

test("SIGTERM during training: the trainer is stopped, the server exits cleanly, the run shows interrupted", async () => {
  // A stand-in Python: `python -m finetuneflow_trainer ARGS` runs the fake trainer with ARGS.
  const shim = join(makeTempDir("ftf-shim-"), "python");
  writeFileSync(shim, `#!/bin/sh\nshift 2\nexec "${process.execPath}" "${join(ROOT, "tests/fakes/fake-trainer.ts")}" "$@"\n`);
  chmodSync(shim, 0o755);
  const dataDir = makeTempDir("ftf-shutdown-");
  const env = { FTF_PYTHON: shim, FAKE_STEPS: "500", FAKE_DELAY_MS: "30" };
  server = await startServer({ dataDir, env });
  const api = async (path: string, body?: unknown, method = body === undefined ? "GET" : "POST") =>
    (await fetch(server!.url + path, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) })).json();
  const { id } = await api("/api/projects", { name: "shutdown" });
  await api(`/api/projects/${id}`, { task_type: "qa" }, "PATCH");
  await api(`/api/projects/${id}/model/resolve`, { model_id: writeTinyModelFolder(join(makeTempDir(), "m")).dir });
  const form = new FormData();
  form.append("kind", "dataset_upload");
  form.append("files", new File([Array.from({ length: 12 }, (_, i) => JSON.stringify({ question: `Question ${i}?`, answer: `Answer ${i}.` })).join("\n")], "qa.jsonl"));
  await fetch(`${server.url}/api/projects/${id}/files/upload`, { method: "POST", body: form });
  // The import runs in the server's queue: wait for the dataset, not for a guessed time.
  for (let i = 0; i < 200 && (await api(`/api/projects/${id}`)).status !== "ready_to_train"; i++) await Bun.sleep(25);
  expect((await api(`/api/projects/${id}`)).status).toBe("ready_to_train");
  expect((await api(`/api/hardware/check?project_id=${id}`)).recommended_method).toBe("lora");
  const started = await api(`/api/projects/${id}/train/start`, { num_epochs: 1 });
  expect(started.run_id).toBeString();
  for (let i = 0; i < 100 && (await api(`/api/projects/${id}/train/status`)).current_metrics.step < 3; i++) await Bun.sleep(50);

  const t0 = Date.now();
  const code = await server.stop("SIGTERM");
  expect(code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(30_000);

  server = await startServer({ dataDir, env });
  const status = await api(`/api/projects/${id}/train/status`);
  expect(status.status).toBe("interrupted");
  expect(status.current_metrics.step).toBeGreaterThanOrEqual(3);
}, 60_000);
