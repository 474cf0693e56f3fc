/** /healthz (no token needed, reveals only up / down per check) and /api/version. */
import type { ApiTag } from "../lib/openapi.ts";
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
    })
    .get("/api/version", (c) => c.json({ name: "finetuneflow", version: pkg.version, bun: Bun.version }));
}

export const VERSION_API: ApiTag = {
  name: "Server",
  description: "What is running.",
  operations: [{ method: "get", path: "/version", summary: "Name and version of the server", response: { status: 200, description: "`{ name, version, bun }`" }, errors: [] }],
};
