/**
 * Runs the Python trainer as a child process: argv array (never a shell string),
 * every stdout line parsed and checked against the event schema, stderr kept as the
 * human log. Stop = SIGTERM, a grace period for the trainer to checkpoint, then
 * SIGKILL. The exit code, not the presence of a file, decides success.
 */
import { readLines } from "../lib/lines.ts";
import type { Logger } from "../lib/logger.ts";
import { trainerEventSchema, type TrainerEvent } from "./events.ts";

export type SupervisorResult = {
  exitCode: number;
  signal: string | null;
  stopped: boolean;
  lastError: Extract<TrainerEvent, { event: "error" }> | null;
  /** Set when the process could not be started at all (no such interpreter…). */
  spawnError?: string;
};

/** Exit code reported when the trainer could not be started (as a shell would). */
export const EXIT_NOT_STARTED = 127;

export type RunHandlers = {
  onEvent: (e: TrainerEvent) => void;
  onStderr: (line: string) => void;
  onRejected?: (line: string, reason: string) => void;
};

async function eachLine(stream: ReadableStream<Uint8Array>, fn: (line: string) => void) {
  for await (const line of readLines(stream)) fn(line);
}

/** How to run the trainer: the command (python -m finetuneflow_trainer), its folder, env, grace period. */
export type TrainerSettings = { command: string[]; cwd: string; graceMs: number; env?: Record<string, string> };

type RunOptions = {
  trainer: TrainerSettings;
  args: string[];
  signal?: AbortSignal;
  handlers: RunHandlers;
  logger: Logger;
};

function spawn(opts: RunOptions) {
  return Bun.spawn([...opts.trainer.command, ...opts.args], {
    // Its own process group: a multi-GPU run is the launcher, torchrun and a process per
    // rank, and a stop must reach all of them, not only the launcher.
    detached: true,
    cwd: opts.trainer.cwd,
    // The trainer watches this pid and stops within seconds once the server is gone (watchdog.py).
    env: { ...process.env, PYTHONUNBUFFERED: "1", FTF_SUPERVISOR_PID: String(process.pid), ...opts.trainer.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** The trainer and everything it started (ranks, torchrun); the process alone if the group is gone. */
function signalGroup(proc: { pid: number; kill: (s: NodeJS.Signals) => void }, signal: NodeJS.Signals) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    proc.kill(signal);
  }
}

export function runTrainer(opts: {
  trainer: TrainerSettings;
  args: string[];
  signal?: AbortSignal;
  handlers: RunHandlers;
  logger: Logger;
}): Promise<SupervisorResult> {
  let proc: ReturnType<typeof spawn>;
  try {
    proc = spawn(opts);
  } catch (err) {
    const why = `${opts.trainer.command[0]}: ${(err as Error).message}`;
    return Promise.resolve({ exitCode: EXIT_NOT_STARTED, signal: null, stopped: false, lastError: null, spawnError: why });
  }
  let stopped = false;
  let lastError: SupervisorResult["lastError"] = null;
  let killTimer: ReturnType<typeof setTimeout> | null = null;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    signalGroup(proc, "SIGTERM");
    killTimer = setTimeout(() => {
      opts.logger.warn("trainer did not stop after SIGTERM: killing it", { pid: proc.pid });
      signalGroup(proc, "SIGKILL");
    }, opts.trainer.graceMs);
  };
  if (opts.signal?.aborted) stop();
  opts.signal?.addEventListener("abort", stop, { once: true });

  const out = eachLine(proc.stdout, (line) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      opts.handlers.onRejected?.(line, "not JSON");
      return;
    }
    const parsed = trainerEventSchema.safeParse(value);
    if (!parsed.success) {
      opts.handlers.onRejected?.(line, parsed.error.issues[0]?.message ?? "schema");
      return;
    }
    if (parsed.data.event === "error") lastError = parsed.data;
    opts.handlers.onEvent(parsed.data);
  });
  const err = eachLine(proc.stderr, opts.handlers.onStderr);
  return (async () => {
    const exitCode = await proc.exited;
    await Promise.allSettled([out, err]);
    if (killTimer) clearTimeout(killTimer);
    opts.signal?.removeEventListener("abort", stop);
    return { exitCode, signal: proc.signalCode ? String(proc.signalCode) : null, stopped, lastError };
  })();
}
