/**
 * A preference round's cost against supervised training, on the same model, lengths and
 * sequences per step: tokens/s of a DPO step ÷ an SFT step (DPO runs the policy and the
 * reference over chosen and rejected, so two forward passes per sequence and one backward),
 * and peak memory ÷ SFT's (the process's resident memory on a CPU, allocated VRAM on a GPU).
 * The tiny Llama always; SmolLM2-135M-Instruct too when the real parts are built.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../tests/helpers/test-app.ts";
import { realDir } from "../scripts/real-parts.mjs";
import { round, type BenchRow } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const PYTHON = join(ROOT, "python/.venv/bin/python");
const COUNTRIES = ["France", "Spain", "Italy", "Germany", "Japan", "Egypt", "Peru", "Chile", "Kenya", "Canada"];

async function py(args: string[]): Promise<string> {
  const proc = Bun.spawn([PYTHON, ...args], { cwd: join(ROOT, "python"), stdout: "pipe", stderr: "pipe", env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? "2" } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${args.join(" ")} failed (${code}):\n${err.slice(-2000)}`);
  return out;
}

/** One run through the CLI: its `complete` metrics and the process's peak memory. */
async function measure(config: string) {
  const events = (await py(["bench/peak_rss.py", "train", "--config", config])).trim().split("\n").map((l) => JSON.parse(l));
  const metrics = events.find((e) => e.event === "complete").metrics as { tokens_per_second: number; peak_vram_gb: number | null; total_steps: number };
  return { tps: metrics.tokens_per_second, memory: metrics.peak_vram_gb !== null ? metrics.peak_vram_gb * 1024 : (events.find((e) => e.event === "peak_rss").mb as number), onGpu: metrics.peak_vram_gb !== null };
}

async function compare(label: string, model: string, steps: number, dir: string): Promise<BenchRow[]> {
  const pairs = Array.from({ length: 64 }, (_, i) => {
    const c = COUNTRIES[i % COUNTRIES.length]!;
    return { question: `What is the capital of ${c}? Answer in one sentence, please.`, chosen: `The capital of ${c} is its largest city, number ${i} on the list.`, rejected: `I am not sure which city is the capital of ${c}, sorry: ${i}.` };
  });
  const sftFile = join(dir, `${label}-sft.jsonl`);
  writeFileSync(sftFile, pairs.map((p) => JSON.stringify({ instruction: p.question, input: "", output: p.chosen })).join("\n"));
  const pairsFile = join(dir, `${label}-pairs.jsonl`);
  writeFileSync(pairsFile, pairs.map((p) => JSON.stringify({ prompt: [{ role: "user", content: p.question }], chosen: [{ role: "assistant", content: p.chosen }], rejected: [{ role: "assistant", content: p.rejected }] })).join("\n"));
  const common = { base_model: model, max_seq_length: 128, lora_r: 8, lora_alpha: 16, warmup_ratio: 0, logging_steps: 5, learning_rate: 1e-4, gradient_accumulation_steps: 1, checkpointing: "none", packing: false, num_processes: 1 };
  // Four sequences a step each: four SFT examples, or two pairs (chosen and rejected).
  const sftConfig = join(dir, `${label}-sft.json`);
  writeFileSync(sftConfig, JSON.stringify({ ...common, output_dir: join(dir, `${label}-sft`), train_file: sftFile, per_device_batch_size: 4, max_steps: steps, save_steps: steps }));
  const sft = await measure(sftConfig);
  const dpoConfig = join(dir, `${label}-dpo.json`);
  writeFileSync(dpoConfig, JSON.stringify({ ...common, output_dir: join(dir, `${label}-dpo`), train_file: pairsFile, per_device_batch_size: 2, max_steps: steps, save_steps: steps, stage: "dpo", start_adapter: join(dir, `${label}-sft`, "adapter") }));
  const dpo = await measure(dpoConfig);
  const speed = dpo.tps / sft.tps;
  const memory = dpo.memory / sft.memory;
  const where = sft.onGpu ? "allocated VRAM" : "resident memory";
  const bench = `preference (${label}, ${sft.onGpu ? "GPU" : "CPU"})`;
  return [
    { bench, metric: "SFT tokens/s", value: round(sft.tps, 0), unit: "tok/s" },
    { bench, metric: "DPO tokens/s (chosen + rejected)", value: round(dpo.tps, 0), unit: "tok/s" },
    { bench, metric: "DPO ÷ SFT tokens/s", value: round(speed, 2), unit: "×", goal: "≥ 0.45", ok: speed >= 0.45 },
    { bench, metric: `peak ${where}: SFT`, value: round(sft.memory, 0), unit: "MB" },
    { bench, metric: `peak ${where}: DPO ÷ SFT`, value: round(memory, 2), unit: "×" },
  ];
}

export async function preferenceBench(): Promise<BenchRow[]> {
  const dir = makeTempDir("ftf-bench-preference-");
  const tiny = join(dir, "tiny");
  await py(["-m", "finetuneflow_trainer", "make-tiny-model", tiny]);
  const rows = await compare("tiny Llama", tiny, 60, dir);
  const parts = join(realDir(), "parts.json");
  if (existsSync(parts)) {
    const { smollm2 } = JSON.parse(await Bun.file(parts).text()) as { smollm2: { hf: string } };
    rows.push(...(await compare("SmolLM2-135M", smollm2.hf, 20, dir)));
  } else process.stderr.write(`the real parts are not built (${parts} is missing): SmolLM2 rows skipped; node scripts/real-parts.mjs builds them\n`);
  return rows;
}
