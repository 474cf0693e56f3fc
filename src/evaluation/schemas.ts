/** The judged evaluation's inputs and what it shows: shared by its job, service, routes and views. */
import { z } from "zod";
import type { JudgeCheck } from "./controls.ts";
import type { JudgedItem, Summary } from "./scorecard.ts";

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
  created_at: string;
};
