/**
 * The second half of a Review delete: rows listed in `examples_deleted` (already out
 * of every count and read) are removed in the background, a few hundred per transaction, so the
 * FTS and index work of a large delete never holds a request. A purge left unfinished
 * by a crash is asked for again at start.
 */
import { z } from "zod";
import type { Db } from "../db/client.ts";
import type { JobQueue } from "../jobs/queue.ts";

export const PURGE_JOB = "examples_purge";
/** Rows per transaction: ~40 ms of FTS and index work, so requests between batches stay quick. */
const BATCH = 250;

export function registerPurgeJob(deps: { db: Db; queue: JobQueue }) {
  const sqlite = deps.db.$client;
  deps.queue.register(PURGE_JOB, {
    payload: z.object({}),
    group: "cpu",
    maxAttempts: 3,
    run: async ({ signal }) => {
      let purged = 0;
      for (;;) {
        // Yield first: the delete request that asked for this purge answers before any work.
        await Bun.sleep(0);
        if (signal.aborted) throw signal.reason;
        // The delete trigger drops each row's tombstone and leaves the counts alone.
        const n = sqlite.run("delete from examples where rowid in (select example_rowid from examples_deleted limit ?)", [BATCH]).changes;
        purged += n;
        if (n < BATCH) {
          // Tombstones whose row went another way (a file's removal takes its rows too).
          sqlite.run("delete from examples_deleted where example_rowid not in (select rowid from examples)");
          return { purged };
        }
      }
    },
  });
  const waiting = () => sqlite.query("select 1 from jobs where type = ? and status in ('queued', 'retrying') limit 1").get(PURGE_JOB) !== null;
  const request = () => {
    if (!waiting()) deps.queue.enqueue(PURGE_JOB, null, {});
  };
  if (sqlite.query("select 1 from examples_deleted limit 1").get()) request();
  return { request };
}
