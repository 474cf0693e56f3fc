import type { ProjectSummary } from "../../src/projects/schemas.ts";
import type { StepId, StepState } from "../../src/wizard/steps.ts";
import { StepPlaceholder } from "./StepPlaceholder.tsx";
import { ModelStep } from "./steps/ModelStep.tsx";
import { TaskStep } from "./steps/TaskStep.tsx";

/** What a form's answer adds to the step it re-renders. */
export type StepExtras = {
  modelError?: { code: string; message: string };
  modelInput?: string;
  modelWarnings?: string[];
  taskSaved?: boolean;
};

export type StepProps = { project: ProjectSummary; states: StepState[]; extras: StepExtras };

export function StepBody(props: StepProps & { step: StepId }) {
  switch (props.step) {
    case "model":
      return <ModelStep {...props} />;
    case "task":
      return <TaskStep {...props} />;
    default:
      return <StepPlaceholder step={props.step} />;
  }
}
