/** Entry point: config from env, open + migrate the database, serve. */
import { mkdirSync } from "node:fs";
import { createApp } from "./app.tsx";
import { ConfigError, parseConfig } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { databasePath } from "./lib/data-dir.ts";
import { createLogger } from "./lib/logger.ts";
import { createJobQueue } from "./jobs/queue.ts";

function start() {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(databasePath(config.dataDir));
  const queue = createJobQueue({ db, logger });
  const app = createApp({ db, queue, config, logger });
  const recovered = queue.recover();
  if (recovered) logger.info("jobs resumed after a restart", { count: recovered });
  queue.start();
  const server = Bun.serve({
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

  const stop = async () => {
    server.stop();
    await queue.stop();
    db.$client.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

start();
