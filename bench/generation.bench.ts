/**
 * Generation pipeline: examples/s against a loopback Ollama with fixed latency and
 * capacity, as a share of the ideal (P ÷ latency × examples per call); our CPU time
 * per example (the fake runs in another process); and scale-out over 1, 2, 4 endpoints.
 */
import { corpusText } from "../tests/fakes/corpus.ts";
import { makeTestApp } from "../tests/helpers/test-app.ts";
import { round, type BenchRow } from "./lib.ts";

const LATENCY_MS = 200;
const CAPACITY = 4;
const PER_CALL = 3;

async function startFake(): Promise<{ url: string; stop: () => void }> {
  const proc = Bun.spawn([process.execPath, `${import.meta.dir}/fake-ollama-process.ts`, String(LATENCY_MS), String(CAPACITY)], { stdout: "pipe" });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  return { url: new TextDecoder().decode(value).trim(), stop: () => proc.kill() };
}

async function generate(hosts: string[], target: number) {
  const t = makeTestApp({ generation: { ollamaHosts: hosts, concurrency: CAPACITY, timeoutMs: 30_000, groundingThreshold: 0.5 } });
  t.queue.start();
  const pid = (await (await t.json("POST", "/api/projects", { name: "bench" })).json()).id;
  await t.json("PATCH", `/api/projects/${pid}`, { task_type: "instruction" });
  const form = new FormData();
  form.append("kind", "raw_doc");
  form.append("files", new File([corpusText(60_000, 11)], "manual.txt"));
  await t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form });
  await t.queue.runUntilEmpty();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { job_id } = await (await t.json("POST", `/api/projects/${pid}/dataset/generate`, { target })).json();
  await t.queue.runUntilEmpty(600_000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const job = await (await t.request(`/api/jobs/${job_id}`)).json();
  const valid = (t.db.$client.query("select count(*) as n from examples where is_valid = 1 and split != 'preview'").get() as { n: number }).n;
  t.close();
  if (job.status !== "success") throw new Error(`generation ${job.status}: ${job.error_message}`);
  return { seconds, valid, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export async function generationBench(): Promise<BenchRow[]> {
  const fakes = await Promise.all([startFake(), startFake(), startFake(), startFake()]);
  try {
    const ideal = (CAPACITY / (LATENCY_MS / 1000)) * PER_CALL;
    const main = await generate([fakes[0]!.url], 2000);
    const rate = main.valid / main.seconds;
    const efficiency = rate / ideal;
    const cpuPerExample = main.cpuMs / main.valid;
    const rows: BenchRow[] = [
      { bench: "generation (2,000, 200 ms, P=4)", metric: "examples/s", value: round(rate, 1), unit: "ex/s" },
      { bench: "generation (2,000, 200 ms, P=4)", metric: "achieved ÷ ideal", value: round(efficiency, 3), unit: "×", goal: "≥ 0.95", ok: efficiency >= 0.95 },
      { bench: "generation (2,000, 200 ms, P=4)", metric: "our CPU time per example", value: round(cpuPerExample, 2), unit: "ms", goal: "≤ 2", ok: cpuPerExample <= 2 },
    ];
    const base = await generate([fakes[0]!.url], 600);
    for (const n of [2, 4]) {
      const r = await generate(fakes.slice(0, n).map((f) => f.url), 600);
      const ratio = base.seconds / r.seconds;
      rows.push({ bench: "generation scale-out (600)", metric: `${n} endpoints ÷ 1`, value: round(ratio, 2), unit: "×", goal: `≥ ${0.9 * n}`, ok: ratio >= 0.9 * n });
    }
    return rows;
  } finally {
    for (const f of fakes) f.stop();
  }
}
