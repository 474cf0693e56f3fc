/** What the app reads from OpenAI-compatible servers (parsed with lib/external-reply.ts). */
import { z } from "zod";

export const openaiModelsReply = z.object({ data: z.array(z.object({ id: z.string() })) });
export const openaiErrorReply = z.object({ error: z.union([z.string(), z.object({ message: z.string().optional() }).loose()]).optional() }).loose();
export const openaiChatReply = z
  .object({
    choices: z.array(z.object({ message: z.object({ content: z.string().nullable().optional() }).loose(), finish_reason: z.string().nullable().optional() }).loose()).min(1),
  })
  .loose();
/** POST /v1/embeddings. */
export const openaiEmbeddingsReply = z.object({ data: z.array(z.object({ embedding: z.array(z.number()) }).loose()).min(1) }).loose();
/** Ollama's /api/embed. */
export const embedReply = z.object({ embeddings: z.array(z.array(z.number())) }).loose();
