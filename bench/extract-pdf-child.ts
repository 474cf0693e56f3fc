// Child process for the PDF benchmark: extract one PDF with our extractor, print timing.
import { extractPdf } from "../src/documents/extract.ts";
import { findPdftotext } from "../src/documents/pdf-poppler.ts";

const path = process.argv[2]!;
const bytes = await Bun.file(path).bytes();
const t0 = performance.now();
// FTF_BENCH_PDFJS=1 measures the pdf.js path even where poppler is installed.
const pdftotext = process.env.FTF_BENCH_PDFJS ? null : findPdftotext();
const out = await extractPdf(bytes, "bench.pdf", { path, pdftotext });
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, pages: out.pageCount, chars: out.blocks.reduce((n, b) => n + b.text.length, 0), words: out.blocks.reduce((n, b) => n + b.text.split(/\s+/).filter(Boolean).length, 0) }));
