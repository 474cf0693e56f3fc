// The spec's own ApiClient, unchanged, through the whole journey against the running
// server: JSON headers on every request, res.json() on every answer, FormData uploads,
// an EventSource for the training stream. The real trainer runs on a tiny random
// Llama; generation goes to the loopback Ollama. Not one call may throw.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { corpusText } from "../fakes/corpus.ts";
import { startFakeOllama } from "../fakes/fake-ollama.ts";
import { ApiClient, ApiError } from "../fixtures/spec-api-client.ts";
import { startServer, type RunningServer } from "../helpers/server-process.ts";
import { makeTempDir, PYTHON, TRAINER_DIR } from "../helpers/test-app.ts";

const ollama = startFakeOllama({ latencyMs: 2 });
let server: RunningServer;
let modelDir: string;
let api: ApiClient;

beforeAll(async () => {
  modelDir = join(makeTempDir("ftf-client-model-"), "tiny-llama");
  const made = Bun.spawnSync([PYTHON, "-m", "finetuneflow_trainer", "make-tiny-model", modelDir], { cwd: TRAINER_DIR });
  if (made.exitCode !== 0) throw new Error(made.stderr.toString());
  server = await startServer({ env: { OLLAMA_HOST: ollama.url, FTF_TRAINER_GRACE_MS: "10000" } });
  api = new ApiClient(`${server.url}/api`);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  ollama.stop();
});

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last: ${JSON.stringify(v).slice(0, 500)}`);
    await Bun.sleep(100);
  }
}

const finished = (j: { status: string }) => ["success", "failed", "cancelled"].includes(j.status);

type StreamEvent = { type: string; data: Record<string, unknown> };

/**
 * The client's stream until `stop` says enough; the client closes it, as a page would.
 * A stream that does not get there in `ms` is closed too and fails with what it saw: left
 * open, its reconnects to a stopped server would throw into every later test.
 */
function collect(projectId: string, stop: (e: StreamEvent) => boolean, ms = 150_000): Promise<StreamEvent[]> {
  return new Promise((resolve, reject) => {
    const seen: StreamEvent[] = [];
    const timer = setTimeout(() => {
      es.close();
      reject(new Error(`the training stream did not end in ${ms / 1000} s; its events: ${seen.map((e) => e.type).join(", ") || "none"}`));
    }, ms);
    const es = api.streamTrainingLogs(projectId, (e: StreamEvent) => {
      seen.push(e);
      if (stop(e)) {
        clearTimeout(timer);
        es.close();
        resolve(seen);
      }
    });
  });
}

test("the vendored client is the spec's, byte for byte", () => {
  const spec = join(import.meta.dir, "../../../shared/seed/frontend-spec.fr.md");
  const vendored = readFileSync(join(import.meta.dir, "../fixtures/spec-api-client.ts"), "utf8");
  const ours = vendored.slice(vendored.indexOf("// BEGIN spec ApiClient\n") + 24, vendored.indexOf("\n// END spec ApiClient"));
  expect(ours.startsWith("class ApiClient {")).toBe(true);
  // CI and every session lay shared/ beside the clone; a bare clone still runs the journey.
  if (existsSync(spec)) expect(readFileSync(spec, "utf8")).toContain(ours);
});

test("the spec's ApiClient goes through the whole journey without a throw", async () => {
  const project = await api.createProject({ name: "Client journey", description: "driven by the spec's ApiClient" });
  expect((await api.listProjects()).items.map((p: { id: string }) => p.id)).toContain(project.id);
  expect((await api.getProject(project.id)).name).toBe("Client journey");
  expect((await api.resolveModel(project.id, modelDir)).architecture).toBeTruthy();
  expect((await api.updateProject(project.id, { task_type: "instruction" })).task_type).toBe("instruction");

  const doc = new File([corpusText(1500, 3)], "manual.txt", { type: "text/plain" });
  const spare = new File(["A second document, deleted later.\n\nIt has two paragraphs."], "spare.md", { type: "text/markdown" });
  const uploaded = await api.uploadFiles(project.id, [doc, spare], "raw_doc");
  expect(uploaded.files).toHaveLength(2);
  const files = await until(() => api.listFiles(project.id), (r) => r.files.every((f: { status: string }) => f.status === "ready"));
  expect(files.files).toHaveLength(2);

  const preview = await api.previewDataset(project.id);
  expect((await until(() => api.getJob(preview.job_id), finished)).status).toBe("success");
  const generation = await api.generateDataset(project.id);
  expect((await until(() => api.getJob(generation.job_id), finished)).status).toBe("success");
  const stats = await api.getDatasetStats(project.id);
  expect(stats.valid).toBeGreaterThanOrEqual(10);

  const hardware = await api.checkHardware();
  expect(hardware.recommended_method).toBe("lora");

  const config = { method: "lora", num_epochs: 1, learning_rate: 0.005, per_device_batch_size: 4, gradient_accumulation_steps: 1, max_seq_length: 128, lora_r: 8, lora_alpha: 16, lora_dropout: 0.05, max_steps: 6 };
  const started = await api.startTraining(project.id, config);
  expect(started.run_id).toBeTruthy();
  const events = await collect(project.id, (e) => e.type === "complete" || e.type === "error");
  expect(events.at(-1)!.type).toBe("complete");
  expect(events.some((e) => e.type === "log")).toBe(true);
  // `complete` comes once the run is settled: the status already says so.
  const status = await api.getTrainingStatus(project.id);
  expect(status).toMatchObject({ run_id: started.run_id, status: "success", progress_pct: 100 });

  const exported = await api.exportArtifacts(project.id);
  expect((await until(() => api.getJob(exported.job_id), finished)).status).toBe("success");
  const artifacts = await api.getExportFiles(project.id);
  expect(artifacts.files.length).toBeGreaterThan(0);
  const zip = await fetch(api.downloadExport(project.id));
  expect(zip.status).toBe(200);
  expect(zip.headers.get("content-disposition")).toContain("finetuneflow_export.zip");

  // Train again, then cancel once it is under way.
  const again = await api.startTraining(project.id, { ...config, max_steps: 500 });
  await collect(project.id, (e) => e.type === "log");
  // Typed `void` by the spec, but the answer is JSON: the run being cancelled.
  const cancelling = (await api.cancelTraining(project.id)) as unknown as { run_id: string };
  expect(cancelling.run_id).toBe(again.run_id);
  const cancelled = await until(() => api.getTrainingStatus(project.id), (s) => s.status !== "running" && s.status !== "queued");
  expect(cancelled.status).toBe("cancelled");

  const jobs = await api.listJobs(project.id);
  expect(jobs.jobs.map((j: { type: string }) => j.type)).toContain("training");

  const spareId = uploaded.files.find((f: { filename: string }) => f.filename === "spare.md").id;
  expect(await api.deleteFile(project.id, spareId)).toMatchObject({ deleted: true });
  expect((await api.listFiles(project.id)).files).toHaveLength(1);
  expect(await api.deleteProject(project.id)).toMatchObject({ deleted: true });
  const gone = await api.getProject(project.id).catch((e: unknown) => e);
  expect(gone).toBeInstanceOf(ApiError);
  expect(gone).toMatchObject({ status: 404, error_code: "project_not_found" });
}, 300_000);

test("errors reach the client as detail and error_code, and an SSE error carries them too", async () => {
  const bad = await api.createProject({ name: "" }).catch((e: unknown) => e);
  expect(bad).toMatchObject({ status: 422, error_code: "validation_error" });
  expect((bad as ApiError).detail).toContain("Name is required");

  // A model folder whose weights vanish after it was resolved: the trainer fails to load it.
  const broken = join(makeTempDir("ftf-client-broken-"), "tiny-llama");
  cpSync(modelDir, broken, { recursive: true });
  const project = await api.createProject({ name: "Broken run" });
  await api.resolveModel(project.id, broken);
  await api.updateProject(project.id, { task_type: "instruction" });
  const rows = Array.from({ length: 12 }, (_, i) => JSON.stringify({ instruction: `Question ${i}?`, input: "", output: `Answer number ${i}.` })).join("\n");
  await api.uploadFiles(project.id, [new File([rows], "set.jsonl")], "dataset_upload");
  await until(() => api.listFiles(project.id), (r) => r.files.every((f: { status: string }) => f.status === "ready"));
  rmSync(join(broken, "model.safetensors"));
  await api.startTraining(project.id, { num_epochs: 1, max_seq_length: 128, max_steps: 2, lora_r: 8, lora_alpha: 16, per_device_batch_size: 2, gradient_accumulation_steps: 1, learning_rate: 0.001, lora_dropout: 0, method: "lora" });
  const events = await collect(project.id, (e) => e.type === "complete" || e.type === "error");
  const last = events.at(-1)!;
  expect(last.type).toBe("error");
  expect(last.data.error_code).toBe("model_load_failed");
  expect(String(last.data.detail)).toContain("Could not load the base model");
  expect((await api.getTrainingStatus(project.id)).status).toBe("failed");
}, 180_000);
