/**
 * The judge: an LLM reached through the generation backends (Ollama or OpenAI-compatible)
 * grades two answers to one question against the reference answer and the source
 * passage, constrained by a JSON schema. Which answer is shown first (A) is drawn per
 * question, so the judge cannot favour a position; transport failures, timeouts and
 * answers that do not fit the schema are retried, then the question counts as unjudged.
 */
import { z } from "zod";
import type { Backend } from "../generation/backends.ts";
import { extractJson } from "../generation/repair.ts";
import { VERDICTS, type Verdict } from "./scorecard.ts";

export const JUDGE_RETRIES = 2;

const grade = { type: "object", properties: { verdict: { type: "string", enum: [...VERDICTS] }, reason: { type: "string" } }, required: ["verdict", "reason"] };
export const judgeJsonSchema = { type: "object", properties: { A: grade, B: grade }, required: ["A", "B"] };
const gradeSchema = z.object({ verdict: z.enum(VERDICTS), reason: z.string() });
const judgeAnswerSchema = z.object({ A: gradeSchema, B: gradeSchema });

export type JudgeQuestion = { question: string; reference: string; passage: string | null; base: string; tuned: string };
export type JudgeResult = { base: Verdict | null; tuned: Verdict | null; reason: string | null; tunedFirst: boolean; attempts: number };

export function judgePrompt(q: JudgeQuestion, tunedFirst: boolean): string {
  const [a, b] = tunedFirst ? [q.tuned, q.base] : [q.base, q.tuned];
  return [
    "You grade answers to a question about a company's documents.",
    "Compare each answer with the reference answer and the source passage. An answer is:",
    '- "correct" when it states what the reference states, with nothing false;',
    '- "partial" when it is right but incomplete, or mixes right and wrong;',
    '- "wrong" when it is false, off-topic, a refusal, or empty.',
    "Grade each answer on its own; length and style do not matter, facts do.",
    "",
    `Question: ${q.question}`,
    `Reference answer: ${q.reference}`,
    ...(q.passage ? ["Source passage:", '"""', q.passage, '"""'] : []),
    "",
    `Answer A: ${a || "(empty)"}`,
    `Answer B: ${b || "(empty)"}`,
    "",
    'Reply with JSON only: {"A": {"verdict": "correct" | "partial" | "wrong", "reason": "..."}, "B": {...}}',
  ].join("\n");
}

/** Two verdicts with a sentence of reason each: far less than this. */
const JUDGE_REPLY_TOKENS = 384;

/** Grades one question's two answers; never throws for the judge's failures (unjudged instead). */
export async function judge(
  backend: Backend,
  model: string,
  q: JudgeQuestion,
  opts: { random: () => number; signal?: AbortSignal; numCtx?: number },
): Promise<JudgeResult> {
  const tunedFirst = opts.random() < 0.5;
  const prompt = judgePrompt(q, tunedFirst);
  let attempts = 0;
  for (let attempt = 0; attempt <= JUDGE_RETRIES; attempt++) {
    attempts++;
    let raw: string;
    try {
      const reply = await backend.chat({ model, prompt, schema: judgeJsonSchema, numCtx: opts.numCtx ?? 8192, maxTokens: JUDGE_REPLY_TOKENS, signal: opts.signal, temperature: 0 });
      if (reply.truncated) continue; // a verdict that ran on is no verdict
      raw = reply.content;
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      continue;
    }
    const parsed = judgeAnswerSchema.safeParse(extractJson(raw));
    if (!parsed.success) continue;
    const [tuned, base] = tunedFirst ? [parsed.data.A, parsed.data.B] : [parsed.data.B, parsed.data.A];
    return { base: base.verdict, tuned: tuned.verdict, reason: `tuned: ${tuned.reason} · base: ${base.reason}`, tunedFirst, attempts };
  }
  return { base: null, tuned: null, reason: null, tunedFirst, attempts };
}
