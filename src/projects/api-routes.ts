/** /api/projects: JSON in and out, same service as the pages. */
import type { ApiTag } from "../lib/openapi.ts";
import { Hono } from "hono";
import { parseJsonBody } from "../lib/validation.ts";
import type { AppEnv } from "../lib/app-env.ts";
import { createProjectInput, projectListQuery, toProjectJson, updateProjectInput } from "./schemas.ts";

const API_PAGE_SIZE = 100;
import type { ProjectService } from "./service.ts";

export function projectApiRoutes(projects: ProjectService) {
  return new Hono<AppEnv>()
    .get("/", (c) => {
      // Scripts get 100 a page unless they ask; `total` counts every match.
      const { items, total, page, pages } = projects.page(projectListQuery.parse({ page_size: API_PAGE_SIZE, ...c.req.query() }));
      return c.json({ items: items.map(toProjectJson), total, page, pages });
    })
    .post("/", async (c) => {
      const input = await parseJsonBody(c, createProjectInput);
      return c.json(toProjectJson(projects.create(input)), 201);
    })
    .get("/:id", (c) => c.json(toProjectJson(projects.get(c.req.param("id")))))
    .patch("/:id", async (c) => {
      const input = await parseJsonBody(c, updateProjectInput);
      return c.json(toProjectJson(projects.update(c.req.param("id"), input)));
    })
    .delete("/:id", async (c) => {
      await projects.remove(c.req.param("id"));
      // JSON, not an empty 204: clients that parse every answer (the spec's ApiClient) must not throw.
      return c.json({ deleted: true, id: c.req.param("id") });
    });
}

export const PROJECTS_API: ApiTag = {
  name: "Projects",
  description: "Create, list, read, rename and delete projects.",
  operations: [
    { method: "get", path: "/projects", summary: "List projects (search, status filter, pages)", query: projectListQuery, response: { status: 200, description: "`{ items, total, page, pages }`" }, errors: [] },
    { method: "post", path: "/projects", summary: "Create a project", body: createProjectInput, response: { status: 201, description: "The project" }, errors: [400, 415, 422] },
    { method: "get", path: "/projects/:id", summary: "Read a project", response: { status: 200, description: "The project" }, errors: [404] },
    { method: "patch", path: "/projects/:id", summary: "Rename, describe or choose the task", body: updateProjectInput, response: { status: 200, description: "The project" }, errors: [400, 404, 415, 422] },
    { method: "delete", path: "/projects/:id", summary: "Delete a project with its files, runs and exports", response: { status: 200, description: "`{ deleted: true, id }`" }, errors: [404] },
  ],
};
