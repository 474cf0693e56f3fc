/** How a run ends: stored before announced, spawn failures, NaN, resume; hardware check and export. */
import { afterEach, describe, expect, test } from "bun:test";
import { checkHardware, insertExamples, insertProject, insertRun, resolveModel, chooseTask } from "../../tests/helpers/builders.ts";
import { FAKE_TRAINER, makeTestApp } from "../../tests/helpers/test-app.ts";
import { trainingHarness } from "../../tests/helpers/training-harness.ts";
import { mkdirSync } from "node:fs";

const h = trainingHarness();
afterEach(() => h.t?.close());
const { setup, start, events, status } = h;

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
    const stream = await h.t.request(`/api/projects/${pid}/train/logs/stream?run_id=${run_id}`);
    h.t.queue.start();
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
    h.t = makeTestApp({ trainer: { command: ["/nonexistent/python", "-m", "finetuneflow_trainer"] } });
    const pid = insertProject(h.t.db);
    resolveModel(h.t.db, pid);
    insertExamples(h.t.db, pid, 20, { split: "train" });
    checkHardware(h.t.db, pid);
    const { run_id } = await (await start(pid)).json();
    await h.t.queue.runUntilEmpty();
    const s = await status(pid);
    expect(s).toMatchObject({ status: "failed", error_code: "trainer_not_started" });
    expect(s.error_message).toContain("/nonexistent/python");
    expect(s.error_message).toContain("FTF_PYTHON");
    const last = h.t.db.$client.query("select event, data from run_metrics where run_id = ? order by seq desc limit 1").get(run_id) as { event: string; data: string };
    expect(last.event).toBe("error");
    expect(JSON.parse(last.data).error_code).toBe("trainer_not_started");
  });

  test("a loss that turns NaN fails the run with the step and advice; the points before it stay", async () => {
    const pid = setup({ FAKE_TRAINER: "nan" });
    const { run_id } = await (await start(pid)).json();
    await h.t.queue.runUntilEmpty();
    const s = await status(pid);
    expect(s).toMatchObject({ status: "failed", error_code: "loss_not_finite" });
    expect(s.error_message).toBe("The loss became NaN at step 3: training stopped. Lower the learning rate.");
    expect(events(run_id).filter((e) => e.event === "log")).toHaveLength(3);
  });

  test("a killed run offers to resume from its checkpoint, and the resumed curve never runs backwards", async () => {
    const pid = setup();
    const runId = insertRun(h.t.db, pid, "running");
    const dir = `${h.t.dataDir}/runs/killed`;
    h.t.db.$client.run("update training_runs set output_dir = ?, status = 'interrupted' where id = ?", [dir, runId]);
    mkdirSync(`${dir}/checkpoints/checkpoint-3`, { recursive: true });
    for (let step = 1; step <= 7; step++) {
      h.t.db.$client.run("insert into run_metrics (run_id, seq, event, step, data) values (?, ?, 'log', ?, ?)", [runId, step, step, JSON.stringify({ step, total_steps: 20, epoch: step / 20, train_loss: 3 - step * 0.1, learning_rate: 2e-4, grad_norm: 0.5, tokens_per_second: 1000, elapsed_seconds: step, eta_seconds: 20 - step })]);
    }
    const before = await status(pid);
    expect(before.current_metrics.step).toBe(7);
    expect(before.resume_from_step).toBe(3);
    const page = await (await h.t.request(`/projects/${pid}/wizard?step=train`)).text();
    expect(page).toContain("Resume from step 3");
    expect((await h.t.json("POST", `/api/projects/${pid}/train/resume`)).status).toBe(202);
    await h.t.queue.runUntilEmpty();
    const steps = (h.t.db.$client.query("select step from run_metrics where run_id = ? and event = 'log' order by seq").all(runId) as { step: number }[]).map((r) => r.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test("a run stopped before its first checkpoint cannot resume, and says why", async () => {
    const pid = setup();
    const runId = insertRun(h.t.db, pid, "running");
    h.t.db.$client.run("update training_runs set output_dir = ?, status = 'cancelled' where id = ?", [`${h.t.dataDir}/runs/none`, runId]);
    expect((await status(pid)).resume_from_step).toBeNull();
    const res = await h.t.json("POST", `/api/projects/${pid}/train/resume`);
    expect(res.status).toBe(409);
    expect((await res.json()).error_code).toBe("no_checkpoint");
  });
});

describe("hardware check and export", () => {
  test("a machine-level check (the spec's client sends no project) lets every project train", async () => {
    h.t = makeTestApp({ trainer: { command: FAKE_TRAINER } });
    const pid = insertProject(h.t.db);
    resolveModel(h.t.db, pid);
    chooseTask(h.t.db, pid);
    insertExamples(h.t.db, pid, 20, { split: "train" });
    expect((await (await start(pid)).json()).error_code).toBe("hardware_not_checked");
    expect((await h.t.request("/api/hardware/check")).status).toBe(200);
    expect((await start(pid)).status).toBe(202);
    const page = await (await h.t.request(`/projects/${pid}/wizard?step=train`)).text();
    expect(page).not.toContain("Check the hardware first");
  });

  test("the hardware check stores the machine and this project's VRAM estimate", async () => {
    const pid = setup();
    const hw = await (await h.t.request(`/api/hardware/check?project_id=${pid}`)).json();
    expect(hw).toMatchObject({ cuda_available: false, recommended_method: "lora" });
    expect(hw.estimate.lora.total_gb).toBeGreaterThan(0);
    // The builder's rows carry no counts: they are counted on the way, as older rows are.
    expect(hw.estimate.p95_tokens).toBeGreaterThan(0);
    expect((await (await h.t.request(`/api/projects/${pid}`)).json()).status).toBeDefined();
  });

  test("a missing Python env is a 503 with the command that fixes it", async () => {
    h.t = makeTestApp({ trainer: { command: ["/nonexistent/python", "-m", "finetuneflow_trainer"] } });
    const res = await h.t.request("/api/hardware/check");
    expect(res.status).toBe(503);
    expect((await res.json()).detail).toContain("npm start");
  });

  test("export lists registered files and serves only those, as attachments", async () => {
    const pid = setup();
    expect((await h.t.request(`/api/projects/${pid}/export`, { method: "POST" })).status).toBe(409);
    await start(pid);
    await h.t.queue.runUntilEmpty();
    expect((await h.t.request(`/api/projects/${pid}/export`, { method: "POST" })).status).toBe(202);
    await h.t.queue.runUntilEmpty();
    const files = (await (await h.t.request(`/api/projects/${pid}/export/files`)).json()).files;
    expect(files.map((f: { name: string }) => f.name).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors", "finetuneflow_export.zip", "report.md"]);
    const zip = await h.t.request(`/api/projects/${pid}/export/download`);
    expect(zip.status).toBe(200);
    expect(zip.headers.get("content-disposition")).toContain('attachment; filename="finetuneflow_export.zip"');
    for (const name of ["../../finetuneflow.db", "%2e%2e%2f%2e%2e%2ffinetuneflow.db", "/etc/passwd", "..", "report.md/../../x"]) {
      expect((await h.t.request(`/api/projects/${pid}/export/download?file=${name}`)).status).toBe(404);
    }
  });
});
