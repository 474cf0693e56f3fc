/**
 * The generation job's duplicate checks, in order: the same text (content hash), word
 * overlap (MinHash, quality.ts), and, with an embedding model, the same meaning
 * (semantic-dedup.ts). Seeded with the project's valid examples when the job starts; the
 * counts are kept by kind, and `how` says which checks ran (and why not embeddings).
 */
import type { ExampleFields } from "../datasets/shapes.ts";
import type { Logger } from "../lib/logger.ts";
import type { Backend } from "./backends.ts";
import { NearDuplicateIndex } from "./quality.ts";
import { embeddingText, SemanticIndex } from "./semantic-dedup.ts";

export type DuplicateKind = "exact" | "near" | "semantic";
type Known = { instruction: string; input: string; output: string; hash: string | null };

export class DuplicateChecks {
  readonly byKind: Record<DuplicateKind, number>;
  /** How near-duplicates are found: "embeddings (<model>)", or why word overlap alone. */
  how: string;
  private readonly hashes = new Set<string>();
  private readonly nearDuplicates = new NearDuplicateIndex();
  private readonly semantic = new SemanticIndex();

  constructor(
    private readonly backend: Backend,
    private embeddingModel: string | null,
    private readonly known: Known[],
    saved: Record<DuplicateKind, number>,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {
    this.byKind = { ...saved };
    this.how = embeddingModel ? `embeddings (${embeddingModel})` : "word overlap only: no embedding model is installed (e.g. `ollama pull nomic-embed-text`)";
    for (const e of known) {
      this.nearDuplicates.check(e);
      if (e.hash) this.hashes.add(e.hash);
    }
  }

  get total() {
    return this.byKind.exact + this.byKind.near + this.byKind.semantic;
  }

  /** The known examples, embedded once before the workers start (in batches). */
  async prepare() {
    for (let i = 0; i < this.known.length && this.embeddingModel; i += 64) {
      for (const v of (await this.embed(this.known.slice(i, i + 64))) ?? []) this.semantic.add(v);
    }
  }

  /** The examples' vectors for the check by meaning; null (and word overlap from then on) when the model fails. */
  async embed(items: { instruction: string; output: string }[]): Promise<number[][] | null> {
    if (!this.embeddingModel || items.length === 0) return null;
    try {
      return await this.backend.embed(this.embeddingModel, items.map(embeddingText), this.signal);
    } catch (err) {
      if (this.signal.aborted) throw this.signal.reason;
      this.how = `word overlap only: the embedding model ${this.embeddingModel} failed (${(err as Error).message})`;
      this.logger.warn("embeddings failed: near-duplicates by word overlap only", { error: (err as Error).message });
      this.embeddingModel = null;
      return null;
    }
  }

  /** Which kind of duplicate this example is (counted), or null after remembering it. */
  check(f: ExampleFields, hash: string, vector: number[] | undefined): DuplicateKind | null {
    const kind: DuplicateKind | null = this.hashes.has(hash) ? "exact" : this.nearDuplicates.check(f) >= 0 ? "near" : vector && this.semantic.isDuplicate(vector) ? "semantic" : null;
    if (kind) this.byKind[kind]++;
    else this.hashes.add(hash);
    return kind;
  }
}
