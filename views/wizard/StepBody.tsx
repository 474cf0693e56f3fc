import type { ProjectSummary } from "../../src/projects/schemas.ts";
import type { StepView } from "../../src/wizard/step-data.ts";
import type { StepState } from "../../src/wizard/steps.ts";
import { ModelStep } from "./steps/ModelStep.tsx";
import { TaskStep } from "./steps/TaskStep.tsx";
import { DataStep } from "./steps/DataStep.tsx";
import { PreviewStep } from "./steps/PreviewStep.tsx";
import { ReviewStep } from "./steps/ReviewStep.tsx";
import { HardwareStep } from "./steps/HardwareStep.tsx";
import { TrainStep } from "./steps/TrainStep.tsx";
import { ExportStep } from "./steps/ExportStep.tsx";

/** What a form's answer adds to the step it re-renders. */
export type StepExtras = {
  trainErrors?: Record<string, string>;
  trainValues?: Record<string, string>;
  modelError?: { code: string; message: string };
  modelInput?: string;
  modelWarnings?: string[];
  taskSaved?: boolean;
  probeError?: string;
  ollamaError?: string;
};

export type StepProps = { project: ProjectSummary; states: StepState[]; extras: StepExtras };

export function StepBody({ view, ...props }: StepProps & { view: StepView }) {
  switch (view.step) {
    case "model":
      return <ModelStep {...props} data={view.data} />;
    case "task":
      return <TaskStep {...props} />;
    case "data":
      return <DataStep project={props.project} states={props.states} files={view.data.files} />;
    case "preview":
      return <PreviewStep project={props.project} data={view.data} />;
    case "review":
      return <ReviewStep project={props.project} data={view.data} />;
    case "hardware":
      return <HardwareStep project={props.project} data={{ ...view.data, probe: { ...view.data.probe, error: props.extras.probeError } }} />;
    case "train": {
      const { trainValues, trainErrors } = props.extras;
      return <TrainStep project={props.project} data={{ ...view.data, ...(trainValues ? { values: trainValues } : {}), errors: trainErrors, probe: { ...view.data.probe, error: props.extras.probeError } }} />;
    }
    case "export":
      return <ExportStep project={props.project} data={{ ...view.data, ollama: { ...view.data.ollama, error: props.extras.ollamaError } }} />;
  }
}
