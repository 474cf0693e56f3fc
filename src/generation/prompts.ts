/** Prompt templates, versioned files embedded in the binary; the version is stored on each example. */
import instructionV1 from "../../prompts/instruction.v1.txt" with { type: "text" };
import qaV2 from "../../prompts/qa.v2.txt" with { type: "text" };
import notesV1 from "../../prompts/notes.v1.txt" with { type: "text" };
import { avoidBlock, type NOTE_KINDS, type QUESTION_KINDS } from "./question-kinds.ts";

export const PROMPTS = {
  instruction: { version: "instruction.v1", template: instructionV1 },
  // v2: one kind of question per request, the questions already kept listed (question-kinds.ts).
  qa: { version: "qa.v2", template: qaV2 },
  // Study notes (the study_notes recipe): restatements answered to "Tell me about …".
  notes: { version: "notes.v1", template: notesV1 },
} as const;

export type PromptVars = {
  count: number;
  source: string;
  chunk: string;
  /** Q&A: the kind of question asked, the questions already kept for the chunk, and the next passage for `linked`. */
  kind?: (typeof QUESTION_KINDS)[number] | (typeof NOTE_KINDS)[number];
  kept?: string[];
  neighbour?: { source: string; text: string } | null;
};

export function renderPrompt(task: "instruction" | "qa" | "notes", vars: PromptVars): string {
  const neighbour = vars.kind?.id === "linked" && vars.neighbour ? `\n\nThe next passage (from ${vars.neighbour.source}):\n"""\n${vars.neighbour.text}\n"""` : "";
  return PROMPTS[task].template
    .replaceAll("{{count}}", String(vars.count))
    .replaceAll("{{kind}}", vars.kind?.ask ?? "a user could ask whose answers are stated in the passage")
    .replaceAll("{{scope}}", neighbour ? " and the next passage" : "")
    .replaceAll("{{avoid}}", avoidBlock(vars.kept ?? [], task === "notes" ? "notes" : "questions"))
    .replaceAll("{{neighbour}}", neighbour)
    .replaceAll("{{source}}", vars.source)
    .replaceAll("{{chunk}}", vars.chunk);
}
