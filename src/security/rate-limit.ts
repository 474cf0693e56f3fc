/**
 * Failed attempts per client, with a growing wait: the first few are free, then each
 * failure doubles the wait (1 s, 2 s, 4 s… up to 5 min). Only failures wait: the right
 * secret goes through at once, even during a back-off, so an attacker guessing from the
 * user's own address never locks the user out. A wrong secret during a back-off is held
 * until the back-off ends and only then refused, so guessing stays slow: at most
 * MAX_HELD wrong attempts per client are held at once, and beyond that every attempt
 * from the client (right or wrong, unchecked) is refused at once — otherwise a flood of
 * parallel guesses would be answered at full speed.
 */
export type FailureLimiter = {
  /** Seconds this client must still wait before a wrong attempt is answered (0 = none). */
  waitSeconds: (key: string) => number;
  fail: (key: string) => void;
  succeed: (key: string) => void;
  /** One attempt whose secret is `correct` or not: passes, or is refused after the client's back-off. */
  attempt: (key: string, correct: () => boolean) => Promise<{ ok: true } | { ok: false; limited: boolean; waitSeconds: number }>;
};

/** Wrong attempts one client may have held at once (a browser and a script or two). */
export const MAX_HELD = 8;

export function createFailureLimiter(opts: { free?: number; maxWaitMs?: number; now?: () => number; sleep?: (ms: number) => Promise<unknown> } = {}): FailureLimiter {
  const free = opts.free ?? 5;
  const maxWaitMs = opts.maxWaitMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => Bun.sleep(ms));
  const failures = new Map<string, { count: number; last: number }>();
  const held = new Map<string, number>();
  const waitMs = (count: number) => (count < free ? 0 : Math.min(maxWaitMs, 1000 * 2 ** (count - free)));
  const limiter: FailureLimiter = {
    async attempt(key, correct) {
      if ((held.get(key) ?? 0) >= MAX_HELD) return { ok: false, limited: true, waitSeconds: Math.max(1, limiter.waitSeconds(key)) };
      if (correct()) {
        limiter.succeed(key);
        return { ok: true };
      }
      const wait = limiter.waitSeconds(key);
      limiter.fail(key);
      if (wait > 0) {
        held.set(key, (held.get(key) ?? 0) + 1);
        try {
          await sleep(wait * 1000);
        } finally {
          const n = (held.get(key) ?? 1) - 1;
          if (n > 0) held.set(key, n);
          else held.delete(key);
        }
      }
      return { ok: false, limited: wait > 0, waitSeconds: limiter.waitSeconds(key) };
    },
    waitSeconds(key) {
      const f = failures.get(key);
      if (!f) return 0;
      const left = f.last + waitMs(f.count) - now();
      // Forget a client that has been quiet for the longest wait.
      if (now() - f.last > maxWaitMs) failures.delete(key);
      return left > 0 ? Math.ceil(left / 1000) : 0;
    },
    fail(key) {
      const f = failures.get(key);
      failures.set(key, { count: (f?.count ?? 0) + 1, last: now() });
      // Bounded memory under a flood of addresses.
      if (failures.size > 10_000) failures.delete(failures.keys().next().value!);
    },
    succeed(key) {
      failures.delete(key);
    },
  };
  return limiter;
}
