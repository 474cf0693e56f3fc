/** "Run in Ollama": its input, the record it keeps, and where (shared by its job, service, routes and views). */
import { join } from "node:path";
import { z } from "zod";
import type { JobView } from "../jobs/schemas.ts";

export const PUBLISH_JOB = "ollama_publish";

export const publishInputSchema = z
  .object({
    name: z
      .string()
      .min(1, "Name the Ollama model.")
      .max(80, "At most 80 characters.")
      .regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)?(:[a-zA-Z0-9._-]+)?$/, "Lower-case letters, digits, '.', '_' and '-', an optional namespace/ and :tag."),
    base: z.string().min(1).max(200).optional().meta({ description: "An installed Ollama model to put the adapter on (default: the one matching the training base)" }),
    lane: z.enum(["adapter", "merged"]).optional().meta({ description: "adapter (default where Ollama applies the adapter) or merged weights" }),
    quantize: z.enum(["q4_K_M", "q8_0", "none"]).optional().meta({ description: "merged lane only; default q4_K_M" }),
  })
  .strict();
export type PublishInput = z.infer<typeof publishInputSchema>;

export const publishRecordSchema = z.object({
  model: z.string(),
  lane: z.enum(["adapter", "merged"]),
  base: z.string().nullable(),
  quantize: z.string().nullable(),
  lane_note: z.string().nullable(),
  verdicts: z.array(z.object({ check: z.string(), ok: z.boolean(), summary: z.string(), advice: z.string().nullable() })),
  /** What each side said to each held-out prompt, so a failed check shows where (absent from records before 2026-12). */
  answers: z
    .array(z.object({ id: z.string(), prompt: z.string(), tuned: z.string(), chat: z.string(), raw: z.string() }))
    .default([])
    .meta({ description: "Per held-out prompt: the tuned model's greedy answer (PEFT), Ollama's chat answer and its raw answer to the Jinja rendering" }),
  run_id: z.string(),
  created_at: z.string(),
});
export type PublishRecord = z.infer<typeof publishRecordSchema>;

/** Where a run's Ollama files live: prompts, prepared.json, the merged export, publish.json, parity.md. */
export const publishFolder = (outputDir: string) => join(outputDir, "ollama");

/** The Export step's "Run in Ollama" panel: the publish job, the latest record, the name to offer. */
export type OllamaData = { job?: JobView; record: PublishRecord | null; defaultName: string; error?: string };
