/**
 * Turning request bodies into typed values, or into AppErrors that say what is wrong:
 * malformed JSON → 400, a body that breaks the schema → 422 with per-field messages.
 */
import type { Context } from "hono";
import { z } from "zod";
import { AppError } from "./errors.ts";

export function fieldErrors(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join(".") : "_";
    if (!(key in fields)) fields[key] = describe(issue);
  }
  return fields;
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return `Unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}.`;
  if (issue.code === "invalid_type" && issue.input === undefined) return "This field is required.";
  return issue.message;
}

export function validationError(error: z.ZodError): AppError {
  const fields = fieldErrors(error);
  const summary = Object.entries(fields)
    .map(([k, v]) => (k === "_" ? v : `${k}: ${v}`))
    .join(" ");
  return new AppError(422, "validation_error", summary, fields);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error);
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
