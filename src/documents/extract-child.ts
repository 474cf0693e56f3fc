/**
 * PDF and DOCX extraction in a child process (the same executable, `__extract-document`):
 * parsing a large or hostile document is CPU-bound and may inflate to gigabytes, so it
 * must never run on the server's event loop. The child gets a time limit and a heap
 * sized for what extraction can handle; its memory is the OS's again when it exits.
 */
import { readFileSync } from "node:fs";
import { AppError, type ErrorStatus } from "../lib/errors.ts";
import { readLines } from "../lib/lines.ts";
import type { Block, Extracted } from "./blocks.ts";
import type { SniffedType } from "./sniff.ts";

export const EXTRACT_COMMAND = "__extract-document";
const TIME_LIMIT_MS = 120_000;
/** Past this resident size the child is stopped: documents within the upload and unzip limits stay well under it. */
const MEMORY_LIMIT_BYTES = 1536 * 1024 * 1024;

/** Resident memory of a process (Linux /proc); 0 where it cannot be read. */
function residentBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * The child's stdout, one JSON object a line: `meta` first, then one `block` a line,
 * then `done`; or a single `error`. Lines let the parent take the text in sections
 * instead of parsing one document-sized JSON string on its event loop.
 */
type ChildLine =
  | { meta: { pageCount: number | null; encoding?: string; warnings: string[] } }
  | { block: Block }
  | { done: true }
  | { error: { status: ErrorStatus; code: string; message: string } };

/** Runs in the child: extract, print the lines, exit. */
export async function extractionChildMain(type: SniffedType, path: string, filename: string): Promise<void> {
  const { extractDocument } = await import("./extract.ts");
  const { findPdftotext } = await import("./pdf-poppler.ts");
  const writer = Bun.stdout.writer();
  const line = (l: ChildLine) => writer.write(`${JSON.stringify(l)}\n`);
  try {
    const { blocks, ...meta } = await extractDocument(type, await Bun.file(path).bytes(), filename, { path, pdftotext: findPdftotext() });
    line({ meta });
    for (const block of blocks) line({ block });
    line({ done: true });
  } catch (err) {
    line({ error: err instanceof AppError ? { status: err.status, code: err.code, message: err.message } : { status: 422, code: "extraction_failed", message: `${filename} could not be read.` } });
  }
  await writer.end();
}

/** How to start this program again: the compiled binary itself, or Bun on src/main.ts. */
function selfCommand(): string[] {
  const compiled = import.meta.dir.startsWith("/$bunfs") || import.meta.dir.startsWith("B:\\~BUN");
  return compiled ? [process.execPath] : [process.execPath, "--smol", `${import.meta.dir}/../main.ts`];
}

export type ExtractLimits = { timeMs: number; memoryBytes: number };
export const EXTRACT_LIMITS: ExtractLimits = { timeMs: TIME_LIMIT_MS, memoryBytes: MEMORY_LIMIT_BYTES };

/** One piece of the document: its blocks, and (first piece only) what the whole has. */
export type ExtractedSection = { blocks: Block[]; meta?: Omit<Extracted, "blocks"> };

/**
 * Extracts in a child and yields the blocks in sections of about `sectionChars`
 * characters, so the parent never holds or parses the whole text at once.
 */
export async function* extractSectionsInChild(type: SniffedType, path: string, filename: string, limits: ExtractLimits = EXTRACT_LIMITS, sectionChars = 250_000): AsyncGenerator<ExtractedSection> {
  const proc = Bun.spawn([...selfCommand(), EXTRACT_COMMAND, type, path, filename], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  let stopped: "time" | "memory" | null = null;
  const stop = (why: "time" | "memory") => {
    stopped ??= why;
    proc.kill("SIGKILL");
  };
  const timer = setTimeout(() => stop("time"), limits.timeMs);
  // No rlimit fits a JS runtime (it reserves far more address space than it uses), so
  // the resident size is watched instead and the child stopped past the limit.
  const watch = setInterval(() => residentBytes(proc.pid) > limits.memoryBytes && stop("memory"), 100);
  const fail = (code: number | null) => {
    if (stopped === "time") return new AppError(422, "extraction_timeout", `${filename} took longer than ${Math.round(limits.timeMs / 1000)} s to read and was stopped: split it into smaller files.`);
    if (stopped === "memory") return new AppError(422, "extraction_too_large", `${filename} needed more than ${Math.round(limits.memoryBytes / 1024 / 1024)} MB of memory to read and was stopped: split it into smaller files.`);
    // Killed by the OS or crashed: the document is the likely cause.
    return new AppError(422, "extraction_failed", `${filename} could not be read: reading it crashed (exit code ${code}). Split it into smaller files.`);
  };
  try {
    let meta: ExtractedSection["meta"];
    let section: Block[] = [];
    let chars = 0;
    let done = false;
    for await (const text of readLines(proc.stdout)) {
      const l = JSON.parse(text) as ChildLine;
      if ("error" in l) throw new AppError(l.error.status, l.error.code, l.error.message);
      if ("meta" in l) meta = l.meta;
      else if ("done" in l) done = true;
      else {
        section.push(l.block);
        chars += l.block.text.length;
        if (chars >= sectionChars) {
          yield { blocks: section, meta };
          meta = undefined;
          section = [];
          chars = 0;
        }
      }
    }
    const code = await proc.exited;
    if (!done) throw fail(code);
    yield { blocks: section, meta };
  } finally {
    clearTimeout(timer);
    clearInterval(watch);
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
}

/** Every block of the document at once (small documents, tests). */
export async function extractInChild(type: SniffedType, path: string, filename: string, limits: ExtractLimits = EXTRACT_LIMITS): Promise<Extracted> {
  const blocks: Block[] = [];
  let meta: ExtractedSection["meta"] = { pageCount: null, warnings: [] };
  for await (const section of extractSectionsInChild(type, path, filename, limits)) {
    blocks.push(...section.blocks);
    if (section.meta) meta = section.meta;
  }
  return { blocks, ...meta };
}
