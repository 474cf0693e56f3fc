/**
 * `npm run bench -- dedup`: how well each near-duplicate check tells a question asked in
 * other words (a duplicate) from another question on the same subject (not one), on 40
 * labelled pairs written for this (bench/data/dedup-pairs.jsonl: 20 paraphrases, 20
 * same-topic different facts). Word overlap (MinHash's Jaccard at its 0.85 threshold) and
 * embeddings at cosine 0.9 from the real Ollama: all-MiniLM-L6-v2 (a real embedding
 * model, from the real parts) and, for contrast, SmolLM2-135M (a chat model), each with
 * the best threshold it could have had, said as such: the thresholds are not tuned to
 * these pairs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createBackends } from "../src/generation/backends.ts";
import { jaccard, shingles } from "../src/generation/quality.ts";
import { embeddingText, SEMANTIC_DUPLICATE_COSINE } from "../src/generation/semantic-dedup.ts";
import { realParts, startRealOllama } from "../tests/helpers/real-parts.ts";
import { round, type BenchRow } from "./lib.ts";

type Side = { q: string; a: string };
type Pair = { a: Side; b: Side; duplicate: boolean };
const PAIRS = readFileSync(join(import.meta.dir, "data/dedup-pairs.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Pair);
/** NearDuplicateIndex's default (quality.ts). */
const MINHASH_JACCARD = 0.85;

const fields = (s: Side) => ({ instruction: s.q, input: "", output: s.a });

function scores(similarity: number[], threshold: number) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  similarity.forEach((s, i) => {
    const said = s >= threshold;
    if (said && PAIRS[i]!.duplicate) tp++;
    else if (said) fp++;
    else if (PAIRS[i]!.duplicate) fn++;
  });
  return { precision: tp + fp ? tp / (tp + fp) : 1, recall: tp + fn ? tp / (tp + fn) : 0 };
}

/** The threshold with the best F1 on these pairs: what the check could do at best, not a setting. */
function best(similarity: number[]) {
  let top = { threshold: 0, f1: -1, precision: 0, recall: 0 };
  for (const threshold of [...new Set(similarity)].sort((a, b) => a - b)) {
    const s = scores(similarity, threshold);
    const f1 = s.precision + s.recall ? (2 * s.precision * s.recall) / (s.precision + s.recall) : 0;
    if (f1 > top.f1) top = { threshold, f1, ...s };
  }
  return top;
}

function rows(name: string, similarity: number[], threshold: number): BenchRow[] {
  const at = scores(similarity, threshold);
  const b = best(similarity);
  return [
    { bench: "dedup", metric: `${name}: precision at ${threshold}`, value: round(at.precision, 2), unit: "share" },
    { bench: "dedup", metric: `${name}: recall at ${threshold}`, value: round(at.recall, 2), unit: "share" },
    { bench: "dedup", metric: `${name}: best F1 on these pairs (threshold ${round(b.threshold, 3)})`, value: round(b.f1, 2), unit: "F1" },
  ];
}

export async function dedupBench(): Promise<BenchRow[]> {
  const minhash = PAIRS.map((p) => jaccard(shingles(fields(p.a)), shingles(fields(p.b))));
  const out = rows("word overlap (MinHash Jaccard)", minhash, MINHASH_JACCARD);
  realParts();
  const ollama = await startRealOllama();
  try {
    const [backend] = createBackends({ ollamaHosts: [ollama.url], timeoutMs: 120_000, concurrency: 1 });
    const texts = PAIRS.flatMap((p) => [embeddingText(fields(p.a)), embeddingText(fields(p.b))]);
    const cos = (u: number[], v: number[]) => u.reduce((s, x, i) => s + x * v[i]!, 0) / (Math.hypot(...u) * Math.hypot(...v) || 1);
    for (const [model, name] of [
      ["all-minilm:latest", "embeddings (all-MiniLM-L6-v2, real Ollama)"],
      ["smollm2:latest", "embeddings (SmolLM2-135M, a chat model, real Ollama)"],
    ] as const) {
      const started = performance.now();
      const vectors = await backend!.embed(model, texts);
      const cosine = PAIRS.map((_, i) => cos(vectors[2 * i]!, vectors[2 * i + 1]!));
      out.push(...rows(name, cosine, SEMANTIC_DUPLICATE_COSINE));
      out.push({ bench: "dedup", metric: `${name}: texts embedded per second`, value: round(texts.length / ((performance.now() - started) / 1000), 1), unit: "texts/s" });
    }
  } finally {
    ollama.stop();
  }
  return out;
}
