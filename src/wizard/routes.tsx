/**
 * The wizard pages. A full load renders the layout; an htmx step change renders only
 * #wizard. Asking for a locked step lands on the first incomplete one, with a notice.
 */
import { Hono } from "hono";
import type { Child } from "hono/jsx";
import { AppError } from "../lib/errors.ts";
import type { AppEnv } from "../app.tsx";
import type { ProjectService } from "../projects/service.ts";
import { Wizard, WizardPage, stepUrl, type WizardProps } from "../../views/wizard/WizardPage.tsx";
import { StepPlaceholder } from "../../views/wizard/StepPlaceholder.tsx";
import { firstIncompleteStep, isStepId, STEP_IDS, stepStates, type StepId } from "./steps.ts";
import type { ProgressFacts } from "./steps.ts";

export type StepBodyRenderer = (projectId: string, step: StepId) => Child;

export function wizardRoutes(deps: {
  projects: ProjectService;
  progress: (projectId: string) => ProgressFacts | null;
  renderStep?: StepBodyRenderer;
}) {
  const renderStep = deps.renderStep ?? ((_id, step) => <StepPlaceholder step={step} />);

  return new Hono<AppEnv>()
    .get("/projects/:id", (c) => {
      const id = c.req.param("id");
      const { states } = load(id);
      return c.redirect(stepUrl(id, firstIncompleteStep(states)), 302);
    })
    .get("/projects/:id/wizard", (c) => {
      const id = c.req.param("id");
      const { project, states } = load(id);
      const asked = c.req.query("step") ?? firstIncompleteStep(states);
      if (!isStepId(asked)) {
        throw new AppError(400, "unknown_step", `There is no wizard step “${asked}”. Steps are: ${STEP_IDS.join(", ")}.`);
      }
      let current: StepId = asked;
      let notice: string | undefined;
      const lockedReason = states.find((s) => s.id === asked)!.lockedReason;
      if (lockedReason) {
        current = firstIncompleteStep(states);
        notice = `The ${states.find((s) => s.id === asked)!.title} step is locked: ${lockedReason}`;
      }
      const props: WizardProps = { project, steps: states, current, notice, body: renderStep(id, current) };
      const partial = c.req.header("HX-Request") === "true" && c.req.header("HX-History-Restore-Request") !== "true";
      if (current !== asked) {
        if (!partial) return c.redirect(`${stepUrl(id, current)}&locked=${asked}`, 302);
        // htmx pushes the URL it asked for; point it at the step actually shown.
        c.header("HX-Push-Url", stepUrl(id, current));
      }
      if (!partial && c.req.query("locked")) {
        const locked = states.find((s) => s.id === c.req.query("locked"));
        if (locked?.lockedReason) props.notice = `The ${locked.title} step is locked: ${locked.lockedReason}`;
      }
      return c.html(partial ? <Wizard {...props} /> : <WizardPage {...props} />);
    });

  function load(id: string) {
    const project = deps.projects.get(id);
    const facts = deps.progress(id);
    if (!facts) throw new AppError(404, "project_not_found", "Project not found.");
    return { project, states: stepStates(facts) };
  }
}
