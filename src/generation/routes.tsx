/** Dataset generation: the spec's API, and the Preview step's forms and self-refreshing panel. */
import { z } from "zod";
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { jobStartedSchema } from "../jobs/schemas.ts";
import { Hono } from "hono";
import { AppError } from "../lib/errors.ts";
import { parseWith, readFormFields } from "../lib/validation.ts";
import type { AppEnv } from "../lib/app-env.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { ModelPicker, PreviewPanelFragment } from "../../views/wizard/steps/PreviewStep.tsx";
import type { PreviewData } from "./step.ts";
import { generateInput, type GenerationService } from "./service.ts";

export const GENERATION_API = defineApi({
  name: "Generation",
  description: "A local LLM (Ollama) writes examples from the documents.",
  operations: {
    models: { method: "get", path: "/generation/models", summary: "Models installed in Ollama", response: { status: 200, description: "The installed models' names", schema: z.object({ models: z.array(z.string()) }) }, errors: [502, 503] },
    preview: { method: "post", path: "/projects/:id/dataset/preview", summary: "Generate 10 preview examples", body: generateInput, bodyOptional: true, response: { status: 202, description: "The generation job", schema: jobStartedSchema }, errors: [400, 404, 409, 415, 422, 502, 503] },
    generate: { method: "post", path: "/projects/:id/dataset/generate", summary: "Generate the full dataset (default 2,000 examples)", body: generateInput, bodyOptional: true, response: { status: 202, description: "The generation job", schema: jobStartedSchema }, errors: [400, 404, 409, 415, 422, 502, 503] },
  },
});

export function generationApiRoutes(generation: GenerationService) {
  return apiRoutes(GENERATION_API, {
    models: async () => ({ models: await generation.listModels() }),
    preview: async (_c, { body, params }) => ({ job_id: (await generation.start(params.id, "preview", body)).id }),
    generate: async (_c, { body, params }) => ({ job_id: (await generation.start(params.id, "full", body)).id }),
  });
}

export function generationPageRoutes(generation: GenerationService, wizard: WizardRenderer, loadPanel: (projectId: string) => PreviewData) {
  const panel = (projectId: string) => {
    const { project, states } = wizard.load(projectId);
    return <PreviewPanelFragment project={project} states={states} data={loadPanel(projectId)} />;
  };
  return new Hono<AppEnv>()
    .get("/projects/:id/generation/models", async (c) => {
      const project = wizard.load(c.req.param("id")).project;
      try {
        return c.html(<ModelPicker models={await generation.chatModels()} selected={project.config.generation_model} />);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        return c.html(<ModelPicker models={[]} error={err.message} />);
      }
    })
    .get("/projects/:id/preview/panel", (c) => c.html(panel(c.req.param("id"))))
    .post("/projects/:id/preview", async (c) => {
      const form = await readFormFields(c);
      await generation.start(c.req.param("id"), "preview", parseWith(generateInput, { model: form.model || undefined }));
      return c.html(panel(c.req.param("id")));
    })
    .post("/projects/:id/generate", async (c) => {
      const form = await readFormFields(c);
      const input = parseWith(generateInput, { model: form.model || undefined, target: form.target || undefined, file_id: form.file_id || undefined, answerability_check: form.answerability_check === "on" });
      await generation.start(c.req.param("id"), "full", input);
      return c.html(panel(c.req.param("id")));
    });
}

