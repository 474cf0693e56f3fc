/**
 * Text out of PDF (unpdf / pdf.js, page by page), DOCX (mammoth, keeping headings,
 * lists and tables) and TXT/MD (encoding detection). Each failure a user can meet
 * is an AppError with its own code and sentence.
 */
import { join } from "node:path";
import mammoth from "mammoth";
import { extractText, getDocumentProxy } from "unpdf";
import { AppError } from "../lib/errors.ts";
import { appRoot } from "../lib/app-root.ts";
import { blocksFromPlainText, type Block, type Extracted } from "./blocks.ts";
import { cleanBlocks, removeRunningHeaders } from "./clean.ts";
import { decodeText } from "./text-decode.ts";
import { checkDocx } from "./zip-inspect.ts";
import type { SniffedType } from "./sniff.ts";

// Beside the repository's node_modules, or beside the compiled binary (scripts/build.ts copies them).
const PDFJS_DIR = join(appRoot(), "node_modules/pdfjs-dist");
const DATA_DIRS: Record<string, string> = { cMapUrl: join(PDFJS_DIR, "cmaps"), standardFontDataUrl: join(PDFJS_DIR, "standard_fonts") };

/**
 * pdf.js reads CMaps (needed for CJK fonts) and standard font data through this
 * factory; its default fetches file:// URLs, which does not work here, and then CJK
 * pages silently come out empty.
 */
class LocalBinaryDataFactory {
  constructor(_options: unknown) {}
  async fetch({ kind, filename }: { kind: string; filename: string }): Promise<Uint8Array> {
    const dir = DATA_DIRS[kind];
    if (!dir || filename.includes("/") || filename.includes("..")) throw new Error(`no ${kind} data ${filename}`);
    return await Bun.file(join(dir, filename)).bytes();
  }
}

export async function extractPdf(bytes: Uint8Array, filename: string): Promise<Extracted> {
  let pdf;
  try {
    pdf = await getDocumentProxy(bytes, { BinaryDataFactory: LocalBinaryDataFactory, useWorkerFetch: false, verbosity: 0 } as never);
  } catch (err) {
    const name = (err as Error).name;
    if (name === "PasswordException") {
      throw new AppError(422, "pdf_encrypted", `${filename} is password-protected: password-protected PDFs are not supported. Remove the password and upload it again.`);
    }
    throw new AppError(422, "pdf_corrupt", `${filename} is damaged or truncated and cannot be read as a PDF.`);
  }
  try {
    let pages: string[];
    try {
      pages = (await extractText(pdf, { mergePages: false })).text as string[];
    } catch {
      throw new AppError(422, "pdf_corrupt", `${filename} is damaged or truncated: its pages cannot be read.`);
    }
    const extras = await annotationText(pdf);
    pages = pages.map((text, i) => (extras[i] ? `${text}\n\n${extras[i]}` : text));
    if (pages.every((p) => p.trim() === "")) {
      throw new AppError(422, "pdf_no_text", `${filename} has no extractable text — is it a scan? Run OCR on it first, then upload it again.`);
    }
    const cleaned = removeRunningHeaders(pages);
    const blocks: Block[] = [];
    cleaned.forEach((text, i) => {
      for (const para of text.split(/\n{2,}/)) if (para.trim()) blocks.push({ kind: "text", text: para, page: i + 1 });
    });
    const warnings = pages.filter((p) => !p.trim()).length > 0 ? [`${pages.filter((p) => !p.trim()).length} page(s) without text (images?) were skipped.`] : [];
    return { blocks: cleanBlocks(blocks), pageCount: pages.length, warnings };
  } finally {
    await pdf.loadingTask.destroy();
  }
}

type PdfAnnotation = { subtype?: string; fieldType?: string; fieldName?: string; fieldValue?: unknown; contentsObj?: { str?: string }; checkBox?: boolean; radioButton?: boolean };

/**
 * Text that is not in a page's content stream: filled-in form fields (their value is
 * in the AcroForm, "name: value") and annotation notes. pdftotext skips neither.
 */
async function annotationText(pdf: Awaited<ReturnType<typeof getDocumentProxy>>): Promise<string[]> {
  const out: string[] = [];
  for (let i = 1; i <= pdf.numPages; i++) {
    let annots: PdfAnnotation[] = [];
    try {
      annots = (await (await pdf.getPage(i)).getAnnotations()) as PdfAnnotation[];
    } catch {
      // Broken annotations never cost the page's text.
    }
    const lines: string[] = [];
    for (const a of annots) {
      if (a.subtype === "Widget" && a.fieldType === "Tx" && typeof a.fieldValue === "string" && a.fieldValue.trim()) {
        lines.push(a.fieldName ? `${a.fieldName}: ${a.fieldValue}` : a.fieldValue);
      } else if (a.subtype === "Widget" && a.fieldType === "Ch") {
        const value = Array.isArray(a.fieldValue) ? a.fieldValue.join(", ") : a.fieldValue;
        if (typeof value === "string" && value.trim()) lines.push(a.fieldName ? `${a.fieldName}: ${value}` : value);
      } else if (a.subtype !== "Widget" && a.subtype !== "Link" && a.contentsObj?.str?.trim()) {
        lines.push(a.contentsObj.str);
      }
    }
    out.push(lines.join("\n"));
  }
  return out;
}

export async function extractDocx(bytes: Uint8Array, filename: string): Promise<Extracted> {
  checkDocx(bytes, filename);
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch {
    throw new AppError(422, "invalid_docx", `${filename} is not a valid Word document: it could not be opened.`);
  }
  const blocks = htmlToBlocks(html);
  if (blocks.length === 0) throw new AppError(422, "empty_document", `${filename} contains no text.`);
  return { blocks: cleanBlocks(blocks), pageCount: null, warnings: [] };
}

/** mammoth's HTML is regular: headings, paragraphs, list items, table cells. */
export function htmlToBlocks(html: string): Block[] {
  const blocks: Block[] = [];
  const re = /<(h[1-6]|p|li|tr)\b[^>]*>([\s\S]*?)<\/\1>/g;
  for (const m of html.matchAll(re)) {
    const tag = m[1]!;
    let inner = m[2]!;
    if (tag === "tr") inner = inner.replace(/<\/t[dh]>\s*<t[dh][^>]*>/g, " | ");
    const text = decodeEntities(inner.replace(/<br\s*\/?>/g, "\n").replace(/<[^>]+>/g, "")).trim();
    if (!text) continue;
    if (tag.startsWith("h")) blocks.push({ kind: "heading", text, level: Number(tag[1]), page: null });
    else blocks.push({ kind: "text", text: tag === "li" ? `• ${text}` : text, page: null });
  }
  return blocks;
}

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (e) => ({ "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&#x27;": "'" })[e]!);
}

export function extractPlainText(bytes: Uint8Array, filename: string): Extracted {
  const { text, encoding } = decodeText(bytes, filename);
  const blocks = cleanBlocks(blocksFromPlainText(text));
  if (blocks.length === 0) throw new AppError(422, "empty_document", `${filename} contains no text.`);
  return { blocks, pageCount: null, encoding, warnings: encoding === "windows-1252" ? ["The file is not UTF-8; it was read as Windows-1252."] : [] };
}

/**
 * Plain text, section by section (about `sectionChars` each, cut at blank lines), so a
 * 50 MB file is never held as blocks, cleaned copies and chunks all at once.
 */
export function* plainTextSections(bytes: Uint8Array, filename: string, sectionChars = 1_000_000): Generator<{ blocks: Block[]; encoding: string }> {
  const { text, encoding } = decodeText(bytes, filename);
  let start = 0;
  let any = false;
  while (start < text.length) {
    let end = Math.min(text.length, start + sectionChars);
    if (end < text.length) {
      // Prefer a paragraph break nearby, then a line break, then any space: a file with
      // no blank lines at all must still be cut into sections.
      const window = text.slice(end, end + 65_536);
      const para = window.search(/\n[ \t]*\n/);
      const line = window.indexOf("\n");
      const space = window.search(/\s/);
      const cut = para >= 0 ? para : line >= 0 ? line : space;
      end = cut < 0 ? Math.min(text.length, end + 65_536) : end + cut + 1;
    }
    const blocks = cleanBlocks(blocksFromPlainText(text.slice(start, end)));
    if (blocks.length) any = true;
    yield { blocks, encoding };
    start = end;
  }
  if (!any) throw new AppError(422, "empty_document", `${filename} contains no text.`);
}

export async function extractDocument(type: SniffedType, bytes: Uint8Array, filename: string): Promise<Extracted> {
  if (type === "pdf") return extractPdf(bytes, filename);
  if (type === "docx") return extractDocx(bytes, filename);
  return extractPlainText(bytes, filename);
}
