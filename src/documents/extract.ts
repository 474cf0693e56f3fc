/**
 * Text out of PDF (poppler's pdftotext when installed, else unpdf / pdf.js, page by page), DOCX (mammoth, keeping headings,
 * lists and tables) and TXT/MD (encoding detection). Each failure a user can meet
 * is an AppError with its own code and sentence.
 */
import { join } from "node:path";
import type { getDocumentProxy } from "unpdf";
import { AppError } from "../lib/errors.ts";
import { appRoot } from "../lib/app-root.ts";
import { blocksFromPlainText, type Block, type Extracted } from "./blocks.ts";
import { cleanBlocks, removeRunningHeaders } from "./clean.ts";
import { decodeText } from "./text-decode.ts";
import { mayHaveAnnotations, popplerPages } from "./pdf-poppler.ts";
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

export type PdfSource = { path?: string; pdftotext?: string | null };

/**
 * A PDF's text, page by page: poppler's pdftotext when it is installed and `path` is
 * given (the fast path), else pdf.js; then the text of form fields and notes, which
 * pdftotext leaves out, from pdf.js when the file may have any.
 */
export async function extractPdf(bytes: Uint8Array, filename: string, source: PdfSource = {}): Promise<Extracted> {
  if (source.path && source.pdftotext) {
    const pages = await popplerPages(source.pdftotext, source.path);
    if (pages?.some((p) => p.trim())) {
      // Broken annotations never cost the pages' text.
      const extras = mayHaveAnnotations(bytes) ? await withPdfJs(bytes, filename, annotationText).catch(() => []) : [];
      return fromPages(withExtras(pages, extras), filename);
    }
  }
  return withPdfJs(bytes, filename, async (pdf) => {
    const { extractText } = await import("unpdf");
    let pages: string[];
    try {
      pages = (await extractText(pdf, { mergePages: false })).text as string[];
    } catch {
      throw new AppError(422, "pdf_corrupt", `${filename} is damaged or truncated: its pages cannot be read.`);
    }
    return fromPages(withExtras(pages, await annotationText(pdf)), filename);
  });
}

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

/** Opens the PDF with pdf.js (naming a password or damage to the user), runs `use`, frees it. */
async function withPdfJs<T>(bytes: Uint8Array, filename: string, use: (pdf: PdfDocument) => Promise<T>): Promise<T> {
  // Loaded on first use: pdf.js and mammoth take ~70 ms to load, which poppler's path
  // and plain text never need (the extraction child starts for each document).
  const { getDocumentProxy } = await import("unpdf");
  let pdf: PdfDocument;
  try {
    // pdf.js refuses a Node Buffer: it gets a plain Uint8Array copy.
    pdf = await getDocumentProxy(Buffer.isBuffer(bytes) ? new Uint8Array(bytes) : bytes, { BinaryDataFactory: LocalBinaryDataFactory, useWorkerFetch: false, verbosity: 0 } as never);
  } catch (err) {
    const name = (err as Error).name;
    if (name === "PasswordException") {
      throw new AppError(422, "pdf_encrypted", `${filename} is password-protected: password-protected PDFs are not supported. Remove the password and upload it again.`);
    }
    throw new AppError(422, "pdf_corrupt", `${filename} is damaged or truncated and cannot be read as a PDF.`);
  }
  try {
    return await use(pdf);
  } finally {
    await pdf.loadingTask.destroy();
  }
}

/** Field values and notes after each page's text, leaving out any the page already shows. */
function withExtras(pages: string[], extras: AnnotationLine[][]): string[] {
  return pages.map((text, i) => {
    const lines = (extras[i] ?? []).filter((l) => !text.includes(l.text)).map((l) => (l.label ? `${l.label}: ${l.text}` : l.text));
    return lines.length ? `${text}\n\n${lines.join("\n")}` : text;
  });
}

/** Pages to blocks: running headers and footers removed, empty pages counted. */
function fromPages(pages: string[], filename: string): Extracted {
  if (pages.every((p) => p.trim() === "")) {
    throw new AppError(422, "pdf_no_text", `${filename} has no extractable text — is it a scan? Run OCR on it first, then upload it again.`);
  }
  const cleaned = removeRunningHeaders(pages);
  const blocks: Block[] = [];
  cleaned.forEach((text, i) => {
    for (const para of text.split(/\n{2,}/)) if (para.trim()) blocks.push({ kind: "text", text: para, page: i + 1 });
  });
  const empty = pages.filter((p) => !p.trim()).length;
  const warnings = empty > 0 ? [`${empty} page(s) without text (images?) were skipped.`] : [];
  return { blocks: cleanBlocks(blocks), pageCount: pages.length, warnings };
}

type AnnotationLine = { label: string | null; text: string };
type PdfAnnotation = { subtype?: string; fieldType?: string; fieldName?: string; fieldValue?: unknown; contentsObj?: { str?: string }; checkBox?: boolean; radioButton?: boolean };

/**
 * Text that is not in a page's content stream: filled-in form fields (their value is
 * in the AcroForm, "name: value") and annotation notes. pdftotext shows a field only
 * through its appearance stream, and never a note: poppler's pages get these too.
 */
async function annotationText(pdf: PdfDocument): Promise<AnnotationLine[][]> {
  const out: AnnotationLine[][] = [];
  for (let i = 1; i <= pdf.numPages; i++) {
    let annots: PdfAnnotation[] = [];
    try {
      annots = (await (await pdf.getPage(i)).getAnnotations()) as PdfAnnotation[];
    } catch {
      // Broken annotations never cost the page's text.
    }
    const lines: AnnotationLine[] = [];
    for (const a of annots) {
      if (a.subtype === "Widget" && a.fieldType === "Tx" && typeof a.fieldValue === "string" && a.fieldValue.trim()) {
        lines.push({ label: a.fieldName || null, text: a.fieldValue });
      } else if (a.subtype === "Widget" && a.fieldType === "Ch") {
        const value = Array.isArray(a.fieldValue) ? a.fieldValue.join(", ") : a.fieldValue;
        if (typeof value === "string" && value.trim()) lines.push({ label: a.fieldName || null, text: value });
      } else if (a.subtype !== "Widget" && a.subtype !== "Link" && a.contentsObj?.str?.trim()) {
        lines.push({ label: null, text: a.contentsObj.str });
      }
    }
    out.push(lines);
  }
  return out;
}

export async function extractDocx(bytes: Uint8Array, filename: string): Promise<Extracted> {
  checkDocx(bytes, filename);
  let html: string;
  try {
    const { default: mammoth } = await import("mammoth");
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

export async function extractDocument(type: SniffedType, bytes: Uint8Array, filename: string, pdf: PdfSource = {}): Promise<Extracted> {
  if (type === "pdf") return extractPdf(bytes, filename, pdf);
  if (type === "docx") return extractDocx(bytes, filename);
  return extractPlainText(bytes, filename);
}
