/** Reading jobs: the spec's JSON endpoints and the JobProgress polling fragment. */
import { z } from "zod";
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { Hono } from "hono";
import type { AppEnv } from "../lib/app-env.ts";
import type { ProjectService } from "../projects/service.ts";
import { JobProgress } from "../../views/components/JobProgress.tsx";
import { jobJsonSchema, toJobJson } from "./schemas.ts";
import type { JobService } from "./service.ts";
import type { JobQueue } from "./queue.ts";

export const JOBS_API = defineApi({
  name: "Jobs",
  description: "Long work (extraction, import, generation, hardware check, training, export) runs as jobs.",
  operations: {
    get: { method: "get", path: "/jobs/:id", summary: "Read a job: status, progress, error", response: { status: 200, description: "The job", schema: jobJsonSchema }, errors: [404] },
    cancel: { method: "post", path: "/jobs/:id/cancel", summary: "Cancel a queued job, or ask a running one to stop", response: { status: 200, description: "The job", schema: jobJsonSchema }, errors: [404, 409] },
    list: { method: "get", path: "/projects/:id/jobs", summary: "A project's jobs, newest first", response: { status: 200, description: "`{ jobs }`", schema: z.object({ jobs: z.array(jobJsonSchema) }) }, errors: [404] },
  },
});

export function jobApiRoutes(jobs: JobService, projects: ProjectService, queue: JobQueue) {
  return apiRoutes(JOBS_API, {
    get: (_c, { params }) => toJobJson(jobs.get(params.id)),
    cancel: (_c, { params }) => toJobJson(queue.cancel(params.id)),
    list: (_c, { params }) => {
      const id = params.id;
      projects.get(id);
      return { jobs: jobs.listForProject(id).map(toJobJson) };
    },
  });
}

export function jobPageRoutes(jobs: JobService, queue: JobQueue) {
  return new Hono<AppEnv>()
    .get("/jobs/:id/progress", (c) => c.html(<JobProgress job={toJobJson(jobs.get(c.req.param("id")))} />))
    .post("/jobs/:id/cancel", (c) => c.html(<JobProgress job={toJobJson(queue.cancel(c.req.param("id")))} />));
}
