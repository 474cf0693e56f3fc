/** Dashboard and project creation pages; deleting from the dashboard re-renders the list. */
import { Hono } from "hono";
import { fieldErrors, readFormFields } from "../lib/validation.ts";
import type { AppEnv } from "../app.tsx";
import { DashboardPage, ProjectList } from "../../views/pages/DashboardPage.tsx";
import { NewProjectPage } from "../../views/pages/NewProjectPage.tsx";
import { createProjectInput } from "./schemas.ts";
import type { ProjectService } from "./service.ts";

export function projectPageRoutes(projects: ProjectService, now: () => number) {
  return new Hono<AppEnv>()
    .get("/", (c) => c.html(<DashboardPage projects={projects.list()} now={now()} />))
    .get("/projects/new", (c) => c.html(<NewProjectPage />))
    .post("/projects", async (c) => {
      const form = await readFormFields(c);
      const values = { name: form.name ?? "", description: form.description ?? "" };
      const parsed = createProjectInput.safeParse(values);
      if (!parsed.success) return c.html(<NewProjectPage values={values} errors={fieldErrors(parsed.error)} />, 422);
      const project = projects.create(parsed.data);
      return c.redirect(`/projects/${project.id}`, 303);
    })
    .delete("/projects/:id", async (c) => {
      await projects.remove(c.req.param("id"));
      return c.html(<ProjectList projects={projects.list()} now={now()} />);
    });
}
