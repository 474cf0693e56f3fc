/** Dataset generation: the spec's API, and the Preview step's forms and self-refreshing panel. */
import type { ApiTag } from "../lib/openapi.ts";
import { Hono } from "hono";
import { AppError } from "../lib/errors.ts";
import { parseOptionalJsonBody, parseWith, readFormFields } from "../lib/validation.ts";
import type { AppEnv } from "../lib/app-env.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { ModelPicker, PreviewPanelFragment } from "../../views/wizard/steps/PreviewStep.tsx";
import type { PreviewData } from "./step.ts";
import { generateInput, type GenerationService } from "./service.ts";

export function generationApiRoutes(generation: GenerationService) {
  return new Hono<AppEnv>()
    .get("/generation/models", async (c) => c.json({ models: await generation.listModels() }))
    .post("/projects/:id/dataset/preview", async (c) => {
      const input = await parseOptionalJsonBody(c, generateInput);
      const job = await generation.start(c.req.param("id"), "preview", input);
      return c.json({ job_id: job.id }, 202);
    })
    .post("/projects/:id/dataset/generate", async (c) => {
      const input = await parseOptionalJsonBody(c, generateInput);
      const job = await generation.start(c.req.param("id"), "full", input);
      return c.json({ job_id: job.id }, 202);
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
        return c.html(<ModelPicker models={await generation.listModels()} selected={project.config.generation_model} />);
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

export const GENERATION_API: ApiTag = {
  name: "Generation",
  description: "A local LLM (Ollama) writes examples from the documents.",
  operations: [
    { method: "get", path: "/generation/models", summary: "Models installed in Ollama", response: { status: 200, description: "`{ models }`" }, errors: [502, 503] },
    { method: "post", path: "/projects/:id/dataset/preview", summary: "Generate 10 preview examples", body: generateInput, bodyOptional: true, response: { status: 202, description: "`{ job_id }`" }, errors: [400, 404, 409, 415, 422, 502, 503] },
    { method: "post", path: "/projects/:id/dataset/generate", summary: "Generate the full dataset (default 2,000 examples)", body: generateInput, bodyOptional: true, response: { status: 202, description: "`{ job_id }`" }, errors: [400, 404, 409, 415, 422, 502, 503] },
  ],
};
