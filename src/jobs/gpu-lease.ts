/**
 * Who holds the GPU: the one owner of that fact. A job of the queue's `gpu` group
 * (training, probe, evaluation, publish) takes the lease when the queue starts it and
 * gives it back when it ends; the group's limit of one makes jobs take turns. Anything
 * else that loads a model outside the queue (the playground's worker) holds a *share*:
 * refused while a job holds the lease, and told to let go the moment a job takes it,
 * so a playground worker never keeps video memory that training needs.
 */
export type GpuLease = ReturnType<typeof createGpuLease>;

export function createGpuLease() {
  let job: string | null = null;
  const shares = new Map<symbol, { name: string; letGo: () => void }>();

  return {
    /** The job holding the GPU, or null. */
    heldByJob: (): string | null => job,

    /** The queue, as a GPU job starts: every share is told to let go first. */
    takeForJob(jobId: string) {
      job = jobId;
      for (const s of [...shares.values()]) s.letGo();
      shares.clear();
    },

    /** The queue, as that job ends. */
    releaseJob(jobId: string) {
      if (job === jobId) job = null;
    },

    /**
     * A share for a model loaded outside the queue; null while a job holds the lease.
     * `letGo` is called (once) when a job takes it; the returned function ends the share.
     */
    share(name: string, letGo: () => void): (() => void) | null {
      if (job) return null;
      const key = Symbol(name);
      shares.set(key, { name, letGo });
      return () => void shares.delete(key);
    },

    /** Names of the shares held now (for tests and logs). */
    shares: () => [...shares.values()].map((s) => s.name),
  };
}
