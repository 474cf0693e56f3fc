/** Projects: create, list, read, update, delete (rows and files on disk). No HTTP here. */
import { rm } from "node:fs/promises";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { projects } from "./table.ts";
import { projectDir } from "../lib/data-dir.ts";
import { notFound } from "../lib/errors.ts";
import { modelInfoSchema, type ModelInfo } from "../models/schemas.ts";
import { projectHardwareSchema, type ProjectHardware } from "../training/schemas.ts";
import { projectConfigSchema, STATUS_TRANSITIONS, type CreateProjectInput, type ProjectConfig, type ProjectListQuery, type ProjectSummary, type StatusTransition, type UpdateProjectInput } from "./schemas.ts";

export type ProjectService = ReturnType<typeof createProjectService>;

export function createProjectService(deps: { db: Db; dataDir: string; now?: () => number }) {
  const { db, dataDir } = deps;
  const now = deps.now ?? Date.now;

  const summaryColumns = {
    id: projects.id,
    name: projects.name,
    description: projects.description,
    taskType: projects.taskType,
    baseModelId: projects.baseModelId,
    modelInfo: projects.modelInfo,
    hardwareInfo: projects.hardwareInfo,
    status: projects.status,
    config: projects.config,
    createdAt: projects.createdAt,
    updatedAt: projects.updatedAt,
    // Qualified by hand: drizzle drops table names in single-table selects, which would
    // make "project_id = id" compare two columns of the subquery's own table.
    fileCount: sql<number>`(select count(*) from files f where f.project_id = "projects"."id")`,
    // From the trigger-kept aggregates: counting examples directly costs ~20 ms at 200k.
    exampleCount: sql<number>`(select coalesce(sum(n), 0) from example_counts c where c.project_id = "projects"."id")`,
  };

  function matching(q: ProjectListQuery) {
    const like = q.q ? `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    return and(like ? sql`${projects.name} like ${like} escape '\\'` : undefined, q.status !== "all" ? eq(projects.status, q.status) : undefined);
  }
  const byId = db.select(summaryColumns).from(projects).where(eq(projects.id, sql.placeholder("id"))).prepare();

  function get(id: string): ProjectSummary {
    const row = byId.get({ id });
    if (!row) throw notFound("Project", "project_not_found");
    return row as ProjectSummary;
  }

  return {
    /** One page of the projects matching a name search and a status; newest first. */
    page(q: ProjectListQuery): { items: ProjectSummary[]; total: number; page: number; pages: number } {
      const where = matching(q);
      const total = db.select({ n: sql<number>`count(*)` }).from(projects).where(where).get()!.n;
      const pages = Math.max(1, Math.ceil(total / q.page_size));
      const page = Math.min(q.page, pages);
      const items = db
        .select(summaryColumns)
        .from(projects)
        .where(where)
        .orderBy(desc(projects.createdAt), desc(projects.id))
        .limit(q.page_size)
        .offset((page - 1) * q.page_size)
        .all() as ProjectSummary[];
      return { items, total, page, pages };
    },

    get,

    create(input: CreateProjectInput): ProjectSummary {
      const id = crypto.randomUUID();
      const at = now();
      db.insert(projects)
        .values({ id, name: input.name, description: input.description, createdAt: at, updatedAt: at })
        .run();
      return get(id);
    },

    update(id: string, input: UpdateProjectInput): ProjectSummary {
      get(id);
      const changes: Partial<typeof projects.$inferInsert> = { updatedAt: now() };
      if (input.name !== undefined) changes.name = input.name;
      if (input.description !== undefined) changes.description = input.description;
      if (input.task_type !== undefined) changes.taskType = input.task_type;
      if (input.qa_context !== undefined || input.qa_recipe !== undefined) {
        const config = get(id).config;
        changes.config = projectConfigSchema.parse({ ...config, ...(input.qa_context !== undefined ? { qa_context: input.qa_context } : {}), ...(input.qa_recipe !== undefined ? { qa_recipe: input.qa_recipe } : {}) });
      }
      db.update(projects).set(changes).where(eq(projects.id, id)).run();
      return get(id);
    },

    /** Each project's name and base model (who uses a cached model). */
    modelsInUse: () => db.select({ name: projects.name, modelInfo: projects.modelInfo }).from(projects).all(),

    setModel(id: string, modelId: string, modelInfo: ModelInfo): ProjectSummary {
      db.update(projects).set({ baseModelId: modelId, modelInfo: modelInfoSchema.parse(modelInfo), updatedAt: now() }).where(eq(projects.id, id)).run();
      return get(id);
    },

    /** Merges keys into the project's settings (generation model, training config…). */
    updateConfig(id: string, changes: Partial<ProjectConfig>): void {
      const config = projectConfigSchema.parse({ ...get(id).config, ...changes });
      db.update(projects).set({ config, updatedAt: now() }).where(eq(projects.id, id)).run();
    },

    setHardware(id: string, info: ProjectHardware): void {
      db.update(projects).set({ hardwareInfo: projectHardwareSchema.parse(info), updatedAt: now() }).where(eq(projects.id, id)).run();
    },

    /** The status's one writer: a named transition (STATUS_TRANSITIONS), applied only from the statuses it names. */
    transition(id: string, name: StatusTransition): void {
      const { from, to } = STATUS_TRANSITIONS[name];
      const at = from ? and(eq(projects.id, id), inArray(projects.status, [...from])) : eq(projects.id, id);
      db.update(projects).set({ status: to, updatedAt: now() }).where(at).run();
    },

    /** Rows go by cascade; the project's folder (uploads, runs, exports) goes after. */
    async remove(id: string): Promise<void> {
      get(id);
      db.delete(projects).where(eq(projects.id, id)).run();
      await rm(projectDir(dataDir, id), { recursive: true, force: true });
    },
  };
}
