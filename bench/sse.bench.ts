/**
 * Trainer line → viewer latency over SSE, with 1 and 100 connected viewers: the fake
 * trainer stamps each progress line with the wall clock; each viewer measures arrival.
 * Covers stdout parsing, schema check, the SQLite insert, publish and the SSE write.
 */
import { checkHardware, insertExamples, insertProject, resolveModel } from "../tests/helpers/builders.ts";
import { FAKE_TRAINER, makeTestApp } from "../tests/helpers/test-app.ts";
import { percentile, round, type BenchRow } from "./lib.ts";

async function viewer(url: string, latencies: number[], expected: number): Promise<number> {
  const res = await fetch(url);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let progress = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!block.includes("event: progress")) continue;
      progress++;
      const data = JSON.parse(block.match(/^data: (.*)$/m)![1]!);
      if (data.message && data.step > 20) latencies.push(Date.now() - Number(data.message));
    }
    if (progress >= expected) break;
  }
  await reader.cancel().catch(() => {});
  return progress;
}

async function measure(viewers: number): Promise<{ p95: number; dropped: number }> {
  const steps = 300;
  const t = makeTestApp({ trainer: { command: FAKE_TRAINER, env: { FAKE_TS: "1", FAKE_DELAY_MS: "10", FAKE_STEPS: String(steps) } } });
  const pid = insertProject(t.db);
  resolveModel(t.db, pid);
  insertExamples(t.db, pid, 20);
  checkHardware(t.db, pid);
  const server = Bun.serve({ port: 0, fetch: t.app.fetch, idleTimeout: 0 });
  t.queue.start();
  await t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1 });
  const latencies: number[] = [];
  const url = `http://127.0.0.1:${server.port}/api/projects/${pid}/train/logs/stream`;
  const counts = await Promise.all(Array.from({ length: viewers }, () => viewer(url, latencies, steps)));
  await t.queue.runUntilEmpty(120_000);
  server.stop(true);
  t.close();
  return { p95: percentile(latencies, 95), dropped: counts.reduce((n, c) => n + (steps - c), 0) };
}

export async function sseBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const n of [1, 100]) {
    const r = await measure(n);
    rows.push({ bench: "SSE live metrics", metric: `line → viewer p95, ${n} viewer${n > 1 ? "s" : ""}`, value: round(r.p95, 1), unit: "ms", goal: "≤ 50", ok: r.p95 <= 50 });
    rows.push({ bench: "SSE live metrics", metric: `dropped events, ${n} viewer${n > 1 ? "s" : ""}`, value: r.dropped, unit: "events", goal: "0", ok: r.dropped === 0 });
  }
  return rows;
}
