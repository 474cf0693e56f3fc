/** Export: start the export job, list the files, download one (the zip by default). */
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { jobStartedSchema } from "../jobs/schemas.ts";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../lib/app-env.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { ZIP_NAME, type ExportService } from "./service.ts";

/** A name safe for Content-Disposition: ASCII fallback plus the RFC 5987 UTF-8 form. */
export function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

const downloadQuery = z.object({ file: z.string().optional().meta({ description: `One exported file's name (default: ${ZIP_NAME})` }) });

export const EXPORT_API = defineApi({
  name: "Export",
  description: "The adapter, report, metrics and one zip.",
  operations: {
    start: { method: "post", path: "/projects/:id/export", summary: "Export the last successful run", response: { status: 202, description: "The export job", schema: jobStartedSchema }, errors: [404, 409] },
    files: {
      method: "get",
      path: "/projects/:id/export/files",
      summary: "The exported files with their download URLs",
      response: { status: 200, description: "The files", schema: z.object({ files: z.array(z.object({ name: z.string(), size_bytes: z.number().int(), download_url: z.string() })) }) },
      errors: [404],
    },
    download: { method: "get", path: "/projects/:id/export/download", summary: "Download one exported file (the zip by default)", query: downloadQuery, response: { status: 200, description: "The file", contentType: "application/octet-stream" }, errors: [404] },
  },
});

export function exportApiRoutes(exports: ExportService) {
  return apiRoutes(EXPORT_API, {
    start: (_c, { params }) => ({ job_id: exports.start(params.id).id }),
    files: (_c, { params }) => {
      const id = params.id;
      return {
        files: exports.files(id).map((f) => ({
          name: f.filename,
          size_bytes: f.sizeBytes,
          download_url: `/api/projects/${id}/export/download?file=${encodeURIComponent(f.filename)}`,
        })),
      };
    },
    download: (_c, { query, params }) => {
      const { path, filename } = exports.pathOf(params.id, query.file ?? ZIP_NAME);
      return new Response(Bun.file(path), {
        headers: { "Content-Disposition": attachment(filename), "Content-Type": "application/octet-stream", "X-Content-Type-Options": "nosniff" },
      });
    },
  });
}

export function exportPageRoutes(exports: ExportService, wizard: WizardRenderer) {
  return new Hono<AppEnv>().post("/projects/:id/export", (c) => {
    exports.start(c.req.param("id"));
    return wizard.render(c, c.req.param("id"), "export");
  });
}

