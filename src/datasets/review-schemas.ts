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

type SplitStats = { count: number; avg_tokens: number; min_tokens: number | null; max_tokens: number | null };
/** GET /dataset/stats and the Review step's header. */
export type DatasetStats = {
  total: number;
  valid: number;
  invalid: number;
  by_split: { train: SplitStats; eval: SplitStats; preview: SplitStats };
  duplicates_removed: number;
  /** Of duplicates_removed: the same words, word overlap (MinHash), the same meaning (embeddings). */
  duplicates_by_kind: { exact: number; near: number; semantic: number };
  over_max_length: number;
  max_seq_length: number;
};
/** One page of the Review table (the API sends the whole rows). */
export type ReviewPage = { items: ExampleRow[]; total: number; total_is_capped: boolean; page: number; page_size: number; pages: number };
/** The same page as the Review screen shows it. */
export type ReviewPageView = Omit<ReviewPage, "items"> & { items: ExampleView[] };
