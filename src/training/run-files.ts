/**
 * The files the Python trainer writes in a run's folder, as zod schemas. The same
 * schemas, as JSON Schema (python/finetuneflow_trainer/run-files.schema.json, written
 * by scripts/gen-event-schema.ts), check the Python side in its tests.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { runMetricsSchema } from "./events.ts";

/** run_summary.json: the config the trainer ran with and what it measured. */
export const runSummarySchema = z.object({ config: z.record(z.string(), z.unknown()), metrics: runMetricsSchema });
export type RunSummary = z.infer<typeof runSummarySchema>;

/** evaluation.json: eval loss on held-out examples, and answers before and after tuning. */
export const evaluationSchema = z.object({
  eval_loss: z.number().nullable(),
  perplexity: z.number().nullable(),
  samples: z.array(z.object({ question: z.string(), expected: z.string(), fine_tuned: z.string(), base: z.string() })),
});
export type Evaluation = z.infer<typeof evaluationSchema>;

/** log_history.json: transformers' log history, one entry per logged step (train or eval). */
export const logHistorySchema = z.array(
  z.looseObject({ step: z.number().int().nonnegative(), epoch: z.number().optional(), loss: z.number().optional(), eval_loss: z.number().optional(), learning_rate: z.number().optional() }),
);

export const RUN_FILES = { "run_summary.json": runSummarySchema, "evaluation.json": evaluationSchema, "log_history.json": logHistorySchema } as const;
export type RunFileName = keyof typeof RUN_FILES;

/** A run file, parsed; null when missing or not what the trainer writes (a partial or older run). */
export function readRunFile<N extends RunFileName>(runDir: string, name: N): z.infer<(typeof RUN_FILES)[N]> | null {
  const path = join(runDir, name);
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
  const parsed = RUN_FILES[name].safeParse(raw);
  return parsed.success ? (parsed.data as z.infer<(typeof RUN_FILES)[N]>) : null;
}

export function runFilesJsonSchema(): Record<string, unknown> {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "FineTuneFlow run files",
    description: "The JSON files a run's folder holds, by name. Generated from src/training/run-files.ts; do not edit.",
    $defs: Object.fromEntries(Object.entries(RUN_FILES).map(([name, schema]) => [name, z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" })])),
  };
}
