/**
 * What each wizard step's screen needs beyond the project, by step. Each capability
 * loads its own step (documents/step.ts, generation/step.ts, …); the renderer pairs
 * the step with its data so the view gets the right type without a cast.
 */
import type { FileJson } from "../documents/schemas.ts";
import type { PreviewData } from "../generation/step.ts";
import type { ReviewData } from "../datasets/step.ts";
import type { HardwareData, TrainData } from "../training/step.ts";
import type { ExportData } from "../exports/step.ts";
import type { ModelData } from "../models/step.ts";

export type StepQuery = Record<string, string>;

export type StepLoaders = {
  model: (projectId: string) => ModelData | null;
  data: (projectId: string) => { files: FileJson[] };
  preview: (projectId: string) => PreviewData;
  review: (projectId: string, query: StepQuery) => ReviewData;
  hardware: (projectId: string) => HardwareData;
  train: (projectId: string) => TrainData;
  export: (projectId: string) => ExportData;
};

/** A step and its data: the task step needs none. */
export type StepView =
  | { step: "task" }
  | { [K in keyof StepLoaders]: { step: K; data: ReturnType<StepLoaders[K]> } }[keyof StepLoaders];
