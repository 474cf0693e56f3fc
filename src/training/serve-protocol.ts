/**
 * The trainer's `serve` protocol (the playground's worker, python/finetuneflow_trainer/
 * serve.py): one JSON request per stdin line, one JSON event per stdout line. Written once
 * here; scripts/gen-event-schema.ts writes the JSON Schema the Python tests check both
 * directions against (python/finetuneflow_trainer/serve-protocol.schema.json).
 */
import { z } from "zod";

const chatMessage = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });

/** A request: a reply to a conversation, from the tuned model or the base (the adapter switched off). */
export const serveAskSchema = z.object({
  id: z.string().min(1),
  messages: z.array(chatMessage).min(1),
  target: z.enum(["tuned", "base"]),
  max_new_tokens: z.int().min(1).max(4096),
  /** The end token is held back until this many tokens (tests of cancel and time limits). */
  min_new_tokens: z.int().min(0).optional(),
  temperature: z.number().min(0).max(2),
  /** The worker stops the reply itself past this (seconds). */
  time_limit_seconds: z.number().positive(),
  /** Refused before any prefill when the prompt is longer. */
  max_prompt_tokens: z.int().positive().optional(),
});
/** Stop a request, running or still queued. */
export const serveCancelSchema = z.object({ cancel: z.string().min(1) });
export const serveRequestSchema = z.union([serveAskSchema, serveCancelSchema]);
export type ServeAsk = z.infer<typeof serveAskSchema>;

export const REPLY_ENDS = ["stop", "length", "cancelled", "time_limit"] as const;

export const serveEventSchema = z.discriminatedUnion("event", [
  z.object({ event: z.literal("ready"), device: z.string() }),
  // Loading the model (the trainer's usual progress event).
  z.object({ event: z.literal("progress"), progress_pct: z.number().min(0).max(100), message: z.string().optional() }).passthrough(),
  z.object({ event: z.literal("token"), id: z.string(), text: z.string() }),
  z.object({ event: z.literal("done"), id: z.string(), tokens: z.int().nonnegative(), seconds: z.number().nonnegative(), stopped: z.boolean(), ended: z.enum(REPLY_ENDS).optional() }),
  // id null: about the worker itself (a model that cannot load, an unreadable line).
  z.object({ event: z.literal("error"), id: z.string().nullable().optional(), error_code: z.string(), message: z.string(), advice: z.string().nullable().optional() }),
]);
export type ServeEvent = z.infer<typeof serveEventSchema>;

export function serveProtocolJsonSchema(): Record<string, unknown> {
  const schema = (s: z.ZodType) => z.toJSONSchema(s, { target: "draft-2020-12", io: "input" });
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "FineTuneFlow serve protocol",
    description: "The playground worker's stdin requests and stdout events. Generated from src/training/serve-protocol.ts; do not edit.",
    $defs: { request: schema(serveRequestSchema), event: schema(serveEventSchema) },
  };
}
