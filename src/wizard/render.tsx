/**
 * Renders a wizard step for any route that ends on the wizard (the step pages, and
 * the forms of the Model and Task steps). A full load gets the layout; an htmx
 * request gets only #wizard. A locked step falls back to the first incomplete one.
 */
import type { Context } from "hono";
import { AppError, type ErrorStatus } from "../lib/errors.ts";
import { isPartialRequest } from "../lib/http-errors.ts";
import type { ProjectService } from "../projects/service.ts";
import { Wizard, WizardPage, stepUrl, type WizardProps } from "../../views/wizard/WizardPage.tsx";
import { StepBody, type StepExtras } from "../../views/wizard/StepBody.tsx";
import type { StepLoaders, StepQuery, StepView } from "./step-data.ts";
import { firstIncompleteStep, stepStates, type ProgressFacts, type StepId, type StepState } from "./steps.ts";

export type WizardRenderer = ReturnType<typeof createWizardRenderer>;
export type { StepLoaders };

export function createWizardRenderer(deps: {
  projects: ProjectService;
  progress: (projectId: string) => ProgressFacts | null;
  loaders: StepLoaders;
}) {
  /** The step paired with what its capability loads for it. */
  function loadView(step: StepId, id: string, query: StepQuery): StepView {
    const l = deps.loaders;
    switch (step) {
      case "model":
        return { step, data: l.model(id) };
      case "task":
        return { step };
      case "data":
        return { step, data: l.data(id) };
      case "preview":
        return { step, data: l.preview(id) };
      case "review":
        return { step, data: l.review(id, query) };
      case "hardware":
        return { step, data: l.hardware(id) };
      case "train":
        return { step, data: l.train(id) };
      case "export":
        return { step, data: l.export(id) };
    }
  }

  function load(id: string) {
    const project = deps.projects.get(id);
    const facts = deps.progress(id);
    if (!facts) throw new AppError(404, "project_not_found", "Project not found.");
    return { project, states: stepStates(facts) };
  }

  return {
    load,

    firstIncomplete(id: string): StepId {
      return firstIncompleteStep(load(id).states);
    },

    render(
      c: Context,
      id: string,
      asked: StepId,
      opts: { extras?: StepExtras; status?: ErrorStatus | 200; query?: Record<string, string> } = {},
    ) {
      const { project, states } = load(id);
      const lockedNotice = (s: StepState | undefined) => (s?.lockedReason ? `The ${s.title} step is locked: ${s.lockedReason}` : undefined);
      let current = asked;
      // After the redirect below, the full page says which step was refused.
      let notice = lockedNotice(states.find((s) => s.id === c.req.query("locked")));
      const askedState = states.find((s) => s.id === asked)!;
      if (askedState.lockedReason) {
        current = firstIncompleteStep(states);
        notice = lockedNotice(askedState);
        if (!isPartialRequest(c)) return c.redirect(`${stepUrl(id, current)}&locked=${asked}`, 302);
        // htmx pushes the URL it asked for; point it at the step actually shown.
        c.header("HX-Push-Url", stepUrl(id, current));
      }
      const props: WizardProps = {
        project,
        steps: states,
        current,
        notice,
        body: <StepBody view={loadView(current, id, opts.query ?? c.req.query())} project={project} states={states} extras={opts.extras ?? {}} />,
      };
      return c.html(isPartialRequest(c) ? <Wizard {...props} /> : <WizardPage {...props} />, opts.status ?? 200);
    },
  };
}
