/**
 * Entry point: `finetuneflow [--port N] [--host H] [--data-dir D]` serves the app;
 * `finetuneflow backup <file>` copies the database while the server runs.
 * Flags override the environment; config is parsed once and a bad value stops here.
 */
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { createApp } from "./app.tsx";
import { ConfigError, parseConfig } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { databasePath } from "./lib/data-dir.ts";
import { createLogger } from "./lib/logger.ts";
import { createJobQueue } from "./jobs/queue.ts";
import { backupDatabase } from "./ops/backup.ts";
import { EXTRACT_COMMAND, extractionChildMain } from "./documents/extract-child.ts";
import type { SniffedType } from "./documents/sniff.ts";
import pkg from "../package.json" with { type: "json" };

const HELP = `FineTuneFlow ${pkg.version}: from documents to a fine-tuned LLM, in a browser.

Usage:
  finetuneflow [options]            serve the app (default http://127.0.0.1:8000)
  finetuneflow backup <file>        copy the database to <file>, safely while the server runs
  finetuneflow healthcheck          exit 0 when the server on --port answers /healthz

Options:
  --port <n>        port to listen on (env PORT, default 8000)
  --host <addr>     address to bind (env HOST, default 127.0.0.1; others need FTF_AUTH_TOKEN)
  --data-dir <dir>  where the database, uploads and runs live (env FTF_DATA_DIR, default ./data)
  --version         print the version
  --help            print this help

Other settings come from the environment: see the README's configuration table.`;

const SHUTDOWN_LIMIT_MS = 30_000;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

function main() {
  // The document-extraction child (documents/extract-child.ts): no config, no server.
  if (process.argv[2] === EXTRACT_COMMAND) {
    const [type, path, filename] = process.argv.slice(3);
    void extractionChildMain(type as SniffedType, path!, filename!);
    return;
  }
  let args;
  try {
    args = parseArgs({
      args: process.argv.slice(2),
      options: { port: { type: "string" }, host: { type: "string" }, "data-dir": { type: "string" }, version: { type: "boolean" }, help: { type: "boolean" } },
      allowPositionals: true,
    });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${HELP}`);
  }
  if (args.values.help) return console.log(HELP);
  if (args.values.version) return console.log(pkg.version);
  const env = { ...process.env };
  if (args.values.port) env.PORT = args.values.port;
  if (args.values.host) env.HOST = args.values.host;
  if (args.values["data-dir"]) env.FTF_DATA_DIR = args.values["data-dir"];
  let config;
  try {
    config = parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const [command, target] = args.positionals;
  if (command === "backup") {
    if (!target) fail("Usage: finetuneflow backup <file>");
    const { bytes } = backupDatabase(databasePath(config.dataDir), target);
    return console.log(`Backed up ${databasePath(config.dataDir)} to ${target} (${(bytes / 1024 / 1024).toFixed(1)} MB).`);
  }
  if (command === "healthcheck") return healthcheck(config.port);
  if (command) fail(`Unknown command "${command}".\n\n${HELP}`);
  serve(config);
}

/** For Docker's HEALTHCHECK: no curl in the image, the binary asks itself. */
async function healthcheck(port: number) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4000) });
    process.exit(res.ok ? 0 : 1);
  } catch {
    process.exit(1);
  }
}

function serve(config: ReturnType<typeof parseConfig>) {
  const logger = createLogger(config.logLevel);
  mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(databasePath(config.dataDir));
  const queue = createJobQueue({ db, logger });
  let server: ReturnType<typeof Bun.serve> | undefined;
  const app = createApp({ db, queue, config, logger, clientAddress: (req) => server?.requestIP(req)?.address ?? "unknown" });
  const recovered = queue.recover();
  if (recovered) logger.info("jobs resumed after a restart", { count: recovered });
  queue.start();
  server = Bun.serve({
    port: config.port,
    hostname: config.host,
    fetch: app.fetch,
    idleTimeout: 60,
    // Uploads are streamed to disk and limited per file; this only bounds one request.
    maxRequestBodySize: 1024 * 1024 * 1024 + 10 * 1024 * 1024,
  });
  const host = server.hostname ?? config.host;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  console.log(`FineTuneFlow is running at http://${shownHost}:${server.port}/ (data in ${config.dataDir})`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    // Past the limit, exit anyway: a stuck child must not keep the service from stopping.
    setTimeout(() => {
      logger.error("shutdown took too long: exiting");
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    server?.stop();
    // Running jobs are aborted: the trainer gets SIGTERM and checkpoints, others requeue.
    await queue.stop();
    db.$client.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main();
