import { afterEach, describe, expect, test } from "bun:test";
import { checkHardware, insertExamples, insertProject, insertRun, resolveModel, chooseTask } from "../../tests/helpers/builders.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { mkdirSync } from "node:fs";
import { createApp } from "../app.tsx";
import { silentLogger } from "../lib/logger.ts";

let t: TestApp;
afterEach(() => t?.close());

function setup(env: Record<string, string> = {}, graceMs = 2000) {
  t = makeTestApp({ trainer: { command: FAKE_TRAINER, env, graceMs } });
  const pid = insertProject(t.db);
  resolveModel(t.db, pid);
  chooseTask(t.db, pid);
  insertExamples(t.db, pid, 20, { split: "train" });
  insertExamples(t.db, pid, 3, { split: "eval" });
  checkHardware(t.db, pid);
  return pid;
}

const start = (pid: string, body: unknown = { num_epochs: 1 }) => t.json("POST", `/api/projects/${pid}/train/start`, body);
const events = (runId: string) => t.db.$client.query("select seq, event from run_metrics where run_id = ? order by seq").all(runId) as { seq: number; event: string }[];
const status = async (pid: string) => (await t.request(`/api/projects/${pid}/train/status`)).json();

async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(10);
  }
}

describe("supervised training", () => {
  test("a run streams schema-checked events into SQLite and ends success, with the status in the spec's shape", async () => {
    const pid = setup();
    const res = await start(pid);
    expect(res.status).toBe(202);
    const { run_id, job_id } = await res.json();
    await t.queue.runUntilEmpty();
    const s = await status(pid);
    expect(s).toMatchObject({ run_id, job_id, status: "success", progress_pct: 100, current_metrics: { step: 10, total_steps: 10, eval_loss: 3 - 10 * 0.08 } });
    expect(s.current_metrics.train_loss).toBeCloseTo(2);
    const ev = events(run_id);
    expect(ev.map((e) => e.seq)).toEqual(ev.map((_, i) => i + 1));
    expect(ev.filter((e) => e.event === "log")).toHaveLength(10);
    expect(ev.filter((e) => e.event === "eval")).toHaveLength(2);
    expect(ev.some((e) => e.event === "stderr")).toBe(true);
    expect((await (await t.request(`/api/projects/${pid}`)).json()).status).toBe("completed");
  });

  test("lines that break the event schema are rejected, the rest kept", async () => {
    const pid = setup({ FAKE_TRAINER: "garbage" });
    const { run_id } = await (await start(pid)).json();
    await t.queue.runUntilEmpty();
    const kinds = new Set(events(run_id).map((e) => e.event));
    expect(kinds.has("teleport")).toBe(false);
    expect(events(run_id).filter((e) => e.event === "log")).toHaveLength(10);
    expect((await status(pid)).status).toBe("success");
  });

  test("a crash fails the run with the exit code and the last log lines", async () => {
    const pid = setup({ FAKE_TRAINER: "crash" });
    await start(pid);
    await t.queue.runUntilEmpty();
    const s = await status(pid);
    expect(s.status).toBe("failed");
    expect(s.error_message).toContain("exit code 1");
    expect(s.error_message).toContain("RuntimeError: boom");
    expect((await (await t.request(`/api/projects/${pid}`)).json()).status).toBe("failed");
  });

  test("the trainer's own error (out of memory) is shown with its advice", async () => {
    const pid = setup({ FAKE_TRAINER: "oom" });
    await start(pid);
    await t.queue.runUntilEmpty();
    const s = await status(pid);
    expect(s).toMatchObject({ status: "failed", error_code: "cuda_oom" });
    expect(s.error_message).toBe("The GPU ran out of memory during training. Lower per_device_batch_size.");
  });

  test("cancel sends SIGTERM: the trainer checkpoints and the run ends cancelled", async () => {
    const pid = setup({ FAKE_DELAY_MS: "40", FAKE_STEPS: "200" });
    const { run_id } = await (await start(pid)).json();
    t.queue.start();
    await waitFor(() => events(run_id).filter((e) => e.event === "log").length >= 2);
    const res = await t.request(`/api/projects/${pid}/train/cancel`, { method: "POST" });
    expect(res.status).toBe(200);
    await t.queue.runUntilEmpty();
    expect((await status(pid)).status).toBe("cancelled");
    expect(events(run_id).some((e) => e.event === "cancelled")).toBe(true);
  });

  test("a trainer that ignores SIGTERM is killed after the grace period", async () => {
    const pid = setup({ FAKE_TRAINER: "ignore-sigterm" }, 300);
    const { run_id } = await (await start(pid)).json();
    t.queue.start();
    await waitFor(() => events(run_id).filter((e) => e.event === "log").length >= 2);
    const before = Date.now();
    await t.request(`/api/projects/${pid}/train/cancel`, { method: "POST" });
    await t.queue.runUntilEmpty();
    expect(Date.now() - before).toBeLessThan(3000);
    expect((await status(pid)).status).toBe("cancelled");
  });

  test("a restart marks a running run interrupted; resume continues its event numbering", async () => {
    const pid = setup();
    const runId = insertRun(t.db, pid, "running");
    t.db.$client.run("update training_runs set output_dir = ? where id = ?", [`${t.dataDir}/runs/x`, runId]);
    mkdirSync(`${t.dataDir}/runs/x/checkpoints/checkpoint-3`, { recursive: true });
    t.db.$client.run("insert into run_metrics (run_id, seq, event, step, data) values (?, 1, 'log', 3, '{\"step\":3}')", [runId]);
    // A new app on the same database = the server starting again.
    createApp({ db: t.db, queue: t.queue, config: { dataDir: t.dataDir, hub: { endpoint: "http://127.0.0.1:9", timeoutMs: 1000 }, generation: { ollamaHosts: [], concurrency: 1, timeoutMs: 1000, groundingThreshold: 0.5 }, trainer: { python: "", dir: t.dataDir, graceMs: 500, command: FAKE_TRAINER } }, logger: silentLogger });
    expect((await status(pid)).status).toBe("interrupted");
    const res = await t.json("POST", `/api/projects/${pid}/train/resume`);
    expect(res.status).toBe(202);
    await t.queue.runUntilEmpty();
    const ev = t.db.$client.query("select seq, event, step from run_metrics where run_id = ? order by seq").all(runId) as { seq: number; event: string; step: number | null }[];
    expect(ev[1]!.event).toBe("started");
    expect(ev.find((e) => e.event === "log" && e.seq > 1)!.step).toBe(4);
    expect((await status(pid)).status).toBe("success");
  });

  test("refuses what cannot start, with a reason", async () => {
    const pid = setup();
    expect((await start(pid, { learning_rate: 5 })).status).toBe(422);
    expect((await start(pid, { lora_r: 0, per_device_batch_size: 2.5 })).status).toBe(422);
    expect((await start(pid, { epochs: 3 })).status).toBe(422);
    expect((await start(pid, "{nope")).status).toBe(400);
    const qlora = await start(pid, { method: "qlora" });
    expect(qlora.status).toBe(409);
    expect((await qlora.json()).error_code).toBe("qlora_unavailable");
    const bare = insertProject(t.db);
    resolveModel(t.db, bare);
    insertExamples(t.db, bare, 12);
    expect((await (await start(bare)).json()).error_code).toBe("hardware_not_checked");
    const few = insertProject(t.db);
    checkHardware(t.db, few);
    insertExamples(t.db, few, 5);
    expect((await (await start(few)).json()).error_code).toBe("dataset_not_ready");
    expect((await start(pid)).status).toBe(202);
    expect((await (await start(pid)).json()).error_code).toBe("training_running");
  });
});

test("every run's train-loss curve is available to compare on one chart", async () => {
  const pid = setup();
  await start(pid);
  await t.queue.runUntilEmpty();
  await start(pid);
  await t.queue.runUntilEmpty();
  const { runs } = await (await t.request(`/api/projects/${pid}/train/curves`)).json();
  expect(runs).toHaveLength(2);
  expect(runs[0].points).toHaveLength(10);
  expect(runs[0].points[0]).toEqual([1, 2.9]);
  const page = await (await t.request(`/projects/${pid}/wizard?step=train`)).text();
  expect(page).toContain("data-compare-runs");
});

describe("SSE stream of a run", () => {
  async function readSse(res: Response, until: (events: { id: string; event: string }[]) => boolean) {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    const out: { id: string; event: string }[] = [];
    while (!until(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value);
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const id = block.match(/^id: (.*)$/m)?.[1];
        const event = block.match(/^event: (.*)$/m)?.[1];
        if (id && event) out.push({ id, event });
      }
    }
    await reader.cancel();
    return out;
  }

  test("replays a finished run from the start, or after Last-Event-ID, with event ids", async () => {
    const pid = setup();
    const { run_id } = await (await start(pid)).json();
    await t.queue.runUntilEmpty();
    const ended = (e: { event: string }[]) => e.some((x) => x.event === "complete");
    const all = await readSse(await t.request(`/api/projects/${pid}/train/logs/stream`), ended);
    expect(all.map((e) => Number(e.id))).toEqual(events(run_id).map((e) => e.seq));
    expect(all.some((e) => e.event === "complete")).toBe(true);
    const later = await readSse(await t.request(`/api/projects/${pid}/train/logs/stream`, { headers: { "Last-Event-ID": "10" } }), ended);
    expect(Number(later[0]!.id)).toBe(11);
    expect(later.length).toBe(all.length - 10);
  });

  test("a viewer joining mid-run gets the past and the live events without gaps", async () => {
    const pid = setup({ FAKE_DELAY_MS: "20", FAKE_STEPS: "30" });
    const { run_id } = await (await start(pid)).json();
    t.queue.start();
    await waitFor(() => events(run_id).length >= 5);
    const got = await readSse(await t.request(`/api/projects/${pid}/train/logs/stream`), (e) => e.some((x) => x.event === "complete"));
    const ids = got.map((e) => Number(e.id));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    await t.queue.runUntilEmpty();
  });

  test("a project without runs answers 404", async () => {
    const pid = setup();
    expect((await t.request(`/api/projects/${pid}/train/logs/stream`)).status).toBe(404);
    expect((await t.request(`/api/projects/${pid}/train/status`)).status).toBe(404);
  });
});

describe("the run row is settled before clients hear the end", () => {
  async function* sseEvents(res: Response) {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event) yield { event, data: data ? JSON.parse(data) : null };
      }
    }
  }

  test("`complete` reaches a stream only once train/status says success, even while evaluation runs", async () => {
    const pid = setup({ FAKE_EVAL_MS: "400" });
    const { run_id } = await (await start(pid)).json();
    const stream = await t.request(`/api/projects/${pid}/train/logs/stream?run_id=${run_id}`);
    t.queue.start();
    let seen = "";
    for await (const e of sseEvents(stream)) {
      if (e.event === "progress" && e.data.message) expect((await status(pid)).status).toBe("running");
      if (e.event === "complete") {
        seen = (await status(pid)).status;
        break;
      }
    }
    expect(seen).toBe("success");
  });

  test("a trainer that cannot start fails the run with the reason, and the stream says so", async () => {
    t = makeTestApp({ trainer: { command: ["/nonexistent/python", "-m", "finetuneflow_trainer"] } });
    const pid = insertProject(t.db);
    resolveModel(t.db, pid);
    insertExamples(t.db, pid, 20, { split: "train" });
    checkHardware(t.db, pid);
    const { run_id } = await (await start(pid)).json();
    await t.queue.runUntilEmpty();
    const s = await status(pid);
    expect(s).toMatchObject({ status: "failed", error_code: "trainer_not_started" });
    expect(s.error_message).toContain("/nonexistent/python");
    expect(s.error_message).toContain("FTF_PYTHON");
    const last = t.db.$client.query("select event, data from run_metrics where run_id = ? order by seq desc limit 1").get(run_id) as { event: string; data: string };
    expect(last.event).toBe("error");
    expect(JSON.parse(last.data).error_code).toBe("trainer_not_started");
  });

  test("a loss that turns NaN fails the run with the step and advice; the points before it stay", async () => {
    const pid = setup({ FAKE_TRAINER: "nan" });
    const { run_id } = await (await start(pid)).json();
    await t.queue.runUntilEmpty();
    const s = await status(pid);
    expect(s).toMatchObject({ status: "failed", error_code: "loss_not_finite" });
    expect(s.error_message).toBe("The loss became NaN at step 3: training stopped. Lower the learning rate.");
    expect(events(run_id).filter((e) => e.event === "log")).toHaveLength(3);
  });

  test("a killed run offers to resume from its checkpoint, and the resumed curve never runs backwards", async () => {
    const pid = setup();
    const runId = insertRun(t.db, pid, "running");
    const dir = `${t.dataDir}/runs/killed`;
    t.db.$client.run("update training_runs set output_dir = ?, status = 'interrupted' where id = ?", [dir, runId]);
    mkdirSync(`${dir}/checkpoints/checkpoint-3`, { recursive: true });
    for (let step = 1; step <= 7; step++) {
      t.db.$client.run("insert into run_metrics (run_id, seq, event, step, data) values (?, ?, 'log', ?, ?)", [runId, step, step, JSON.stringify({ step, total_steps: 20, epoch: step / 20, train_loss: 3 - step * 0.1, learning_rate: 2e-4, grad_norm: 0.5, tokens_per_second: 1000, elapsed_seconds: step, eta_seconds: 20 - step })]);
    }
    const before = await status(pid);
    expect(before.current_metrics.step).toBe(7);
    expect(before.resume_from_step).toBe(3);
    const page = await (await t.request(`/projects/${pid}/wizard?step=train`)).text();
    expect(page).toContain("Resume from step 3");
    expect((await t.json("POST", `/api/projects/${pid}/train/resume`)).status).toBe(202);
    await t.queue.runUntilEmpty();
    const steps = (t.db.$client.query("select step from run_metrics where run_id = ? and event = 'log' order by seq").all(runId) as { step: number }[]).map((r) => r.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test("a run stopped before its first checkpoint cannot resume, and says why", async () => {
    const pid = setup();
    const runId = insertRun(t.db, pid, "running");
    t.db.$client.run("update training_runs set output_dir = ?, status = 'cancelled' where id = ?", [`${t.dataDir}/runs/none`, runId]);
    expect((await status(pid)).resume_from_step).toBeNull();
    const res = await t.json("POST", `/api/projects/${pid}/train/resume`);
    expect(res.status).toBe(409);
    expect((await res.json()).error_code).toBe("no_checkpoint");
  });
});

describe("hardware check and export", () => {
  test("a machine-level check (the spec's client sends no project) lets every project train", async () => {
    t = makeTestApp({ trainer: { command: FAKE_TRAINER } });
    const pid = insertProject(t.db);
    resolveModel(t.db, pid);
    chooseTask(t.db, pid);
    insertExamples(t.db, pid, 20, { split: "train" });
    expect((await (await start(pid)).json()).error_code).toBe("hardware_not_checked");
    expect((await t.request("/api/hardware/check")).status).toBe(200);
    expect((await start(pid)).status).toBe(202);
    const page = await (await t.request(`/projects/${pid}/wizard?step=train`)).text();
    expect(page).not.toContain("Check the hardware first");
  });

  test("the hardware check stores the machine and this project's VRAM estimate", async () => {
    const pid = setup();
    const hw = await (await t.request(`/api/hardware/check?project_id=${pid}`)).json();
    expect(hw).toMatchObject({ cuda_available: false, recommended_method: "lora" });
    expect(hw.estimate.lora.total_gb).toBeGreaterThan(0);
    expect(hw.estimate.p95_tokens).toBe(0);
    expect((await (await t.request(`/api/projects/${pid}`)).json()).status).toBeDefined();
  });

  test("a missing Python env is a 503 with the command that fixes it", async () => {
    t = makeTestApp({ trainer: { command: ["/nonexistent/python", "-m", "finetuneflow_trainer"] } });
    const res = await t.request("/api/hardware/check");
    expect(res.status).toBe(503);
    expect((await res.json()).detail).toContain("npm start");
  });

  test("export lists registered files and serves only those, as attachments", async () => {
    const pid = setup();
    expect((await t.request(`/api/projects/${pid}/export`, { method: "POST" })).status).toBe(409);
    await start(pid);
    await t.queue.runUntilEmpty();
    expect((await t.request(`/api/projects/${pid}/export`, { method: "POST" })).status).toBe(202);
    await t.queue.runUntilEmpty();
    const files = (await (await t.request(`/api/projects/${pid}/export/files`)).json()).files;
    expect(files.map((f: { name: string }) => f.name).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors", "finetuneflow_export.zip", "report.md"]);
    const zip = await t.request(`/api/projects/${pid}/export/download`);
    expect(zip.status).toBe(200);
    expect(zip.headers.get("content-disposition")).toContain('attachment; filename="finetuneflow_export.zip"');
    for (const name of ["../../finetuneflow.db", "%2e%2e%2f%2e%2e%2ffinetuneflow.db", "/etc/passwd", "..", "report.md/../../x"]) {
      expect((await t.request(`/api/projects/${pid}/export/download?file=${name}`)).status).toBe(404);
    }
  });
});
