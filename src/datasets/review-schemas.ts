/** The Review step's filters (also the URL's query string) and example edits. */
import { z } from "zod";
import type { ExampleRow } from "./tables.ts";

export const PAGE_SIZE = 50;

export const reviewFilterSchema = z.object({
  split: z.enum(["all", "train", "eval", "preview"]).catch("all").default("all"),
  valid: z.enum(["all", "valid", "invalid", "true", "false"]).catch("all").default("all").transform((v) => (v === "true" ? "valid" : v === "false" ? "invalid" : v)),
  /** Study notes, or the other examples (question–answer pairs, instructions). */
  kind: z.enum(["all", "example", "note"]).catch("all").default("all"),
  q: z.string().max(200).catch("").default("").transform((s) => s.trim()),
  sort: z.enum(["created", "tokens_asc", "tokens_desc"]).catch("created").default("created"),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1).default(1),
  page_size: z.coerce.number().int().min(1).max(200).catch(PAGE_SIZE).default(PAGE_SIZE),
});
export type ReviewFilter = z.infer<typeof reviewFilterSchema>;

export const examplePatchSchema = z
  .object({
    instruction: z.string().max(8000).optional(),
    input: z.string().max(32_000).optional(),
    output: z.string().max(16_000).optional(),
    split: z.enum(["train", "eval"]).optional(),
    is_valid: z.boolean().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, "Send at least one field to change.");

export const batchDeleteSchema = z.union([
  z.object({ ids: z.array(z.string().min(1).max(100)).min(1, "Select at least one example.").max(100_000) }).strict(),
  z.object({ filter: reviewFilterSchema.omit({ page: true, page_size: true, sort: true }) }).strict(),
]);

/** Free text → an FTS5 query that cannot be a syntax error: each word quoted, all required. */
export function ftsQuery(q: string): string | null {
  const words = q.match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length === 0) return null;
  return words.slice(0, 12).map((w) => `"${w}"`).join(" ");
}

/** An example as the Review and Preview screens show it (the row less what only the database needs). */
export type ExampleView = Omit<ExampleRow, "projectId" | "jobId" | "promptVersion" | "contentHash" | "updatedAt">;

const splitStatsSchema = z.object({ count: z.number().int(), avg_tokens: z.number(), min_tokens: z.number().nullable(), max_tokens: z.number().nullable() });
/** GET /dataset/stats and the Review step's header. */
export const datasetStatsSchema = z.object({
  total: z.number().int(),
  valid: z.number().int(),
  invalid: z.number().int(),
  by_split: z.object({ train: splitStatsSchema, eval: splitStatsSchema, preview: splitStatsSchema }),
  duplicates_removed: z.number().int(),
  /** Of duplicates_removed: the same words, word overlap (MinHash), the same meaning (embeddings). */
  duplicates_by_kind: z.object({ exact: z.number().int(), near: z.number().int(), semantic: z.number().int() }),
  over_max_length: z.number().int(),
  max_seq_length: z.number().int(),
});
export type DatasetStats = z.infer<typeof datasetStatsSchema>;

/** The spec's Example, as the API answers it (export.ts toExampleJson). */
export const exampleJsonSchema = z.object({
  id: z.string(),
  split: z.enum(["preview", "train", "eval"]),
  kind: z.enum(["example", "note"]).meta({ description: "note: a study note; example: a question–answer pair or an instruction." }),
  data: z.object({ instruction: z.string(), input: z.string(), output: z.string() }),
  is_valid: z.boolean(),
  validation_error: z.string().nullable(),
  token_count: z.number().int().nullable(),
  token_count_approx: z.boolean(),
  grounding_score: z.number().nullable(),
  chunk_id: z.string().nullable(),
  file_id: z.string().nullable(),
  source_line: z.number().int().nullable(),
  generator_model: z.string().nullable(),
  prompt_version: z.string().nullable(),
  created_at: z.string(),
});
export const examplePageSchema = z.object({ items: z.array(exampleJsonSchema), total: z.number().int(), total_is_capped: z.boolean(), page: z.number().int(), page_size: z.number().int(), pages: z.number().int() });
/** Where an example came from: its chunk (generated), or its file and line (imported). */
export const provenanceSchema = z.union([
  z.object({ text: z.string(), filename: z.string(), pageStart: z.number().nullable(), pageEnd: z.number().nullable(), headingPath: z.string().nullable() }),
  z.object({ source_file: z.string().nullable(), source_line: z.number().int().nullable() }),
]);
/** One page of the Review table (the API sends the whole rows). */
export type ReviewPage = { items: ExampleRow[]; total: number; total_is_capped: boolean; page: number; page_size: number; pages: number };
/** The same page as the Review screen shows it. */
export type ReviewPageView = Omit<ReviewPage, "items"> & { items: ExampleView[] };
