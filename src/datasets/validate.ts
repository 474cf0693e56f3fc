/** Checks every example must pass, whatever wrote it (an import or an LLM). */
import type { TokenCount } from "../models/tokenizer.ts";
import type { ExampleFields } from "./shapes.ts";

/** A dataset is ready to train on with at least this many valid train/eval examples. */
export const MIN_VALID_EXAMPLES = 10;

export const LIMITS = { minChars: 2, maxInstructionChars: 8_000, maxInputChars: 32_000, maxOutputChars: 16_000 };

export function validateFields(f: ExampleFields): string | null {
  if (f.instruction.trim().length < LIMITS.minChars) return "the instruction is too short";
  if (f.output.trim().length < LIMITS.minChars) return "the output is too short";
  if (f.instruction.length > LIMITS.maxInstructionChars) return `the instruction is longer than ${LIMITS.maxInstructionChars.toLocaleString("en-US")} characters`;
  if (f.input.length > LIMITS.maxInputChars) return `the input is longer than ${LIMITS.maxInputChars.toLocaleString("en-US")} characters`;
  if (f.output.length > LIMITS.maxOutputChars) return `the output is longer than ${LIMITS.maxOutputChars.toLocaleString("en-US")} characters`;
  return null;
}

/** Normalised for exact-duplicate detection: case, punctuation and spacing do not count. */
export function contentHash(f: ExampleFields): string {
  const norm = (s: string) => s.toLowerCase().replace(/[\p{P}\p{S}]+/gu, " ").replace(/\s+/g, " ").trim();
  return new Bun.CryptoHasher("sha1").update(`${norm(f.instruction)}\u0000${norm(f.input)}\u0000${norm(f.output)}`).digest("hex");
}

/** A stable 90/10 split: the same key always lands in the same split. */
export function splitFor(key: string, evalRatio = 0.1, seed = 42): "train" | "eval" {
  const h = new Bun.CryptoHasher("sha1").update(`${seed}:${key}`).digest();
  return h.readUInt32BE(0) / 0xffffffff < evalRatio ? "eval" : "train";
}

/** The columns every new example carries, whoever wrote it (an import or a model). */
export function exampleColumns(f: ExampleFields, reason: string | null, tokens: TokenCount, hash: string | null) {
  return {
    instruction: f.instruction,
    input: f.input,
    output: f.output,
    isValid: reason === null,
    validationError: reason,
    tokenCount: tokens.count,
    tokenCountApprox: tokens.approx,
    promptTokenCount: tokens.prompt,
    contentHash: hash,
  };
}
