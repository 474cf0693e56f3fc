/**
 * CSV as spreadsheets write it (RFC 4180), parsed by csv-parse: quoted fields with
 * doubled quotes and newlines inside, a UTF-8 BOM, and `,`, `;` or tab as the
 * separator (guessed here from the header line, outside quotes). Each row keeps the
 * line it starts on, for errors a user can find in their editor.
 */
import { CsvError, parse } from "csv-parse/sync";
import { AppError } from "../lib/errors.ts";

export function detectDelimiter(text: string): string {
  const firstLine: string[] = [];
  let inQuotes = false;
  for (const ch of text) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (ch === "\n" && !inQuotes) break;
    else if (!inQuotes) firstLine.push(ch);
  }
  const counts = [",", ";", "\t"].map((d) => [d, firstLine.filter((c) => c === d).length] as const);
  return counts.sort((a, b) => b[1] - a[1])[0]![1] > 0 ? counts[0]![0] : ",";
}

/** Rows with the 1-based line each starts on (quoted newlines make rows span lines). */
export function parseCsv(input: string, filename = "The file"): { rows: string[][]; lines: number[] } {
  // One line ending: csv-parse counts lines per character, so CRLF would count twice
  // inside quoted fields (and a CR alone is an old Mac export).
  const text = input.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const rows: string[][] = [];
  const lines: number[] = [];
  try {
    parse(text, {
      delimiter: detectDelimiter(text),
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      on_record: (record: string[], { lines: end }) => {
        if (!record.some((f) => f !== "")) return null;
        // `lines` is where the row ends; newlines can only sit inside quoted fields, so
        // counting them says where it began.
        rows.push(record);
        lines.push(end - record.reduce((n, f) => n + f.split("\n").length - 1, 0));
        return null;
      },
    });
  } catch (err) {
    if (err instanceof CsvError) throw new AppError(422, "invalid_csv", `${filename}: ${err.message.replace(/^[^:]*: /, "")}.`.replace(/\.\.$/, "."));
    throw err;
  }
  return { rows, lines };
}
