/**
 * report.md has one assembler: the export (Python's `export` writes it with the sections
 * found beside the run). Other capabilities never edit it: they write their section file
 * beside the run (evaluation/scorecard.md, ollama/parity.md) and ask the export service
 * to put it into the report already exported, if any (`refreshReport`).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The sections written beside a run, by heading, in report.md order. */
export const REPORT_SECTIONS = [
  { heading: "## Judged scorecard", file: join("evaluation", "scorecard.md") },
  { heading: "## Running in Ollama", file: join("ollama", "parity.md") },
] as const;

/** report.md with the section under `heading` replaced by `section`, or added at the end. */
export function withSection(report: string, heading: string, section: string): string {
  const start = report.indexOf(heading);
  if (start < 0) return `${report.trimEnd()}\n\n${section.trimEnd()}\n`;
  const next = report.indexOf("\n## ", start + heading.length);
  return `${report.slice(0, start)}${section.trimEnd()}\n${next < 0 ? "" : report.slice(next)}`;
}

/** The report with every section file present in the run folder put in. */
export function withRunSections(report: string, runDir: string): string {
  let out = report;
  for (const s of REPORT_SECTIONS) {
    const path = join(runDir, s.file);
    if (existsSync(path)) out = withSection(out, s.heading, readFileSync(path, "utf8"));
  }
  return out;
}
