/**
 * Walking skeleton: dashboard render with 1,000 projects (server time through
 * app.request, no network), compiled binary cold start to first 200, idle RSS.
 */
import { join } from "node:path";
import { buildBinary } from "../scripts/build.ts";
import { insertExamples, insertFile, insertProject } from "../tests/helpers/builders.ts";
import { makeTempDir, makeTestApp } from "../tests/helpers/test-app.ts";
import { percentile, round, type BenchRow } from "./lib.ts";

export async function dashboardBench(): Promise<BenchRow[]> {
  const t = makeTestApp();
  t.db.$client.exec("BEGIN");
  for (let i = 0; i < 1000; i++) {
    const id = insertProject(t.db, { name: `Project ${i}`, taskType: i % 2 ? "qa" : "instruction", createdAt: Date.now() - i * 60_000 });
    if (i % 3 === 0) insertFile(t.db, id);
    if (i % 5 === 0) insertExamples(t.db, id, 20);
  }
  t.db.$client.exec("COMMIT");
  for (let i = 0; i < 20; i++) await (await t.request("/")).text();
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 200; i++) {
    const start = performance.now();
    const html = await (await t.request("/")).text();
    samples.push(performance.now() - start);
    bytes = html.length;
  }
  t.close();
  const p95 = percentile(samples, 95);
  return [
    { bench: "dashboard (1,000 projects)", metric: "p50 server time", value: round(percentile(samples, 50)), unit: "ms" },
    { bench: "dashboard (1,000 projects)", metric: "p95 server time", value: round(p95), unit: "ms", goal: "≤ 20", ok: p95 <= 20 },
    { bench: "dashboard (1,000 projects)", metric: "HTML size", value: round(bytes / 1024, 0), unit: "KB" },
  ];
}

export async function binaryBench(): Promise<BenchRow[]> {
  const binary = await buildBinary(join(makeTempDir("ftf-bench-bin-"), "finetuneflow"));
  const starts: number[] = [];
  let rssMb = 0;
  for (let i = 0; i < 5; i++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const t0 = performance.now();
    const proc = Bun.spawn([binary], {
      env: { ...process.env, PORT: String(port), FTF_DATA_DIR: makeTempDir("ftf-bench-data-"), LOG_LEVEL: "warn" },
      stdout: "ignore",
      stderr: "ignore",
    });
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        if (res.status === 200) break;
      } catch {
        await Bun.sleep(2);
      }
    }
    starts.push(performance.now() - t0);
    if (i === 0) {
      await Bun.sleep(1500);
      rssMb = readRssMb(proc.pid);
    }
    proc.kill();
    await proc.exited;
  }
  const cold = percentile(starts, 50);
  return [
    { bench: "compiled binary", metric: "cold start to first 200 (median of 5)", value: round(cold, 0), unit: "ms", goal: "≤ 300", ok: cold <= 300 },
    { bench: "compiled binary", metric: "idle RSS after one page", value: round(rssMb, 1), unit: "MB", goal: "≤ 80", ok: rssMb <= 80 },
  ];
}

function readRssMb(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
  return kb / 1024;
}
