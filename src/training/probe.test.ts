import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkHardware } from "../../tests/helpers/builders.ts";
import { trainingHarness } from "../../tests/helpers/training-harness.ts";
import { projectDir } from "../lib/data-dir.ts";

const h = trainingHarness();
afterEach(() => h.t?.close());
const probe = (pid: string, body?: unknown) => h.t.json("POST", `/api/projects/${pid}/hardware/probe`, body);
const plan = async (pid: string, fields: Record<string, string> = {}) =>
  (await h.t.request(`/projects/${pid}/train/plan`, { method: "POST", body: new URLSearchParams({ method: "lora", per_device_batch_size: "4", max_seq_length: "256", ...fields }) })).text();

describe("Measure on this GPU (probe)", () => {
  test("a probe runs the trainer's probe on this project's files, keeps the result, and the plan's ETA uses the measured speed", async () => {
    const pid = h.setup();
    expect((await (await h.t.request(`/api/projects/${pid}/hardware/probe`)).json()).error_code).toBe("probe_not_run");
    const res = await probe(pid, { per_device_batch_size: 4, max_seq_length: 256, packing: false });
    expect(res.status).toBe(202);
    expect((await res.json()).job_id).toBeString();
    await h.t.queue.runUntilEmpty();
    const record = await (await h.t.request(`/api/projects/${pid}/hardware/probe`)).json();
    expect(record).toMatchObject({ fits: true, method: "lora", tokens_per_second: 1234.5, chosen: { per_device_batch_size: 4, max_seq_length: 256 }, packing: false, changes: [] });
    // The trainer read the project's own dataset and the settings asked for.
    const runJson = JSON.parse(readFileSync(join(projectDir(h.t.dataDir, pid), "probe", "run.json"), "utf8"));
    expect(runJson).toMatchObject({ per_device_batch_size: 4, max_seq_length: 256, packing: false, use_liger: true });
    expect(readFileSync(runJson.train_file, "utf8").trim().split("\n")).toHaveLength(20);
    const html = await plan(pid);
    expect(html).toContain("from the measured speed");
    expect(html).toContain("Packing");
  });

  test("a probe that had to back off says what fits, in the plan and on the Hardware step", async () => {
    const pid = h.setup({ FAKE_TRAINER: "probe-oom" });
    await probe(pid, { per_device_batch_size: 4 });
    await h.t.queue.runUntilEmpty();
    expect(await plan(pid)).toContain("the planned settings ran out of memory; batch size 4 → 2 fits");
    const step = await (await h.t.request(`/projects/${pid}/step/hardware`)).text();
    expect(step).toContain('data-testid="probe-result"');
    expect(step).toContain("batch 2");
  });

  test("a measured peak calibrates the plan's memory on a GPU", async () => {
    const pid = h.setup({ FAKE_PROBE_PEAK: "1.5" });
    checkHardware(h.t.db, pid, { cuda_available: true, gpu_name: "Test GPU", gpu_count: 1, vram_total_gb: 24, vram_free_gb: 23 });
    const before = await plan(pid);
    const peakBefore = Number(/~([\d.]+) GB/.exec(before)![1]);
    await probe(pid, { method: "lora", per_device_batch_size: 4, max_seq_length: 256 });
    await h.t.queue.runUntilEmpty();
    const record = await (await h.t.request(`/api/projects/${pid}/hardware/probe`)).json();
    expect(record.estimate_allocated_gb).toBeGreaterThan(0);
    const after = await plan(pid);
    expect(after).toContain("calibrated by the measurement");
    const peakAfter = Number(/~([\d.]+) GB/.exec(after)![1]);
    // Only the allocator's share moves: to the measured 1.5 GB, the context and slack stay.
    expect(peakAfter).toBeCloseTo(peakBefore - record.estimate_allocated_gb + 1.5, 1);
  });

  test("bad bodies are refused with the field named, and nothing is queued", async () => {
    const pid = h.setup();
    for (const [body, status] of [
      [{ per_device_batch_size: 0 }, 422],
      [{ packing: "yes" }, 422],
      [{ num_processes: 1000 }, 422],
      [{ surprise: true }, 422],
      [[1, 2], 400],
    ] as const) {
      const res = await probe(pid, body);
      expect(res.status).toBe(status);
      expect((await res.json()).error_code).toBeString();
    }
    const notJson = await h.t.request(`/api/projects/${pid}/hardware/probe`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(notJson.status).toBe(400);
    expect(h.t.db.$client.query("select count(*) as n from jobs where type = 'training_probe'").get()).toEqual({ n: 0 });
  });

  test("a project without a hardware check, or an unknown project, is refused", async () => {
    const pid = h.setup();
    h.t.db.$client.run("update projects set hardware_info = null where id = ?", [pid]);
    h.t.db.$client.run("delete from settings");
    const res = await probe(pid);
    expect(res.status).toBe(409);
    expect((await res.json()).error_code).toBe("hardware_not_checked");
    expect((await probe("nope")).status).toBe(404);
  });

  test("measuring from the Train form keeps the form as the user left it", async () => {
    const pid = h.setup();
    const res = await h.t.request(`/projects/${pid}/hardware/probe`, { method: "POST", body: new URLSearchParams({ step: "train", method: "lora", per_device_batch_size: "8", max_seq_length: "128" }) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('name="per_device_batch_size" value="8"');
    await h.t.queue.runUntilEmpty();
    expect((await (await h.t.request(`/api/projects/${pid}/hardware/probe`)).json()).chosen.per_device_batch_size).toBe(8);
  });

  test("the page button re-renders the step, and a trainer failure shows on it", async () => {
    const pid = h.setup({ FAKE_TRAINER: "probe-fail" });
    const res = await h.t.request(`/projects/${pid}/hardware/probe`, { method: "POST", body: new URLSearchParams({ step: "hardware" }) });
    expect(res.status).toBe(200);
    await h.t.queue.runUntilEmpty();
    const panel = await (await h.t.request(`/projects/${pid}/hardware/probe/panel?step=hardware`)).text();
    expect(panel).toContain("The measurement failed: Could not load the base model. Check the path.");
  });
});
