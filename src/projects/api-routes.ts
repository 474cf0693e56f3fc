/** /api/projects: JSON in and out, same service as the pages. */
import { Hono } from "hono";
import { parseJsonBody } from "../lib/validation.ts";
import type { AppEnv } from "../app.tsx";
import { createProjectInput, toProjectJson, updateProjectInput } from "./schemas.ts";
import type { ProjectService } from "./service.ts";

export function projectApiRoutes(projects: ProjectService) {
  return new Hono<AppEnv>()
    .get("/", (c) => {
      const items = projects.list().map(toProjectJson);
      return c.json({ items, total: items.length });
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
      return c.body(null, 204);
    });
}
