/**
 * `npm run bench [name...]`: runs the benchmarks and prints one table.
 * Targets live here, never in timed unit tests.
 */
import { printTable, type BenchRow } from "./lib.ts";
import { binaryBench, dashboardBench } from "./skeleton.bench.ts";
import { trainerOverheadBench } from "./trainer.bench.ts";
import { generationBench } from "./generation.bench.ts";
import { reviewBench } from "./review.bench.ts";
import { documentsBench } from "./documents.bench.ts";
import { sseBench } from "./sse.bench.ts";
import { uplotBench } from "./uplot.bench.ts";
import { downloadBench } from "./download.bench.ts";
import { trainerGpuBench } from "./trainer-gpu.bench.ts";
import { publishBench } from "./publish.bench.ts";
import { realGenerationBench } from "./real-generation.bench.ts";
import { dedupBench } from "./dedup.bench.ts";
import { knowledgeBench } from "./knowledge.bench.ts";
import { preferenceBench } from "./preference.bench.ts";

const BENCHES: Record<string, () => Promise<BenchRow[]>> = {
  dashboard: dashboardBench,
  binary: binaryBench,
  trainer: trainerOverheadBench,
  generation: generationBench,
  review: reviewBench,
  documents: documentsBench,
  sse: sseBench,
  uplot: uplotBench,
  download: downloadBench,
  publish: publishBench,
  // Real parts (the real Ollama + SmolLM2 on the CPU, minutes); not part of the default run.
  "real-generation": realGenerationBench,
  dedup: dedupBench,
  // Real parts, hours on a CPU at full size (FTF_BENCH_KNOWLEDGE_* to shrink it).
  knowledge: knowledgeBench,
  // DPO against SFT on the tiny Llama (and SmolLM2 when the real parts are built): minutes on a CPU.
  preference: preferenceBench,
  // GPU only (prints the plain-vs-ours table); not part of the default run.
  "trainer-gpu": trainerGpuBench,
};

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : Object.keys(BENCHES).filter((n) => n !== "trainer-gpu" && n !== "real-generation" && n !== "dedup" && n !== "knowledge" && n !== "preference");
const rows: BenchRow[] = [];
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(", ")}`);
    process.exit(2);
  }
  process.stderr.write(`running ${name}…\n`);
  rows.push(...(await bench()));
}
printTable(rows);
