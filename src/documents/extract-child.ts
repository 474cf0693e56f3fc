/**
 * PDF and DOCX extraction in a child process (the same executable, `__extract-document`):
 * parsing a large or hostile document is CPU-bound and may inflate to gigabytes, so it
 * must never run on the server's event loop. The child gets a time limit and a heap
 * sized for what extraction can handle; its memory is the OS's again when it exits.
 */
import { AppError, type ErrorStatus } from "../lib/errors.ts";
import type { Extracted } from "./blocks.ts";
import type { SniffedType } from "./sniff.ts";

export const EXTRACT_COMMAND = "__extract-document";
const TIME_LIMIT_MS = 120_000;

type ChildAnswer = { ok: true; extracted: Extracted } | { ok: false; status: ErrorStatus; code: string; message: string };

/** Runs in the child: extract, print one JSON answer, exit. */
export async function extractionChildMain(type: SniffedType, path: string, filename: string): Promise<void> {
  const { extractDocument } = await import("./extract.ts");
  let answer: ChildAnswer;
  try {
    answer = { ok: true, extracted: await extractDocument(type, await Bun.file(path).bytes(), filename) };
  } catch (err) {
    answer = err instanceof AppError ? { ok: false, status: err.status, code: err.code, message: err.message } : { ok: false, status: 422, code: "extraction_failed", message: `${filename} could not be read.` };
  }
  await Bun.write(Bun.stdout, JSON.stringify(answer));
}

/** How to start this program again: the compiled binary itself, or Bun on src/main.ts. */
function selfCommand(): string[] {
  const compiled = import.meta.dir.startsWith("/$bunfs") || import.meta.dir.startsWith("B:\\~BUN");
  return compiled ? [process.execPath] : [process.execPath, "--smol", `${import.meta.dir}/../main.ts`];
}

export async function extractInChild(type: SniffedType, path: string, filename: string): Promise<Extracted> {
  const proc = Bun.spawn([...selfCommand(), EXTRACT_COMMAND, type, path, filename], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, TIME_LIMIT_MS);
  const [out, , code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (timedOut) throw new AppError(422, "extraction_timeout", `${filename} took longer than ${TIME_LIMIT_MS / 1000} s to read and was stopped: split it into smaller files.`);
  let answer: ChildAnswer;
  try {
    answer = JSON.parse(out) as ChildAnswer;
  } catch {
    // Killed by the OS (out of memory) or crashed: the document is the likely cause.
    throw new AppError(422, "extraction_failed", `${filename} could not be read: reading it used too much memory or crashed (exit code ${code}). Split it into smaller files.`);
  }
  if (!answer.ok) throw new AppError(answer.status, answer.code, answer.message);
  return answer.extracted;
}
