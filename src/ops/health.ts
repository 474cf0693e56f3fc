/** /healthz (no token needed, reveals only up / down per check) and /api/version. */
import { z } from "zod";
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { existsSync } from "node:fs";
import { Hono } from "hono";
import type { Db } from "../db/client.ts";
import type { AppEnv } from "../lib/app-env.ts";
import pkg from "../../package.json" with { type: "json" };

export function healthRoutes(db: Db, python: string) {
  return new Hono<AppEnv>()
    .get("/healthz", (c) => {
      let database = "ok";
      try {
        // Takes and releases the write lock: proves the database is writable.
        db.$client.exec("BEGIN IMMEDIATE; ROLLBACK");
      } catch {
        database = "error";
      }
      const checks = { database, python: existsSync(python) ? "ok" : "missing" };
      const status = database === "ok" ? (checks.python === "ok" ? "ok" : "degraded") : "error";
      return c.json({ status, checks }, database === "ok" ? 200 : 503);
    });
}

export const VERSION_API = defineApi({
  name: "Server",
  description: "What is running.",
  operations: {
    version: { method: "get", path: "/version", summary: "Name and version of the server", response: { status: 200, description: "The server", schema: z.object({ name: z.literal("finetuneflow"), version: z.string(), bun: z.string() }) }, errors: [] },
  },
});

export const versionApiRoutes = () => apiRoutes(VERSION_API, { version: () => ({ name: "finetuneflow" as const, version: pkg.version, bun: Bun.version }) });
