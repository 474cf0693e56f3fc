/** The readiness check: the API's JSON and the panel the Review and Train steps load. */
import { Hono } from "hono";
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import type { AppEnv } from "../lib/app-env.ts";
import { ReadinessError, ReadinessPanel } from "../../views/components/ReadinessPanel.tsx";
import { readinessQuerySchema, readinessReportSchema } from "./schemas.ts";
import type { ReadinessService } from "./service.ts";

/** Joins the Dataset operations in the API document. */
export const READINESS_API = defineApi({
  name: "Dataset",
  description: "The readiness check.",
  operations: {
    readiness: {
      method: "get",
      path: "/projects/:id/dataset/readiness",
      summary: "What training will see: a sample rendered token for token (trained vs masked), how many examples fit, a suggested max_seq_length",
      query: readinessQuerySchema,
      response: { status: 200, description: "ReadinessReport", schema: readinessReportSchema },
      errors: [404, 422],
    },
  },
});

export function readinessApiRoutes(readiness: ReadinessService) {
  return apiRoutes(READINESS_API, { readiness: (_c, { query, params }) => readiness.report(params.id, { maxSeqLength: query.max_seq_length, n: query.n }) });
}

export function readinessPageRoutes(readiness: ReadinessService) {
  return new Hono<AppEnv>().get("/projects/:id/readiness", (c) => {
    const q = readinessQuerySchema.safeParse(c.req.query());
    // The Train form's length being typed: say what is wrong in place of the panel.
    if (!q.success) return c.html(<ReadinessError message={q.error.issues[0]?.message ?? "Invalid query."} />);
    return c.html(<ReadinessPanel report={readiness.report(c.req.param("id"), { maxSeqLength: q.data.max_seq_length, n: q.data.n })} />);
  });
}

