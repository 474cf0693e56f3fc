/** Reading jobs: the spec's JSON endpoints and the JobProgress polling fragment. */
import type { ApiTag } from "../lib/openapi.ts";
import { Hono } from "hono";
import type { AppEnv } from "../lib/app-env.ts";
import type { ProjectService } from "../projects/service.ts";
import { JobProgress } from "../../views/components/JobProgress.tsx";
import { toJobJson } from "./schemas.ts";
import type { JobService } from "./service.ts";
import type { JobQueue } from "./queue.ts";

export function jobApiRoutes(jobs: JobService, projects: ProjectService, queue: JobQueue) {
  return new Hono<AppEnv>()
    .get("/jobs/:id", (c) => c.json(toJobJson(jobs.get(c.req.param("id")))))
    .post("/jobs/:id/cancel", (c) => c.json(toJobJson(queue.cancel(c.req.param("id")))))
    .get("/projects/:id/jobs", (c) => {
      const id = c.req.param("id");
      projects.get(id);
      return c.json({ jobs: jobs.listForProject(id).map(toJobJson) });
    });
}

export function jobPageRoutes(jobs: JobService, queue: JobQueue) {
  return new Hono<AppEnv>()
    .get("/jobs/:id/progress", (c) => c.html(<JobProgress job={toJobJson(jobs.get(c.req.param("id")))} />))
    .post("/jobs/:id/cancel", (c) => c.html(<JobProgress job={toJobJson(queue.cancel(c.req.param("id")))} />));
}

export const JOBS_API: ApiTag = {
  name: "Jobs",
  description: "Long work (extraction, import, generation, hardware check, training, export) runs as jobs.",
  operations: [
    { method: "get", path: "/jobs/:id", summary: "Read a job: status, progress, error", response: { status: 200, description: "The job" }, errors: [404] },
    { method: "post", path: "/jobs/:id/cancel", summary: "Cancel a queued job, or ask a running one to stop", response: { status: 200, description: "The job" }, errors: [404, 409] },
    { method: "get", path: "/projects/:id/jobs", summary: "A project's jobs, newest first", response: { status: 200, description: "`{ jobs }`" }, errors: [404] },
  ],
};
