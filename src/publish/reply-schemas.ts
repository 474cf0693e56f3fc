/** What the publish job reads from Ollama's HTTP API itself (parsed with lib/external-reply.ts). */
import { z } from "zod";

/** One line of /api/create's stream. */
export const createStatusLine = z.object({ status: z.string().optional(), error: z.string().optional() }).loose();
/** An error body: {"error": "..."}. */
export const ollamaErrorBody = z.object({ error: z.string() }).loose();
/** /api/show's model facts (keys such as general.architecture, general.parameter_count, <arch>.vocab_size). */
export const showModelInfo = z.object({ model_info: z.record(z.string(), z.unknown()).optional() }).loose();
