/** The judged evaluation: start it (API and the Export step's button), read the latest scorecard. */
import { Hono } from "hono";
import type { AppEnv } from "../lib/app-env.ts";
import { notFound } from "../lib/errors.ts";
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { jobStartedSchema } from "../jobs/schemas.ts";
import { parseWith, readFormFields } from "../lib/validation.ts";
import { generateInput, type GenerationService } from "../generation/service.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { z } from "zod";
import { EVALUATION_MODES, evaluateInput, type EvaluationService } from "./service.ts";
import { evaluationViewSchema } from "./schemas.ts";

const evaluationQuery = z.object({ mode: z.enum(EVALUATION_MODES, { error: "Mode must be closed_book or with_context." }).optional().meta({ description: "The latest of this mode (default: the latest)" }) });

export const EVALUATION_API = defineApi({
  name: "Evaluation",
  description: "A judged scorecard: base vs tuned on held-out questions, per document, and a forgetting check.",
  operations: {
    start: {
      method: "post",
      path: "/projects/:id/evaluate",
      summary: "Judge the last successful run (base vs tuned on held-out questions)",
      body: evaluateInput,
      bodyOptional: true,
      response: { status: 202, description: "The evaluation job", schema: jobStartedSchema },
      errors: [404, 409, 415, 422],
    },
    latest: {
      method: "get",
      path: "/projects/:id/evaluation",
      summary: "The latest scorecard (with the passage, its closed-book twin: `?mode=closed_book`)",
      query: evaluationQuery,
      response: { status: 200, description: "The evaluation", schema: evaluationViewSchema },
      errors: [404],
    },
  },
});

export function evaluationApiRoutes(evaluation: EvaluationService) {
  return apiRoutes(EVALUATION_API, {
    start: async (_c, { body, params }) => ({ job_id: (await evaluation.start(params.id, body)).id }),
    latest: (_c, { query, params }) => {
      const view = evaluation.latest(params.id, query.mode);
      if (!view) throw notFound("Evaluation", "evaluation_not_found");
      return view;
    },
  });
}

/** Examples a "generate more" asks for: enough to move a document's score. */
export const MORE_FROM_DOCUMENT = 100;

export function evaluationPageRoutes(evaluation: EvaluationService, wizard: WizardRenderer, generation: GenerationService) {
  return new Hono<AppEnv>()
    .post("/projects/:id/evaluate", async (c) => {
      await evaluation.start(c.req.param("id"), {});
      return wizard.render(c, c.req.param("id"), "export");
    })
    .post("/projects/:id/evaluation/generate-more", async (c) => {
      const id = c.req.param("id");
      const form = await readFormFields(c);
      await generation.start(id, "full", parseWith(generateInput, { file_id: form.file_id || undefined, target: MORE_FROM_DOCUMENT }));
      // The Preview step shows the generation's progress.
      return wizard.render(c, id, "preview");
    });
}

