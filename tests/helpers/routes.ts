import type { TestApp } from "./test-app.ts";

/** Every route the app serves, from Hono's own table, so a new route cannot skip a check. */
export function servedRoutes(app: TestApp["app"]) {
  const seen = new Set<string>();
  return app.routes
    .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
    .map((r) => ({ method: r.method, path: r.path }))
    .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`));
}
