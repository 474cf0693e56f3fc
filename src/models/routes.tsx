/** Resolving the base model: the API endpoint and the Model step's form share one service. */
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { jobStartedSchema } from "../jobs/schemas.ts";
import { Hono } from "hono";
import { AppError } from "../lib/errors.ts";
import { z } from "zod";
import { parseWith, readFormFields } from "../lib/validation.ts";
import type { AppEnv } from "../lib/app-env.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { cachedModelSchema, isValidRepoId, publicModelInfoSchema, resolveModelInput, weightsStateSchema, type ModelInfo } from "./schemas.ts";
import type { WeightsService } from "./weights-service.ts";
import type { ModelService } from "./service.ts";

/** What the API shows of ModelInfo: everything but where files live on this machine. */
const publicInfo = ({ files_dir: _files, ...info }: ModelInfo) => info;

const consentInput = z.object({ model_id: z.string().min(1).max(500) }).strict();

const repoIdInput = z.object({ repo_id: z.string().trim().min(1, "repo_id is required.").max(200).refine(isValidRepoId, "repo_id must be a Hub id (organisation/name, or a one-part name such as gpt2).") });

export const MODELS_API = defineApi({
  name: "Model",
  description: "Resolve the base model: a Hugging Face id or a local folder.",
  operations: {
    resolve: { method: "post", path: "/projects/:id/model/resolve", summary: "Resolve a model id or local folder and set it on the project", body: resolveModelInput, response: { status: 200, description: "ModelInfo: architecture, parameters, VRAM, license, warnings", schema: publicModelInfoSchema }, errors: [400, 404, 415, 422, 502, 503] },
    download: { method: "post", path: "/projects/:id/model/download", summary: "Download the base model's weights (Hub models) into the shared cache, resumable", response: { status: 202, description: "The download job (the running download of this model when there is one)", schema: jobStartedSchema }, errors: [404, 409] },
    weights: { method: "get", path: "/projects/:id/model/weights", summary: "Whether the base model's weights are here: local, none, partial, downloading, complete", response: { status: 200, description: "The weights' state", schema: weightsStateSchema }, errors: [404, 409] },
    cache: { method: "get", path: "/models/cache", summary: "Models in the cache, their size on disk and the projects using each", response: { status: 200, description: "The cached models", schema: z.object({ models: z.array(cachedModelSchema.extend({ used_by: z.array(z.string()) })) }) }, errors: [] },
    // Any Hub id, one part ("gpt2") or two ("org/name"): the rest of the path is the id.
    uncache: { method: "delete", path: "/models/cache/:repo{.+}", summary: "Remove a cached model that no project uses", response: { status: 200, description: "The removed model's id", schema: z.object({ removed: z.string() }) }, errors: [404, 409, 422] },
    remoteCode: { method: "post", path: "/projects/:id/model/remote-code", summary: "Allow the resolved model's own code to run (trust_remote_code)", body: consentInput, response: { status: 200, description: "The consent", schema: z.object({ allowed: z.literal(true), model_id: z.string() }) }, errors: [400, 404, 409, 415, 422] },
  },
});

export function modelApiRoutes(models: ModelService, weights: WeightsService) {
  return apiRoutes(MODELS_API, {
    download: (_c, { params }) => weights.start(params.id),
    weights: (_c, { params }) => weights.state(params.id),
    cache: () => ({ models: weights.cached() }),
    uncache: (_c, { params }) => {
      const { repo_id } = parseWith(repoIdInput, { repo_id: decodeURIComponent(params.repo) });
      weights.remove(repo_id);
      return { removed: repo_id };
    },
    resolve: async (_c, { body, params }) => publicInfo(await models.resolveForProject(params.id, body.model_id)),
    remoteCode: (_c, { body, params }) => {
      models.allowRemoteCode(params.id, body.model_id);
      return { allowed: true as const, model_id: body.model_id };
    },
  });
}

export function modelPageRoutes(models: ModelService, weights: WeightsService, wizard: WizardRenderer) {
  return new Hono<AppEnv>()
    .post("/projects/:id/model/download", (c) => {
      weights.start(c.req.param("id"));
      return wizard.render(c, c.req.param("id"), "model");
    })
    .post("/projects/:id/model/cache/remove", async (c) => {
      const form = await readFormFields(c);
      weights.remove(parseWith(repoIdInput, { repo_id: form.repo_id }).repo_id);
      return wizard.render(c, c.req.param("id"), "model");
    })
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

