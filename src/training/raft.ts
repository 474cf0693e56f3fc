/**
 * Retrieval-aware training (RAFT: Zhang et al. 2024, arXiv 2403.10131). A user who will
 * deploy the model behind retrieval wants it to read the passages it is handed, find the
 * one that answers and ignore the rest. So each question is trained with the passages
 * retrieval gives it — its own passage among distractors that BM25 ranks high for the
 * question (the hard ones: same topic, other fact) — laid out as the scorecard's
 * retrieval arm and the playground lay them out: the passages after the question, a
 * blank line between them. In RAFT_ORACLE_SHARE of the questions the own passage is
 * there; in the others only distractors are, so the model also answers from what it
 * learnt when retrieval misses. Study notes stay closed-book: they teach the facts.
 */
import type { DocumentService, ReadyChunk } from "../documents/service.ts";
import { RAFT_PASSAGES } from "./schemas.ts";

export { RAFT_PASSAGES };
/** Share of questions trained with their own passage among the distractors (RAFT's P; 0.8 did well across its datasets). */
export const RAFT_ORACLE_SHARE = 0.8;

export type RaftSource = {
  /** The chunk's text, by id (the passage a question was written from). */
  chunkText: (chunkId: string) => string | undefined;
  /** The project's chunks BM25 ranks highest for a question. */
  retrieve: (query: string, k: number) => ReadyChunk[];
};

type Row = { id: string; kind: string; chunkId: string | null; instruction: string; input: string; output: string };

/** A small deterministic generator seeded by the example's id: the same run config gives the same training file. */
function seeded(id: string) {
  let s = Number(Bun.hash.wyhash(id) & 0xffffffffn) || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** The example as RAFT trains it; rows that are not questions on a passage (notes, imported rows) are kept as they are. */
export function raftRow<R extends Row>(row: R, source: RaftSource): R {
  if (row.kind === "note" || !row.chunkId) return row;
  const own = source.chunkText(row.chunkId);
  if (own === undefined) return row;
  const random = seeded(row.id);
  const withOwn = random() < RAFT_ORACLE_SHARE;
  const distractors = source
    .retrieve(row.instruction, RAFT_PASSAGES + 1)
    .filter((c) => c.id !== row.chunkId && c.text.trim() !== own.trim())
    .slice(0, withOwn ? RAFT_PASSAGES - 1 : RAFT_PASSAGES)
    .map((c) => c.text.trim());
  const passages = withOwn ? [...distractors, own.trim()] : distractors;
  // Fisher–Yates: the own passage is not always last.
  for (let i = passages.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [passages[i], passages[j]] = [passages[j]!, passages[i]!];
  }
  return { ...row, input: passages.join("\n\n") };
}

/** The project's passages as retrieval-aware training reads them: its documents' chunks and their BM25 index. */
export function raftSource(documents: Pick<DocumentService, "readyChunks" | "retrieve">, projectId: string): RaftSource & { longestPassageTokens: number } {
  const chunks = documents.readyChunks(projectId);
  const text = new Map(chunks.map((c) => [c.id, c.text]));
  return {
    chunkText: (id) => text.get(id),
    retrieve: (query, k) => documents.retrieve(projectId, query, k),
    longestPassageTokens: chunks.reduce((most, c) => Math.max(most, c.tokenCount), 0),
  };
}
