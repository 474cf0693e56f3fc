/**
 * Turning request bodies into typed values, or into AppErrors that say what is wrong:
 * malformed JSON → 400, a body that breaks the schema → 422 with per-field messages.
 */
import type { Context } from "hono";
import { z } from "zod";
import { AppError } from "./errors.ts";

/** Per-field messages; with the parsed `input`, a field of the wrong type is told apart from a missing one. */
export function fieldErrors(error: z.ZodError, input?: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join(".") : "_";
    if (!(key in fields)) fields[key] = describe(issue, input);
  }
  return fields;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v = input;
  for (const key of path) v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function describe(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === "unrecognized_keys") return `Unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}.`;
  // zod does not report the value it saw, so look it up: absent means required.
  if (issue.code === "invalid_type" && (input === undefined ? issue.input === undefined : valueAt(input, issue.path) === undefined)) return "This field is required.";
  return issue.message;
}

export function validationError(error: z.ZodError, input?: unknown): AppError {
  const fields = fieldErrors(error, input);
  const summary = Object.entries(fields)
    .map(([k, v]) => (k === "_" ? v : `${k}: ${v}`))
    .join(" ");
  return new AppError(422, "validation_error", summary, fields);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, value);
  return parsed.data;
}

/** A JSON object from the body; `optional` endpoints treat an empty body as {}. */
export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S, opts: { optional?: boolean } = {}): Promise<z.infer<S>> {
  const text = await c.req.text();
  if (text.trim() === "") {
    if (opts.optional) return parseWith(schema, {});
    throw new AppError(400, "empty_body", "The request body is empty; send a JSON object.");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError(400, "invalid_json", "The request body is not valid JSON.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AppError(400, "invalid_json", "The request body must be a JSON object.");
  }
  return parseWith(schema, value);
}

export const parseOptionalJsonBody = <S extends z.ZodType>(c: Context, schema: S) => parseJsonBody(c, schema, { optional: true });

/** The parsed form, or a 400 with a sentence when the body is not a readable form. */
export async function readForm(c: Context, opts: { all?: boolean } = {}): Promise<Record<string, string | File | (string | File)[]>> {
  try {
    return await c.req.parseBody({ all: opts.all ?? false });
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError(400, "invalid_form", "The form could not be read: the request body is malformed.");
  }
}

/** Reads an url-encoded or multipart form into plain strings (files are ignored here). */
export async function readFormFields(c: Context): Promise<Record<string, string>> {
  const body = await readForm(c);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}
