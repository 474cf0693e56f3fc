import { describe, expect, test } from "bun:test";
import { AdaptiveLimit } from "./limiter.ts";

/**
 * A server with `capacity` slots and a FIFO queue, each request taking `serviceMs`,
 * driven by clients that send whenever the limit has room (discrete events, no clock).
 */
function simulate(opts: { capacity: number; serviceMs: number; max?: number; requests: number; demand?: number }) {
  const limit = new AdaptiveLimit(opts.max ?? 64);
  const demand = opts.demand ?? Infinity; // requests the caller has ready at once
  let now = 0;
  let sent = 0;
  let done = 0;
  const queue: number[] = []; // send times waiting for a slot
  const serving: { sentAt: number; endsAt: number }[] = [];
  const limits: number[] = [];
  let busySince = -1;
  let busyMs = 0;
  const admit = () => {
    while (serving.length < opts.capacity && queue.length > 0) serving.push({ sentAt: queue.shift()!, endsAt: now + opts.serviceMs });
    if (busySince < 0 && serving.length === opts.capacity) busySince = now;
  };
  const send = () => {
    // acquire() takes a free slot synchronously; only a full limit makes it wait.
    while (sent < opts.requests && limit.inFlight < limit.limit && limit.inFlight < demand) {
      void limit.acquire();
      queue.push(now);
      sent++;
    }
    admit();
  };
  send();
  while (done < opts.requests) {
    serving.sort((a, b) => a.endsAt - b.endsAt);
    const next = serving.shift()!;
    if (busySince >= 0 && serving.length + 1 === opts.capacity) {
      busyMs += next.endsAt - busySince;
      busySince = -1;
    }
    now = next.endsAt;
    limit.observe({ ms: now - next.sentAt, ok: true });
    limit.release();
    done++;
    limits.push(limit.limit);
    send();
  }
  return { limit, limits, seconds: now / 1000, busyShare: busyMs / now };
}

describe("the adaptive limit finds each server's capacity", () => {
  for (const capacity of [1, 2, 4, 8, 16]) {
    test(`capacity ${capacity}: the server is kept full, with a short queue`, () => {
      const r = simulate({ capacity, serviceMs: 200, requests: 400 * capacity });
      const settled = r.limits.slice(r.limits.length / 2);
      // Never below capacity once settled: the server always has the next request waiting.
      expect(Math.min(...settled)).toBeGreaterThanOrEqual(capacity);
      // Never a long queue: at most about twice capacity plus a few.
      expect(Math.max(...settled)).toBeLessThanOrEqual(2 * capacity + 4);
      // Throughput: requests ÷ time against the server's ideal capacity ÷ service time.
      const ideal = capacity / 0.2;
      expect(400 * capacity / r.seconds / ideal).toBeGreaterThan(0.98);
    });
  }

  test("the configured maximum is a ceiling", () => {
    const r = simulate({ capacity: 16, serviceMs: 200, requests: 2000, max: 6 });
    expect(Math.max(...r.limits)).toBe(6);
  });

  test("a limit that is not used does not grow", () => {
    const r = simulate({ capacity: 16, serviceMs: 200, requests: 500, demand: 2 });
    expect(Math.max(...r.limits)).toBe(4);
  });

  test("a failure halves the limit, never below one", () => {
    const limit = new AdaptiveLimit(32, 16);
    void limit.acquire();
    limit.observe({ ms: 5000, ok: false });
    expect(limit.limit).toBe(8);
    for (let i = 0; i < 10; i++) limit.observe({ ms: 5000, ok: false });
    expect(limit.limit).toBe(1);
    limit.release();
  });

  test("a waiting caller gets the slot that a release frees", async () => {
    const limit = new AdaptiveLimit(1, 1);
    await limit.acquire();
    let second = false;
    const waiting = limit.acquire().then(() => (second = true));
    await Bun.sleep(0);
    expect(second).toBe(false);
    limit.release();
    await waiting;
    expect(limit.inFlight).toBe(1);
  });
});
