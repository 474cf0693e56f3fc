// Child process for the PDF benchmark: extract one PDF with our extractor, print timing.
import { extractPdf } from "../src/documents/extract.ts";

const path = process.argv[2]!;
const bytes = await Bun.file(path).bytes();
const t0 = performance.now();
const out = await extractPdf(bytes, "bench.pdf");
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, pages: out.pageCount, chars: out.blocks.reduce((n, b) => n + b.text.length, 0) }));
