import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { EVENT_SCHEMA_PATH, renderEventSchema, renderRunConfigSchema, renderRunFilesSchema, renderServeProtocolSchema, RUN_CONFIG_SCHEMA_PATH, RUN_FILES_SCHEMA_PATH, SERVE_PROTOCOL_SCHEMA_PATH } from "../../scripts/gen-event-schema.ts";
import { trainerEventSchema } from "./events.ts";

const fromFile = z.fromJSONSchema(JSON.parse(readFileSync(EVENT_SCHEMA_PATH, "utf8")));

const VALID = [
  { event: "started", total_steps: 30, num_train_examples: 50, num_eval_examples: 10, device: "cpu", method: "lora", trainable_params: 16384, resumed_from_step: null },
  { event: "log", step: 5, total_steps: 30, epoch: 0.38, train_loss: 6.02, learning_rate: 0.0048, grad_norm: 0.48, tokens_per_second: 1794.3, elapsed_seconds: 0.46, eta_seconds: 2.3 },
  { event: "eval", step: 10, eval_loss: 5.76, perplexity: 318.1 },
  { event: "eval", step: 10, eval_loss: 57.6, perplexity: null },
  { event: "progress", progress_pct: 33.3, step: 10, total_steps: 30 },
  { event: "checkpoint", step: 10, path: "/runs/r1/checkpoints/checkpoint-10" },
  { event: "complete", adapter_path: "/runs/r1/adapter", metrics: { final_train_loss: 5.5, eval_loss: null, perplexity: null, total_steps: 3, epochs: 1, duration_seconds: 2.5, tokens_per_second: 410.2, num_train_examples: 12, num_eval_examples: 0, dropped_examples: 0, trainable_params: 2048, peak_vram_gb: null, device: "cpu", chat_template: "generic" } },
  { event: "error", error_code: "cuda_oom", message: "The GPU ran out of memory during training.", advice: "Lower per_device_batch_size." },
  { event: "cancelled", step: 12, checkpoint_path: "/runs/r1/checkpoints/checkpoint-12", adapter_path: "/runs/r1/adapter" },
];

const INVALID = [
  { event: "log", step: 5 },
  { event: "log", step: 5, total_steps: 30, epoch: 0.38, train_loss: null, learning_rate: 0.0048, grad_norm: null, tokens_per_second: null, elapsed_seconds: 0.46, eta_seconds: null },
  { event: "eval", step: -1, eval_loss: 1, perplexity: 2.7 },
  { event: "progress", progress_pct: 140 },
  { event: "teleport", step: 1 },
  { step: 1, train_loss: 1 },
  { event: "error", message: "no code" },
];

describe("the trainer event schema, written once", () => {
  test("the JSON Schema the Python side uses is generated from the zod source (run scripts/gen-event-schema.ts)", () => {
    expect(readFileSync(EVENT_SCHEMA_PATH, "utf8")).toBe(renderEventSchema());
    expect(readFileSync(RUN_FILES_SCHEMA_PATH, "utf8")).toBe(renderRunFilesSchema());
    expect(readFileSync(RUN_CONFIG_SCHEMA_PATH, "utf8")).toBe(renderRunConfigSchema());
    expect(readFileSync(SERVE_PROTOCOL_SCHEMA_PATH, "utf8")).toBe(renderServeProtocolSchema());
  });

  test.each(VALID.map((e) => [e.event, e]))("accepts a valid %s event on both sides", (_name, event) => {
    expect(trainerEventSchema.safeParse(event).success).toBe(true);
    expect(fromFile.safeParse(event).success).toBe(true);
  });

  test.each(INVALID.map((e, i) => [i, e]))("refuses malformed event #%d on both sides", (_i, event) => {
    expect(trainerEventSchema.safeParse(event).success).toBe(false);
    expect(fromFile.safeParse(event).success).toBe(false);
  });
});
