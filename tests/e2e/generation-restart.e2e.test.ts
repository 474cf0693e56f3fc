// Kill -9 in the middle of a generation job, restart the server on the same data dir:
// the job resumes and ends with exactly the target, no duplicate, no lost example.
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { corpusText } from "../fakes/corpus.ts";
import { startFakeOllama } from "../fakes/fake-ollama.ts";
import { startServer, type RunningServer } from "../helpers/server-process.ts";
import { makeTempDir } from "../helpers/test-app.ts";

const ollama = startFakeOllama({ latencyMs: 40, capacity: 4 });
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.stop();
  ollama.stop();
});

const TARGET = 80;

test("a generation killed with SIGKILL resumes after restart with exactly the target", async () => {
  const dataDir = makeTempDir("ftf-restart-");
  const env = { OLLAMA_HOST: ollama.url, FTF_GENERATION_CONCURRENCY: "2" };
  server = await startServer({ dataDir, env });
  const api = (path: string, init?: RequestInit) => fetch(server!.url + path, init).then((r) => r.json());
  const json = (path: string, body: unknown) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const { id } = await json("/api/projects", { name: "restart" });
  await api(`/api/projects/${id}`, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: '{"task_type":"instruction"}' });
  const form = new FormData();
  form.append("kind", "raw_doc");
  form.append("files", new File([corpusText(6000, 7)], "manual.txt"));
  await api(`/api/projects/${id}/files/upload`, { method: "POST", body: form });
  for (let i = 0; i < 200 && (await api(`/api/projects/${id}/files`)).files[0].status !== "ready"; i++) await Bun.sleep(50);

  const { job_id } = await json(`/api/projects/${id}/dataset/generate`, { target: TARGET });
  for (let i = 0; i < 400; i++) {
    const n = (await api(`/api/projects/${id}`)).example_count;
    if (n >= 20) break;
    await Bun.sleep(25);
  }
  const before = (await api(`/api/projects/${id}`)).example_count;
  expect(before).toBeGreaterThanOrEqual(20);
  expect(before).toBeLessThan(TARGET);
  server.proc.kill("SIGKILL");
  await server.proc.exited;

  server = await startServer({ dataDir, env });
  let job: { status: string } = { status: "running" };
  for (let i = 0; i < 600 && job.status !== "success"; i++) {
    job = await api(`/api/jobs/${job_id}`);
    if (job.status === "failed") throw new Error(JSON.stringify(job));
    await Bun.sleep(50);
  }
  expect(job.status).toBe("success");
  await server.stop();
  server = undefined;

  const db = new Database(join(dataDir, "finetuneflow.db"), { readonly: true });
  const rows = db.query("select content_hash, is_valid, job_id from examples where project_id = ?").all(id) as { content_hash: string; is_valid: number; job_id: string }[];
  db.close();
  expect(rows.filter((r) => r.is_valid === 1)).toHaveLength(TARGET);
  expect(rows.every((r) => r.job_id === job_id)).toBe(true);
  expect(new Set(rows.map((r) => r.content_hash)).size).toBe(rows.length);
}, 60_000);
