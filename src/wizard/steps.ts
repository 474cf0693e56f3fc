/**
 * The wizard's eight steps and their prerequisites (this file is their one table). Pure: given what a
 * project has, says which steps are complete, which are locked and why.
 */
import { MIN_VALID_EXAMPLES } from "../datasets/validate.ts";

export const STEP_IDS = ["model", "task", "data", "preview", "review", "hardware", "train", "export"] as const;
export type StepId = (typeof STEP_IDS)[number];

export const STEP_TITLES: Record<StepId, string> = {
  model: "Model",
  task: "Task",
  data: "Data",
  preview: "Preview",
  review: "Review",
  hardware: "Hardware",
  train: "Train",
  export: "Export",
};

/** What the wizard needs to know about a project; counted by progress-queries.ts. */
export type ProgressFacts = {
  modelResolved: boolean;
  taskChosen: boolean;
  readyDocuments: number;
  readyDatasets: number;
  previewDone: boolean;
  validExamples: number;
  hardwareChecked: boolean;
  successfulRuns: number;
  exported: boolean;
};


export type StepState = {
  id: StepId;
  number: number;
  title: string;
  complete: boolean;
  /** Null when the step can be opened; otherwise what is missing, as a sentence. */
  lockedReason: string | null;
};

export function isStepId(value: string): value is StepId {
  return (STEP_IDS as readonly string[]).includes(value);
}

export function stepStates(f: ProgressFacts): StepState[] {
  const datasetReady = f.validExamples >= MIN_VALID_EXAMPLES;
  const complete: Record<StepId, boolean> = {
    model: f.modelResolved,
    task: f.taskChosen,
    data: f.readyDocuments + f.readyDatasets > 0,
    preview: f.previewDone || f.readyDatasets > 0,
    review: datasetReady,
    hardware: f.hardwareChecked,
    train: f.successfulRuns > 0,
    export: f.exported,
  };
  const missing: Record<StepId, string | null> = {
    model: null,
    task: null,
    data:
      !f.modelResolved && !f.taskChosen
        ? "Resolve a model and choose a task first."
        : !f.modelResolved
          ? "Resolve a model first."
          : !f.taskChosen
            ? "Choose a task first."
            : null,
    preview: complete.data ? null : "Upload at least one document or a dataset first.",
    // What the project has decides, not which button made it: a full generation
    // without a preview also opens Review.
    review: complete.preview || f.validExamples > 0 ? null : "Generate a preview or upload a dataset first.",
    hardware: datasetReady ? null : `The dataset needs at least ${MIN_VALID_EXAMPLES} valid examples first.`,
    train: !f.hardwareChecked
      ? "Check the hardware first."
      : !datasetReady
        ? `The dataset needs at least ${MIN_VALID_EXAMPLES} valid examples first.`
        : null,
    export: f.successfulRuns > 0 ? null : "A training run must finish successfully first.",
  };
  return STEP_IDS.map((id, i) => ({
    id,
    number: i + 1,
    title: STEP_TITLES[id],
    complete: complete[id],
    lockedReason: missing[id],
  }));
}

/** Where `/projects/:id` lands: the first step not yet complete (always unlocked), else Export. */
export function firstIncompleteStep(states: StepState[]): StepId {
  return (states.find((s) => !s.complete && s.lockedReason === null) ?? states[states.length - 1]!).id;
}
