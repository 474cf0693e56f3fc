/** Dataset files other trainers (TRL, LLaMA-Factory, axolotl) load as they are. */
import type { ExampleRow } from "./tables.ts";

export const EXPORT_FORMATS = ["alpaca", "chat", "csv"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * A CSV cell. Text a spreadsheet would run as a formula (=, +, -, @, tab or CR first)
 * gets a leading apostrophe, as OWASP advises, so opening the export runs nothing.
 */
const csvCell = (raw: string) => {
  const s = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function exportHeader(format: ExportFormat): string {
  return format === "csv" ? "instruction,input,output\n" : "";
}

export function exportLine(format: ExportFormat, e: Pick<ExampleRow, "instruction" | "input" | "output">): string {
  if (format === "alpaca") return `${JSON.stringify({ instruction: e.instruction, input: e.input, output: e.output })}\n`;
  if (format === "chat") {
    const user = e.input ? `${e.instruction}\n\n${e.input}` : e.instruction;
    return `${JSON.stringify({ messages: [{ role: "user", content: user }, { role: "assistant", content: e.output }] })}\n`;
  }
  return `${[e.instruction, e.input, e.output].map(csvCell).join(",")}\n`;
}

export const exportFilename = (projectName: string, format: ExportFormat, split: string) =>
  `${projectName.replace(/[^\p{L}\p{N}_-]+/gu, "_").slice(0, 60) || "dataset"}-${split}-${format}.${format === "csv" ? "csv" : "jsonl"}`;

export function toExampleJson(e: ExampleRow) {
  return {
    id: e.id,
    split: e.split,
    /** "note": a study note; "example": a question–answer pair or an instruction. */
    kind: e.kind,
    data: { instruction: e.instruction, input: e.input, output: e.output },
    is_valid: e.isValid,
    validation_error: e.validationError,
    token_count: e.tokenCount,
    token_count_approx: e.tokenCountApprox,
    grounding_score: e.groundingScore,
    chunk_id: e.chunkId,
    file_id: e.fileId,
    source_line: e.sourceLine,
    generator_model: e.generatorModel,
    prompt_version: e.promptVersion,
    created_at: new Date(e.createdAt).toISOString(),
  };
}
