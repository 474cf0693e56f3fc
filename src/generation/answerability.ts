/**
 * The second look (optional): a model reads the passage, the question and the answer, and
 * says whether the passage answers the question and whether the answer says what the
 * passage says. Word-overlap grounding cannot tell an answer that copies the passage's
 * words about the wrong thing; a reader can. One more call per example: the Preview step
 * shows the cost before it runs.
 */
import { z } from "zod";
import type { Backend } from "./backends.ts";
import { extractJson } from "./repair.ts";

export const NOT_ANSWERABLE = "not answerable from its passage (second look)";
export const NOT_FAITHFUL = "the answer does not say what its passage says (second look)";

const verdictSchema = z.object({ answerable: z.boolean(), faithful: z.boolean(), reason: z.string() });
export const answerabilityJsonSchema = {
  type: "object",
  properties: { answerable: { type: "boolean" }, faithful: { type: "boolean" }, reason: { type: "string" } },
  required: ["answerable", "faithful", "reason"],
};

export function answerabilityPrompt(passage: string, question: string, answer: string): string {
  return [
    "You check a question-answer pair written from a passage of a company's documents.",
    '"answerable": the passage alone answers the question. "faithful": the answer says what the passage says, and nothing the passage does not say.',
    "",
    "Passage:",
    '"""',
    passage,
    '"""',
    "",
    `Question: ${question}`,
    `Answer: ${answer}`,
    "",
    'Reply with JSON only: {"answerable": true | false, "faithful": true | false, "reason": "..."}',
  ].join("\n");
}

/** The refusal reason, or null when the pair passes (or the checker could not give a verdict: the example is kept). */
export async function secondLook(backend: Backend, model: string, passage: string, f: { instruction: string; output: string }, signal?: AbortSignal): Promise<string | null> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const reply = await backend.chat({ model, prompt: answerabilityPrompt(passage, f.instruction, f.output), schema: answerabilityJsonSchema, numCtx: 8192, maxTokens: 200, temperature: 0, signal });
      if (reply.truncated) continue;
      const parsed = verdictSchema.safeParse(extractJson(reply.content));
      if (!parsed.success) continue;
      if (!parsed.data.answerable) return NOT_ANSWERABLE;
      if (!parsed.data.faithful) return NOT_FAITHFUL;
      return null;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
    }
  }
  return null;
}

/** The second look at each example of one answer, when a model is asked for: one call each, counted by `onRequest`. */
export async function secondLooks(backend: Backend, model: string | null | undefined, items: { instruction: string; output: string }[], passage: string, signal: AbortSignal, onRequest: () => void): Promise<(string | null)[]> {
  if (!model) return [];
  const looks: (string | null)[] = [];
  for (const f of items) {
    onRequest();
    looks.push(await secondLook(backend, model, passage, f, signal));
  }
  return looks;
}
