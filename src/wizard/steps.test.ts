import { describe, expect, test } from "bun:test";
import { firstIncompleteStep, stepStates, type ProgressFacts, type StepId } from "./steps.ts";

const empty: ProgressFacts = {
  modelResolved: false,
  taskChosen: false,
  readyDocuments: 0,
  readyDatasets: 0,
  previewDone: false,
  validExamples: 0,
  hardwareChecked: false,
  successfulRuns: 0,
  exported: false,
};

const unlocked = (f: Partial<ProgressFacts>) =>
  stepStates({ ...empty, ...f })
    .filter((s) => s.lockedReason === null)
    .map((s) => s.id);

describe("step prerequisites", () => {
  test("Model and Task are always open", () => {
    expect(unlocked({})).toEqual(["model", "task"]);
  });

  test("Data needs a resolved model and a chosen task", () => {
    expect(unlocked({ modelResolved: true })).not.toContain("data");
    expect(unlocked({ taskChosen: true })).not.toContain("data");
    expect(unlocked({ modelResolved: true, taskChosen: true })).toContain("data");
  });

  const base = { modelResolved: true, taskChosen: true };

  test("Preview needs a document or a dataset", () => {
    expect(unlocked(base)).not.toContain("preview");
    expect(unlocked({ ...base, readyDocuments: 1 })).toContain("preview");
    expect(unlocked({ ...base, readyDatasets: 1 })).toContain("preview");
  });

  test("Review needs a finished preview or an uploaded dataset", () => {
    expect(unlocked({ ...base, readyDocuments: 1 })).not.toContain("review");
    expect(unlocked({ ...base, readyDocuments: 1, previewDone: true })).toContain("review");
    expect(unlocked({ ...base, readyDatasets: 1 })).toContain("review");
  });

  test("Review opens after a full generation that skipped the preview", () => {
    expect(unlocked({ ...base, readyDocuments: 1, previewDone: false, validExamples: 40 })).toContain("review");
  });

  test("Hardware needs at least 10 valid examples", () => {
    expect(unlocked({ ...base, readyDatasets: 1, validExamples: 9 })).not.toContain("hardware");
    expect(unlocked({ ...base, readyDatasets: 1, validExamples: 10 })).toContain("hardware");
  });

  test("Train needs the hardware checked and the dataset ready", () => {
    expect(unlocked({ ...base, validExamples: 10 })).not.toContain("train");
    expect(unlocked({ ...base, hardwareChecked: true, validExamples: 9 })).not.toContain("train");
    expect(unlocked({ ...base, hardwareChecked: true, validExamples: 10 })).toContain("train");
  });

  test("Export needs a successful training run", () => {
    expect(unlocked({ ...base, hardwareChecked: true, validExamples: 10 })).not.toContain("export");
    expect(unlocked({ ...base, successfulRuns: 1 })).toContain("export");
  });

  test("each locked step says what is missing", () => {
    const states = stepStates({ ...empty, modelResolved: true });
    expect(states.find((s) => s.id === "data")!.lockedReason).toBe("Choose a task first.");
    expect(states.find((s) => s.id === "export")!.lockedReason).toContain("training run");
  });
});

describe("first incomplete step", () => {
  const cases: [Partial<ProgressFacts>, StepId][] = [
    [{}, "model"],
    [{ modelResolved: true }, "task"],
    [{ taskChosen: true }, "model"],
    [{ modelResolved: true, taskChosen: true }, "data"],
    [{ modelResolved: true, taskChosen: true, readyDocuments: 2 }, "preview"],
    [{ modelResolved: true, taskChosen: true, readyDatasets: 1 }, "review"],
    [{ modelResolved: true, taskChosen: true, readyDatasets: 1, validExamples: 50 }, "hardware"],
    [{ modelResolved: true, taskChosen: true, readyDatasets: 1, validExamples: 50, hardwareChecked: true }, "train"],
    [{ modelResolved: true, taskChosen: true, readyDatasets: 1, validExamples: 50, hardwareChecked: true, successfulRuns: 1 }, "export"],
  ];
  test.each(cases)("with %j lands on %s", (facts, expected) => {
    expect(firstIncompleteStep(stepStates({ ...empty, ...facts }))).toBe(expected);
  });

  test("a finished project lands on Export", () => {
    const all = { modelResolved: true, taskChosen: true, readyDatasets: 1, previewDone: true, validExamples: 50, hardwareChecked: true, successfulRuns: 1, exported: true };
    expect(firstIncompleteStep(stepStates({ ...empty, ...all }))).toBe("export");
  });
});
