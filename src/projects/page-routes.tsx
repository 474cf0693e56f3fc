/** Dashboard and project creation pages; deleting from the dashboard re-renders the list. */
import { Hono } from "hono";
import { fieldErrors, readFormFields } from "../lib/validation.ts";
import type { AppEnv } from "../lib/app-env.ts";
import { DashboardPage, ProjectList } from "../../views/pages/DashboardPage.tsx";
import { NewProjectPage } from "../../views/pages/NewProjectPage.tsx";
import { createProjectInput, projectListQuery } from "./schemas.ts";
import type { ProjectService } from "./service.ts";

export function projectPageRoutes(projects: ProjectService, now: () => number) {
  return new Hono<AppEnv>()
    .get("/", (c) => {
      const query = projectListQuery.parse(c.req.query());
      return c.html(<DashboardPage list={projects.page(query)} query={query} now={now()} />);
    })
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
      // Re-render the page the user was on, with its search and filter.
      const current = c.req.header("HX-Current-URL");
      const params = current && URL.canParse(current) ? Object.fromEntries(new URL(current).searchParams) : {};
      const query = projectListQuery.parse(params);
      return c.html(<ProjectList list={projects.page(query)} query={query} now={now()} />);
    });
}
