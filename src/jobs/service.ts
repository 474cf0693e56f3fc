/** Reading jobs for the API and the JobProgress component. The queue writes them. */
import type { Db } from "../db/client.ts";
import type { JobRow } from "./table.ts";
import { notFound } from "../lib/errors.ts";
import { createJobStore } from "./store.ts";

export type JobService = ReturnType<typeof createJobService>;

export function createJobService(deps: { db: Db }) {
  const store = createJobStore(deps.db);
  return {
    get(id: string): JobRow {
      const row = store.get(id);
      if (!row) throw notFound("Job", "job_not_found");
      return row;
    },
    listForProject: store.listForProject,
    latest: store.latest,
  };
}
