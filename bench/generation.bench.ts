/**
 * Generation pipeline against loopback Ollamas that serve `capacity` requests at once
 * and queue the rest (so latency grows with queue depth): examples/s as a share of the
 * ideal (capacity ÷ latency × examples per call) for capacities 1 to 16 with no
 * concurrency setting (the adaptive limit must find each), timeouts counted; our CPU
 * time per example (the fakes run in other processes); scale-out over 1, 2, 4 endpoints.
 */
import { parseConfig } from "../src/config.ts";
import { silentLogger } from "../src/lib/logger.ts";
import { corpusText } from "../tests/fakes/corpus.ts";
import { makeTestApp } from "../tests/helpers/test-app.ts";
import { round, type BenchRow } from "./lib.ts";

const LATENCY_MS = 200;
const CAPACITY = 4;
const PER_CALL = 3;
/** What a user gets with nothing set: the configured maximum, the limit adapting below it. */
const DEFAULTS = parseConfig({}).generation;

async function startFake(capacity = CAPACITY): Promise<{ url: string; stop: () => void }> {
  const proc = Bun.spawn([process.execPath, `${import.meta.dir}/fake-ollama-process.ts`, String(LATENCY_MS), String(capacity)], { stdout: "pipe" });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  return { url: new TextDecoder().decode(value).trim(), stop: () => proc.kill() };
}

/** A job of `target` examples from a document of `words` words (enough chunks for every slot). */
async function generate(hosts: string[], target: number, words = 60_000) {
  let failed = 0;
  const logger = { ...silentLogger, warn: (msg: string) => void (msg === "generation request failed" && failed++) };
  const t = makeTestApp({ logger, generation: { ollamaHosts: hosts, concurrency: DEFAULTS.concurrency, timeoutMs: 30_000, groundingThreshold: 0.5 } });
  t.queue.start();
  const pid = (await (await t.json("POST", "/api/projects", { name: "bench" })).json()).id;
  await t.json("PATCH", `/api/projects/${pid}`, { task_type: "instruction" });
  const form = new FormData();
  form.append("kind", "raw_doc");
  form.append("files", new File([corpusText(words, 11)], "manual.txt"));
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
  return { seconds, valid, timeouts: failed, cpuMs: (cpu.user + cpu.system) / 1000 };
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
      { bench: "generation (2,000, 200 ms, capacity 4)", metric: "examples/s", value: round(rate, 1), unit: "ex/s" },
      { bench: "generation (2,000, 200 ms, capacity 4)", metric: "achieved ÷ ideal", value: round(efficiency, 3), unit: "×", goal: "≥ 0.95", ok: efficiency >= 0.95 },
      { bench: "generation (2,000, 200 ms, capacity 4)", metric: "our CPU time per example", value: round(cpuPerExample, 2), unit: "ms", goal: "≤ 2", ok: cpuPerExample <= 2 },
    ];
    for (const capacity of [1, 2, 4, 8, 16]) {
      const fake = await startFake(capacity);
      try {
        const perSecond = (capacity / (LATENCY_MS / 1000)) * PER_CALL;
        // About ten seconds of ideal work at each capacity (a real job runs for minutes).
        const target = Math.round(perSecond * 10);
        const r = await generate([fake.url], target, Math.max(3_000, target * 30));
        const share = r.valid / r.seconds / perSecond;
        const bench = `generation, capacity ${capacity}, no setting`;
        rows.push({ bench, metric: "achieved ÷ ideal", value: round(share, 3), unit: "×", goal: "≥ 0.95", ok: share >= 0.95 });
        rows.push({ bench, metric: "failed requests (timeouts, errors)", value: r.timeouts, unit: "", goal: "0", ok: r.timeouts === 0 });
      } finally {
        fake.stop();
      }
    }
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
