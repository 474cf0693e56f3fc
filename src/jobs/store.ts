/**
 * The `jobs` table: the only module that reads or writes it. The queue and worker
 * change jobs through here; other capabilities ask the queue or the job service.
 */
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { jobs, type JobRow } from "./table.ts";
import { ACTIVE_JOB_STATUSES } from "./schemas.ts";

export type JobChanges = Partial<typeof jobs.$inferInsert>;
export type JobStore = ReturnType<typeof createJobStore>;

const list = (values: readonly unknown[]) => values.map(() => "?").join(",") || "''";

export function createJobStore(db: Db) {
  const sqlite = db.$client;
  return {
    get: (id: string): JobRow | undefined => db.select().from(jobs).where(eq(jobs.id, id)).get(),

    insert: (row: typeof jobs.$inferInsert): JobRow => db.insert(jobs).values(row).returning().get(),

    update: (id: string, changes: JobChanges): JobRow | undefined => db.update(jobs).set(changes).where(eq(jobs.id, id)).returning().get(),

    /**
     * Takes the oldest claimable job of these types in one UPDATE … RETURNING, so two
     * ticks can never take the same job. Claimable: queued and due, or running with an
     * expired lease (its worker died).
     */
    claim(types: string[], exclude: string[], at: number, leaseMs: number): JobRow | undefined {
      const row = sqlite
        .query(
          `update jobs set status = 'running', attempts = attempts + 1, lease_expires_at = ?, started_at = coalesce(started_at, ?),
             cancel_requested = 0
           where id = (
             select id from jobs
             where type in (${list(types)})
               and ((status in ('queued', 'retrying') and run_after <= ?) or (status = 'running' and lease_expires_at < ?))
               and id not in (${list(exclude)})
             order by created_at, rowid limit 1)
           returning id`,
        )
        .get(at + leaseMs, at, ...types, at, at, ...exclude) as { id: string } | null;
      return row ? db.select().from(jobs).where(eq(jobs.id, row.id)).get() : undefined;
    },

    running: (): JobRow[] => db.select().from(jobs).where(eq(jobs.status, "running")).all(),

    countWaiting: (types: string[]): number =>
      db
        .select({ n: sql<number>`count(*)` })
        .from(jobs)
        .where(and(inArray(jobs.status, ["queued", "retrying"]), inArray(jobs.type, types)))
        .get()!.n,

    /** Ids of unfinished jobs whose payload has `field` = `value` (e.g. the file they work on). */
    activeWithPayload: (field: string, value: string): string[] =>
      (
        sqlite
          .query(`select id from jobs where status in (${list(ACTIVE_JOB_STATUSES)}) and json_extract(payload, '$.' || ?) = ?`)
          .all(...ACTIVE_JOB_STATUSES, field, value) as { id: string }[]
      ).map((r) => r.id),

    /** How many unfinished jobs of these types come before this one (created earlier, or running). */
    countAhead: (job: JobRow, types: string[]): number =>
      (
        sqlite
          .query(`select count(*) as n from jobs where status in ('queued', 'retrying', 'running') and type in (${list(types)}) and (created_at < ? or status = 'running') and id != ?`)
          .get(...types, job.createdAt, job.id) as { n: number }
      ).n,

    listForProject: (projectId: string, limit = 100): JobRow[] =>
      db.select().from(jobs).where(eq(jobs.projectId, projectId)).orderBy(desc(jobs.createdAt)).limit(limit).all(),

    /** The project's most recent job of this type, whatever its status. */
    latest: (projectId: string, type: string): JobRow | undefined =>
      db.select().from(jobs).where(and(eq(jobs.projectId, projectId), eq(jobs.type, type))).orderBy(desc(jobs.createdAt), desc(sql`rowid`)).limit(1).get(),

    /** The project's unfinished job of one of these types, if any. */
    active: (projectId: string, types: string[]): JobRow | undefined =>
      db.select().from(jobs).where(and(eq(jobs.projectId, projectId), inArray(jobs.type, types), inArray(jobs.status, [...ACTIVE_JOB_STATUSES]))).get(),

    /** Ids of the project's unfinished jobs of these types. */
    activeIds: (projectId: string, types: string[]): string[] =>
      db.select({ id: jobs.id }).from(jobs).where(and(eq(jobs.projectId, projectId), inArray(jobs.type, types), inArray(jobs.status, [...ACTIVE_JOB_STATUSES]))).all().map((r) => r.id),

    /** Sum of a numeric field of the results of the project's jobs of these types. */
    sumResultField: (projectId: string, types: string[], field: string): number =>
      (
        sqlite
          .query(`select coalesce(sum(json_extract(result, '$.' || ?)), 0) as n from jobs where project_id = ? and type in (${list(types)})`)
          .get(field, projectId, ...types) as { n: number }
      ).n,
  };
}
