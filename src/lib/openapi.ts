/**
 * The JSON API described as OpenAPI 3.1. Each capability defines its operations once
 * (`…_API` in its routes file, api-operations.ts): the same definition registers the
 * route, parses its input and types its answer; this module turns them into the document
 * served at /api/openapi.json.
 */
import { z } from "zod";
import type { ErrorStatus } from "./errors.ts";

export type ApiOperation = {
  method: "get" | "post" | "patch" | "delete";
  /** Relative to /api, in Hono's syntax (`/projects/:id`). */
  path: string;
  summary: string;
  description?: string;
  /** A JSON body (its zod schema), or a multipart upload described in words. */
  body?: z.ZodType | { multipart: Record<string, string> };
  /** Whether an empty body is accepted (the schema's defaults apply). */
  bodyOptional?: boolean;
  /** The handler parses the body itself (its defaults depend on the project); `body` documents it. */
  parsesOwnBody?: boolean;
  query?: z.ZodObject;
  /** A JSON answer names its schema (the handler is typed by it); a file or an event stream names its content type. */
  response: { status: 200 | 201 | 202; description: string } & ({ schema: z.ZodType; contentType?: undefined } | { contentType: string; schema?: z.ZodType });
  /** The errors this operation can answer, beyond those every route can (401, 403, 421, 5xx). */
  errors: ErrorStatus[];
};

export type ApiTag = { name: string; description: string; operations: ApiOperation[] };

/** The one error shape of the whole API. */
export const apiErrorSchema = z.object({
  detail: z.string().meta({ description: "What went wrong, as a sentence for a person." }),
  error_code: z.string().meta({ description: "A stable code for scripts, e.g. `project_not_found`." }),
  fields: z.record(z.string(), z.string()).optional().meta({ description: "Per-field messages of a 422." }),
});

const ERROR_TEXT: Partial<Record<number, string>> = {
  400: "Malformed request (bad JSON, empty body, invalid multipart)",
  401: "Missing or wrong access token",
  403: "Foreign origin or missing CSRF token",
  404: "Not found",
  409: "Refused in the project's current state",
  413: "Too large",
  415: "Unsupported content type",
  421: "Unknown Host header",
  422: "Validation failed",
  429: "Too many failed attempts",
  502: "A backend (Ollama, the Hub, the trainer) failed",
  503: "Not available right now (disk full, backend down)",
};
const COMMON_ERRORS: ErrorStatus[] = [401, 403, 421];

const toJsonSchema = (schema: z.ZodType, io: "input" | "output") => z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" });
/** Hono's `:name` and `:name{regex}` as OpenAPI's `{name}`. */
export const openApiPath = (path: string) => `/api${path}`.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");

function operation(op: ApiOperation, tag: string) {
  const pathParams = [...op.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1]!, in: "path", required: true, schema: { type: "string" } }));
  const query = op.query
    ? Object.entries((toJsonSchema(op.query, "input") as { properties?: Record<string, unknown> }).properties ?? {}).map(([name, schema]) => ({ name, in: "query", required: false, schema }))
    : [];
  const body =
    op.body === undefined
      ? undefined
      : "multipart" in op.body
        ? {
            required: true,
            content: {
              "multipart/form-data": {
                schema: { type: "object", properties: Object.fromEntries(Object.entries(op.body.multipart).map(([k, description]) => [k, { type: "string", description }])) },
              },
            },
          }
        : { required: !op.bodyOptional, content: { "application/json": { schema: toJsonSchema(op.body as z.ZodType, "input") } } };
  const errors = [...new Set([...op.errors, ...COMMON_ERRORS])].sort();
  return {
    tags: [tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    operationId: `${op.method}${op.path.replace(/(:\w+)\{[^}]*\}/g, "$1").replace(/[:/{}-]+(\w)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    ...(pathParams.length + query.length ? { parameters: [...pathParams, ...query] } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: {
      [op.response.status]: {
        description: op.response.description,
        ...(op.response.schema || op.response.contentType
          ? { content: { [op.response.contentType ?? "application/json"]: op.response.schema ? { schema: toJsonSchema(op.response.schema, "output") } : {} } }
          : {}),
      },
      ...Object.fromEntries(
        errors.map((status) => [status, { description: ERROR_TEXT[status] ?? "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } }]),
      ),
    },
  };
}

export function buildOpenApi(tags: ApiTag[], info: { version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const tag of tags) {
    for (const op of tag.operations) (paths[openApiPath(op.path)] ??= {})[op.method] = operation(op, tag.name);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "FineTuneFlow API",
      version: info.version,
      description: "Everything the wizard does, for scripts. Errors are always `{ detail, error_code }` with a fitting status. Send the access token as `Authorization: Bearer …` when the server has one.",
    },
    servers: [{ url: "/" }],
    tags: tags.map(({ name, description }) => ({ name, description })),
    paths,
    components: {
      schemas: { Error: toJsonSchema(apiErrorSchema, "output") },
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "FTF_AUTH_TOKEN, when set." } },
    },
    security: [{}, { bearer: [] }],
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApi>;
