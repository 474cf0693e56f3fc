/**
 * The one way the app runs the Python trainer: a typed function per trainer command
 * (python/finetuneflow_trainer/cli.py), each with its argv, its environment and its own
 * `complete` payload, parsed by that command's schema. The environment is merged here
 * once: the server's trainer settings, then the project's weights cache (offline Hub
 * cache variables, weights-service.ts), then what a call adds.
 *
 * How the app runs the trainer's export, for example: `client.export(projectId, runDir,
 * { merge: true })` → `python -m finetuneflow_trainer export --run <dir> --merge`, its
 * progress events to `onProgress`, its `complete` metrics checked by exportMetricsSchema.
 */
import type { z } from "zod";
import type { Logger } from "../lib/logger.ts";
import {
  answersMetricsSchema,
  evaluationMetricsSchema,
  exportMetricsSchema,
  hardwareInfoSchema,
  ollamaPrepareMetricsSchema,
  probeMetricsSchema,
  runMetricsSchema,
  type HardwareInfo,
  type TrainerEvent,
} from "./events.ts";
import { runTrainer, type RunHandlers, type SupervisorResult, type TrainerSettings } from "./supervisor.ts";

/** What one call may add: where its progress goes, extra handlers, its own env (a download just made), a stop signal. */
export type TrainerCall = {
  signal?: AbortSignal;
  onProgress?: (pct: number, message: string | undefined, e: Extract<TrainerEvent, { event: "progress" }>) => void;
  onEvent?: (e: TrainerEvent) => void;
  onStderr?: (line: string) => void;
  onRejected?: RunHandlers["onRejected"];
  env?: Record<string, string>;
};

/** The process's outcome, the command's typed `complete` payload (null when it sent none that fits), and a sentence on failure. */
export type CommandResult<T> = SupervisorResult & { complete: T | null; failure: string | null };

/** The user's sentence for a failed run: the trainer's own error and advice, else why it did not start, else its exit code. */
export function trainerFailure(result: SupervisorResult, what: string): string | null {
  if (result.exitCode === 0 && !result.spawnError) return null;
  if (result.lastError) return `${result.lastError.message}${result.lastError.advice ? ` ${result.lastError.advice}` : ""}`;
  if (result.spawnError) return `The trainer could not start: ${result.spawnError}. Check FTF_PYTHON and the Python env (npm start sets it up).`;
  return `${what} failed (exit code ${result.exitCode}).`;
}

const flag = (name: string, value: string | number | null | undefined) => (value === null || value === undefined ? [] : [`--${name}`, String(value)]);

export function createTrainerClient(deps: { settings: TrainerSettings; envFor?: (projectId: string) => Record<string, string>; logger: Logger }) {
  /** The settings for one call: server env, then the project's weights env, then the call's own. */
  function settingsFor(projectId: string | null, env?: Record<string, string>): TrainerSettings {
    return { ...deps.settings, env: { ...deps.settings.env, ...(projectId ? deps.envFor?.(projectId) : {}), ...env } };
  }

  async function command<S extends z.ZodType>(projectId: string | null, args: string[], complete: S, what: string, call: TrainerCall = {}): Promise<CommandResult<z.infer<S>>> {
    let payload: z.infer<S> | null = null;
    const result = await runTrainer({
      trainer: settingsFor(projectId, call.env),
      args,
      signal: call.signal,
      logger: deps.logger,
      handlers: {
        onEvent: (e) => {
          if (e.event === "progress") call.onProgress?.(e.progress_pct, e.message, e);
          if (e.event === "complete") {
            const parsed = complete.safeParse(e.metrics);
            if (parsed.success) payload = parsed.data;
            else deps.logger.warn("trainer complete payload does not fit its command", { command: args[0], issue: parsed.error.issues[0]?.message });
          }
          call.onEvent?.(e);
        },
        onStderr: call.onStderr ?? (() => {}),
        onRejected: call.onRejected,
      },
    });
    return { ...result, complete: payload, failure: trainerFailure(result, what) };
  }

  return {
    settingsFor,

    /** `hardware`: the machine's GPU, libraries and a recommendation; its answer is a `hardware` event, not `complete`. */
    async hardware(need: { params: number; loraGb: number; qloraGb: number } | null, call: TrainerCall = {}): Promise<CommandResult<HardwareInfo>> {
      let info: HardwareInfo | null = null;
      const args = ["hardware", ...(need ? [...flag("params", need.params), ...flag("need-lora-gb", need.loraGb), ...flag("need-qlora-gb", need.qloraGb)] : [])];
      const result = await command(null, args, hardwareInfoSchema, "The hardware check", {
        ...call,
        onEvent: (e) => {
          if (e.event === "hardware") info = hardwareInfoSchema.parse(e);
          call.onEvent?.(e);
        },
      });
      return { ...result, complete: info };
    },

    /** `train`: the run described by <runDir>/run.json (run-config.ts); `resume` continues from its last checkpoint. */
    train: (projectId: string, runDir: string, resume: boolean, call?: TrainerCall) =>
      command(projectId, ["train", "--config", `${runDir}/run.json`, ...(resume ? ["--resume"] : [])], runMetricsSchema, "Training", call),

    /** `probe`: a few real steps at the planned settings, backing off on out-of-memory. */
    probe: (projectId: string, dir: string, steps: number, call?: TrainerCall) =>
      command(projectId, ["probe", "--config", `${dir}/run.json`, ...flag("steps", steps)], probeMetricsSchema, "The measurement", call),

    /** `evaluate`: eval loss, perplexity and before/after samples into <runDir>/evaluation.json. */
    evaluate: (projectId: string, runDir: string, opts: { samples: number; maxNewTokens: number }, call?: TrainerCall) =>
      command(projectId, ["evaluate", "--run", runDir, ...flag("samples", opts.samples), ...flag("max-new-tokens", opts.maxNewTokens)], evaluationMetricsSchema, "The evaluation", call),

    /** `answers`: base and tuned answers to each question of a JSONL file, one JSON line each. */
    answers: (projectId: string, runDir: string, opts: { questions: string; out: string; maxNewTokens: number }, call?: TrainerCall) =>
      command(projectId, ["answers", "--run", runDir, ...flag("questions", opts.questions), ...flag("out", opts.out), ...flag("max-new-tokens", opts.maxNewTokens)], answersMetricsSchema, "Answering the questions", call),

    /** `export`: adapter, report, metrics and one zip; `merge` adds merged weights (the Ollama merged lane). */
    export: (projectId: string, runDir: string, opts: { out?: string; merge?: boolean; provenance?: string }, call?: TrainerCall) =>
      command(projectId, ["export", "--run", runDir, ...flag("out", opts.out), ...(opts.merge ? ["--merge"] : []), ...flag("provenance", opts.provenance)], exportMetricsSchema, "The export", call),

    /** `ollama-prepare`: the Go template, stops and the tuned model's greedy answers for the parity check. */
    ollamaPrepare: (projectId: string, runDir: string, opts: { prompts: string; out: string; maxNewTokens: number }, call?: TrainerCall) =>
      command(projectId, ["ollama-prepare", "--run", runDir, ...flag("prompts", opts.prompts), ...flag("out", opts.out), ...flag("max-new-tokens", opts.maxNewTokens)], ollamaPrepareMetricsSchema, "Preparing the Ollama model", call),

    /** `serve`: the playground's long-lived worker (requests on stdin, events on stdout; serve-protocol in the playground). */
    serveArgs: (runDir: string, idleSeconds: number) => [...deps.settings.command, "serve", "--run", runDir, ...flag("idle-seconds", idleSeconds)],
  };
}
export type TrainerClient = ReturnType<typeof createTrainerClient>;
