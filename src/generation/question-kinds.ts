/**
 * Varied questions: each request for a chunk asks for one kind of question, the kinds
 * rotating per chunk so coverage is even, and lists the questions already kept for that
 * chunk so the model writes new ones. Varied restatements of a fact, not more copies of
 * one question, are what teach it (Physics of Language Models 3.1: one phrasing 9.7%
 * recall, five 96.2%; Active Reading: variety, not volume, tracked accuracy).
 */
export const QUESTION_KINDS = [
  { id: "fact", ask: "about specific facts stated in the passage (who, what, where)" },
  { id: "number", ask: "whose answers are numbers, dates, quantities or durations stated in the passage (or, if it gives none, specific facts)" },
  { id: "definition", ask: "asking what a term, a name or a concept the passage mentions is or means" },
  { id: "why_how", ask: "asking why or how something happens or is done, as the passage explains it" },
  { id: "comparison", ask: "comparing two things the passage mentions (which is larger, earlier, different, and how)" },
  { id: "linked", ask: "that need both the passage and the next passage below to answer" },
] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number]["id"];

/** The kind of a chunk's n-th request: rotating; `linked` only when the chunk has a next passage. */
export function kindFor(n: number, hasNeighbour: boolean): (typeof QUESTION_KINDS)[number] {
  const kinds = hasNeighbour ? QUESTION_KINDS : QUESTION_KINDS.filter((k) => k.id !== "linked");
  return kinds[n % kinds.length]!;
}

/** At most this many earlier questions are listed in a request (the prompt stays short). */
export const AVOID_LISTED = 12;

/** The prompt's "already asked" block: the latest questions kept for the chunk. */
export function avoidBlock(kept: string[]): string {
  if (kept.length === 0) return "";
  const latest = kept.slice(-AVOID_LISTED);
  return `\nThese questions were already asked about this passage; write new ones, about other facts or from another angle:\n${latest.map((q) => `- ${q}`).join("\n")}`;
}
