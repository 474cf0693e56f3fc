/**
 * Recognising a dataset's shape and turning each row into {instruction, input, output}.
 * Shapes: Alpaca (instruction/input/output), Q&A (question/answer/context), chat
 * messages ({role, content}), ShareGPT ({from, value}); common aliases too
 * (prompt/completion, prompt/response, query/response). Anything else needs the
 * user to say which column is which (a ColumnMapping).
 */
import { z } from "zod";

export type ExampleFields = { instruction: string; input: string; output: string };
export type ColumnMapping = { instruction: string; input?: string | null; output: string };
export type Shape = { name: "alpaca" | "qa" | "messages" | "sharegpt" | "mapped"; mapping?: ColumnMapping };

/** Which column is which: the API and the Data step's form accept exactly the same. */
export const columnMappingSchema = z
  .object({
    instruction: z.string().trim().min(1, "Choose the instruction (or question) column."),
    input: z.string().trim().nullish().transform((v) => v || null),
    output: z.string().trim().min(1, "Choose the output (or answer) column."),
  })
  .refine((m) => m.instruction !== m.output, { message: "The instruction and the output must be different columns.", path: ["output"] })
  .refine((m) => m.input === null || (m.input !== m.instruction && m.input !== m.output), { message: "The input must be a third column (or none).", path: ["input"] });

const ALIASES: { mapping: ColumnMapping; name: Shape["name"] }[] = [
  { name: "alpaca", mapping: { instruction: "instruction", input: "input", output: "output" } },
  { name: "qa", mapping: { instruction: "question", input: "context", output: "answer" } },
  { name: "alpaca", mapping: { instruction: "prompt", input: null, output: "completion" } },
  { name: "alpaca", mapping: { instruction: "prompt", input: null, output: "response" } },
  { name: "alpaca", mapping: { instruction: "query", input: null, output: "response" } },
];

export function detectShape(samples: unknown[]): Shape | null {
  const objects = samples.filter((s): s is Record<string, unknown> => typeof s === "object" && s !== null && !Array.isArray(s));
  if (objects.length === 0) return null;
  const has = (key: string) => objects.filter((o) => key in o).length >= objects.length / 2;
  if (has("messages")) return { name: "messages" };
  if (has("conversations")) return { name: "sharegpt" };
  for (const a of ALIASES) if (has(a.mapping.instruction) && has(a.mapping.output)) return { name: a.name, mapping: a.mapping };
  return null;
}

const asText = (v: unknown): string | null => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : null);

const ROLE: Record<string, "system" | "user" | "assistant"> = {
  system: "system", user: "user", human: "user", assistant: "assistant", gpt: "assistant", model: "assistant", bot: "assistant",
};

function fromTurns(turns: unknown, roleKey: string, contentKey: string): ExampleFields | string {
  if (!Array.isArray(turns) || turns.length === 0) return `${roleKey === "role" ? "messages" : "conversations"} must be a non-empty list`;
  const msgs: { role: string; content: string }[] = [];
  for (const t of turns) {
    const role = ROLE[String((t as Record<string, unknown>)?.[roleKey] ?? "").toLowerCase()];
    const content = asText((t as Record<string, unknown>)?.[contentKey]);
    if (!role || content === null) return `each turn needs ${roleKey} and ${contentKey}`;
    msgs.push({ role, content });
  }
  const last = msgs.at(-1)!;
  if (last.role !== "assistant") return "the last turn must be the assistant's";
  const lastUser = msgs.findLastIndex((m) => m.role === "user");
  if (lastUser < 0) return "there is no user turn";
  const earlier = msgs.slice(0, lastUser).map((m) => `${m.role}: ${m.content}`).join("\n");
  return { instruction: msgs[lastUser]!.content, input: earlier, output: last.content };
}

/** One row → fields, or the reason it cannot be used. */
export function rowToFields(row: unknown, shape: Shape): ExampleFields | string {
  if (typeof row !== "object" || row === null || Array.isArray(row)) return "not an object";
  const r = row as Record<string, unknown>;
  if (shape.name === "messages") return fromTurns(r.messages, "role", "content");
  if (shape.name === "sharegpt") return fromTurns(r.conversations, "from", "value");
  const m = shape.mapping!;
  const instruction = asText(r[m.instruction]);
  const output = asText(r[m.output]);
  const input = m.input ? asText(r[m.input]) ?? "" : "";
  const instructionName = shape.name === "qa" ? "question" : m.instruction;
  const outputName = shape.name === "qa" ? "answer" : m.output;
  if (instruction === null || instruction.trim() === "") return `missing ${instructionName}`;
  if (output === null || output.trim() === "") return `missing ${outputName}`;
  return { instruction: instruction.trim(), input: input.trim(), output: output.trim() };
}
