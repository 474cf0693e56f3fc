/**
 * The GPU check runs on a machine without Bun: it reads the estimator's predictions (and
 * the layer count of each `auto` case) from files committed beside its cases. They must be
 * what the estimator says today, or the table would compare the GPU with a stale model.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gpuBenchPredictions } from "../bench/trainer-gpu.bench.ts";

const CASES = join(import.meta.dir, "../python/bench/cases");
/** The estimator's default-case predictions, computed once for both tests (each call starts Python). */
let defaults: ReturnType<typeof gpuBenchPredictions> | null = null;
const defaultPredictions = () => (defaults ??= gpuBenchPredictions());

test("the committed GPU predictions are the estimator's (bun bench/trainer-gpu.bench.ts --predictions-only …)", async () => {
  const files = ["predictions.json", "estimator-holdout.predictions.json", "features.predictions.json"];
  const current = await Promise.all([defaultPredictions(), gpuBenchPredictions(false, join(CASES, "estimator-holdout.json")), gpuBenchPredictions(false, join(CASES, "features.json"))]);
  files.forEach((f, i) => expect({ f, predictions: JSON.parse(readFileSync(join(CASES, f), "utf8")) }).toEqual({ f, predictions: current[i] }));
}, 180_000);

test("auto checkpointing keeps the plain Trainer's peak with fewer layers than all", async () => {
  const p = await defaultPredictions();
  const layers = p.checkpoint_layers!;
  expect(layers["8B LoRA · ours: packing + Liger, auto checkpointing"]).toBeGreaterThan(0);
  expect(layers["8B LoRA · ours: packing + Liger, auto checkpointing"]).toBeLessThan(32);
  expect(p["8B LoRA · ours: packing + Liger, auto checkpointing"]).toBeLessThanOrEqual(p["8B LoRA · plain Trainer"]!);
  expect(p["8B LoRA · ours: packing + Liger, auto checkpointing"]).toBeGreaterThan(p["8B LoRA · ours: packing + Liger, every layer checkpointed"]!);
}, 180_000);
