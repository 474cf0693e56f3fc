import { describe, expect, test } from "bun:test";
import { createRunHub, type RunEvent } from "./hub.ts";
import { streamRunEvents, type RunEventSink } from "./stream.ts";

const ev = (seq: number, event = "log"): RunEvent => ({ seq, event, data: { seq } });

function sink() {
  const written: number[] = [];
  let abort: () => void = () => {};
  let beats = 0;
  const s: RunEventSink = {
    write: async (e) => void written.push(e.seq),
    heartbeat: async () => void beats++,
    onAbort: (fn) => void (abort = fn),
  };
  return { s, written, abort: () => abort(), beats: () => beats };
}

describe("a run's event stream (replay, then live)", () => {
  test("stored events after the client's id, then live ones, each once and in order, even one published during the replay", async () => {
    const hub = createRunHub();
    const stored = [ev(1), ev(2), ev(3)];
    const out = sink();
    const done = streamRunEvents(
      "r",
      1,
      {
        subscribe: hub.subscribe,
        // While the replay reads the store, the trainer publishes 4 (stored too, so the replay also sees it).
        eventsAfter: (_id, after) => {
          hub.publish("r", ev(4));
          return [...stored, ev(4)].filter((e) => e.seq > after);
        },
        isFinished: () => false,
      },
      out.s,
      { lingerMs: 5, heartbeatMs: 1000 },
    );
    hub.publish("r", ev(5));
    hub.publish("r", ev(6, "complete"));
    await done;
    expect(out.written).toEqual([2, 3, 4, 5, 6]);
  });

  test("a finished run's stream lingers with heartbeats, then ends; a client that leaves ends it at once and unsubscribes", async () => {
    const hub = createRunHub();
    const out = sink();
    await streamRunEvents("r", 0, { subscribe: hub.subscribe, eventsAfter: () => [ev(1), ev(2, "complete")], isFinished: () => true }, out.s, { lingerMs: 60, heartbeatMs: 10 });
    expect(out.written).toEqual([1, 2]);
    expect(out.beats()).toBeGreaterThan(0);

    const left = sink();
    let subscribed = 0;
    const running = streamRunEvents("r", 0, { subscribe: (id, fn) => (subscribed++, hub.subscribe(id, fn)), eventsAfter: () => [], isFinished: () => false }, left.s, { lingerMs: 60_000, heartbeatMs: 60_000 });
    left.abort();
    await running;
    hub.publish("r", ev(7));
    expect({ subscribed, written: left.written }).toEqual({ subscribed: 1, written: [] });
  });
});
