/**
 * Quality gates for generated examples, each with the reason it records:
 * required fields and length bounds (shared with imports), refusal and meta text,
 * grounding in the source chunk (lexical support of the answer's content words),
 * and exact / near-duplicate detection (MinHash over word sets, Jaccard ≥ 0.85).
 */
import type { ExampleFields } from "../datasets/shapes.ts";

const REFUSAL = [
  /\bas an ai\b/i,
  /\b(i'?m|i am) (sorry|unable|not able)\b/i,
  /\bi cannot (help|assist|provide|answer)\b/i,
  /\bbased on the (provided |given )?(text|passage|document|context)\b/i,
  /\b(the|this) (passage|text|document) (does not|doesn't) (mention|say|provide|contain)\b/i,
  /\baccording to the (provided |given )?(text|passage|document)\b/i,
  /\bin the (provided |given )?(passage|text)\b/i,
  /\blanguage model\b/i,
];

export function refusalReason(f: ExampleFields): string | null {
  for (const re of REFUSAL) {
    if (re.test(f.output) || re.test(f.instruction)) return "refusal or meta text (“as an AI”, “based on the text”)";
  }
  return null;
}

const STOP = new Set(
  "the a an and or but of to in on at for with by from as is are was were be been being it its this that these those there their they them he she his her we our you your i me my not no yes do does did have has had will would can could should may might must shall than then so such which who whom whose what when where why how all any each also into about over after before under between more most other some only own same very just".split(" "),
);

const stem = (w: string) => w.replace(/(ing|ed|es|s)$/u, "");
export const contentWords = (text: string) =>
  (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 2 && !STOP.has(w)).map(stem);

/** Share of the answer's content words found in the chunk (1 = fully supported). CJK counted by character. */
export function groundingScore(answer: string, chunk: string): number {
  const cjk = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/gu;
  const answerChars = answer.match(cjk) ?? [];
  const words = contentWords(answer.replace(cjk, " "));
  const total = words.length + answerChars.length;
  if (total === 0) return 1;
  const chunkWords = new Set(contentWords(chunk.replace(cjk, " ")));
  const chunkChars = new Set(chunk.match(cjk) ?? []);
  const supported = words.filter((w) => chunkWords.has(w)).length + answerChars.filter((c) => chunkChars.has(c)).length;
  return supported / total;
}

// ---- near duplicates -------------------------------------------------------

const HASHES = 64;
const BANDS = 16;
const ROWS = HASHES / BANDS;
const SEEDS = Array.from({ length: HASHES }, (_, i) => (Math.imul(i + 1, 0x9e3779b1) ^ 0x85ebca6b) >>> 0);

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The example's word set (instruction and output, lower-cased, punctuation dropped).
 * Words rather than word n-grams, so a reordered sentence is still a near duplicate.
 * The input is left out: Q&A examples from one chunk all carry that chunk as input.
 */
export function shingles(f: ExampleFields): Set<string> {
  return new Set(`${f.instruction} ${f.output}`.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter || 1);
}

function signature(set: Set<string>): Uint32Array {
  const sig = new Uint32Array(HASHES).fill(0xffffffff);
  for (const s of set) {
    const base = fnv(s);
    for (let i = 0; i < HASHES; i++) {
      const h = (Math.imul(base ^ SEEDS[i]!, 0xcc9e2d51) ^ (base >>> 15)) >>> 0;
      if (h < sig[i]!) sig[i] = h;
    }
  }
  return sig;
}

/** An LSH index: candidates share a band of their MinHash signature, then exact Jaccard decides. */
export class NearDuplicateIndex {
  private buckets = new Map<string, number[]>();
  private sets: Set<string>[] = [];
  constructor(private threshold = 0.85) {}

  /** Returns the index of a near duplicate already present, or -1 after adding this one. */
  check(f: ExampleFields): number {
    const set = shingles(f);
    const sig = signature(set);
    const keys: string[] = [];
    for (let b = 0; b < BANDS; b++) keys.push(`${b}:${Array.from(sig.subarray(b * ROWS, (b + 1) * ROWS)).join(",")}`);
    const seen = new Set<number>();
    for (const k of keys) {
      for (const idx of this.buckets.get(k) ?? []) {
        if (seen.has(idx)) continue;
        seen.add(idx);
        if (jaccard(set, this.sets[idx]!) >= this.threshold) return idx;
      }
    }
    const idx = this.sets.push(set) - 1;
    for (const k of keys) {
      const list = this.buckets.get(k);
      if (list) list.push(idx);
      else this.buckets.set(k, [idx]);
    }
    return -1;
  }
}
