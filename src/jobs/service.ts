/** Reading jobs for the API and the JobProgress component. The queue itself writes them. */
import { desc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { jobs, type JobRow } from "../db/schema.ts";
import { notFound } from "../lib/errors.ts";

export type JobService = ReturnType<typeof createJobService>;

export function createJobService(deps: { db: Db }) {
  const { db } = deps;
  return {
    get(id: string): JobRow {
      const row = db.select().from(jobs).where(eq(jobs.id, id)).get();
      if (!row) throw notFound("Job", "job_not_found");
      return row;
    },

    listForProject(projectId: string, limit = 100): JobRow[] {
      return db.select().from(jobs).where(eq(jobs.projectId, projectId)).orderBy(desc(jobs.createdAt)).limit(limit).all();
    },
  };
}
