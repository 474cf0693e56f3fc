/** The readiness check's query and answer (README's API table, the OpenAPI document). */
import { z } from "zod";
import { TRAINING_FIELDS } from "../training/schemas.ts";

const LENGTH = TRAINING_FIELDS.max_seq_length;
export const MAX_SAMPLE = 20;

export const readinessQuerySchema = z.object({
  max_seq_length: z.coerce
    .number({ error: "max_seq_length must be a number of tokens." })
    .int("max_seq_length must be a whole number of tokens.")
    .min(LENGTH.min, `max_seq_length must be at least ${LENGTH.min}.`)
    .max(LENGTH.max, `max_seq_length must be at most ${LENGTH.max}.`)
    .optional(),
  n: z.coerce
    .number({ error: "n must be a number of examples." })
    .int("n must be a whole number.")
    .min(1, "n must be at least 1.")
    .max(MAX_SAMPLE, `n must be at most ${MAX_SAMPLE}.`)
    .default(3),
});

const segmentSchema = z.object({
  text: z.string(),
  /** Trained on (the answer) or masked (the prompt, the template around it). */
  trained: z.boolean(),
  /** A special token of the tokenizer (<|im_start|>, <|eot_id|>…). */
  special: z.boolean(),
});
export type Segment = z.infer<typeof segmentSchema>;

const exampleSchema = z.object({
  example_id: z.string(),
  /** The tokens training sees, up to max_seq_length, in runs. */
  segments: z.array(segmentSchema),
  /** The whole render's tokens (before the cut). */
  tokens: z.number().int(),
  trained_tokens: z.number().int(),
  truncated: z.boolean(),
  dropped: z.boolean(),
});
export type ReadinessExample = z.infer<typeof exampleSchema>;

export const readinessReportSchema = z.object({
  max_seq_length: z.number().int(),
  template_source: z.enum(["model", "generic"]),
  /** False when counts are estimated (no tokenizer.json the app can read) or a template failed. */
  exact: z.boolean(),
  template_error: z.string().nullable(),
  preset: z.object({ id: z.string(), label: z.string() }).nullable(),
  examples: z.array(exampleSchema),
  totals: z.object({
    examples: z.number().int(),
    fit: z.number().int(),
    truncated: z.number().int(),
    dropped: z.number().int(),
    p50_tokens: z.number().int().nullable(),
    p95_tokens: z.number().int().nullable(),
    max_tokens: z.number().int().nullable(),
  }),
  suggested_max_seq_length: z.number().int(),
});
export type ReadinessReport = z.infer<typeof readinessReportSchema>;

/** Above this share of cut or dropped examples the plan warns. */
export const CUT_WARNING_SHARE = 0.05;
