/**
 * CSV as spreadsheets write it (RFC 4180): quoted fields with doubled quotes and
 * newlines inside, a UTF-8 BOM, and `,`, `;` or tab as the separator (guessed from
 * the header line, outside quotes).
 */
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
export function parseCsv(input: string): { rows: string[][]; lines: number[] } {
  const text = input.replace(/^\uFEFF/, "");
  const delimiter = detectDelimiter(text);
  const rows: string[][] = [];
  const lines: number[] = [];
  let row: string[] = [];
  let field = "";
  let inQuotes = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') inQuotes = false;
      else {
        if (ch === "\n") line++;
        field += ch;
      }
    } else if (ch === '"' && field === "") inQuotes = true;
    else if (ch === delimiter) {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      field = "";
      if (row.some((f) => f !== "")) {
        rows.push(row);
        lines.push(rowLine);
      }
      row = [];
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    if (row.some((f) => f !== "")) {
      rows.push(row);
      lines.push(rowLine);
    }
  }
  return { rows, lines };
}
