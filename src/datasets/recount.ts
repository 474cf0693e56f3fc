/**
 * When the base model changes, every example's token count is recomputed with the new
 * tokenizer (a job: large datasets take a while), so stats, "over max length" and
 * the training plan follow the model actually trained.
 */
import { z } from "zod";
import type { Db } from "../db/client.ts";
import type { JobQueue } from "../jobs/queue.ts";
import { projectTokenCounter } from "../models/tokenizer.ts";
import type { ProjectService } from "../projects/service.ts";
import { liveRow, type ExampleStore } from "./example-store.ts";

export const RECOUNT_JOB = "dataset_recount";
const BATCH = 2000;

export function registerRecountJob(deps: { db: Db; queue: JobQueue; projects: ProjectService; examples: ExampleStore }) {
  deps.queue.register(RECOUNT_JOB, {
    payload: z.object({ projectId: z.string() }),
    group: "cpu",
    maxAttempts: 2,
    run: async ({ payload, progress, signal }) => {
      const sqlite = deps.db.$client;
      const count = projectTokenCounter(deps.projects.get(payload.projectId).modelInfo);
      const { n } = sqlite.query(`select count(*) as n from examples where project_id = ? and ${liveRow()}`).get(payload.projectId) as { n: number };
      let after = 0;
      let done = 0;
      for (;;) {
        if (signal.aborted) throw signal.reason;
        const rows = sqlite
          .query(`select rowid as r, instruction, input, output from examples where project_id = ? and ${liveRow()} and rowid > ? order by rowid limit ?`)
          .all(payload.projectId, after, BATCH) as { r: number; instruction: string; input: string; output: string }[];
        if (rows.length === 0) break;
        deps.examples.setCounts(rows.map((row) => ({ r: row.r, ...count(row) })));
        after = rows.at(-1)!.r;
        done += rows.length;
        progress((100 * done) / Math.max(1, n), `${done}/${n} examples recounted`);
        await Bun.sleep(0);
      }
      return { recounted: done };
    },
  });
}
