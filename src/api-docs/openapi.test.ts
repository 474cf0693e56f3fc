import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { servedRoutes } from "../../tests/helpers/routes.ts";
import type { ApiOperation } from "../lib/openapi.ts";
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

  test("every answer is typed: a JSON schema for JSON, a content type for files and event streams", async () => {
    const doc = (await (await t.request("/api/openapi.json")).json()) as Doc;
    const untyped: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const [status, ok] = Object.entries(op.responses).find(([s]) => Number(s) < 300)!;
        const content = ok.content ?? {};
        const json = content["application/json"];
        if (json ? !json.schema || Object.keys(json.schema).length === 0 : Object.keys(content).length === 0) untyped.push(`${method} ${path} ${status}`);
      }
    }
    expect(untyped).toEqual([]);
    // A nested schema comes through whole: the job a job_id names, the project's model.
    const project = doc.paths["/api/projects/{id}"]!.get!.responses["200"]!.content!["application/json"]!.schema as { required?: string[] };
    expect(project.required).toEqual(expect.arrayContaining(["id", "name", "status", "model_info", "config", "created_at"]));
  });

  test("an answer outside its schema, or with a field the schema does not name, is caught", async () => {
    const { checkAnswer } = await import("../lib/api-operations.ts");
    const { z } = await import("zod");
    const op: ApiOperation = { method: "get", path: "/things/:id", summary: "A thing", response: { status: 200, description: "The thing", schema: z.object({ id: z.string(), tags: z.array(z.object({ name: z.string() })) }) }, errors: [] };
    expect(() => checkAnswer(op, { id: "a", tags: [{ name: "x" }] })).not.toThrow();
    expect(() => checkAnswer(op, { id: 1, tags: [] })).toThrow("GET /api/things/:id answered outside its documented schema");
    expect(() => checkAnswer(op, { id: "a", tags: [{ name: "x", colour: "red" }], secret: "/home/me" })).toThrow("answered fields its schema does not document: tags[0].colour, secret");
  });

  test("the docs page lists every path", async () => {
    const res = await t.request("/api/docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    const doc = (await (await t.request("/api/openapi.json")).json()) as Doc;
    for (const path of Object.keys(doc.paths)) expect(html).toContain(path);
  });
});
