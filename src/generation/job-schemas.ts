/** The generation job's payload and result, as the queue stores them. */
import { z } from "zod";

export const generationPayload = z.object({
  projectId: z.string(),
  mode: z.enum(["preview", "full"]),
  model: z.string(),
  target: z.number().int().positive(),
  fileId: z.string().optional(),
  /** The embedding model of the near-duplicate check by meaning; null or absent: word overlap (MinHash) only. */
  embeddingModel: z.string().nullable().optional(),
  /** The model of the second look (answerability.ts); null or absent: none. */
  answerabilityModel: z.string().nullable().optional(),
});
export type GenerationPayload = z.infer<typeof generationPayload>;

/** The job's result; saved after every batch so a stopped job still reports its counts. */
export const generationResultSchema = z
  .object({
    duplicates_removed: z.number().default(0),
    /** Of duplicates_removed: the same words, a near match by word overlap (MinHash), the same meaning (embeddings). */
    duplicates_by_kind: z.object({ exact: z.number(), near: z.number(), semantic: z.number() }).default({ exact: 0, near: 0, semantic: 0 }),
    /** How near-duplicates were found: "embeddings (<model>)", or why word overlap alone. */
    dedup: z.string().optional(),
    filtered: z.record(z.string(), z.number()).default({}),
    requests: z.number().default(0),
    produced: z.number().optional(),
    valid: z.number().optional(),
    invalid: z.number().optional(),
    seconds: z.number().optional(),
    examples_per_second: z.number().nullable().optional(),
    chunks_total: z.number().optional(),
    chunks_used: z.number().optional(),
    /** Chunks whose questions stopped being new (Q&A). */
    chunks_exhausted: z.number().optional(),
    /** The examples asked for, and why the job stopped: it reached them, its documents gave nothing new, or its request budget ran out on refused answers. */
    target: z.number().optional(),
    stopped: z.enum(["target", "documents_exhausted", "request_budget"]).optional(),
  })
  .loose();
export type GenerationResult = z.infer<typeof generationResultSchema>;
