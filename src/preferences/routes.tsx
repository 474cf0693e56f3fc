/** Preference pairs: the API, the Feedback page and its forms, "Use as feedback", "Improve with feedback". */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../lib/app-env.ts";
import { AppError } from "../lib/errors.ts";
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { parseWith, readFormFields } from "../lib/validation.ts";
import { runStartedSchema } from "../training/schemas.ts";
import { FeedbackPage, ScorecardFeedbackSaved } from "../../views/pages/FeedbackPage.tsx";
import type { ProjectService } from "../projects/service.ts";
import {
  preferenceInputSchema,
  preferenceJsonSchema,
  preferenceListQuery,
  preferencePageSchema,
  preferenceRoundInputSchema,
  preferenceUpdateSchema,
  scorecardFeedbackSchema,
  type PreferenceSource,
} from "./schemas.ts";
import type { PreferenceService } from "./service.ts";

export const PREFERENCES_API = defineApi({
  name: "Preferences",
  description: "The user's judgement as preference pairs (prompt, chosen, rejected), and preference rounds (DPO) on the latest adapter.",
  operations: {
    list: { method: "get", path: "/projects/:id/preferences", summary: "The pairs, newest first, 50 a page, with counts by source", query: preferenceListQuery, response: { status: 200, description: "A page of pairs", schema: preferencePageSchema }, errors: [404, 422] },
    create: {
      method: "post",
      path: "/projects/:id/preferences",
      summary: "Save a pair: a playground choice or correction, or a scorecard question (question_id) the tuned model got wrong",
      body: preferenceInputSchema,
      response: { status: 201, description: "The pair (for a scorecard question already used, the pair made then)", schema: preferenceJsonSchema },
      errors: [400, 404, 409, 415, 422],
    },
    fromScorecard: {
      method: "post",
      path: "/projects/:id/preferences/scorecard",
      summary: "Use a scorecard question as feedback: chosen the reference answer, rejected the tuned answer",
      body: scorecardFeedbackSchema,
      response: { status: 201, description: "The pair", schema: preferenceJsonSchema },
      errors: [400, 404, 409, 415, 422],
    },
    update: { method: "patch", path: "/projects/:id/preferences/:prefId", summary: "Edit a pair's chosen or rejected reply", body: preferenceUpdateSchema, response: { status: 200, description: "The pair", schema: preferenceJsonSchema }, errors: [400, 404, 415, 422] },
    remove: { method: "delete", path: "/projects/:id/preferences/:prefId", summary: "Delete a pair", response: { status: 200, description: "The deleted pair's id", schema: z.object({ deleted: z.literal(true), id: z.string() }) }, errors: [404] },
    export: { method: "get", path: "/projects/:id/preferences/export", summary: "Every pair as JSONL in TRL's conversational prompt/chosen/rejected format", response: { status: 200, description: "JSON lines", contentType: "application/jsonl" }, errors: [404] },
    round: {
      method: "post",
      path: "/projects/:id/preferences/round",
      summary: "Improve with feedback: a preference round (DPO) on the latest successful run's adapter, as a new training run",
      body: preferenceRoundInputSchema,
      response: { status: 202, description: "The round's run and job (follow it as any training run)", schema: runStartedSchema },
      errors: [400, 404, 409, 415, 422],
    },
  },
});

export function preferenceApiRoutes(preferences: PreferenceService) {
  return apiRoutes(PREFERENCES_API, {
    list: (_c, { query, params }) => preferences.list(params.id, query),
    create: (_c, { body, params }) => preferences.create(params.id, body),
    fromScorecard: (_c, { body, params }) => preferences.fromScorecard(params.id, body.question_id),
    update: (_c, { body, params }) => preferences.update(params.id, params.prefId, body),
    remove: (_c, { params }) => {
      preferences.remove(params.id, params.prefId);
      return { deleted: true as const, id: params.prefId };
    },
    export: (_c, { params }) =>
      new Response(preferences.exportJsonl(params.id), {
        headers: { "Content-Type": "application/jsonl; charset=utf-8", "Content-Disposition": 'attachment; filename="preferences.jsonl"', "X-Content-Type-Options": "nosniff" },
      }),
    round: (_c, { body, params }) => {
      const { run, jobId } = preferences.startRound(params.id, body);
      return { run_id: run.id, job_id: jobId };
    },
  });
}

const sourceFilter = z.object({ source: z.enum(["playground_choice", "playground_correction", "scorecard"]).optional().catch(undefined), page: z.coerce.number().int().min(1).catch(1) });
const editForm = z.object({ chosen: z.string(), rejected: z.string() });
/** Empty fields take the preset's values. */
const formNumber = z.preprocess((v) => (v === "" || v === undefined ? undefined : Number(v)), z.number().optional());
const roundForm = z.object({ beta: formNumber, num_epochs: formNumber });

export function preferencePageRoutes(preferences: PreferenceService, projects: ProjectService) {
  const page = (projectId: string, query: { source?: PreferenceSource; page: number }, error?: { message: string; pairId?: string }) => (
    <FeedbackPage project={projects.get(projectId)} list={preferences.list(projectId, query)} source={query.source ?? null} error={error} />
  );
  /** A form's refusal is shown on the page, beside what was sent; anything else is an error page. */
  const orRefusal = async (c: Context<AppEnv>, projectId: string, pairId: string | undefined, act: () => void | Promise<void>, done: string) => {
    try {
      await act();
    } catch (err) {
      if (err instanceof AppError && (err.status === 409 || err.status === 422)) return c.html(page(projectId, { page: 1 }, { message: err.message, pairId }), err.status);
      throw err;
    }
    return new Response(null, { status: 303, headers: { Location: done } });
  };
  return new Hono<AppEnv>()
    .get("/projects/:id/feedback", (c) => c.html(page(c.req.param("id"), sourceFilter.parse(c.req.query()))))
    .post("/projects/:id/feedback/:prefId/edit", async (c) => {
      const id = c.req.param("id");
      const form = parseWith(editForm, await readFormFields(c));
      return orRefusal(c, id, c.req.param("prefId"), () => void preferences.update(id, c.req.param("prefId"), parseWith(preferenceUpdateSchema, form)), `/projects/${id}/feedback`);
    })
    .post("/projects/:id/feedback/:prefId/delete", (c) => {
      const id = c.req.param("id");
      preferences.remove(id, c.req.param("prefId"));
      return c.redirect(`/projects/${id}/feedback`, 303);
    })
    .post("/projects/:id/feedback/round", async (c) => {
      const id = c.req.param("id");
      const form = parseWith(roundForm, await readFormFields(c));
      return orRefusal(c, id, undefined, () => void preferences.startRound(id, parseWith(preferenceRoundInputSchema, form)), `/projects/${id}/wizard?step=train`);
    })
    .post("/projects/:id/feedback/scorecard", async (c) => {
      // htmx from the scorecard: the button becomes "Saved as feedback".
      const id = c.req.param("id");
      const { question_id } = parseWith(z.object({ question_id: z.string().trim().min(1).max(100) }), await readFormFields(c));
      preferences.fromScorecard(id, question_id);
      return c.html(<ScorecardFeedbackSaved projectId={id} />);
    });
}
