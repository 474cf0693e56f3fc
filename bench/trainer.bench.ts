/**
 * Trainer overhead on CPU: steps/s of our CLI (JSON events, length grouping, masking,
 * checkpoints) ÷ the bare transformers + peft Trainer recipe on the same tiny model,
 * data and hyperparameters. Both time the training loop only (not imports or loading).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../tests/helpers/test-app.ts";
import { round, type BenchRow } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const PYTHON = join(ROOT, "python/.venv/bin/python");
const STEPS = 200;

async function py(args: string[]): Promise<string> {
  const proc = Bun.spawn([PYTHON, ...args], { cwd: join(ROOT, "python"), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${args.join(" ")} failed (${code}):\n${err.slice(-2000)}`);
  return out;
}

export async function trainerOverheadBench(): Promise<BenchRow[]> {
  const dir = makeTempDir("ftf-bench-trainer-");
  const model = join(dir, "model");
  await py(["-m", "finetuneflow_trainer", "make-tiny-model", model]);
  const countries = ["France", "Spain", "Italy", "Germany", "Japan", "Egypt", "Peru", "Chile", "Kenya", "Canada"];
  const rows = Array.from({ length: 200 }, (_, i) => ({ instruction: `What is the capital of ${countries[i % 10]}? Answer in one sentence.`, input: "", output: `The capital of ${countries[i % 10]} is a city of note number ${i}.` }));
  const train = join(dir, "train.jsonl");
  writeFileSync(train, rows.map((r) => JSON.stringify(r)).join("\n"));
  const settings = {
    base_model: model, output_dir: join(dir, "run"), train_file: train, max_steps: STEPS, learning_rate: 5e-3, per_device_batch_size: 4,
    gradient_accumulation_steps: 1, logging_steps: 5, save_steps: STEPS, gradient_checkpointing: false, max_seq_length: 128, lora_r: 8, lora_alpha: 16, warmup_ratio: 0,
  };
  /** Our CLI with these settings: its `complete` metrics. */
  const ours = async (packing: boolean) => {
    const config = join(dir, `config-${packing}.json`);
    writeFileSync(config, JSON.stringify({ ...settings, output_dir: join(dir, `run-${packing}`), packing }));
    const events = (await py(["-m", "finetuneflow_trainer", "train", "--config", config])).trim().split("\n").map((l) => JSON.parse(l));
    return events.find((e) => e.event === "complete").metrics;
  };
  const padded = await ours(false);
  const packed = await ours(true);
  const complete = { metrics: padded };
  const oursRate = complete.metrics.total_steps / complete.metrics.duration_seconds;
  const bare = JSON.parse((await py(["bench/bare_trainer.py", model, train, String(STEPS), join(dir, "bare")])).trim().split("\n").pop()!);
  const bareRate = bare.steps / bare.seconds;
  const ratio = oursRate / bareRate;
  return [
    { bench: "trainer (CPU, tiny Llama)", metric: "our CLI steps/s", value: round(oursRate, 1), unit: "steps/s" },
    { bench: "trainer (CPU, tiny Llama)", metric: "bare Trainer steps/s", value: round(bareRate, 1), unit: "steps/s" },
    { bench: "trainer (CPU, tiny Llama)", metric: "ours ÷ bare", value: round(ratio, 2), unit: "×", goal: "≥ 0.9", ok: ratio >= 0.9 },
    // Tiny model on a CPU: padding costs little and the packed mask costs more; the GPU table is in docs/decisions/0008.
    { bench: "trainer (CPU, tiny Llama)", metric: "padded tokens/s (real tokens)", value: round(padded.tokens_per_second, 0), unit: "tok/s" },
    { bench: "trainer (CPU, tiny Llama)", metric: "packed tokens/s", value: round(packed.tokens_per_second, 0), unit: "tok/s" },
  ];
}
