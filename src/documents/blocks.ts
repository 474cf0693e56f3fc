/** The common shape every extractor produces: ordered blocks with page and heading level. */
export type Block = {
  kind: "heading" | "text";
  text: string;
  /** 1-based page for PDFs; null for formats without pages. */
  page: number | null;
  /** Heading level 1–6 (only for headings). */
  level?: number;
};

export type Extracted = { blocks: Block[]; pageCount: number | null; encoding?: string; warnings: string[] };

/** Markdown / plain text: `#` headings, paragraphs separated by blank lines. */
export function blocksFromPlainText(text: string): Block[] {
  const blocks: Block[] = [];
  // A line holding only spaces separates paragraphs too.
  for (const para of text.split(/\n[ \t]*\n\s*/)) {
    const lines = para.split("\n");
    let buffer: string[] = [];
    const flush = () => {
      const t = buffer.join("\n").trim();
      if (t) blocks.push({ kind: "text", text: t, page: null });
      buffer = [];
    };
    for (const line of lines) {
      const heading = line.match(/^(#{1,6})\s+(.+?)\s*#*\s*$/);
      if (heading) {
        flush();
        blocks.push({ kind: "heading", text: heading[2]!, level: heading[1]!.length, page: null });
      } else buffer.push(line);
    }
    flush();
  }
  return blocks;
}
