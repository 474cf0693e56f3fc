/**
 * The Hardware step: runs the trainer's `hardware` command (GPU, VRAM, CUDA, PyTorch,
 * a real bitsandbytes 4-bit probe) with this project's VRAM needs, estimated from the
 * model's shape and the dataset's real token lengths (p95), not only max_seq_length.
 */
import { z } from "zod";
import type { ExampleStore } from "../datasets/example-store.ts";
import { CUT_WARNING_SHARE, type ReadinessService } from "../readiness/service.ts";
import type { SettingsStore } from "../db/settings.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { JobError, type JobQueue } from "../jobs/queue.ts";
import { BASE_OVERHEAD_GB, estimateVram, layersToCheckpoint, SLACK, type VramInput } from "../models/vram.ts";
import { formatRate } from "../lib/format.ts";
import type { ProjectService } from "../projects/service.ts";
import { projectHardwareSchema, TRAINING_DEFAULTS, type ProjectHardware, type TrainingConfig, type TrainPlanView } from "./schemas.ts";
import type { ProbeRecord } from "./schemas.ts";
import type { TrainerClient } from "./trainer-client.ts";

export const HARDWARE_JOB = "hardware_check";

export type { ProjectHardware };

/** The settings key of the last machine-level check (GET /api/hardware/check without a project). */
const MACHINE_HARDWARE = "machine_hardware";

/** A plan "fits" when its peak is within this share of the free GPU memory. */
const FIT_SHARE = 0.85;

/** Families whose loss Liger's fused linear cross-entropy replaces on CUDA (liger-kernel's list, the common ones). */
const LIGER_FAMILIES = new Set(["llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3", "gemma3_text", "phi3", "granite", "olmo2", "glm4", "smollm3"]);

export function createHardwareService(deps: {
  examples: ExampleStore;
  readiness: ReadinessService;
  queue: JobQueue;
  projects: ProjectService;
  settings: SettingsStore;
  trainer: TrainerClient;
  logger: Logger;
  /** The project's last "Measure on this GPU" result (probe.ts), which calibrates the plan. */
  probeFor?: (projectId: string) => ProbeRecord | null;
}) {
  /**
   * VRAM for this project's model and data, at the planned batch size, LoRA and QLoRA.
   * Peak memory is set by the longest batch (length-grouped batches put it first): the
   * longest example as the trainer will cut it, from the real token counts.
   */
  function estimate(projectId: string, config: Partial<TrainingConfig> = {}) {
    const project = deps.projects.get(projectId);
    const info = project.modelInfo;
    if (!info?.dims) return null;
    const maxSeq = config.max_seq_length ?? deps.readiness.suggested(projectId);
    const lengths = deps.readiness.lengthsAt(projectId, maxSeq);
    const seqLen = lengths.n ? Math.min(maxSeq, lengths.maxTokens) : maxSeq;
    const p95 = deps.examples.p95Tokens(projectId);
    const hw = forProject(projectId);
    // The trainer replaces the logits with Liger's fused loss on CUDA for the families it knows.
    const fusedCrossEntropy = hw?.cuda_available === true && config.use_liger !== false && LIGER_FAMILIES.has(info.model_type);
    const base = { dims: info.dims, numParameters: info.num_parameters, batchSize: config.per_device_batch_size ?? TRAINING_DEFAULTS.per_device_batch_size, seqLen, loraR: config.lora_r ?? TRAINING_DEFAULTS.lora_r, fusedCrossEntropy };
    const layers = (method: "lora" | "qlora") => checkpointedLayers(projectId, config, { ...base, mode: method }, hw);
    const lora = layers("lora");
    const qlora = layers("qlora");
    return {
      seq_len: seqLen,
      p95_tokens: p95,
      lora: estimateVram({ ...base, mode: "lora", checkpointedLayers: lora }),
      qlora: estimateVram({ ...base, mode: "qlora", checkpointedLayers: qlora }),
      params: info.num_parameters,
      checkpointed_layers: { lora, qlora, of: info.dims.layers },
    };
  }

  /**
   * How many decoder layers a run checkpoints: all or none as asked; `auto` (the default)
   * the fewest that fit the GPU's free memory with the plan's margin (decision 0008), scaled
   * by a probe's measured ÷ estimated when there is one; none on a CPU, all when the free
   * memory is unknown or nothing fits.
   */
  function checkpointedLayers(projectId: string, config: Partial<TrainingConfig>, input: Omit<VramInput, "checkpointedLayers" | "gradientCheckpointing">, hw: ProjectHardware | null): number {
    const mode = config.checkpointing ?? "auto";
    if (mode === "none") return 0;
    if (mode === "all" || input.mode === "load_16bit" || input.mode === "load_4bit") return input.dims.layers;
    if (!hw?.cuda_available) return 0;
    if (hw.vram_free_gb === null) return input.dims.layers;
    const factor = calibration(projectId, input.mode).factor ?? 1;
    // total = allocated·(1 + slack) + context: the allocator's share of the free memory, less the margin.
    const budget = (hw.vram_free_gb * FIT_SHARE - BASE_OVERHEAD_GB) / (1 + SLACK) / factor;
    return layersToCheckpoint(input, budget) ?? input.dims.layers;
  }

  async function check(projectId?: string): Promise<ProjectHardware> {
    const est = projectId ? estimate(projectId) : null;
    const result = await deps.trainer.hardware(est ? { params: est.params, loraGb: est.lora.total_gb, qloraGb: est.qlora.total_gb } : null);
    const info = result.complete;
    const python = deps.trainer.settingsFor(null).command[0]!;
    if (result.spawnError) throw pythonMissing(python, result.spawnError);
    if (result.exitCode !== 0 || !info) {
      if (result.exitCode === 1 && !result.lastError) throw pythonMissing(python, `exit code ${result.exitCode}`);
      throw new AppError(502, "hardware_check_failed", result.lastError?.message ?? `The hardware check failed (exit code ${result.exitCode}).`);
    }
    const full: ProjectHardware = { ...info, estimate: est ? { seq_len: est.seq_len, p95_tokens: est.p95_tokens, lora: est.lora, qlora: est.qlora } : null, checked_at: new Date().toISOString() };
    // The machine's answer holds for every project; a project's check adds its estimate.
    deps.settings.set(MACHINE_HARDWARE, { ...full, estimate: null });
    if (projectId) deps.projects.setHardware(projectId, full);
    return full;
  }

  deps.queue.register(HARDWARE_JOB, {
    payload: z.object({ projectId: z.string() }),
    group: "cpu",
    maxAttempts: 1,
    run: async ({ payload }) => {
      try {
        const hw = await check(payload.projectId);
        return { recommended_method: hw.recommended_method };
      } catch (err) {
        throw new JobError(err instanceof Error ? err.message : String(err));
      }
    },
  });

  /** This project's check, else the last machine-level one (the spec's client checks without a project). */
  function forProject(projectId: string): ProjectHardware | null {
    const project = deps.projects.get(projectId);
    return project.hardwareInfo ?? deps.settings.get(MACHINE_HARDWARE, projectHardwareSchema);
  }

  /** A measurement of this method calibrates the estimate: measured ÷ estimated at the probed settings. */
  function calibration(projectId: string, method: "lora" | "qlora") {
    const probe = deps.probeFor?.(projectId) ?? null;
    if (!probe || probe.method !== method) return { probe, factor: null };
    const factor = probe.peak_vram_gb && probe.estimate_allocated_gb ? probe.peak_vram_gb / probe.estimate_allocated_gb : null;
    return { probe, factor };
  }

  /** The Train form's live plan: peak VRAM vs free, optimizer steps, a rough ETA, warnings. */
  function plan(projectId: string, config: TrainingConfig): TrainPlanView {
    const project = deps.projects.get(projectId);
    const hw = forProject(projectId);
    const method = config.method ?? hw?.recommended_method ?? "lora";
    const est = estimate(projectId, config);
    const { probe, factor } = calibration(projectId, method);
    const estimated = est ? est[method] : null;
    // Only the allocator's share scales; the CUDA context and slack are not what the probe measured.
    const peak = estimated ? Math.round(100 * (factor ? estimated.total_gb + estimated.allocated_gb * (factor - 1) : estimated.total_gb)) / 100 : null;
    const free = hw?.vram_free_gb ?? null;
    const fit = !hw?.cuda_available ? "cpu" : peak === null || free === null ? "unknown" : peak <= free * FIT_SHARE ? "fits" : peak <= free ? "tight" : "no_fit";
    const lengths = deps.readiness.lengthsAt(projectId, config.max_seq_length, ["train"]);
    const train = lengths.n;
    const perStep = config.per_device_batch_size * config.gradient_accumulation_steps;
    const steps = config.max_steps ?? Math.ceil(Math.ceil(train / perStep) * config.num_epochs);
    // Training costs ~6·N FLOPs per token: a GPU sustains ~1e14 of them (less with 4-bit
    // dequantisation), a CPU ~5e10. Rough on purpose: the live view measures the real rate.
    // The tokens are the real ones: each example as cut at max_seq_length.
    const flops = hw?.cuda_available ? (method === "qlora" ? 6e13 : 1e14) : 5e10;
    const params = project.modelInfo?.num_parameters ?? 0;
    const tokens = steps * perStep * (train ? lengths.windowTokens / train : 0);
    const measuredRate = probe?.method === method ? probe.tokens_per_second : null;
    const etaSeconds = measuredRate ? Math.round(tokens / measuredRate) : params ? Math.round((tokens * 6 * params) / flops) : null;
    const warnings: string[] = [];
    if (steps < 20) warnings.push(`Only ${steps} optimizer step${steps === 1 ? "" : "s"}: too few to learn much. Add epochs or examples, or lower gradient accumulation.`);
    warnings.push(...lengthWarnings(lengths, config.max_seq_length, () => deps.readiness.suggested(projectId)));
    const preset = deps.readiness.preset(projectId);
    if (preset && (config.learning_rate < preset.learningRate.min || config.learning_rate > preset.learningRate.max)) {
      warnings.push(`A learning rate of ${formatRate(config.learning_rate)} is outside the ${preset.label} band (${formatRate(preset.learningRate.min)}–${formatRate(preset.learningRate.max)}).`);
    }
    if (fit === "no_fit") warnings.push(`This needs ~${peak} GB but only ${free} GB of GPU memory are free: lower the batch size or sequence length${method === "lora" ? ", or use QLoRA" : ""}.`);
    if (fit === "cpu") warnings.push("No GPU: training runs on the CPU, which is only practical for tiny models.");
    if (probe && !probe.fits) warnings.push(`Measured on this GPU: nothing fits, even after ${probe.changes.join(", ")}. Pick a smaller model.`);
    else if (probe?.changes.length) warnings.push(`Measured on this GPU: the planned settings ran out of memory; ${probe.changes.join(", then ")} fits.`);
    const packing = config.packing === false ? "off (turned off)" : project.modelInfo?.needs_remote_code ? "off: the model runs its own code, whose masking cannot be verified" : "on where the trainer verifies at start that packed examples cannot see each other";
    return {
      method,
      peak_gb: peak,
      free_gb: free,
      fit,
      optimizer_steps: steps,
      train_examples: train,
      eta_seconds: etaSeconds,
      packing,
      checkpointing: est ? { mode: config.checkpointing ?? "auto", layers: est.checkpointed_layers[method], of: est.checkpointed_layers.of } : null,
      calibrated: factor !== null,
      measured: probe ? { peak_vram_gb: probe.peak_vram_gb, tokens_per_second: probe.tokens_per_second, method: probe.method, chosen: probe.chosen, changes: probe.changes, checked_at: probe.checked_at } : null,
      warnings,
    };
  }

  /** The estimator's allocator peak at these settings (what a probe's measurement is compared with). */
  function estimateAllocated(projectId: string, config: TrainingConfig & { method: "lora" | "qlora" }): number | null {
    return estimate(projectId, config)?.[config.method].allocated_gb ?? null;
  }

  return {
    check,
    estimate,
    estimateAllocated,
    /** How many decoder layers `auto` checkpoints at these settings; null when the model's shape is unknown. */
    checkpointLayers: (projectId: string, config: TrainingConfig, method: "lora" | "qlora"): number | null => estimate(projectId, config)?.checkpointed_layers[method] ?? null,
    forProject,
    plan,
    start(projectId: string) {
      deps.projects.get(projectId);
      return deps.queue.enqueue(HARDWARE_JOB, projectId, { projectId });
    },
  };
}

/** Warnings on how the training examples fare at max_seq_length (cut, dropped, none whole). */
function lengthWarnings(l: { n: number; fit: number; truncated: number; dropped: number }, maxSeq: number, suggested: () => number): string[] {
  if (l.n === 0) return [];
  if (l.fit === 0) return [`No training example fits whole in ${maxSeq} tokens: training will refuse to start. Use ${suggested()} (suggested).`];
  const lost = l.truncated + l.dropped;
  if (lost / l.n <= CUT_WARNING_SHARE) return [];
  const share = Math.round((1000 * lost) / l.n) / 10;
  return [`${share}% of the training examples don't fit in ${maxSeq} tokens (${l.truncated} cut, ${l.dropped} dropped). ${suggested()} tokens keeps 99% whole.`];
}

const pythonMissing = (python: string, why: string) =>
  new AppError(
    503,
    "python_env_missing",
    `The trainer's Python environment is missing or broken (${python}: ${why}). Run \`npm start\` once (it creates python/.venv), or set FTF_PYTHON to a Python with torch, transformers and peft.`,
  );

export type HardwareService = ReturnType<typeof createHardwareService>;
