/** "Run in Ollama": the API (scripts) and the Export step's form share the publish service. */
import { Hono } from "hono";
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { jobStartedSchema } from "../jobs/schemas.ts";
import type { AppEnv } from "../lib/app-env.ts";
import { AppError } from "../lib/errors.ts";
import { readFormFields } from "../lib/validation.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { publishInputSchema, publishRecordSchema, type PublishService } from "./service.ts";

export const PUBLISH_API = defineApi({
  name: "Ollama",
  description: "Run the tuned model in Ollama, checked against the trained one.",
  operations: {
    publish: { method: "post", path: "/projects/:id/export/ollama", summary: "Publish the latest successful run to Ollama (adapter or merged lane) and run the parity check", body: publishInputSchema, response: { status: 202, description: "The publishing job", schema: jobStartedSchema }, errors: [400, 404, 409, 415, 422] },
    latest: { method: "get", path: "/projects/:id/export/ollama", summary: "The last publication: model name, lane, base, quantization, parity verdicts", response: { status: 200, description: "PublishRecord", schema: publishRecordSchema }, errors: [404] },
  },
});

export function publishApiRoutes(publish: PublishService) {
  return apiRoutes(PUBLISH_API, {
    publish: (_c, { body, params }) => ({ job_id: publish.start(params.id, body).id }),
    latest: (_c, { params }) => {
      const record = publish.latest(params.id);
      if (!record) throw new AppError(404, "not_published", "This project's model is not in Ollama yet: POST /api/projects/{id}/export/ollama.");
      return record;
    },
  });
}

export function publishPageRoutes(publish: PublishService, wizard: WizardRenderer) {
  return new Hono<AppEnv>().post("/projects/:id/export/ollama", async (c) => {
    const id = c.req.param("id");
    const form = await readFormFields(c);
    const parsed = publishInputSchema.safeParse(Object.fromEntries(Object.entries(form).filter(([, v]) => v !== "")));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return wizard.render(c, id, "export", { status: 422, extras: { ollamaError: `${issue?.path.join(".") || "form"}: ${issue?.message}` } });
    }
    try {
      publish.start(id, parsed.data);
    } catch (err) {
      if (!(err instanceof AppError) || err.status === 404) throw err;
      return wizard.render(c, id, "export", { status: err.status, extras: { ollamaError: err.message } });
    }
    return wizard.render(c, id, "export");
  });
}

