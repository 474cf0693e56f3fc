/** /api/projects: JSON in and out, same service as the pages. */
import { z } from "zod";
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { createProjectInput, projectJsonSchema, projectListQuery, projectPageSchema, toProjectJson, updateProjectInput } from "./schemas.ts";
import type { ProjectService } from "./service.ts";

/** Scripts get 100 a page unless they ask; `total` counts every match. */
const apiProjectListQuery = projectListQuery.extend({ page_size: z.coerce.number().int().min(1).max(500).catch(100) });

export const PROJECTS_API = defineApi({
  name: "Projects",
  description: "Create, list, read, rename and delete projects.",
  operations: {
    list: { method: "get", path: "/projects", summary: "List projects (search, status filter, pages)", query: apiProjectListQuery, response: { status: 200, description: "A page of projects", schema: projectPageSchema }, errors: [] },
    create: { method: "post", path: "/projects", summary: "Create a project", body: createProjectInput, response: { status: 201, description: "The project", schema: projectJsonSchema }, errors: [400, 415, 422] },
    get: { method: "get", path: "/projects/:id", summary: "Read a project", response: { status: 200, description: "The project", schema: projectJsonSchema }, errors: [404] },
    update: { method: "patch", path: "/projects/:id", summary: "Rename, describe or choose the task", body: updateProjectInput, response: { status: 200, description: "The project", schema: projectJsonSchema }, errors: [400, 404, 415, 422] },
    // JSON, not an empty 204: clients that parse every answer (the spec's ApiClient) must not throw.
    remove: { method: "delete", path: "/projects/:id", summary: "Delete a project with its files, runs and exports", response: { status: 200, description: "What was deleted", schema: z.object({ deleted: z.literal(true), id: z.string() }) }, errors: [404] },
  },
});

export function projectApiRoutes(projects: ProjectService) {
  return apiRoutes(PROJECTS_API, {
    list: (_c, { query }) => {
      const { items, total, page, pages } = projects.page(query);
      return { items: items.map(toProjectJson), total, page, pages };
    },
    create: (_c, { body }) => toProjectJson(projects.create(body)),
    get: (_c, { params }) => toProjectJson(projects.get(params.id)),
    update: (_c, { body, params }) => toProjectJson(projects.update(params.id, body)),
    remove: async (_c, { params }) => {
      await projects.remove(params.id);
      return { deleted: true as const, id: params.id };
    },
  });
}
