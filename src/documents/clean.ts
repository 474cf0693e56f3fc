/**
 * Text cleaning after extraction: words hyphenated across line ends are joined,
 * headers and footers repeated on most pages are dropped, whitespace is normalised.
 */
import type { Block } from "./blocks.ts";

export function normaliseWhitespace(text: string): string {
  return text
    .replace(/[\t\f\v\u00a0]+/g, " ")
    .replace(/[ ]{2,}/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** "infor-\nmation" → "information"; keeps real hyphens ("well-\nKnown" stays split only at a capital). */
export function joinHyphenation(text: string): string {
  return text.replace(/(\p{L})-\n(\p{Ll})/gu, "$1$2");
}

const lineKey = (line: string) => line.trim().toLowerCase().replace(/\d+/g, "#");

/**
 * Lines that open or close at least half of the pages (3 pages or more), once digits
 * are ignored (page numbers), are running headers or footers.
 */
export function removeRunningHeaders(pages: string[]): string[] {
  if (pages.length < 3) return pages;
  const edges = pages.map((p) => {
    const lines = p.split("\n").filter((l) => l.trim());
    return new Set([lines[0], lines[1], lines.at(-1), lines.at(-2)].filter((l): l is string => !!l).map(lineKey));
  });
  const counts = new Map<string, number>();
  for (const set of edges) for (const key of set) counts.set(key, (counts.get(key) ?? 0) + 1);
  const repeated = new Set([...counts].filter(([k, n]) => n >= Math.max(3, pages.length / 2) && k.length > 0).map(([k]) => k));
  if (repeated.size === 0) return pages;
  return pages.map((p) => {
    const lines = p.split("\n");
    const nonEmpty = lines.map((l, i) => [l, i] as const).filter(([l]) => l.trim());
    const edgeIdx = new Set([nonEmpty[0], nonEmpty[1], nonEmpty.at(-1), nonEmpty.at(-2)].filter(Boolean).map((x) => x![1]));
    return lines.filter((l, i) => !(edgeIdx.has(i) && repeated.has(lineKey(l)))).join("\n");
  });
}

export function cleanBlocks(blocks: Block[]): Block[] {
  return blocks
    .map((b) => ({ ...b, text: normaliseWhitespace(joinHyphenation(b.text)) }))
    .filter((b) => b.text.length > 0);
}
