/** Prompt templates, versioned files embedded in the binary; the version is stored on each example. */
import instructionV1 from "../../prompts/instruction.v1.txt" with { type: "text" };
import qaV1 from "../../prompts/qa.v1.txt" with { type: "text" };

export const PROMPTS = {
  instruction: { version: "instruction.v1", template: instructionV1 },
  qa: { version: "qa.v1", template: qaV1 },
} as const;

export function renderPrompt(task: "instruction" | "qa", vars: { count: number; source: string; chunk: string }): string {
  return PROMPTS[task].template
    .replaceAll("{{count}}", String(vars.count))
    .replaceAll("{{source}}", vars.source)
    .replaceAll("{{chunk}}", vars.chunk);
}
