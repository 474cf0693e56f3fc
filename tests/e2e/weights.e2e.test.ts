// The weights download against the real server process and a loopback Hub: a kill -9
// in the middle of a file, then a restart, continues it with a Range request; and a
// model downloaded once trains with the Hub gone (the trainer runs with
// HF_HUB_OFFLINE=1 on the cache), with the real Python trainer on a tiny Llama.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startFakeHub, type FakeHub } from "../fakes/fake-hub.ts";
import { startServer, type RunningServer } from "../helpers/server-process.ts";
import { makeTempDir, PYTHON, TRAINER_DIR } from "../helpers/test-app.ts";
import { waitFor } from "../helpers/training-harness.ts";

let hub: FakeHub;
let tinyFiles: Record<string, Uint8Array>;
const servers: RunningServer[] = [];

beforeAll(() => {
  const dir = join(makeTempDir("ftf-weights-model-"), "tiny");
  const made = Bun.spawnSync([PYTHON, "-m", "finetuneflow_trainer", "make-tiny-model", dir], { cwd: TRAINER_DIR });
  if (made.exitCode !== 0) throw new Error(made.stderr.toString());
  tinyFiles = Object.fromEntries(readdirSync(dir).map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
  hub = startFakeHub();
}, 120_000);

afterAll(async () => {
  for (const s of servers) if (s.proc.exitCode === null) await s.stop();
  hub.stop();
});

async function server(dataDir?: string) {
  const s = await startServer({ dataDir, env: { HF_ENDPOINT: hub.url, FTF_TRAINER_GRACE_MS: "10000" } });
  servers.push(s);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(s.url + path, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { s, call };
}

async function projectOn(call: Awaited<ReturnType<typeof server>>["call"], repoId: string) {
  const { body: project } = await call("POST", "/api/projects", { name: repoId });
  const resolved = await call("POST", `/api/projects/${project.id}/model/resolve`, { model_id: repoId });
  expect(resolved.status).toBe(200);
  return project.id as string;
}

test("kill -9 in the middle of a file, then a restart: the download continues with a Range request", async () => {
  const big = Uint8Array.from({ length: 6 * 1024 * 1024 }, (_, i) => (i * 7 + (i >> 10)) & 0xff);
  hub.add({ id: "org/big", files: { "config.json": tinyFiles["config.json"]!, "model.safetensors": big }, throttle: 1024 * 1024 });
  const first = await server();
  const pid = await projectOn(first.call, "org/big");
  const { body } = await first.call("POST", `/api/projects/${pid}/model/download`);
  expect(body.job_id).toBeString();
  const snapshot = join(first.s.dataDir, "models/hub/models--org--big/snapshots");
  const partial = () => {
    try {
      const commit = readdirSync(snapshot)[0]!;
      return statSync(join(snapshot, commit, "model.safetensors.incomplete")).size;
    } catch {
      return 0;
    }
  };
  await waitFor(() => partial() > 512 * 1024, 30_000);
  await first.s.stop("SIGKILL");
  const kept = partial();
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThan(big.length);

  const second = await server(first.s.dataDir);
  await waitFor(async () => (await second.call("GET", `/api/jobs/${body.job_id}`)).body.status === "success", 60_000);
  const ranged = hub.requests.filter((r) => r.path.startsWith("/org/big/resolve/") && r.path.endsWith("model.safetensors") && r.range);
  expect(ranged.length).toBe(1);
  expect(Number(/bytes=(\d+)-/.exec(ranged[0]!.range!)![1])).toBe(kept);
  const commit = readdirSync(snapshot)[0]!;
  expect(Buffer.compare(readFileSync(join(snapshot, commit, "model.safetensors")), Buffer.from(big))).toBe(0);
  await second.s.stop();
}, 120_000);

test("downloaded once, the model trains with the Hub stopped", async () => {
  hub.add({ id: "org/tiny", files: tinyFiles });
  const { s, call } = await server();
  const pid = await projectOn(call, "org/tiny");
  const download = (await call("POST", `/api/projects/${pid}/model/download`)).body.job_id;
  await waitFor(async () => (await call("GET", `/api/jobs/${download}`)).body.status === "success", 30_000);
  expect((await call("GET", `/api/projects/${pid}/model/weights`)).body.state).toBe("complete");
  hub.stop();

  await call("PATCH", `/api/projects/${pid}`, { task_type: "instruction" });
  const rows = Array.from({ length: 12 }, (_, i) => JSON.stringify({ instruction: `What is item ${i}?`, output: `Item ${i} is a part of the device.` })).join("\n");
  const form = new FormData();
  form.append("kind", "dataset_upload");
  form.append("files", new File([rows], "data.jsonl", { type: "application/jsonl" }));
  expect((await fetch(`${s.url}/api/projects/${pid}/files/upload`, { method: "POST", body: form })).status).toBe(201);
  await waitFor(async () => (await call("GET", `/api/projects/${pid}/dataset/stats`)).body.total >= 12, 30_000);
  expect((await call("GET", "/api/hardware/check")).status).toBe(200);
  const started = await call("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1, max_steps: 2, per_device_batch_size: 2, gradient_accumulation_steps: 1 });
  expect(started.status).toBe(202);
  const end = await (async () => {
    let last: any;
    await waitFor(async () => {
      last = (await call("GET", `/api/projects/${pid}/train/status`)).body;
      return ["success", "failed"].includes(last.status);
    }, 180_000);
    return last;
  })();
  expect({ status: end.status, error: end.error_message }).toEqual({ status: "success", error: null });
}, 300_000);
