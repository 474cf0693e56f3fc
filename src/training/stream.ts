/**
 * A run's events as a stream a client can join at any time: the stored events after the
 * client's last id, then the live ones, each once and in order, with heartbeats.
 * Subscribe first, replay second, then deliver what arrived meanwhile: an event published
 * during the replay is neither lost nor sent twice (ids only go up).
 *
 * After the run's last event the stream stays open (heartbeats only) until the client
 * closes it, or `lingerMs` passes: a server-side close makes EventSource fire a data-less
 * `error` and reconnect, which clients that parse every `error` (the spec's ApiClient) trip on.
 * Knows nothing of HTTP: the route hands it an SSE writer.
 */
import type { RunEvent } from "./hub.ts";
import { FINAL_EVENTS } from "./run-store.ts";

export type RunEventSource = {
  subscribe: (runId: string, fn: (e: RunEvent) => void) => () => void;
  eventsAfter: (runId: string, after: number) => Iterable<RunEvent>;
  /** Whether the run has already ended (its final event may be older than `after`). */
  isFinished: (runId: string) => boolean;
};

export type RunEventSink = {
  write: (e: RunEvent) => Promise<void>;
  heartbeat: () => Promise<void>;
  onAbort: (fn: () => void) => void;
};

export const STREAM_TIMING = { lingerMs: 10 * 60_000, heartbeatMs: 15_000 };

/** Resolves when the client goes away, or `lingerMs` after the run's final event. */
export async function streamRunEvents(runId: string, after: number, source: RunEventSource, sink: RunEventSink, timing = STREAM_TIMING): Promise<void> {
  let last = after;
  let done = false;
  let chain = Promise.resolve();
  const buffered: RunEvent[] = [];
  let live = false;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  let lingerTimer: ReturnType<typeof setTimeout> | null = null;
  const linger = () => (lingerTimer ??= setTimeout(finish, timing.lingerMs));
  const send = (e: RunEvent) => {
    if (e.seq <= last) return;
    last = e.seq;
    chain = chain.then(() => sink.write(e));
    if (FINAL_EVENTS.has(e.event)) chain.then(linger);
  };
  const unsubscribe = source.subscribe(runId, (e) => (live ? send(e) : buffered.push(e)));
  sink.onAbort(() => {
    done = true;
    unsubscribe();
    finish();
  });
  for (const e of source.eventsAfter(runId, after)) send(e);
  for (const e of buffered) send(e);
  live = true;
  if (source.isFinished(runId)) chain.then(linger);
  const heartbeat = setInterval(() => !done && void sink.heartbeat(), timing.heartbeatMs);
  await finished;
  await chain;
  clearInterval(heartbeat);
  if (lingerTimer) clearTimeout(lingerTimer);
  unsubscribe();
}
