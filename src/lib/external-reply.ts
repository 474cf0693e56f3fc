/**
 * Replies from servers this app does not control (the Hub, Ollama, OpenAI-compatible
 * servers) are parsed with a zod schema, never cast: a reply that does not fit becomes a
 * sentence naming the server and the field, not an undefined read three calls later.
 */
import type { z } from "zod";

export class ReplyShapeError extends Error {
  constructor(readonly source: string, readonly field: string, detail: string) {
    super(`${source} sent a reply this app cannot read (${field || "the reply"}: ${detail}).`);
    this.name = "ReplyShapeError";
  }
}

/** `value` as `schema` says, or a ReplyShapeError naming `source` and the first field that does not fit. */
export function parseReply<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ReplyShapeError(source, issue?.path.join(".") ?? "", issue?.message ?? "unexpected shape");
}

/** A body's JSON, or undefined when it is not JSON (the schema then says what was missing); other failures (a body past its bound, an abort) pass through. */
export const jsonOrUndefined = (res: Response): Promise<unknown> =>
  res.json().catch((err: unknown) => {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  });
