/** The Hardware and Train steps' screens. */
import type { JobService } from "../jobs/service.ts";
import { toJobJson } from "../jobs/schemas.ts";
import type { ProjectService } from "../projects/service.ts";
import type { JobView } from "../jobs/schemas.ts";
import { HARDWARE_JOB, type HardwareService } from "./hardware-service.ts";
import { PROBE_JOB, type ProbeService } from "./probe.ts";
import { TRAINING_DEFAULTS, trainingConfigSchema, type ProbeRecord, type ProjectHardware, type RunView, type TrainingField, type TrainPlanView } from "./schemas.ts";
import type { TrainingService } from "./service.ts";
import { SAFE_DEFAULTS, type ModelPreset } from "../models/presets.ts";
import type { ReadinessService } from "../readiness/service.ts";
import { formatRate } from "../lib/format.ts";

/** "Measure on this GPU" (Hardware and Train steps): the probe job, its last result, a refusal. */
export type ProbeData = { job?: JobView; result: ProbeRecord | null; error?: string };
/** The Hardware step. */
export type HardwareData = { job?: JobView; hw: ProjectHardware | null; probe: ProbeData };
/** The latest run as the Train step shows it (GET train/status). */
export type TrainStatusView = { run_id: string; status: string; progress_pct: number; queue_position: number; error_message: string | null; resume_from_step: number | null; current_metrics: { step: number; total_steps: number }; execution: { device: string; world_size: number; packing: boolean | null; attn_implementation: string | null; liger: boolean | null; checkpointed_layers: number | null; decoder_layers: number | null } | null; preference_round: { parent_run_id: string; pairs: number; beta: number } | null } | null;
export type PresetSummary = { label: string | null; learningRateBand: string; changes: string[] };
/** The Train step: the form's values and defaults, the preset, the live plan, the run and past runs. */
export type TrainData = {
  values: Record<string, string | number | boolean>;
  /** What Reset returns to: the preset's values over the spec's defaults. */
  defaults: Record<TrainingField, number>;
  preset: PresetSummary;
  plan: TrainPlanView | null;
  status: TrainStatusView;
  runs: RunView[];
  errors?: Record<string, string>;
  probe: ProbeData;
  gpu: boolean;
};


export const hardwareStepLoader =
  (hardware: HardwareService, jobs: JobService, probe: ProbeService) =>
  (projectId: string): HardwareData => {
    const job = jobs.latest(projectId, HARDWARE_JOB);
    return { job: job ? toJobJson(job) : undefined, hw: hardware.forProject(projectId), probe: probeView(jobs, probe, projectId) };
  };

/** The "Measure on this GPU" panel: its job while it runs, its last result. */
export function probeView(jobs: JobService, probe: ProbeService, projectId: string) {
  const job = jobs.latest(projectId, PROBE_JOB);
  return { job: job ? toJobJson(job) : undefined, result: probe.latest(projectId) };
}

/**
 * The form starts from the last run's values, else the model family's preset and the
 * data (learning rate, max_seq_length) over the spec's defaults; Reset returns to the
 * preset. It shows the plan and what the preset changed.
 */
export const trainStepLoader =
  (projects: ProjectService, hardware: HardwareService, training: TrainingService, readiness: ReadinessService, jobs: JobService, probe: ProbeService) =>
  (projectId: string): TrainData => {
    const hw = hardware.forProject(projectId);
    const { max_steps: _apiOnly, packing: _p, use_liger: _l, num_processes: _n, preference: _round, ...saved } = projects.get(projectId).config.training ?? {};
    const defaults = { ...TRAINING_DEFAULTS, ...readiness.formDefaults(projectId) };
    const values = { ...defaults, method: hw?.recommended_method ?? "lora", ...saved };
    const parsed = trainingConfigSchema.safeParse(values);
    return {
      values,
      defaults,
      preset: presetSummary(readiness.preset(projectId), defaults),
      plan: parsed.success ? hardware.plan(projectId, parsed.data) : null,
      status: training.status(projectId),
      runs: training.runs(projectId),
      probe: probeView(jobs, probe, projectId),
      gpu: hw?.cuda_available === true,
    };
  };

/** "Preset: Qwen 2.5" and, in words, what it sets beyond the spec's defaults. */
function presetSummary(preset: ModelPreset | null, defaults: { learning_rate: number; max_seq_length: number }) {
  const chosen = preset ?? SAFE_DEFAULTS;
  const changes: string[] = [];
  if (defaults.learning_rate !== TRAINING_DEFAULTS.learning_rate) changes.push(`learning rate ${formatRate(TRAINING_DEFAULTS.learning_rate)} → ${formatRate(defaults.learning_rate)}`);
  if (defaults.max_seq_length !== TRAINING_DEFAULTS.max_seq_length) changes.push(`max sequence length ${TRAINING_DEFAULTS.max_seq_length} → ${defaults.max_seq_length} (from the data and the context length)`);
  changes.push(chosen.targetModules === "all-linear" ? "LoRA on every linear layer" : `LoRA on ${chosen.targetModules.join(", ")}`);
  const q = chosen.quirks;
  if (q.thinking) changes.push("thinking off: the empty <think> block is part of the prompt");
  if (!q.systemRole) changes.push("no system role in the template: none is sent");
  if (q.defaultSystemPrompt) changes.push("the template adds its own default system prompt");
  changes.push(q.bosInTemplate ? "BOS written by the template (no second one added)" : "no BOS added outside the template");
  return { label: preset?.label ?? null, learningRateBand: `${formatRate(chosen.learningRate.min)}–${formatRate(chosen.learningRate.max)}`, changes };
}
