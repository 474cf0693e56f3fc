/**
 * Blocks → chunks of about `targetTokens`, split on structure first (a heading starts
 * a new chunk, paragraphs are kept whole when they fit), then on sentences, then on
 * words — never inside a word. Consecutive chunks overlap by about `overlapTokens`.
 * Each chunk keeps its provenance: pages, heading path, character offsets in the
 * document text (blocks joined by blank lines).
 */
import type { Block } from "./blocks.ts";

export type Chunk = {
  text: string;
  pageStart: number | null;
  pageEnd: number | null;
  headingPath: string | null;
  charStart: number;
  charEnd: number;
  tokenCount: number;
};

export type ChunkOptions = { targetTokens: number; overlapTokens: number };
export const DEFAULT_CHUNKING: ChunkOptions = { targetTokens: 512, overlapTokens: 64 };

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]/g;

/** Until the model's tokenizer is at hand: ~1.3 tokens per word, one per CJK character. */
export function approxTokens(text: string): number {
  const cjk = text.match(CJK)?.length ?? 0;
  const words = text.replace(CJK, " ").match(/\S+/g)?.length ?? 0;
  return Math.ceil(words * 1.3) + cjk;
}

/** A piece of text with its place in the document: the unit chunks are packed from. */
type Piece = { text: string; start: number; page: number | null; headingPath: string | null; sectionStart: boolean; heading: boolean };

function splitLong(piece: Piece, max: number): Piece[] {
  if (approxTokens(piece.text) <= max) return [piece];
  // Sentences first, then words (a CJK sentence without spaces splits by characters).
  const parts = piece.text.match(/[^.!?。！？\n]+[.!?。！？]*\s*|\n+/g) ?? [piece.text];
  const out: Piece[] = [];
  let offset = piece.start;
  for (const part of parts) {
    if (approxTokens(part) <= max) out.push({ ...piece, text: part, start: offset, sectionStart: out.length === 0 && piece.sectionStart });
    else {
      const words = part.match(/\S+\s*/g) ?? [part];
      let local = offset;
      for (const w of words) {
        const pieces = approxTokens(w) > max ? (w.match(new RegExp(`[\\s\\S]{1,${max}}`, "g")) ?? [w]) : [w];
        for (const p of pieces) {
          out.push({ ...piece, text: p, start: local, sectionStart: out.length === 0 && piece.sectionStart });
          local += p.length;
        }
      }
    }
    offset += part.length;
  }
  return out;
}

/** Where a document left off, so a long one can be chunked section by section. */
export type ChunkCursor = { headings: string[]; offset: number };

export function chunkBlocks(blocks: Block[], opts: ChunkOptions = DEFAULT_CHUNKING, cursor: ChunkCursor = { headings: [], offset: 0 }): Chunk[] {
  const pieces: Piece[] = [];
  const headings = cursor.headings;
  let offset = cursor.offset;
  let sectionStart = true;
  for (const b of blocks) {
    if (b.kind === "heading") {
      headings.length = Math.max(0, (b.level ?? 1) - 1);
      headings.push(b.text);
      sectionStart = true;
    }
    const piece: Piece = { text: b.text, start: offset, page: b.page, headingPath: headings.length ? headings.join(" › ") : null, sectionStart, heading: b.kind === "heading" };
    pieces.push(...splitLong(piece, opts.targetTokens));
    // Only the heading itself opens a section; the text under it joins that chunk.
    sectionStart = false;
    offset += b.text.length + 2;
  }
  cursor.offset = offset;

  const chunks: Chunk[] = [];
  let current: Piece[] = [];
  let tokens = 0;
  const flush = () => {
    if (current.length === 0) return;
    const first = current[0]!;
    const last = current[current.length - 1]!;
    const text = current.map((p) => p.text.trim()).filter(Boolean).join("\n\n");
    const pages = current.map((p) => p.page).filter((p): p is number => p !== null);
    chunks.push({
      text,
      pageStart: pages.length ? Math.min(...pages) : null,
      pageEnd: pages.length ? Math.max(...pages) : null,
      headingPath: last.headingPath ?? first.headingPath,
      charStart: first.start,
      charEnd: last.start + last.text.length,
      tokenCount: approxTokens(text),
    });
  };
  for (const piece of pieces) {
    const size = approxTokens(piece.text);
    const sectionBreak = piece.sectionStart && tokens >= opts.targetTokens / 4;
    // A heading is never left alone at the end of a chunk: it goes with the text under it.
    const onlyHeadings = current.every((p) => p.heading);
    if (current.length > 0 && !onlyHeadings && (tokens + size > opts.targetTokens || sectionBreak)) {
      flush();
      // Overlap: carry the previous chunk's last pieces (whole words) into the next.
      const carried: Piece[] = [];
      let carriedTokens = 0;
      if (!sectionBreak) {
        for (let i = current.length - 1; i >= 0; i--) {
          const t = approxTokens(current[i]!.text);
          if (carriedTokens + t > opts.overlapTokens) {
            const words = current[i]!.text.match(/\S+\s*/g) ?? [];
            const tail: string[] = [];
            for (let w = words.length - 1; w >= 0 && carriedTokens + approxTokens(tail.join("") + words[w]) <= opts.overlapTokens; w--) tail.unshift(words[w]!);
            if (tail.length) {
              const text = tail.join("");
              carried.unshift({ ...current[i]!, text, start: current[i]!.start + current[i]!.text.length - text.length, sectionStart: false });
              carriedTokens += approxTokens(text);
            }
            break;
          }
          carried.unshift({ ...current[i]!, sectionStart: false });
          carriedTokens += t;
        }
      }
      current = carried;
      tokens = carriedTokens;
    }
    current.push(piece);
    tokens += size;
  }
  flush();
  return chunks;
}
