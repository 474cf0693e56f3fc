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

/**
 * Study notes (the "study_notes" recipe): restatements of a passage meant for learning,
 * answered to "Tell me about …" (Active Reading, arXiv 2508.09494; EntiGraph, 2409.07431:
 * varied restatements teach facts that question–answer pairs alone plateau on).
 */
export const NOTE_KINDS = [
  { id: "explain", ask: "explaining what the passage says in other words, as a teacher would" },
  { id: "remember", ask: "listing what a reader should remember from the passage, one fact per sentence" },
  { id: "linked", ask: "relating the passage's facts to those of the next passage below" },
] as const;

/** Every third request of a chunk writes notes (its first one, so every chunk gets some); the others ask questions. */
export function requestKind(n: number, hasNeighbour: boolean, notes: boolean): { notes: boolean; kind: (typeof QUESTION_KINDS)[number] | (typeof NOTE_KINDS)[number] } {
  if (!notes) return { notes: false, kind: kindFor(n, hasNeighbour) };
  if (n % 3 === 0) {
    const kinds = hasNeighbour ? NOTE_KINDS : NOTE_KINDS.filter((k) => k.id !== "linked");
    return { notes: true, kind: kinds[(n / 3) % kinds.length]! };
  }
  return { notes: false, kind: kindFor(n - Math.floor(n / 3) - 1, hasNeighbour) };
}

/** At most this many earlier questions are listed in a request (the prompt stays short). */
export const AVOID_LISTED = 12;

/** The prompt's "already asked" block: the latest questions kept for the chunk. */
export function avoidBlock(kept: string[], what: "questions" | "notes" = "questions"): string {
  if (kept.length === 0) return "";
  const latest = kept.slice(-AVOID_LISTED);
  const intro = what === "notes" ? "Notes on these subjects were already written; cover other facts or another angle" : "These questions were already asked about this passage; write new ones, about other facts or from another angle";
  return `\n${intro}:\n${latest.map((q) => `- ${q}`).join("\n")}`;
}
