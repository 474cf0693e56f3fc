/** A fresh app on a fresh temp-dir database, per test. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app.tsx";
import { openDatabase, type Db } from "../../src/db/client.ts";
import { databasePath } from "../../src/lib/data-dir.ts";
import { silentLogger, type Logger } from "../../src/lib/logger.ts";
import type { Config } from "../../src/config.ts";
import { createJobQueue, type JobQueue } from "../../src/jobs/queue.ts";

export type TestApp = {
  app: ReturnType<typeof createApp>;
  db: Db;
  queue: JobQueue;
  dataDir: string;
  request: (path: string, init?: RequestInit) => Promise<Response>;
  json: (method: string, path: string, body?: unknown) => Promise<Response>;
  close: () => void;
};

const ROOT = join(import.meta.dir, "../..");
export const PYTHON = join(ROOT, "python/.venv/bin/python");
export const TRAINER_DIR = join(ROOT, "python");
/** The fake trainer (tests/fakes/fake-trainer.ts) as a trainer command, for supervisor tests. */
export const FAKE_TRAINER = [process.execPath, join(ROOT, "tests/fakes/fake-trainer.ts")];

export function makeTempDir(prefix = "ftf-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function makeTestApp(
  opts: {
    now?: () => number;
    sleep?: (ms: number) => Promise<unknown>;
    logger?: Logger;
    hub?: Partial<Config["hub"]>;
    generation?: Partial<Config["generation"]>;
    trainer?: { command?: string[]; env?: Record<string, string>; graceMs?: number };
    authToken?: string;
    minFreeMb?: number;
    host?: string;
    allowedHosts?: string[];
    sessionDays?: number;
  } = {},
): TestApp {
  const dataDir = makeTempDir();
  const db = openDatabase(databasePath(dataDir));
  // No test may reach the internet: the Hub defaults to a closed loopback port.
  const hub = { endpoint: "http://127.0.0.1:9", timeoutMs: 2000, ...opts.hub };
  const logger = opts.logger ?? silentLogger;
  const queue = createJobQueue({ db, logger, backoffMs: 1, pollMs: 20 });
  const generation = { ollamaHosts: ["http://127.0.0.1:9"], concurrency: 4, timeoutMs: 5000, groundingThreshold: 0.5, ...opts.generation };
  const trainer = { python: PYTHON, dir: TRAINER_DIR, graceMs: 2000, ...opts.trainer };
  const app = createApp({ db, queue, config: { dataDir, hub, generation, trainer, authToken: opts.authToken, minFreeMb: opts.minFreeMb, host: opts.host, allowedHosts: opts.allowedHosts, sessionDays: opts.sessionDays }, logger, now: opts.now, sleep: opts.sleep });
  const request = (path: string, init?: RequestInit) => Promise.resolve(app.request(path, init));
  return {
    app,
    db,
    queue,
    dataDir,
    request,
    json: (method, path, body) =>
      request(path, {
        method,
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      }),
    close: () => {
      void queue.stop();
      db.$client.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
