/**
 * Generation on real parts: the real Ollama serving SmolLM2-135M-Instruct on the CPU,
 * the HotpotQA sample's Wikipedia documents (../shared/benchmarks), Q&A with the passage.
 * Accepted examples per minute, LLM calls and generated tokens per accepted example, and
 * the share refused by reason: the baseline a better data recipe is measured against.
 * Tokens are Ollama's own eval counts (measured in a proxy on the way back).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { realParts, startRealOllama } from "../tests/helpers/real-parts.ts";
import { makeTestApp } from "../tests/helpers/test-app.ts";
import { countingProxy, round, type BenchRow } from "./lib.ts";

const DOCS = join(import.meta.dir, "../../shared/benchmarks/hotpotqa-sample/documents");
const TARGET = Number(process.env.FTF_BENCH_REAL_TARGET ?? 20);
const MODEL = "smollm2:latest";

export async function realGenerationBench(): Promise<BenchRow[]> {
  realParts();
  const ollama = await startRealOllama();
  const proxy = countingProxy(ollama.url);
  const t = makeTestApp({ generation: { ollamaHosts: [proxy.url], concurrency: 2, timeoutMs: 180_000, groundingThreshold: 0.5 } });
  try {
    t.queue.start();
    const pid = (await (await t.json("POST", "/api/projects", { name: "real generation" })).json()).id as string;
    await t.json("POST", `/api/projects/${pid}/model/resolve`, { model_id: realParts().smollm2.hf });
    await t.json("PATCH", `/api/projects/${pid}`, { task_type: "qa" });
    const form = new FormData();
    form.append("kind", "raw_doc");
    for (const name of ["wiki-part-00.md", "wiki-part-01.md"]) form.append("files", new File([readFileSync(join(DOCS, name))], name, { type: "text/markdown" }));
    await t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form });
    await t.queue.runUntilEmpty();
    const t0 = performance.now();
    const { job_id } = await (await t.json("POST", `/api/projects/${pid}/dataset/generate`, { model: MODEL, target: TARGET })).json();
    await t.queue.runUntilEmpty(3_600_000);
    const minutes = (performance.now() - t0) / 60_000;
    const job = await (await t.request(`/api/jobs/${job_id}`)).json();
    if (job.status !== "success") throw new Error(`generation ${job.status}: ${job.error_message}`);
    const accepted = (t.db.$client.query("select count(*) as n from examples where is_valid = 1 and split != 'preview'").get() as { n: number }).n;
    const { evalTokens, calls } = proxy.stats();
    const stored = t.db.$client.query("select result from jobs where id = ?").get(job_id) as { result: string | null };
    const filtered = ((stored.result ? JSON.parse(stored.result) : {}).filtered ?? {}) as Record<string, number>;
    const refused = Object.values(filtered).reduce((a, b) => a + b, 0);
    const rows: BenchRow[] = [
      { bench: "real-generation", metric: `accepted examples (target ${TARGET}, SmolLM2-135M on CPU, 2 documents)`, value: accepted, unit: "examples" },
      { bench: "real-generation", metric: "accepted examples per minute", value: round(accepted / minutes), unit: "/min" },
      { bench: "real-generation", metric: "LLM calls per accepted example", value: round(calls / Math.max(1, accepted)), unit: "calls", goal: "≤ 1.5 (next issue's recipe)", ok: calls / Math.max(1, accepted) <= 1.5 },
      { bench: "real-generation", metric: "generated tokens per accepted example", value: Math.round(evalTokens / Math.max(1, accepted)), unit: "tokens" },
      { bench: "real-generation", metric: "minutes", value: round(minutes), unit: "min" },
    ];
    for (const [reason, n] of Object.entries(filtered).sort((a, b) => b[1] - a[1])) {
      rows.push({ bench: "real-generation", metric: `refused: ${reason}`, value: round((100 * n) / Math.max(1, refused + accepted), 1), unit: "% of examples and failed calls" });
    }
    return rows;
  } finally {
    t.close();
    proxy.stop();
    ollama.stop();
  }
}
