import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { buildPdf, type PdfPage } from "../../tests/fakes/pdf.ts";
import { corpusText } from "../../tests/fakes/corpus.ts";
import { makeTempDir } from "../../tests/helpers/test-app.ts";
import { AppError } from "../lib/errors.ts";
import { extractPdf } from "./extract.ts";
import { findPdftotext, mayHaveAnnotations } from "./pdf-poppler.ts";

const dir = makeTempDir("ftf-poppler-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const onDisk = (bytes: Uint8Array) => {
  const path = join(dir, `${++n}.pdf`);
  writeFileSync(path, bytes);
  return path;
};
const words = (blocks: { text: string }[]) => blocks.map((b) => b.text).join(" ").split(/\s+/).filter(Boolean);

/** A PDF 1.5 object stream holding `objects`, Flate-compressed, as poppler and pdf.js read them. */
function objectStream(body: string): Buffer {
  const data = deflateSync(Buffer.from(`5 0 ${body}`, "latin1"));
  return Buffer.concat([Buffer.from(`%PDF-1.5\n1 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length ${data.length} >>\nstream\n`, "latin1"), data, Buffer.from("\nendstream\nendobj\n", "latin1")]);
}

describe("whether pdf.js must read a PDF's annotations", () => {
  test("no: plain pages, in the file or in a compressed object stream", () => {
    expect(mayHaveAnnotations(buildPdf([{ lines: ["Plain text"] }, { cjk: ["日本語"] }]))).toBe(false);
    expect(mayHaveAnnotations(objectStream("<< /Type /Page /Contents 6 0 R >>"))).toBe(false);
  });
  test("yes: form fields or notes, in the file or inside an object stream", () => {
    expect(mayHaveAnnotations(buildPdf([{ lines: ["Form"], fields: [{ name: "Name", value: "Ada" }] }]))).toBe(true);
    expect(mayHaveAnnotations(buildPdf([{ lines: ["Note"], notes: ["Checked"] }]))).toBe(true);
    expect(mayHaveAnnotations(objectStream("<< /Type /Page /Annots [7 0 R] >>"))).toBe(true);
  });
  test("maybe, so yes: an object stream that does not inflate, or has no end", () => {
    expect(mayHaveAnnotations(Buffer.from("%PDF-1.5\n1 0 obj << /Type /ObjStm >>\nstream\nnot deflate data\nendstream"))).toBe(true);
    expect(mayHaveAnnotations(Buffer.from("%PDF-1.5\n1 0 obj << /Type /ObjStm >>\nstream\ncut"))).toBe(true);
  });
});

const PDFTOTEXT = findPdftotext();

// The fast path needs poppler-utils (the Docker image ships it); the pdf.js path is
// tested everywhere by the documents tests.
describe.skipIf(!PDFTOTEXT)("poppler's pdftotext path (poppler-utils installed)", () => {
  const both = async (pages: PdfPage[]) => {
    const bytes = buildPdf(pages);
    const path = onDisk(bytes);
    // pdf.js takes over the buffer it reads: each path gets its own copy.
    return { poppler: await extractPdf(new Uint8Array(bytes), "x.pdf", { path, pdftotext: PDFTOTEXT }), pdfjs: await extractPdf(new Uint8Array(bytes), "x.pdf") };
  };

  const cases: [string, PdfPage[]][] = [
    ["Latin pages", [{ lines: corpusText(200, 1).split("\n") }, { lines: corpusText(200, 2).split("\n") }]],
    ["CJK pages (a CID font with a predefined CMap)", [{ cjk: ["保証期間は二年間です", "東京都千代田区"] }, { lines: ["Tokyo office"], cjk: ["営業時間は九時から"] }]],
    ["form fields and notes, which pdftotext leaves out", [{ lines: ["Claim form"], fields: [{ name: "Customer", value: "Ada Lovelace" }], notes: ["Checked by the support team"] }, { lines: ["Second page"] }]],
  ];
  for (const [name, pages] of cases) {
    test(`never less text than pdf.js: ${name}`, async () => {
      const { poppler, pdfjs } = await both(pages);
      const found = new Set(words(poppler.blocks));
      expect(words(pdfjs.blocks).filter((w) => !found.has(w))).toEqual([]);
      expect(poppler.pageCount).toBe(pdfjs.pageCount);
    });
  }

  test("form values and notes land on their page, once", async () => {
    const { poppler } = await both([{ lines: ["Cover"] }, { lines: ["Checked by the support team"], fields: [{ name: "Customer", value: "Ada Lovelace" }], notes: ["Checked by the support team"] }]);
    const page2 = poppler.blocks.filter((b) => b.page === 2).map((b) => b.text).join("\n");
    expect(page2).toContain("Customer: Ada Lovelace");
    expect(page2.split("Checked by the support team")).toHaveLength(2);
  });

  test("a long PDF is cut into parallel page ranges and every page keeps its number", async () => {
    // A different line per page ("Page N" lines would be dropped as running headers).
    const line = (page: number) => corpusText(20, page).split(" ").slice(0, 6).join(" ");
    const pages = Array.from({ length: 130 }, (_, i) => ({ lines: [line(i + 1)] }));
    const { poppler } = await both(pages);
    expect(poppler.pageCount).toBe(130);
    for (const k of [1, 50, 51, 65, 66, 100, 130]) {
      expect(poppler.blocks.find((b) => b.text === line(k))?.page).toBe(k);
    }
  });

  test("what poppler cannot read falls back to pdf.js, which names the problem", async () => {
    const failing: [Uint8Array, string][] = [
      [buildPdf([{ lines: ["secret"] }], { encrypted: true }), "pdf_encrypted"],
      [buildPdf([{ imageOnly: true }]), "pdf_no_text"],
      [Buffer.from("%PDF-1.4\n1 0 obj garbage that never ends"), "pdf_corrupt"],
    ];
    for (const [bytes, code] of failing) {
      const err = await extractPdf(bytes, "x.pdf", { path: onDisk(bytes), pdftotext: PDFTOTEXT }).catch((e) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe(code);
    }
  });
});
