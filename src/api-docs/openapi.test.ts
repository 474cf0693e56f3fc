import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { servedRoutes } from "../../tests/helpers/routes.ts";
import { makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";

let t: TestApp;
beforeEach(() => (t = makeTestApp()));
afterEach(() => t.close());

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>; requestBody?: unknown }>>; components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> } };

/** Every (method, path) the app serves under /api, in OpenAPI's path syntax. */
function servedApiRoutes(): string[] {
  const served = servedRoutes(t.app)
    .filter((r) => r.path.startsWith("/api/"))
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`);
  // The document's own routes describe the rest; they are not part of it.
  return served.filter((r) => r !== "get /api/openapi.json" && r !== "get /api/docs").sort();
}

describe("the OpenAPI document", () => {
  test("lists every /api route, and only routes that exist", async () => {
    const doc = (await (await t.request("/api/openapi.json")).json()) as Doc;
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`)).sort();
    expect(documented).toEqual(servedApiRoutes());
  });

  test("every operation answers errors in the one shape { detail, error_code }", async () => {
    const doc = (await (await t.request("/api/openapi.json")).json()) as Doc;
    expect(doc.components.schemas.Error?.required).toEqual(["detail", "error_code"]);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
        expect({ op: `${method} ${path}`, errors: errors.length > 0 }).toEqual({ op: `${method} ${path}`, errors: true });
        for (const [, r] of errors) expect(r.content?.["application/json"]?.schema?.$ref).toBe("#/components/schemas/Error");
      }
    }
  });

  test("request bodies come from the schemas the routes validate with", async () => {
    const doc = (await (await t.request("/api/openapi.json")).json()) as Doc;
    const start = doc.paths["/api/projects/{id}/train/start"]!.post!.requestBody as { content: { "application/json": { schema: { properties: Record<string, { minimum?: number; maximum?: number }> } } } };
    // The same bounds the Train form and the route enforce.
    expect(start.content["application/json"].schema.properties.num_epochs).toMatchObject({ minimum: 0.1, maximum: 100 });
    const res = await t.json("POST", "/api/projects", { name: "" });
    expect(res.status).toBe(422);
    expect(Object.keys(await res.json())).toEqual(expect.arrayContaining(["detail", "error_code"]));
  });

  test("the docs page lists every path", async () => {
    const res = await t.request("/api/docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    const doc = (await (await t.request("/api/openapi.json")).json()) as Doc;
    for (const path of Object.keys(doc.paths)) expect(html).toContain(path);
  });
});
