import type { ProjectSummary } from "../../src/projects/schemas.ts";
import type { StepId, StepState } from "../../src/wizard/steps.ts";
import { ModelStep } from "./steps/ModelStep.tsx";
import { TaskStep } from "./steps/TaskStep.tsx";
import { DataStep } from "./steps/DataStep.tsx";
import { PreviewStep, type PreviewData } from "./steps/PreviewStep.tsx";
import { ReviewStep, type ReviewData } from "./steps/ReviewStep.tsx";
import { HardwareStep, type HardwareData } from "./steps/HardwareStep.tsx";
import { TrainStep, type TrainData } from "./steps/TrainStep.tsx";
import { ExportStep, type ExportData } from "./steps/ExportStep.tsx";
import type { FileJson } from "../../src/documents/schemas.ts";

/** What a form's answer adds to the step it re-renders. */
export type StepExtras = {
  trainErrors?: Record<string, string>;
  trainValues?: Record<string, string>;
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
    case "hardware":
      return <HardwareStep project={props.project} data={props.data as HardwareData} />;
    case "train":
      return <TrainStep project={props.project} data={{ ...(props.data as TrainData), ...(props.extras.trainValues ? { values: props.extras.trainValues } : {}), errors: props.extras.trainErrors }} />;
    case "export":
      return <ExportStep project={props.project} data={props.data as ExportData} />;
    case "data":
      return <DataStep project={props.project} states={props.states} files={(props.data.files ?? []) as FileJson[]} />;

  }
}
