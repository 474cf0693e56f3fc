/**
 * One `serve` process (the trainer's playground worker, serve-protocol.ts): a router of
 * its stdout lines to the request they answer, and a lock so requests run one at a time.
 */
import { readLines } from "../lib/lines.ts";
import { serveEventSchema, type ServeAsk, type ServeEvent } from "../training/serve-protocol.ts";

/** The grace a reply has after its cancel before the process is killed. */
const KILL_GRACE_MS = 30_000;

/** One `serve` process: a line router, and a lock so requests run one at a time. */
export class Worker {
  private listeners = new Map<string, (e: ServeEvent) => void>();
  private lock: Promise<void> = Promise.resolve();
  readonly ready: Promise<void>;
  exited = false;
  private failure: string | null = null;

  constructor(private readonly proc: ReturnType<typeof Bun.spawn>, onExit: () => void) {
    let resolveReady!: () => void;
    let rejectReady!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((resolveReady = res), (rejectReady = rej)));
    this.ready.catch(() => {});
    void (async () => {
      for await (const line of readLines(proc.stdout as ReadableStream<Uint8Array>)) {
        const parsed = serveEventSchema.safeParse(JSON.parse(line));
        if (!parsed.success) continue;
        const e = parsed.data;
        if (e.event === "ready") resolveReady();
        else if (e.event === "error" && !e.id) this.failure = e.message;
        else if (e.event === "token" || e.event === "done" || e.event === "error") this.listeners.get(e.id ?? "")?.(e);
      }
    })().catch(() => {});
    void proc.exited.then(() => {
      this.exited = true;
      rejectReady(new Error(this.failure ?? "the playground worker stopped while loading the model"));
      for (const l of this.listeners.values()) l({ event: "error", id: null, error_code: "worker_stopped", message: this.failure ?? "The playground worker stopped." });
      onExit();
    });
  }

  /**
   * The request's events, in order, until done or error. When `signal` aborts (the
   * client went away) or the reply outlives its time limit, the worker is told to
   * cancel it; one that still has not ended KILL_GRACE_MS later (a prefill that will
   * not end) is killed, and the next request starts a new worker.
   */
  async *ask(request: ServeAsk, signal?: AbortSignal): AsyncGenerator<ServeEvent> {
    let release!: () => void;
    const previous = this.lock;
    this.lock = new Promise((r) => (release = r));
    await previous;
    const stdin = this.proc.stdin as import("bun").FileSink;
    const send = (line: object) => {
      if (this.exited) return;
      stdin.write(`${JSON.stringify(line)}\n`);
      stdin.flush();
    };
    let ended = false;
    let killTimer: ReturnType<typeof setTimeout> | null = null;
    const cancel = () => {
      if (ended || killTimer) return;
      send({ cancel: request.id });
      killTimer = setTimeout(() => this.stop(), KILL_GRACE_MS);
    };
    const limitTimer = setTimeout(cancel, request.time_limit_seconds * 1000 + 5_000);
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      const queue: ServeEvent[] = [];
      let wake: (() => void) | null = null;
      this.listeners.set(request.id, (e) => {
        queue.push(e);
        wake?.();
      });
      send(request);
      for (;;) {
        while (queue.length) {
          const e = queue.shift()!;
          if (e.event === "done" || e.event === "error") ended = true;
          yield e;
          if (ended) return;
        }
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      // Left early (the route stopped reading): the worker must not go on for nobody.
      if (!ended) cancel();
      if (ended && killTimer) clearTimeout(killTimer);
      clearTimeout(limitTimer);
      signal?.removeEventListener("abort", cancel);
      this.listeners.delete(request.id);
      release();
    }
  }

  /** Stops the process; `why` is what a request still waiting on it is told. */
  stop(why?: string) {
    if (why) this.failure = why;
    this.proc.kill("SIGTERM");
  }
}
