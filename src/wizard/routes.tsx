/** The wizard pages, and the Task step's form (a project field, saved as it changes). */
import { Hono } from "hono";
import { z } from "zod";
import { AppError } from "../lib/errors.ts";
import { parseWith, readFormFields } from "../lib/validation.ts";
import type { AppEnv } from "../lib/app-env.ts";
import type { ProjectService } from "../projects/service.ts";
import { QA_CONTEXTS, QA_RECIPES, qaRecipeOf, TASK_TYPES } from "../projects/schemas.ts";
import { stepUrl } from "../../views/wizard/WizardPage.tsx";
import type { WizardRenderer } from "./render.tsx";
import { isStepId, STEP_IDS } from "./steps.ts";

const taskForm = z.object({
  task_type: z.enum(TASK_TYPES, { error: "Choose Instruction tuning or Q&A." }),
  qa_context: z.enum(QA_CONTEXTS, { error: "Choose Q&A with the passage or closed-book." }).optional(),
  qa_recipe: z.enum(QA_RECIPES, { error: "Choose Questions only or Study notes + questions." }).optional(),
});

export function wizardRoutes(deps: { projects: ProjectService; wizard: WizardRenderer }) {
  const { wizard } = deps;
  return new Hono<AppEnv>()
    .get("/projects/:id", (c) => {
      const id = c.req.param("id");
      return c.redirect(stepUrl(id, wizard.firstIncomplete(id)), 302);
    })
    .get("/projects/:id/wizard", (c) => {
      const id = c.req.param("id");
      const asked = c.req.query("step") ?? wizard.firstIncomplete(id);
      if (!isStepId(asked)) {
        wizard.load(id);
        throw new AppError(400, "unknown_step", `There is no wizard step “${asked}”. Steps are: ${STEP_IDS.join(", ")}.`);
      }
      return wizard.render(c, id, asked);
    })
    .get("/projects/:id/step/:step", (c) => {
      // Re-render a step in place, as its own polling or a finished live run asks.
      const step = parseWith(z.enum(STEP_IDS, { error: `Steps are: ${STEP_IDS.join(", ")}.` }), c.req.param("step"));
      return wizard.render(c, c.req.param("id"), step);
    })
    .post("/projects/:id/task", async (c) => {
      const id = c.req.param("id");
      const parsed = taskForm.safeParse(await readFormFields(c));
      if (!parsed.success) throw new AppError(422, "validation_error", parsed.error.issues[0]?.message ?? "Choose Instruction tuning or Q&A.");
      // The recipe radio posts with every change: it is a choice only when it differs from
      // the default the page showed, or the user chose before (else closed-book's default would stick as "questions").
      const before = deps.projects.get(id).config;
      const asked = parsed.data.qa_recipe;
      const qa_recipe = asked !== undefined && (before.qa_recipe !== undefined || asked !== qaRecipeOf(before)) ? asked : undefined;
      deps.projects.update(id, { task_type: parsed.data.task_type, qa_context: parsed.data.qa_context, qa_recipe });
      return wizard.render(c, id, "task", { extras: { taskSaved: true } });
    });
}
