/**
 * A judge you can trust: beside the real items, every evaluation asks the judge to grade
 * answers whose grade is known. A question's own reference answer must be graded correct;
 * another question's reference, and an empty answer, wrong. The judge's accuracy on these
 * controls is shown with the scorecard; below TRUSTED_ACCURACY the scorecard says it cannot
 * be trusted and names a stronger installed model. (With SmolLM2-135M as judge, the
 * untrained model scored 4/5 on questions it could not know: a small judge is noise.)
 */
import type { Verdict } from "./scorecard.ts";
import { strongestModel } from "../models/parameter-count.ts";

export { strongestModel } from "../models/parameter-count.ts";

/** Questions used as controls: two judge calls each, four graded answers. */
export const CONTROL_QUESTIONS = 4;
/** Below this share of control answers graded as expected, the scorecard is not trusted. */
export const TRUSTED_ACCURACY = 0.8;

export type ControlKind = "reference" | "other_reference" | "empty";
const EXPECTED: Record<ControlKind, Verdict> = { reference: "correct", other_reference: "wrong", empty: "wrong" };

/** One judge call on controls: the two answers stand where base and tuned stand for a real item. */
export type ControlPair = { id: string; question: string; reference: string; passage: string | null; base: string; tuned: string; kinds: { base: ControlKind; tuned: ControlKind } };
export type ControlResult = { kind: ControlKind; question: string; answer: string; expected: Verdict; verdict: Verdict | null };
export type JudgeCheck = {
  judge_model: string;
  n: number;
  passed: number;
  unjudged: number;
  accuracy: number | null;
  trusted: boolean;
  /** Controls graded otherwise than expected (and unjudged ones). */
  misses: ControlResult[];
  /** What to do when the scorecard cannot be trusted. */
  advice: string | null;
};

type Source = { id: string; question: string; reference: string; passage: string | null };

/**
 * Up to CONTROL_QUESTIONS questions spread over the list, two calls each: (own reference,
 * empty) and (another question's reference, own reference). None with fewer than two
 * questions: there is no other reference to offer.
 */
export function controlPairs(questions: Source[]): ControlPair[] {
  const usable = questions.filter((q) => q.reference.trim());
  if (usable.length < 2) return [];
  const n = Math.min(CONTROL_QUESTIONS, usable.length);
  const step = usable.length / n;
  const pairs: ControlPair[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i * step);
    const q = usable[k]!;
    // The next question whose reference says something else.
    const other = [...usable.slice(k + 1), ...usable.slice(0, k)].find((o) => o.reference.trim() !== q.reference.trim());
    const base = { question: q.question, reference: q.reference, passage: q.passage };
    pairs.push({ id: `control:${q.id}:1`, ...base, base: q.reference, tuned: "", kinds: { base: "reference", tuned: "empty" } });
    if (other) pairs.push({ id: `control:${q.id}:2`, ...base, base: other.reference, tuned: q.reference, kinds: { base: "other_reference", tuned: "reference" } });
  }
  return pairs;
}

/** The controls' verdicts against what was expected, and whether the judge can be trusted. */
export function judgeCheck(judgeModel: string, graded: { pair: ControlPair; base: Verdict | null; tuned: Verdict | null }[], stronger: string | null): JudgeCheck {
  const results: ControlResult[] = graded.flatMap(({ pair, base, tuned }) => [
    { kind: pair.kinds.base, question: pair.question, answer: pair.base, expected: EXPECTED[pair.kinds.base], verdict: base },
    { kind: pair.kinds.tuned, question: pair.question, answer: pair.tuned, expected: EXPECTED[pair.kinds.tuned], verdict: tuned },
  ]);
  const judged = results.filter((r) => r.verdict !== null);
  const passed = judged.filter((r) => r.verdict === r.expected).length;
  const accuracy = judged.length ? Math.round((1000 * passed) / judged.length) / 1000 : null;
  // Too few judged controls is no evidence either way: not trusted.
  const trusted = accuracy !== null && judged.length >= Math.min(4, results.length) && accuracy >= TRUSTED_ACCURACY;
  const pick = stronger ? `Pick a stronger judge, such as ${stronger} (installed), and evaluate again.` : "Install a stronger judge (a 7B+ instruct model, e.g. `ollama pull qwen2.5:7b-instruct`) and evaluate again.";
  return {
    judge_model: judgeModel,
    n: results.length,
    passed,
    unjudged: results.length - judged.length,
    accuracy,
    trusted,
    misses: results.filter((r) => r.verdict !== r.expected),
    advice: trusted || results.length === 0 ? null : `${judgeModel} graded ${passed} of ${results.length} answers of known grade as expected (a question's own reference answer is correct; another question's, or an empty answer, is wrong): its verdicts below are not reliable. ${pick}`,
  };
}

/** A bigger installed model than the judge, to suggest when the judge failed its controls. */
export function strongerThan(judge: string, models: string[], parameters: Record<string, number | null>): string | null {
  const own = parameters[judge] ?? null;
  const candidates = models.filter((m) => m !== judge && (parameters[m] ?? null) !== null && (own === null || parameters[m]! > own));
  return strongestModel(candidates, parameters);
}
