/**
 * Failed attempts per client, with a growing wait: the first few are free, then each
 * failure doubles the wait (1 s, 2 s, 4 s… up to 5 min). Successes never count, and once
 * the wait has passed the right secret goes through, so an attacker guessing from the
 * user's own address slows the user down at worst, never locks them out.
 */
export type FailureLimiter = {
  /** Seconds this client must still wait before its next attempt (0 = go ahead). */
  waitSeconds: (key: string) => number;
  fail: (key: string) => void;
  succeed: (key: string) => void;
};

export function createFailureLimiter(opts: { free?: number; maxWaitMs?: number; now?: () => number } = {}): FailureLimiter {
  const free = opts.free ?? 5;
  const maxWaitMs = opts.maxWaitMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  const failures = new Map<string, { count: number; last: number }>();
  const waitMs = (count: number) => (count < free ? 0 : Math.min(maxWaitMs, 1000 * 2 ** (count - free)));
  return {
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
}
