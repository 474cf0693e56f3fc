/** Export: start the export job, list the files, download one (the zip by default). */
import { Hono } from "hono";
import type { AppEnv } from "../lib/app-env.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { ZIP_NAME, type ExportService } from "./service.ts";

/** A name safe for Content-Disposition: ASCII fallback plus the RFC 5987 UTF-8 form. */
export function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export function exportApiRoutes(exports: ExportService) {
  return new Hono<AppEnv>()
    .post("/projects/:id/export", (c) => c.json({ job_id: exports.start(c.req.param("id")).id }, 202))
    .get("/projects/:id/export/files", (c) => {
      const id = c.req.param("id");
      return c.json({
        files: exports.files(id).map((f) => ({
          name: f.filename,
          size_bytes: f.sizeBytes,
          download_url: `/api/projects/${id}/export/download?file=${encodeURIComponent(f.filename)}`,
        })),
      });
    })
    .get("/projects/:id/export/download", (c) => {
      const { path, filename } = exports.pathOf(c.req.param("id"), c.req.query("file") ?? ZIP_NAME);
      return new Response(Bun.file(path), {
        headers: { "Content-Disposition": attachment(filename), "Content-Type": "application/octet-stream", "X-Content-Type-Options": "nosniff" },
      });
    });
}

export function exportPageRoutes(exports: ExportService, wizard: WizardRenderer) {
  return new Hono<AppEnv>().post("/projects/:id/export", (c) => {
    exports.start(c.req.param("id"));
    return wizard.render(c, c.req.param("id"), "export");
  });
}
