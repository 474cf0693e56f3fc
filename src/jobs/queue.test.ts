import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { z } from "zod";
import { openDatabase, type Db } from "../db/client.ts";
import { silentLogger } from "../lib/logger.ts";
import { insertJob } from "../../tests/helpers/builders.ts";
import { createJobQueue, JobError, type JobQueue } from "./queue.ts";
import { createJobService } from "./service.ts";

let db: Db;
let queue: JobQueue;
const jobRow = (id: string) => createJobService({ db }).get(id);

beforeEach(() => {
  db = openDatabase(":memory:");
  queue = createJobQueue({ db, logger: silentLogger, backoffMs: 1, pollMs: 10, leaseMs: 1000 });
});
afterEach(async () => {
  await queue.stop();
  db.$client.close();
});

const payload = z.object({ n: z.number() });

describe("job queue", () => {
  test("runs a job to success, recording progress and its result", async () => {
    const seen: number[] = [];
    queue.register("double", {
      payload,
      group: "cpu",
      run: async ({ payload: p, progress }) => {
        progress(50, "half way");
        seen.push(p.n);
        return { doubled: p.n * 2 };
      },
    });
    const job = queue.enqueue("double", null, { n: 21 });
    expect(job.status).toBe("queued");
    await queue.runUntilEmpty();
    const done = jobRow(job.id);
    expect(done).toMatchObject({ status: "success", progressPct: 100, result: { doubled: 42 }, attempts: 1 });
    expect(done.finishedAt).toBeNumber();
    expect(seen).toEqual([21]);
  });

  test("runs one GPU job at a time, in order", async () => {
    const order: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    queue.register("train", {
      payload,
      group: "gpu",
      run: async ({ payload: p }) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        order.push(`start ${p.n}`);
        await Bun.sleep(5);
        order.push(`end ${p.n}`);
        concurrent--;
      },
    });
    queue.enqueue("train", null, { n: 1 });
    queue.enqueue("train", null, { n: 2 });
    await queue.runUntilEmpty();
    expect(maxConcurrent).toBe(1);
    expect(order).toEqual(["start 1", "end 1", "start 2", "end 2"]);
  });

  test("retries a transient failure with backoff, then succeeds", async () => {
    let calls = 0;
    queue.register("flaky", {
      payload,
      group: "cpu",
      run: async () => {
        if (++calls === 1) throw new JobError("Ollama is busy", true);
        return "ok";
      },
    });
    const job = queue.enqueue("flaky", null, { n: 1 });
    await queue.runUntilEmpty();
    expect(jobRow(job.id)).toMatchObject({ status: "success", attempts: 2 });
  });

  test("fails after max attempts with the last error", async () => {
    queue.register("always", { payload, group: "cpu", maxAttempts: 2, run: async () => Promise.reject(new JobError("still down", true)) });
    const job = queue.enqueue("always", null, { n: 1 });
    await queue.runUntilEmpty();
    expect(jobRow(job.id)).toMatchObject({ status: "failed", attempts: 2, errorMessage: "still down" });
  });

  test("a non-retryable error fails at once; an invalid payload is refused when claimed", async () => {
    queue.register("bad", { payload, group: "cpu", run: async () => Promise.reject(new JobError("the file is encrypted")) });
    const a = queue.enqueue("bad", null, { n: 1 });
    const b = queue.enqueue("bad", null, { n: "not a number" });
    await queue.runUntilEmpty();
    expect(jobRow(a.id)).toMatchObject({ status: "failed", attempts: 1, errorMessage: "the file is encrypted" });
    expect(jobRow(b.id).status).toBe("failed");
    expect(jobRow(b.id).errorMessage).toContain("payload is invalid");
  });

  test("cancels a queued job at once and a running one through its signal", async () => {
    let sawAbort = false;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    queue.register("long", {
      payload,
      group: "gpu",
      run: async ({ signal }) => {
        started();
        await new Promise((_, reject) => signal.addEventListener("abort", () => ((sawAbort = true), reject(signal.reason))));
      },
    });
    const first = queue.enqueue("long", null, { n: 1 });
    const second = queue.enqueue("long", null, { n: 2 });
    queue.start();
    await running;
    expect(queue.cancel(second.id).status).toBe("cancelled");
    queue.cancel(first.id);
    await queue.runUntilEmpty();
    expect(sawAbort).toBe(true);
    expect(jobRow(first.id).status).toBe("cancelled");
    expect(() => queue.cancel(first.id)).toThrow("already ended");
  });

  test("after a crash, a job left running is picked up again; types that cannot resume fail", async () => {
    let ran = 0;
    queue.register("resumable", { payload, group: "cpu", run: async () => void ran++ });
    queue.register("training", { payload, group: "gpu", onRestart: "fail", run: async () => void ran++ });
    const a = insertJob(db, null, { type: "resumable", status: "running", payload: { n: 1 }, attempts: 1, leaseExpiresAt: Date.now() + 60_000 });
    const b = insertJob(db, null, { type: "training", status: "running", payload: { n: 1 }, attempts: 1, leaseExpiresAt: Date.now() + 60_000 });
    expect(queue.recover()).toBe(2);
    await queue.runUntilEmpty();
    expect(jobRow(a)).toMatchObject({ status: "success", attempts: 2 });
    expect(jobRow(b).status).toBe("failed");
    expect(jobRow(b).errorMessage).toContain("Interrupted");
    expect(ran).toBe(1);
  });

  test("a running job whose lease expired is claimed again", async () => {
    queue.register("lost", { payload, group: "cpu", run: async () => "done" });
    const id = insertJob(db, null, { type: "lost", status: "running", payload: { n: 1 }, attempts: 1, leaseExpiresAt: Date.now() - 1 });
    await queue.runUntilEmpty();
    expect(jobRow(id)).toMatchObject({ status: "success", attempts: 2 });
  });

  test("stop() aborts running work and leaves it queued for the next start", async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    queue.register("slow", {
      payload,
      group: "cpu",
      run: ({ signal }) => new Promise((_, reject) => (started(), signal.addEventListener("abort", () => reject(signal.reason)))),
    });
    const job = queue.enqueue("slow", null, { n: 1 });
    queue.start();
    await running;
    await queue.stop();
    expect(jobRow(job.id).status).toBe("queued");
  });

  test("a result saved while running stays when the job then fails", async () => {
    queue.register("partial", {
      payload,
      group: "cpu",
      maxAttempts: 1,
      run: async ({ saveResult }) => {
        saveResult({ done: 7 });
        throw new JobError("stopped halfway");
      },
    });
    const job = queue.enqueue("partial", null, { n: 1 });
    await queue.runUntilEmpty();
    const row = jobRow(job.id);
    expect(row.status).toBe("failed");
    expect(row.result).toEqual({ done: 7 });
  });
});
