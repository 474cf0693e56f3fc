/**
 * What each chunk is asked next, and when it is done (Q&A, decision 0012): its requests
 * rotate through the kinds of question (and study notes for that recipe), list what was
 * already kept for it, show the next passage for a `linked` one, and stop once its
 * answers bring nothing new STALE_AFTER times in a row.
 */
import type { ReadyChunk } from "../documents/service.ts";
import type { TaskType } from "../projects/schemas.ts";
import { renderPrompt } from "./prompts.ts";
import { requestKind } from "./question-kinds.ts";

/** A chunk whose requests came back with nothing new this many times in a row is done: its questions stopped being new. */
const STALE_AFTER = 2;

export type ChunkRequest = { prompt: string; source: string; note: boolean };

const where = (c: ReadyChunk) => `${c.filename}${c.pageStart ? `, page ${c.pageStart}` : ""}`;

export class ChunkRequests {
  private readonly kept = new Map<string, string[]>();
  private readonly keptNotes = new Map<string, string[]>();
  private readonly asked = new Map<string, number>();
  private readonly staleRuns = new Map<string, number>();
  readonly exhausted = new Set<string>();
  /** The next passage of the same document (the `linked` kind's second passage). */
  private readonly neighbourOf = new Map<string, ReadyChunk>();

  constructor(
    private readonly task: TaskType,
    /** The study_notes recipe: every third request of a chunk writes study notes. */
    private readonly notes: boolean,
    all: ReadyChunk[],
  ) {
    all.forEach((c, i) => all[i + 1]?.fileId === c.fileId && this.neighbourOf.set(c.id, all[i + 1]!));
  }

  /** The chunk's next request for `count` examples, and the text its answers must rest on (the chunk, and its neighbour for a `linked` one). */
  next(chunk: ReadyChunk, count: number): ChunkRequest {
    const neighbour = this.neighbourOf.get(chunk.id) ?? null;
    const n = this.asked.get(chunk.id) ?? 0;
    this.asked.set(chunk.id, n + 1);
    const spec = this.task === "qa" ? requestKind(n, neighbour !== null, this.notes) : null;
    const note = spec?.notes === true;
    const linked = spec?.kind.id === "linked" && neighbour !== null;
    const prompt = renderPrompt(note ? "notes" : this.task, {
      count,
      source: where(chunk),
      chunk: chunk.text,
      kind: spec?.kind,
      kept: (note ? this.keptNotes : this.kept).get(chunk.id),
      neighbour: linked ? { source: where(neighbour), text: neighbour.text } : null,
    });
    return { prompt, source: linked ? `${chunk.text}\n\n${neighbour.text}` : chunk.text, note };
  }

  /** What one answer brought: the instructions kept (listed in the chunk's next requests), and how many were duplicates. */
  settled(chunkId: string, note: boolean, kept: string[], duplicates: number) {
    if (kept.length === 0 && duplicates > 0) {
      const stale = (this.staleRuns.get(chunkId) ?? 0) + 1;
      this.staleRuns.set(chunkId, stale);
      if (stale >= STALE_AFTER) this.exhausted.add(chunkId);
      return;
    }
    if (kept.length === 0) return;
    this.staleRuns.set(chunkId, 0);
    const list = note ? this.keptNotes : this.kept;
    list.set(chunkId, [...(list.get(chunkId) ?? []), ...kept]);
  }
}
