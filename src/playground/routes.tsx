/** The playground: the streaming chat API, saving a corrected reply, and its page. */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../lib/app-env.ts";
import { z } from "zod";
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import type { ProjectService } from "../projects/service.ts";
import { PlaygroundPage } from "../../views/pages/PlaygroundPage.tsx";
import { playgroundInputSchema, saveExampleSchema, type PlaygroundService } from "./service.ts";

export const PLAYGROUND_API = defineApi({
  name: "Playground",
  description: "Chat with the tuned model and the base, streamed.",
  operations: {
    chat: {
      method: "post",
      path: "/projects/:id/playground",
      summary: "A reply from the tuned model, the base, or an Ollama model, streamed token by token",
      body: playgroundInputSchema,
      response: {
        status: 200,
        description: "Events: token `{text}`, done `{tokens, seconds, ended, dropped_turns}` (ended: stop, length, time_limit, cancelled; dropped_turns: oldest messages left out to fit the model's context), error `{detail, error_code}`",
        contentType: "text/event-stream",
      },
      errors: [400, 404, 409, 415, 422],
    },
    save: { method: "post", path: "/projects/:id/playground/examples", summary: "Save a corrected reply as a training example (split train, provenance playground)", body: saveExampleSchema, response: { status: 201, description: "The saved example", schema: z.object({ example_id: z.string(), split: z.literal("train") }) }, errors: [400, 404, 415, 422] },
  },
});

export function playgroundApiRoutes(playground: PlaygroundService) {
  return apiRoutes(PLAYGROUND_API, {
    chat: (c, { body: input, params }) => {
      const id = params.id;
      // Refusals (no run, GPU busy, no Ollama, too long) are JSON errors; once streaming, errors are `error` events.
      // A client that goes away cancels the reply inside the worker, not just here.
      const gone = new AbortController();
      const events = playground.start(id, input, gone.signal);
      return streamSSE(c, async (stream) => {
        stream.onAbort(() => gone.abort());
        try {
          for await (const e of events) {
            const { event, ...data } = e;
            await stream.writeSSE({ event, data: JSON.stringify(data) });
            if (stream.aborted) break;
          }
        } catch (err) {
          const e = err as { message?: string; code?: string };
          await stream.writeSSE({ event: "error", data: JSON.stringify({ detail: e.message ?? String(err), error_code: e.code ?? "playground_failed" }) });
        }
      });
    },
    save: (_c, { body, params }) => playground.saveExample(params.id, body),
  });
}

export function playgroundPageRoutes(projects: ProjectService, ollamaModels: () => Promise<string[]>) {
  return new Hono<AppEnv>().get("/projects/:id/playground", async (c) => {
    const project = projects.get(c.req.param("id"));
    const models = await ollamaModels().catch(() => []);
    return c.html(<PlaygroundPage project={project} ollamaModels={models} />);
  });
}

