/**
 * Near-duplicates by meaning: examples embedded by the generation backend's embedding model
 * (Ollama /api/embed, OpenAI-compatible /v1/embeddings), a candidate whose cosine to a kept
 * one reaches the threshold is dropped. Word overlap (MinHash, quality.ts) misses a
 * question asked in other words; embeddings catch it. Without an embedding model the job
 * keeps MinHash alone and says so.
 */

/** Cosine at or above which two examples say the same thing (the bench measures it on labelled pairs: npm run bench -- dedup). */
export const SEMANTIC_DUPLICATE_COSINE = 0.9;

/** Names of embedding models as Ollama's library and the usual servers call them. */
const EMBEDDING_NAME = /embed|minilm|bge|\be5\b|e5-|gte|nomic|arctic|mxbai|granite-embedding/i;

/** Whether a model's name says it embeds text (it cannot chat: Ollama answers "does not support chat"). */
export const isEmbeddingModel = (name: string) => EMBEDDING_NAME.test(name);

/** The installed embedding model to use by default, or null (MinHash only). */
export function pickEmbeddingModel(installed: string[]): string | null {
  return installed.find(isEmbeddingModel) ?? null;
}

/** What is embedded for an example: its question (instruction) and its answer. */
export const embeddingText = (f: { instruction: string; output: string }) => `${f.instruction}\n${f.output}`;

const unit = (v: number[]) => {
  const norm = Math.hypot(...v) || 1;
  return Float32Array.from(v, (x) => x / norm);
};

export class SemanticIndex {
  private readonly vectors: Float32Array[] = [];
  constructor(readonly threshold = SEMANTIC_DUPLICATE_COSINE) {}

  get size() {
    return this.vectors.length;
  }

  /** The highest cosine between `v` and a kept vector (-1 when none is kept). */
  nearest(v: number[]): number {
    const u = unit(v);
    let best = -1;
    for (const k of this.vectors) {
      if (k.length !== u.length) continue;
      let dot = 0;
      for (let i = 0; i < u.length; i++) dot += u[i]! * k[i]!;
      if (dot > best) best = dot;
    }
    return best;
  }

  /** Whether `v` says what a kept example says; otherwise it is kept. */
  isDuplicate(v: number[]): boolean {
    if (this.nearest(v) >= this.threshold) return true;
    this.vectors.push(unit(v));
    return false;
  }

  add(v: number[]) {
    this.vectors.push(unit(v));
  }
}
