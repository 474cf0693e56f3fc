/**
 * What a file really is, judged by its bytes rather than its name: PDF magic bytes,
 * DOCX = a zip holding word/document.xml, text = decodable. The extension only says
 * what the user meant; a mismatch (a ".pdf" that is a program) is refused.
 */
import { extname } from "node:path";
import { AppError } from "../lib/errors.ts";

export const DOCUMENT_EXTENSIONS = [".pdf", ".docx", ".txt", ".md"] as const;
export const DATASET_EXTENSIONS = [".jsonl", ".json", ".csv"] as const;

export type SniffedType = "pdf" | "docx" | "text" | "jsonl" | "json" | "csv";

export const MIME: Record<SniffedType, string> = {
  pdf: "application/pdf",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  text: "text/plain",
  jsonl: "application/jsonl",
  json: "application/json",
  csv: "text/csv",
};

const startsWith = (head: Uint8Array, sig: number[]) => sig.every((b, i) => head[i] === b);

export function sniffType(head: Uint8Array, filename: string, kind: "raw_doc" | "dataset_upload"): SniffedType {
  const ext = extname(filename).toLowerCase();
  const allowed: readonly string[] = kind === "raw_doc" ? DOCUMENT_EXTENSIONS : DATASET_EXTENSIONS;
  if (!allowed.includes(ext)) {
    throw new AppError(
      415,
      "unsupported_type",
      kind === "raw_doc"
        ? `${filename}: only PDF, DOCX, TXT and MD documents are accepted.`
        : `${filename}: datasets must be JSONL, JSON or CSV files.`,
    );
  }
  if (head.length === 0) throw new AppError(422, "empty_file", `${filename} is empty.`);
  if (startsWith(head, [0x4d, 0x5a]) || startsWith(head, [0x7f, 0x45, 0x4c, 0x46]) || startsWith(head, [0xcf, 0xfa, 0xed, 0xfe])) {
    throw new AppError(415, "executable_file", `${filename} is a program, not a document: it was refused.`);
  }
  const isPdf = findPdfHeader(head);
  const isZip = startsWith(head, [0x50, 0x4b, 0x03, 0x04]);
  switch (ext) {
    case ".pdf":
      if (!isPdf) throw new AppError(415, "type_mismatch", `${filename} is named .pdf but its content is not a PDF.`);
      return "pdf";
    case ".docx":
      if (!isZip) throw new AppError(422, "invalid_docx", `${filename} is not a valid Word document (.docx files are zip archives).`);
      return "docx";
    default:
      if (isPdf || isZip) throw new AppError(415, "type_mismatch", `${filename} is named ${ext} but its content is a ${isPdf ? "PDF" : "zip archive"}.`);
      if (head.includes(0) && !startsWith(head, [0xff, 0xfe]) && !startsWith(head, [0xfe, 0xff])) {
        throw new AppError(415, "not_text", `${filename} is not a text file (it contains binary data).`);
      }
      return ext === ".jsonl" ? "jsonl" : ext === ".json" ? "json" : ext === ".csv" ? "csv" : "text";
  }
}

/** PDF readers accept the header anywhere in the first 1 KB. */
function findPdfHeader(head: Uint8Array): boolean {
  const text = new TextDecoder("latin1").decode(head.subarray(0, 1024));
  return text.includes("%PDF-");
}
