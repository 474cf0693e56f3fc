/**
 * `npm run bench -- trainer-gpu`: the plain Trainer recipe against ours on a GPU, at
 * the real Llama-3.1-8B shape and a ~1B shape (random weights, synthetic data), for
 * LoRA and QLoRA, with the app's VRAM estimator's prediction beside each measured peak.
 * python/bench/gpu_bench.py does the training; this file adds the estimator.
 * `bun bench/trainer-gpu.bench.ts --predictions-only OUT.json [--cases F]` writes the
 * predictions for a GPU machine that runs the Python script without Bun, with the layer
 * count each `auto` case checkpoints: the fewest that keep the estimated peak within the
 * plain Trainer's at the same shape (`layersToCheckpoint`), as the goal asks.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hfConfigSchema, countParamsFromConfig, readDims } from "../src/models/architecture.ts";
import { estimateVram, layersToCheckpoint } from "../src/models/vram.ts";
import { makeTempDir } from "../tests/helpers/test-app.ts";
import type { BenchRow } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const PYTHON = join(ROOT, "python/.venv/bin/python");
const LLAMA_8B = join(ROOT, "../shared/fixtures/hf/meta-llama__Llama-3.1-8B-Instruct/config.json");

type Geometry = {
  name: string;
  method: "lora" | "qlora";
  recipe: "baseline" | "ours";
  packing: boolean;
  liger: boolean;
  checkpointing: "all" | "none" | "auto" | number;
  lora_r: number;
  config: Record<string, unknown>;
  batch: number;
  padded_seq_max: number;
  packed_tokens_max: number;
};

async function py(args: string[], inherit = false): Promise<string> {
  const proc = Bun.spawn([PYTHON, ...args], { cwd: join(ROOT, "python"), stdout: "pipe", stderr: inherit ? "inherit" : "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), inherit ? Promise.resolve("") : new Response(proc.stderr as ReadableStream).text(), proc.exited]);
  if (code !== 0 && !out.includes("| case |")) throw new Error(`gpu_bench ${args.join(" ")} failed (${code}):\n${err.slice(-2000)}`);
  return out;
}

/** Peak GiB per case name, and the layer count of each `auto` case under "checkpoint_layers". */
export type GpuBenchPredictions = Record<string, number> & { checkpoint_layers?: Record<string, number> };

/** The estimator's peak for each case, from the exact batches the benchmark times. */
export async function gpuBenchPredictions(smoke = false, casesFile?: string): Promise<GpuBenchPredictions> {
  const cases = JSON.parse(await py(["bench/gpu_bench.py", "--geometry", "--config", LLAMA_8B, ...(smoke ? ["--smoke"] : []), ...(casesFile ? ["--cases", casesFile] : [])])) as Geometry[];
  const predictions: Record<string, number> = {};
  const layers: Record<string, number> = {};
  for (const c of cases) {
    // to_dict() writes null for unset fields; the Hub's config.json leaves them out.
    const config = hfConfigSchema.parse(Object.fromEntries(Object.entries(c.config).filter(([, v]) => v !== null)));
    const dims = readDims(config);
    const params = countParamsFromConfig(config);
    if (!dims || !params) continue;
    const shape = c.packing ? { batchSize: 1, seqLen: c.packed_tokens_max } : { batchSize: c.batch, seqLen: c.padded_seq_max };
    const input = { dims, numParameters: params, mode: c.method, loraR: c.lora_r, fusedCrossEntropy: c.liger, ...shape };
    let k: number;
    if (c.checkpointing === "auto") {
      // The plain Trainer at this shape: padded batches, every layer checkpointed, full logits.
      const plain = estimateVram({ dims, numParameters: params, mode: c.method, loraR: c.lora_r, batchSize: c.batch, seqLen: c.padded_seq_max, gradientCheckpointing: true }).allocated_gb;
      k = layersToCheckpoint(input, plain) ?? dims.layers;
      layers[c.name] = k;
    } else k = c.checkpointing === "all" ? dims.layers : c.checkpointing === "none" ? 0 : c.checkpointing;
    // The benchmark measures torch.cuda.max_memory_allocated: compare what the allocator holds.
    predictions[c.name] = estimateVram({ ...input, checkpointedLayers: k }).allocated_gb;
  }
  return Object.assign(predictions, Object.keys(layers).length ? { checkpoint_layers: layers } : {}) as GpuBenchPredictions;
}

export async function trainerGpuBench(): Promise<BenchRow[]> {
  const dir = makeTempDir("ftf-bench-gpu-");
  const predictions = join(dir, "predictions.json");
  writeFileSync(predictions, JSON.stringify(await gpuBenchPredictions()));
  const table = await py(["bench/gpu_bench.py", "--config", LLAMA_8B, "--predictions", predictions, "--out", dir], true);
  console.log(table);
  const results = JSON.parse(await Bun.file(join(dir, "gpu-bench.json")).text()) as { name: string; tokens_per_second?: number; peak_gb?: number | null; prediction_error_pct?: number }[];
  const rows: BenchRow[] = [];
  for (const r of results) {
    if (r.tokens_per_second) rows.push({ bench: "trainer-gpu", metric: `${r.name} tokens/s`, value: r.tokens_per_second, unit: "tok/s" });
    if (r.prediction_error_pct !== undefined) rows.push({ bench: "trainer-gpu", metric: `${r.name} estimate error`, value: r.prediction_error_pct, unit: "%", goal: "±10", ok: Math.abs(r.prediction_error_pct) <= 10 });
  }
  return rows;
}

/** The estimator against peaks measured earlier (a GPU machine's gpu-bench.json): no GPU needed. */
async function compare(measuredFile: string) {
  const predictions = await gpuBenchPredictions();
  const measured = JSON.parse(await Bun.file(measuredFile).text()) as { name: string; peak_gb?: number | null }[];
  console.log("| case | measured GiB | estimate GiB | error |\n|---|---|---|---|");
  for (const m of measured) {
    const p = predictions[m.name];
    if (typeof p !== "number") continue;
    if (!m.peak_gb || p === undefined) continue;
    console.log(`| ${m.name} | ${m.peak_gb} | ${p} | ${(((p - m.peak_gb) / m.peak_gb) * 100).toFixed(1)}% |`);
  }
}

if (import.meta.main) {
  const c = process.argv.indexOf("--compare");
  if (c > 0) await compare(process.argv[c + 1]!);
  const i = process.argv.indexOf("--predictions-only");
  const k = process.argv.indexOf("--cases");
  if (i > 0) {
    const out = process.argv[i + 1]!;
    if (!existsSync(join(out, ".."))) mkdirSync(join(out, ".."), { recursive: true });
    writeFileSync(out, JSON.stringify(await gpuBenchPredictions(false, k > 0 ? join(ROOT, process.argv[k + 1]!) : undefined), null, 1));
    console.log(`wrote ${out}`);
  }
}
