/** Dataset files → records with their line (JSONL, CSV) or item (JSON array) number. */
import { AppError } from "../lib/errors.ts";
import { parseCsv } from "./csv.ts";

export type RawRecord = { line: number; value?: unknown; error?: string };
export type ParsedDataset = { records: RawRecord[]; columns: string[]; unit: "line" | "item" };

export function parseDataset(type: "jsonl" | "json" | "csv", text: string, filename: string): ParsedDataset {
  if (type === "jsonl") {
    const records: RawRecord[] = [];
    text.split("\n").forEach((line, i) => {
      if (!line.trim()) return;
      try {
        records.push({ line: i + 1, value: JSON.parse(line) });
      } catch {
        records.push({ line: i + 1, error: "not valid JSON" });
      }
    });
    return { records, columns: columnsOf(records), unit: "line" };
  }
  if (type === "json") {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new AppError(422, "invalid_json", `${filename} is not valid JSON (${(e as Error).message}).`);
    }
    if (!Array.isArray(value)) {
      throw new AppError(
        422,
        "json_not_array",
        `${filename} holds a JSON ${value === null ? "null" : typeof value === "object" ? "object" : typeof value}; a dataset must be an array of objects ([{…}, {…}]), or use JSONL with one object per line.`,
      );
    }
    const records = value.map((v, i) => ({ line: i + 1, value: v }));
    return { records, columns: columnsOf(records), unit: "item" };
  }
  const { rows, lines } = parseCsv(text, filename);
  if (rows.length === 0) throw new AppError(422, "empty_file", `${filename} has no rows.`);
  const header = rows[0]!.map((h) => h.trim());
  if (new Set(header).size !== header.length || header.some((h) => h === "")) {
    throw new AppError(422, "invalid_csv", `${filename}: the first line must name every column once (found: ${header.join(", ")}).`);
  }
  const records: RawRecord[] = rows.slice(1).map((row, i) =>
    row.length !== header.length
      ? { line: lines[i + 1]!, error: `has ${row.length} fields, the header has ${header.length}` }
      : { line: lines[i + 1]!, value: Object.fromEntries(header.map((h, j) => [h, row[j]])) },
  );
  return { records, columns: header, unit: "line" };
}

function columnsOf(records: RawRecord[]): string[] {
  const cols = new Set<string>();
  for (const r of records.slice(0, 200)) {
    if (r.value && typeof r.value === "object" && !Array.isArray(r.value)) for (const k of Object.keys(r.value)) cols.add(k);
  }
  return [...cols];
}
