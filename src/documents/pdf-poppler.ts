/**
 * The fast PDF path: poppler's `pdftotext` when it is installed (Debian `poppler-utils`
 * and `poppler-data` for CJK; the Docker image ships both). The pages are split into
 * one range per core and extracted by parallel `pdftotext -f -l` processes, so a long
 * PDF takes less wall time than one pdftotext, and its memory is theirs, returned to
 * the OS on exit. Any failure (encrypted, damaged, killed) answers null: the caller
 * falls back to pdf.js, which names the problem to the user. See decision record 0007.
 */
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { inflateSync } from "node:zlib";

/** Fewer pages than this per process are not worth a process's start-up. */
const MIN_PAGES_PER_PROCESS = 50;
const MAX_PROCESSES = 8;

/** `pdftotext` on PATH, or null. */
export const findPdftotext = (): string | null => Bun.which("pdftotext");

async function run(cmd: string[]): Promise<string | null> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return code === 0 ? out : null;
}

/** Page count from `pdfinfo` (beside pdftotext); null when it is missing or refuses. */
async function pageCount(pdftotext: string, path: string): Promise<number | null> {
  const info = await run([join(dirname(pdftotext), "pdfinfo"), path]).catch(() => null);
  const pages = info && /^Pages:\s+(\d+)$/m.exec(info)?.[1];
  return pages ? Number(pages) : null;
}

/** One range's text, a string per page (pdftotext ends each page with a form feed). */
async function rangeText(pdftotext: string, path: string, first: number, last: number | null): Promise<string[] | null> {
  const range = last === null ? [] : ["-f", String(first), "-l", String(last)];
  const out = await run([pdftotext, "-q", "-enc", "UTF-8", ...range, path, "-"]).catch(() => null);
  if (out === null) return null;
  const pages = out.split("\f");
  pages.pop(); // after the last form feed
  return pages;
}

/** Every page's text, or null when poppler cannot read the file. */
export async function popplerPages(pdftotext: string, path: string): Promise<string[] | null> {
  const count = await pageCount(pdftotext, path);
  if (count === null) return rangeText(pdftotext, path, 1, null);
  const processes = Math.max(1, Math.min(availableParallelism(), MAX_PROCESSES, Math.floor(count / MIN_PAGES_PER_PROCESS)));
  const per = Math.ceil(count / processes);
  const ranges = Array.from({ length: processes }, (_, i) => [i * per + 1, Math.min(count, (i + 1) * per)] as const).filter(([a, b]) => a <= b);
  const parts = await Promise.all(ranges.map(([a, b]) => rangeText(pdftotext, path, a, b)));
  if (parts.some((p) => p === null)) return null;
  const pages = parts.flat() as string[];
  return pages.length === count ? pages : null;
}

const ANNOTS = Buffer.from("/Annots");
const OBJECT_STREAM = Buffer.from("/ObjStm");
const STREAM = Buffer.from("stream");
const END_STREAM = Buffer.from("endstream");

/**
 * Whether any page may carry annotations (form fields, notes), whose text pdftotext
 * leaves out: "/Annots" in the file, or inside a compressed object stream. Only a
 * "no" is certain; anything unreadable counts as "maybe", which only costs time.
 */
export function mayHaveAnnotations(bytes: Uint8Array): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.includes(ANNOTS)) return true;
  for (let at = buf.indexOf(OBJECT_STREAM); at >= 0; at = buf.indexOf(OBJECT_STREAM, at + 1)) {
    const keyword = buf.indexOf(STREAM, at);
    if (keyword < 0) return true;
    let start = keyword + STREAM.length;
    if (buf[start] === 0x0d) start++;
    if (buf[start] === 0x0a) start++;
    const end = buf.indexOf(END_STREAM, start);
    if (end < 0) return true;
    try {
      if (inflateSync(buf.subarray(start, end), { finishFlush: 2 /* Z_SYNC_FLUSH: tolerate the EOL before endstream */ }).includes(ANNOTS)) return true;
    } catch {
      return true;
    }
  }
  return false;
}
