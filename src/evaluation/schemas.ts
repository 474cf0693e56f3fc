/** The judged evaluation's inputs and what it shows: shared by its job, service, routes and views. */
import { z } from "zod";
import type { JudgeCheck } from "./controls.ts";
import type { BeforeAfter, JudgedItem, Summary } from "./scorecard.ts";

export const EVALUATION_JOB = "evaluation";
export const EVALUATION_MODES = ["closed_book", "with_context"] as const;
export type EvaluationMode = (typeof EVALUATION_MODES)[number];
/** The closed-book twin of a question asked with its passage. */
export const CLOSED_SUFFIX = "#closed";
/** A tuned score this far under the base's on general questions is a clear drop. */
export const FORGETTING_DROP = 0.15;

export const evaluateInput = z
  .object({
    judge_model: z.string().trim().min(1).max(200).optional(),
    samples: z.number().int().min(1, "Ask at least one question.").max(500, "At most 500 questions.").optional(),
    mode: z.enum(EVALUATION_MODES, { error: "Mode must be closed_book or with_context." }).optional(),
  })
  .strict();
export type EvaluateInput = z.infer<typeof evaluateInput>;

/** The retrieval arm: the same questions asked with the `k` passages BM25 found for each (base + retrieval, tuned + retrieval). */
export type Retrieval = { k: number; summary: Summary; items: JudgedItem[] };

export type Forgetting = { version: string; n: number; base_score: number | null; tuned_score: number | null; drop: boolean };
/** What the Export step's scorecard and GET /evaluation show. */
export type EvaluationView = {
  run_id: string;
  judge_model: string;
  mode: EvaluationMode;
  summary: Summary;
  items: JudgedItem[];
  forgetting: Forgetting | null;
  /** The judge graded on answers of known grade (controls.ts); null for evaluations from before controls. */
  judge_check: JudgeCheck | null;
  /** Fine-tune, retrieve, or both? Null for evaluations from before the retrieval arm. */
  retrieval: Retrieval | null;
  /** A preference round's run: its adapter against the one it started from, on the same questions; null otherwise. */
  preference_round: BeforeAfter | null;
  created_at: string;
};

const verdict = z.enum(["correct", "partial", "wrong"]);
const sideSummarySchema = z.object({ correct: z.number(), partial: z.number(), wrong: z.number(), unjudged: z.number(), score: z.number().nullable(), ci: z.tuple([z.number(), z.number()]).nullable() });
const summarySchema = z.object({
  n: z.number().int(),
  base: sideSummarySchema,
  tuned: sideSummarySchema,
  wins: z.number().int(),
  ties: z.number().int(),
  losses: z.number().int(),
  win_rate: z.number().nullable(),
  per_document: z.array(z.object({ file_id: z.string().nullable(), filename: z.string().nullable(), n: z.number().int(), base_score: z.number().nullable(), tuned_score: z.number().nullable() })),
});
const judgedItemSchema = z.object({
  example_id: z.string(),
  file_id: z.string().nullable(),
  filename: z.string().nullable(),
  question: z.string(),
  reference: z.string(),
  base_answer: z.string(),
  tuned_answer: z.string(),
  base_verdict: verdict.nullable(),
  tuned_verdict: verdict.nullable(),
  judge_reason: z.string().nullable(),
});
const judgeCheckSchema = z.object({
  judge_model: z.string(),
  n: z.number().int(),
  passed: z.number().int(),
  unjudged: z.number().int(),
  accuracy: z.number().nullable(),
  trusted: z.boolean(),
  misses: z.array(z.object({ kind: z.enum(["reference", "other_reference", "empty"]), question: z.string(), answer: z.string(), expected: verdict, verdict: verdict.nullable() })),
  advice: z.string().nullable(),
});
const retrievalSchema = z.object({ k: z.number().int(), summary: summarySchema, items: z.array(judgedItemSchema) });
const forgettingSchema = z.object({ version: z.string(), n: z.number().int(), base_score: z.number().nullable(), tuned_score: z.number().nullable(), drop: z.boolean() });
/** The evaluations table's JSON columns: the summary carries the judge's check and the retrieval arm (added without a migration). */
export const storedEvaluationSchema = z.object({
  summary: summarySchema.extend({ judge_check: judgeCheckSchema.optional(), retrieval: retrievalSchema.optional() }),
  items: z.array(judgedItemSchema),
  forgetting: forgettingSchema.nullable(),
});

/** The scorecard, as GET /evaluation answers it (EvaluationView). */
export const evaluationViewSchema = z.object({
  run_id: z.string(),
  judge_model: z.string(),
  mode: z.enum(EVALUATION_MODES),
  summary: summarySchema,
  items: z.array(judgedItemSchema),
  forgetting: forgettingSchema.nullable(),
  judge_check: judgeCheckSchema.nullable().meta({ description: "The judge graded on answers of known grade; below its threshold the scorecard is not trusted." }),
  retrieval: retrievalSchema.nullable().meta({ description: "The same questions with the passages BM25 found: fine-tune, retrieve, or both?" }),
  preference_round: z
    .object({
      parent_run_id: z.string(),
      n: z.number().int(),
      excluded_feedback: z.number().int(),
      before_score: z.number().nullable(),
      after_score: z.number().nullable(),
      wins: z.number().int(),
      ties: z.number().int(),
      losses: z.number().int(),
      win_rate: z.number().nullable(),
      ci: z.tuple([z.number(), z.number()]).nullable(),
      forgetting_before: z.number().nullable(),
      forgetting_after: z.number().nullable(),
    })
    .nullable()
    .meta({ description: "For a preference round's run: its adapter against the one it started from on the same held-out questions (those used as feedback left out)" }),
  created_at: z.string(),
});
