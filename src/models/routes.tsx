/** Resolving the base model: the API endpoint and the Model step's form share one service. */
import type { ApiTag } from "../lib/openapi.ts";
import { Hono } from "hono";
import { AppError } from "../lib/errors.ts";
import { z } from "zod";
import { parseJsonBody, parseWith, readFormFields } from "../lib/validation.ts";
import type { AppEnv } from "../lib/app-env.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { resolveModelInput, type ModelInfo } from "./schemas.ts";
import type { ModelService } from "./service.ts";

/** What the API shows of ModelInfo: everything but where files live on this machine. */
const publicInfo = ({ files_dir: _files, ...info }: ModelInfo) => info;

const consentInput = z.object({ model_id: z.string().min(1).max(500) }).strict();

export function modelApiRoutes(models: ModelService) {
  return new Hono<AppEnv>()
    .post("/projects/:id/model/resolve", async (c) => {
      const { model_id } = await parseJsonBody(c, resolveModelInput);
      return c.json(publicInfo(await models.resolveForProject(c.req.param("id"), model_id)));
    })
    .post("/projects/:id/model/remote-code", async (c) => {
      const { model_id } = await parseJsonBody(c, consentInput);
      models.allowRemoteCode(c.req.param("id"), model_id);
      return c.json({ allowed: true, model_id });
    });
}

export function modelPageRoutes(models: ModelService, wizard: WizardRenderer) {
  return new Hono<AppEnv>()
    .post("/projects/:id/model/remote-code", async (c) => {
      const form = await readFormFields(c);
      if (form.confirm !== "yes") throw new AppError(422, "validation_error", "Tick the box to allow this model's code to run.");
      models.allowRemoteCode(c.req.param("id"), parseWith(consentInput, { model_id: form.model_id }).model_id);
      return wizard.render(c, c.req.param("id"), "model");
    })
    .post("/projects/:id/model", async (c) => {
    const id = c.req.param("id");
    const form = await readFormFields(c);
    const modelInput = (form.model_id ?? "").trim();
    const parsed = resolveModelInput.safeParse({ model_id: modelInput });
    try {
      if (!parsed.success) throw new AppError(422, "validation_error", parsed.error.issues[0]!.message);
      const info = await models.resolveForProject(id, parsed.data.model_id);
      return wizard.render(c, id, "model", { extras: { modelWarnings: info.warnings } });
    } catch (err) {
      // Resolution failures belong on the Model panel, not in a toast.
      if (!(err instanceof AppError) || err.code === "project_not_found") throw err;
      return wizard.render(c, id, "model", { extras: { modelError: { code: err.code, message: err.message }, modelInput }, status: err.status });
    }
  });
}

export const MODELS_API: ApiTag = {
  name: "Model",
  description: "Resolve the base model: a Hugging Face id or a local folder.",
  operations: [
    { method: "post", path: "/projects/:id/model/resolve", summary: "Resolve a model id or local folder and set it on the project", body: resolveModelInput, response: { status: 200, description: "ModelInfo: architecture, parameters, VRAM, license, warnings" }, errors: [400, 404, 415, 422, 502, 503] },
    { method: "post", path: "/projects/:id/model/remote-code", summary: "Allow the resolved model's own code to run (trust_remote_code)", body: consentInput, response: { status: 200, description: "The consent" }, errors: [400, 404, 409, 415, 422] },
  ],
};
