/** In-process pub/sub of a run's events, for the SSE streams (replay comes from SQLite). */
export type RunEvent = { seq: number; event: string; data: Record<string, unknown> };

export function createRunHub() {
  const subscribers = new Map<string, Set<(e: RunEvent) => void>>();
  return {
    publish(runId: string, e: RunEvent) {
      for (const fn of subscribers.get(runId) ?? []) fn(e);
    },
    subscribe(runId: string, fn: (e: RunEvent) => void): () => void {
      let set = subscribers.get(runId);
      if (!set) subscribers.set(runId, (set = new Set()));
      set.add(fn);
      return () => {
        set!.delete(fn);
        if (set!.size === 0) subscribers.delete(runId);
      };
    },
  };
}

export type RunHub = ReturnType<typeof createRunHub>;
