/**
 * What a local model answers is not always clean JSON: strip code fences, take the
 * outermost JSON object, and check it against the expected shape.
 */
import { z } from "zod";
import type { ExampleFields } from "../datasets/shapes.ts";
import type { QaContext } from "../projects/schemas.ts";

const instructionItem = z.object({ instruction: z.string(), input: z.string().optional().default(""), output: z.string() });
const qaItem = z.object({ question: z.string(), answer: z.string() });

export const exampleJsonSchema = (task: "instruction" | "qa", count: number) => ({
  type: "object",
  properties: {
    examples: {
      type: "array",
      minItems: 1,
      maxItems: count,
      items:
        task === "qa"
          ? { type: "object", properties: { question: { type: "string" }, answer: { type: "string" } }, required: ["question", "answer"] }
          : { type: "object", properties: { instruction: { type: "string" }, input: { type: "string" }, output: { type: "string" } }, required: ["instruction", "input", "output"] },
    },
  },
  required: ["examples"],
});

export function extractJson(raw: string): unknown {
  const text = raw.trim().replace(/^```(?:json)?\s*/i, "").replace(/\s*```\s*$/, "");
  try {
    return JSON.parse(text);
  } catch {}
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start >= 0 && end > start) {
    try {
      return JSON.parse(text.slice(start, end + 1));
    } catch {}
  }
  return undefined;
}

/** The examples in a model's answer, or the reason none could be read. Closed-book Q&A leaves the passage out of the input. */
/**
 * Tokens a reply of `count` examples may take: a generous answer per example and the
 * JSON around them. Past it the model is rambling, and the request is stopped there.
 */
export function replyTokenBudget(task: "instruction" | "qa", count: number): number {
  return 64 + count * (task === "qa" ? 320 : 480);
}

/** The rejection reason of a reply cut off at its token budget (its JSON cannot be whole). */
export const CUT_OFF = "the model's answer was cut off at its length limit (it ran on)";

export function parseExamples(raw: string, task: "instruction" | "qa", chunkText: string, qaContext: QaContext = "with_context"): ExampleFields[] | string {
  const value = extractJson(raw);
  if (value === undefined) return "the model's answer is not valid JSON";
  const list = Array.isArray(value) ? value : (value as { examples?: unknown })?.examples;
  if (!Array.isArray(list) || list.length === 0) return "the model's answer has no examples";
  const out: ExampleFields[] = [];
  for (const item of list) {
    if (task === "qa") {
      const p = qaItem.safeParse(item);
      if (p.success) out.push({ instruction: p.data.question.trim(), input: qaContext === "closed_book" ? "" : chunkText, output: p.data.answer.trim() });
    } else {
      const p = instructionItem.safeParse(item);
      if (p.success) out.push({ instruction: p.data.instruction.trim(), input: p.data.input.trim(), output: p.data.output.trim() });
    }
  }
  return out.length ? out : "the model's answer does not have the expected fields";
}
