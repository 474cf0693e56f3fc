/**
 * One definition per API operation (decision 0013): its method, path, body, query and
 * response schemas describe it in the OpenAPI document (openapi.ts) and, through
 * `apiRoutes`, register its route, parse its input and type its handler's answer. A
 * route cannot exist without its documentation, nor a handler answer a shape its
 * schema does not allow (the type check); with FTF_CHECK_API_RESPONSES set (the test
 * suite sets it) every JSON answer is also checked against its schema at run time, so
 * a field the document does not name fails the test that produced it.
 */
import { Hono, type Context } from "hono";
import type { ParamKeys } from "hono/types";
import type { z } from "zod";
import type { AppEnv } from "./app-env.ts";
import type { ApiOperation, ApiTag } from "./openapi.ts";
import { parseJsonBody, parseWith } from "./validation.ts";

type BodyOf<O> = O extends { parsesOwnBody: true } ? undefined : O extends { body: infer B extends z.ZodType } ? z.infer<B> : undefined;
type QueryOf<O> = O extends { query: infer Q extends z.ZodType } ? z.infer<Q> : undefined;
/** A JSON operation answers its schema's shape (or a Response it built: an error that carries more than detail and error_code); the others a Response. */
type ReplyOf<O> = O extends { response: { schema: infer S extends z.ZodType; contentType?: undefined } } ? z.input<S> | Response : Response;

/** The path's parameters (`:id` → `params.id`), from the operation's path. */
type ParamsOf<O> = O extends { path: infer P extends string } ? { [K in ParamKeys<P>]: string } : Record<string, never>;
export type OperationInput<O> = { body: BodyOf<O>; query: QueryOf<O>; params: ParamsOf<O> };
export type OperationHandler<O> = (c: Context<AppEnv>, input: OperationInput<O>) => ReplyOf<O> | Promise<ReplyOf<O>>;

/** A tag whose operations are named, so each gets exactly one handler. */
export type ApiGroup<Ops extends Record<string, ApiOperation>> = Omit<ApiTag, "operations"> & { operations: Ops };

export const defineApi = <const Ops extends Record<string, ApiOperation>>(group: ApiGroup<Ops>) => group;

/** The group as the OpenAPI document lists it. */
export const asTag = (group: ApiGroup<Record<string, ApiOperation>>): ApiTag => ({ name: group.name, description: group.description, operations: Object.values(group.operations) });

/** The group's routes (relative to /api), one per operation, each parsing its input and answering with its response status. */
export function apiRoutes<Ops extends Record<string, ApiOperation>>(group: { operations: Ops }, handlers: { [K in keyof Ops]: OperationHandler<Ops[K]> }) {
  const app = new Hono<AppEnv>();
  for (const [name, op] of Object.entries(group.operations)) {
    const handler = handlers[name] as OperationHandler<ApiOperation>;
    app.on(op.method.toUpperCase(), op.path, async (c) => {
      const body = op.body && !("multipart" in op.body) && !op.parsesOwnBody ? await parseJsonBody(c, op.body, { optional: op.bodyOptional }) : undefined;
      const query = op.query ? parseWith(op.query, c.req.query()) : undefined;
      const out: unknown = await handler(c, { body, query, params: c.req.param() } as OperationInput<ApiOperation>);
      if (out instanceof Response) return out;
      if (process.env.FTF_CHECK_API_RESPONSES) checkAnswer(op, out);
      return c.json(out as object, op.response.status);
    });
  }
  return app;
}

/** Throws when a JSON answer does not fit its documented schema or carries a field it does not name. */
export function checkAnswer(op: ApiOperation, out: unknown) {
  const where = `${op.method.toUpperCase()} /api${op.path}`;
  if (!op.response.schema) throw new Error(`${where} answered JSON but documents no response schema.`);
  const json: unknown = JSON.parse(JSON.stringify(out));
  const parsed = op.response.schema.safeParse(json);
  if (!parsed.success) throw new Error(`${where} answered outside its documented schema: ${parsed.error.message}`);
  const extra = undocumentedFields(json, parsed.data, "");
  if (extra.length > 0) throw new Error(`${where} answered fields its schema does not document: ${extra.join(", ")}`);
}

/** Paths of object keys in `sent` that the schema's parse dropped (zod strips unknown keys). */
function undocumentedFields(sent: unknown, kept: unknown, at: string): string[] {
  if (Array.isArray(sent) && Array.isArray(kept)) return sent.flatMap((v, i) => undocumentedFields(v, kept[i], `${at}[${i}]`)).slice(0, 5);
  if (!isPlainObject(sent) || !isPlainObject(kept)) return [];
  return Object.keys(sent).flatMap((k) => (k in kept ? undocumentedFields(sent[k], kept[k], `${at}.${k}`) : [`${at}.${k}`.slice(1)]));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
