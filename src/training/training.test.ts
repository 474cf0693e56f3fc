import { afterEach, describe, expect, test } from "bun:test";
import { checkHardware, insertExamples, insertProject, insertRun, resolveModel } from "../../tests/helpers/builders.ts";
import { FAKE_TRAINER } from "../../tests/helpers/test-app.ts";
import { trainingHarness, waitFor } from "../../tests/helpers/training-harness.ts";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../../tests/helpers/test-app.ts";
import { createApp } from "../app.tsx";
import { silentLogger } from "../lib/logger.ts";

const h = trainingHarness();
afterEach(() => h.t?.close());
const { setup, start, events, status } = h;

describe("supervised training", () => {
  test("a run streams schema-checked events into SQLite and ends success, with the status in the spec's shape", async () => {
    const pid = setup();
    const res = await start(pid);
    expect(res.status).toBe(202);
    const { run_id, job_id } = await res.json();
    await h.t.queue.runUntilEmpty();
    const s = await status(pid);
    expect(s).toMatchObject({ run_id, job_id, status: "success", progress_pct: 100, current_metrics: { step: 10, total_steps: 10, eval_loss: 3 - 10 * 0.08 } });
    expect(s.execution).toEqual({ device: "cpu", world_size: 1, packing: true, attn_implementation: "sdpa", liger: false, checkpointed_layers: 0, decoder_layers: 2 });
    const page = await (await h.t.request(`/projects/${pid}/step/train`)).text();
    expect(page).toContain("cpu · sdpa · packed");
    expect(s.current_metrics.train_loss).toBeCloseTo(2);
    const ev = events(run_id);
    expect(ev.map((e) => e.seq)).toEqual(ev.map((_, i) => i + 1));
    expect(ev.filter((e) => e.event === "log")).toHaveLength(10);
    expect(ev.filter((e) => e.event === "eval")).toHaveLength(2);
    expect(ev.some((e) => e.event === "stderr")).toBe(true);
    expect((await (await h.t.request(`/api/projects/${pid}`)).json()).status).toBe("completed");
  });

  test("lines that break the event schema are rejected, the rest kept", async () => {
    const pid = setup({ FAKE_TRAINER: "garbage" });
    const { run_id } = await (await start(pid)).json();
    await h.t.queue.runUntilEmpty();
    const kinds = new Set(events(run_id).map((e) => e.event));
    expect(kinds.has("teleport")).toBe(false);
    expect(events(run_id).filter((e) => e.event === "log")).toHaveLength(10);
    expect((await status(pid)).status).toBe("success");
  });

  test("a crash fails the run with the exit code and the last log lines", async () => {
    const pid = setup({ FAKE_TRAINER: "crash" });
    await start(pid);
    await h.t.queue.runUntilEmpty();
    const s = await status(pid);
    expect(s.status).toBe("failed");
    expect(s.error_message).toContain("exit code 1");
    expect(s.error_message).toContain("RuntimeError: boom");
    expect((await (await h.t.request(`/api/projects/${pid}`)).json()).status).toBe("failed");
  });

  test("the trainer's own error (out of memory) is shown with its advice", async () => {
    const pid = setup({ FAKE_TRAINER: "oom" });
    await start(pid);
    await h.t.queue.runUntilEmpty();
    const s = await status(pid);
    expect(s).toMatchObject({ status: "failed", error_code: "cuda_oom" });
    expect(s.error_message).toBe("The GPU ran out of memory during training. Lower per_device_batch_size.");
  });

  test("cancel sends SIGTERM: the trainer checkpoints and the run ends cancelled", async () => {
    const pid = setup({ FAKE_DELAY_MS: "40", FAKE_STEPS: "200" });
    const { run_id } = await (await start(pid)).json();
    h.t.queue.start();
    await waitFor(() => events(run_id).filter((e) => e.event === "log").length >= 2);
    const res = await h.t.request(`/api/projects/${pid}/train/cancel`, { method: "POST" });
    expect(res.status).toBe(200);
    await h.t.queue.runUntilEmpty();
    expect((await status(pid)).status).toBe("cancelled");
    expect(events(run_id).some((e) => e.event === "cancelled")).toBe(true);
  });

  test("a trainer that ignores SIGTERM is killed after the grace period, with the processes it started", async () => {
    const childPidFile = join(makeTempDir("ftf-child-"), "pid");
    const pid = setup({ FAKE_TRAINER: "ignore-sigterm", FAKE_CHILD_PID_FILE: childPidFile }, 300);
    const { run_id } = await (await start(pid)).json();
    h.t.queue.start();
    await waitFor(() => events(run_id).filter((e) => e.event === "log").length >= 2);
    const before = Date.now();
    await h.t.request(`/api/projects/${pid}/train/cancel`, { method: "POST" });
    await h.t.queue.runUntilEmpty();
    expect(Date.now() - before).toBeLessThan(3000);
    expect((await status(pid)).status).toBe("cancelled");
    // The trainer's own child (a rank, in a multi-GPU run) went with it.
    const child = Number(readFileSync(childPidFile, "utf8"));
    await waitFor(() => {
      try {
        process.kill(child, 0);
        return false;
      } catch {
        return true;
      }
    }, 3000);
  });

  test("a restart marks a running run interrupted; resume continues its event numbering", async () => {
    const pid = setup();
    const runId = insertRun(h.t.db, pid, "running");
    h.t.db.$client.run("update training_runs set output_dir = ? where id = ?", [`${h.t.dataDir}/runs/x`, runId]);
    mkdirSync(`${h.t.dataDir}/runs/x/checkpoints/checkpoint-3`, { recursive: true });
    h.t.db.$client.run("insert into run_metrics (run_id, seq, event, step, data) values (?, 1, 'log', 3, '{\"step\":3}')", [runId]);
    // A new app on the same database = the server starting again.
    createApp({ db: h.t.db, queue: h.t.queue, config: { dataDir: h.t.dataDir, hub: { endpoint: "http://127.0.0.1:9", timeoutMs: 1000 }, generation: { ollamaHosts: [], concurrency: 1, timeoutMs: 1000, groundingThreshold: 0.5 }, trainer: { python: "", dir: h.t.dataDir, graceMs: 500, command: FAKE_TRAINER } }, logger: silentLogger });
    expect((await status(pid)).status).toBe("interrupted");
    const res = await h.t.json("POST", `/api/projects/${pid}/train/resume`);
    expect(res.status).toBe(202);
    await h.t.queue.runUntilEmpty();
    const ev = h.t.db.$client.query("select seq, event, step from run_metrics where run_id = ? order by seq").all(runId) as { seq: number; event: string; step: number | null }[];
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
    const bare = insertProject(h.t.db);
    resolveModel(h.t.db, bare);
    insertExamples(h.t.db, bare, 12);
    expect((await (await start(bare)).json()).error_code).toBe("hardware_not_checked");
    const few = insertProject(h.t.db);
    checkHardware(h.t.db, few);
    insertExamples(h.t.db, few, 5);
    expect((await (await start(few)).json()).error_code).toBe("dataset_not_ready");
    expect((await start(pid)).status).toBe(202);
    expect((await (await start(pid)).json()).error_code).toBe("training_running");
  });
});

test("every run's train-loss curve is available to compare on one chart", async () => {
  const pid = setup();
  await start(pid);
  await h.t.queue.runUntilEmpty();
  await start(pid);
  await h.t.queue.runUntilEmpty();
  const { runs } = await (await h.t.request(`/api/projects/${pid}/train/curves`)).json();
  expect(runs).toHaveLength(2);
  expect(runs[0].points).toHaveLength(10);
  expect(runs[0].points[0]).toEqual([1, 2.9]);
  const page = await (await h.t.request(`/projects/${pid}/wizard?step=train`)).text();
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
    await h.t.queue.runUntilEmpty();
    const ended = (e: { event: string }[]) => e.some((x) => x.event === "complete");
    const all = await readSse(await h.t.request(`/api/projects/${pid}/train/logs/stream`), ended);
    expect(all.map((e) => Number(e.id))).toEqual(events(run_id).map((e) => e.seq));
    expect(all.some((e) => e.event === "complete")).toBe(true);
    const later = await readSse(await h.t.request(`/api/projects/${pid}/train/logs/stream`, { headers: { "Last-Event-ID": "10" } }), ended);
    expect(Number(later[0]!.id)).toBe(11);
    expect(later.length).toBe(all.length - 10);
  });

  test("a viewer joining mid-run gets the past and the live events without gaps", async () => {
    const pid = setup({ FAKE_DELAY_MS: "20", FAKE_STEPS: "30" });
    const { run_id } = await (await start(pid)).json();
    h.t.queue.start();
    await waitFor(() => events(run_id).length >= 5);
    const got = await readSse(await h.t.request(`/api/projects/${pid}/train/logs/stream`), (e) => e.some((x) => x.event === "complete"));
    const ids = got.map((e) => Number(e.id));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    await h.t.queue.runUntilEmpty();
  });

  test("a project without runs answers 404", async () => {
    const pid = setup();
    expect((await h.t.request(`/api/projects/${pid}/train/logs/stream`)).status).toBe(404);
    expect((await h.t.request(`/api/projects/${pid}/train/status`)).status).toBe(404);
  });
});
