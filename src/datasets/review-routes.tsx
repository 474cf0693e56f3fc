/** The Review step: the spec's dataset API, and the page's fragments (modal, delete). */
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { HTMX_EVENTS } from "../../views/htmx.ts";
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { z } from "zod";
import { AppError } from "../lib/errors.ts";
import { parseWith, readForm, readFormFields } from "../lib/validation.ts";
import type { AppEnv } from "../lib/app-env.ts";
import type { ProjectService } from "../projects/service.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { ExampleModal } from "../../views/wizard/steps/ExampleModal.tsx";
import { EXPORT_FORMATS, exportFilename, exportHeader, exportLine, toExampleJson } from "./export.ts";
import { batchDeleteSchema, datasetStatsSchema, exampleJsonSchema, examplePageSchema, examplePatchSchema, provenanceSchema, reviewFilterSchema, type ReviewFilter } from "./review-schemas.ts";
import type { ReviewService } from "./review-service.ts";

const exportQuery = z.object({ format: z.enum(EXPORT_FORMATS).default("alpaca"), split: z.enum(["train", "eval", "all"]).default("train") });

export const DATASET_API = defineApi({
  name: "Dataset",
  description: "Review the examples: stats, pages, search, edits, deletes, export.",
  operations: {
    stats: { method: "get", path: "/projects/:id/dataset/stats", summary: "Counts, splits, token lengths, duplicates removed", response: { status: 200, description: "DatasetStats", schema: datasetStatsSchema }, errors: [404] },
    examples: { method: "get", path: "/projects/:id/dataset/examples", summary: "One page of examples (filters, search, sort)", query: reviewFilterSchema, response: { status: 200, description: "A page of examples", schema: examplePageSchema }, errors: [404] },
    remove: { method: "post", path: "/projects/:id/dataset/examples/delete", summary: "Delete examples by id, or every one matching a filter", body: batchDeleteSchema, response: { status: 200, description: "How many were deleted", schema: z.object({ deleted: z.number().int() }) }, errors: [400, 404, 415, 422] },
    example: { method: "get", path: "/projects/:id/dataset/examples/:exampleId", summary: "One example with its provenance", response: { status: 200, description: "The example", schema: exampleJsonSchema.extend({ provenance: provenanceSchema }) }, errors: [404] },
    edit: { method: "patch", path: "/projects/:id/dataset/examples/:exampleId", summary: "Edit an example (validated again)", body: examplePatchSchema, response: { status: 200, description: "The example", schema: exampleJsonSchema }, errors: [400, 404, 415, 422] },
    download: { method: "get", path: "/projects/:id/dataset/export", summary: "Download the dataset (Alpaca or chat JSONL, or CSV)", query: exportQuery, response: { status: 200, description: "The file", contentType: "application/jsonl" }, errors: [404, 422] },
  },
});

export function reviewApiRoutes(review: ReviewService, projects: ProjectService) {
  return apiRoutes(DATASET_API, {
    stats: (_c, { params }) => review.stats(params.id),
    examples: (_c, { query, params }) => {
      const page = review.page(params.id, query);
      return { ...page, items: page.items.map(toExampleJson) };
    },
    remove: (_c, { body, params }) => {
      const id = params.id;
      return { deleted: "ids" in body ? review.deleteIds(id, body.ids) : review.deleteMatching(id, { split: body.filter.split, valid: body.filter.valid, kind: body.filter.kind, q: body.filter.q }) };
    },
    example: (_c, { params }) => {
      const e = review.get(params.id, params.exampleId);
      return { ...toExampleJson(e), provenance: review.chunkOf(e.id) ?? { source_file: review.sourceFile(e.id), source_line: e.sourceLine } };
    },
    edit: (_c, { body, params }) => toExampleJson(review.update(params.id, params.exampleId, body)),
    download: (c, { query: q, params }) => {
      const id = params.id;
      const project = projects.get(id);
      c.header("Content-Type", q.format === "csv" ? "text/csv; charset=utf-8" : "application/jsonl; charset=utf-8");
      c.header("Content-Disposition", `attachment; filename="${exportFilename(project.name, q.format, q.split)}"`);
      return stream(c, async (s) => {
        await s.write(exportHeader(q.format));
        for (const batch of review.exportRows(id, q.split)) await s.write(batch.map((e) => exportLine(q.format, e)).join(""));
      });
    },
  });
}

export function reviewPageRoutes(review: ReviewService, wizard: WizardRenderer) {
  const modal = (projectId: string, exampleId: string, filter: ReviewFilter, extra: { error?: string; saved?: boolean } = {}) => {
    const e = review.get(projectId, exampleId);
    return (
      <ExampleModal
        projectId={projectId}
        example={e}
        provenance={{ chunk: review.chunkOf(e.id), sourceFile: review.sourceFile(e.id) }}
        neighbours={review.neighbours(projectId, e.id, filter)}
        filter={filter}
        {...extra}
      />
    );
  };
  return new Hono<AppEnv>()
    .get("/projects/:id/examples/:exampleId", (c) => {
      const filter = reviewFilterSchema.parse(c.req.query());
      return c.html(modal(c.req.param("id"), c.req.param("exampleId"), filter));
    })
    .post("/projects/:id/examples/:exampleId", async (c) => {
      const id = c.req.param("id");
      const exampleId = c.req.param("exampleId");
      const filter = reviewFilterSchema.parse(c.req.query());
      const form = await readFormFields(c);
      const patch = parseWith(examplePatchSchema, {
        instruction: form.instruction,
        input: form.input ?? "",
        output: form.output,
        ...(form.split === "train" || form.split === "eval" ? { split: form.split } : {}),
        is_valid: form.is_valid === "true",
      });
      try {
        review.update(id, exampleId, patch);
      } catch (err) {
        if (!(err instanceof AppError) || err.status !== 422) throw err;
        return c.html(modal(id, exampleId, filter, { error: err.message }), 422);
      }
      c.header("HX-Trigger", HTMX_EVENTS.datasetChanged);
      return c.html(modal(id, exampleId, filter, { saved: true }));
    })
    .post("/projects/:id/review/delete", async (c) => {
      const id = c.req.param("id");
      const body = await readForm(c, { all: true });
      const ids = ([] as unknown[]).concat(body.ids ?? []).filter((x): x is string => typeof x === "string");
      const filter = reviewFilterSchema.parse(Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === "string")));
      if (body.all_matching === "1") review.deleteMatching(id, filter);
      else if (ids.length) review.deleteIds(id, ids);
      else throw new AppError(422, "validation_error", "Select at least one example to delete.");
      const page = review.page(id, filter);
      c.header("HX-Trigger", HTMX_EVENTS.examplesDeleted);
      return wizard.render(c, id, "review", { query: { ...filterToQuery(filter), page: String(Math.min(filter.page, page.pages)) } });
    });
}

const filterToQuery = (f: ReviewFilter): Record<string, string> => ({ split: f.split, valid: f.valid, q: f.q, sort: f.sort, page: String(f.page) });

