/** The Hardware and Train steps' screens. */
import type { JobService } from "../jobs/service.ts";
import { toJobJson } from "../jobs/schemas.ts";
import type { ProjectService } from "../projects/service.ts";
import type { HardwareData } from "../../views/wizard/steps/HardwareStep.tsx";
import type { TrainData } from "../../views/wizard/steps/TrainStep.tsx";
import { HARDWARE_JOB, type HardwareService } from "./hardware-service.ts";
import { TRAINING_DEFAULTS, trainingConfigSchema } from "./schemas.ts";
import type { TrainingService } from "./service.ts";

export const hardwareStepLoader =
  (hardware: HardwareService, jobs: JobService) =>
  (projectId: string): HardwareData => {
    const job = jobs.latest(projectId, HARDWARE_JOB);
    return { job: job ? toJobJson(job) : undefined, hw: hardware.forProject(projectId) };
  };

/** The form starts from the last run's values (else the defaults and the recommended method) and shows its plan. */
export const trainStepLoader =
  (projects: ProjectService, hardware: HardwareService, training: TrainingService) =>
  (projectId: string): TrainData => {
    const hw = hardware.forProject(projectId);
    const { max_steps: _apiOnly, ...saved } = projects.get(projectId).config.training ?? {};
    const values = { ...TRAINING_DEFAULTS, method: hw?.recommended_method ?? "lora", ...saved };
    const parsed = trainingConfigSchema.safeParse(values);
    return { values, plan: parsed.success ? hardware.plan(projectId, parsed.data) : null, status: training.status(projectId), runs: training.runs(projectId) };
  };
