import type { ProjectSummary } from "../../src/projects/schemas.ts";
import type { StepId, StepState } from "../../src/wizard/steps.ts";
import { StepPlaceholder } from "./StepPlaceholder.tsx";
import { ModelStep } from "./steps/ModelStep.tsx";
import { TaskStep } from "./steps/TaskStep.tsx";
import { DataStep } from "./steps/DataStep.tsx";
import { PreviewStep, type PreviewData } from "./steps/PreviewStep.tsx";
import { ReviewStep, type ReviewData } from "./steps/ReviewStep.tsx";
import type { FileJson } from "../../src/documents/schemas.ts";

/** What a form's answer adds to the step it re-renders. */
export type StepExtras = {
  modelError?: { code: string; message: string };
  modelInput?: string;
  modelWarnings?: string[];
  taskSaved?: boolean;
};

export type StepProps = { project: ProjectSummary; states: StepState[]; extras: StepExtras; data: Record<string, unknown> };

export function StepBody(props: StepProps & { step: StepId }) {
  switch (props.step) {
    case "model":
      return <ModelStep {...props} />;
    case "task":
      return <TaskStep {...props} />;
    case "preview":
      return <PreviewStep project={props.project} data={props.data as PreviewData} />;
    case "review":
      return <ReviewStep project={props.project} data={props.data as ReviewData} />;
    case "data":
      return <DataStep project={props.project} states={props.states} files={(props.data.files ?? []) as FileJson[]} />;
    default:
      return <StepPlaceholder step={props.step} />;
  }
}
