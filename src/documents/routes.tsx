/** Files of a project: the spec's API, and the Data step's list fragment and forms. */
import { Hono } from "hono";
import { AppError } from "../lib/errors.ts";
import { parseJsonBody, parseWith, readFormFields } from "../lib/validation.ts";
import type { AppEnv } from "../lib/app-env.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { columnMappingSchema } from "../datasets/shapes.ts";
import type { createImportService } from "../datasets/import-service.ts";
import { FileListFragment } from "../../views/wizard/steps/DataStep.tsx";
import { toFileJson } from "./schemas.ts";
import type { DocumentService } from "./service.ts";

type ImportService = ReturnType<typeof createImportService>;

export function documentApiRoutes(documents: DocumentService, imports: ImportService) {
  return new Hono<AppEnv>()
    .post("/projects/:id/files/upload", async (c) => {
      const { accepted, errors } = await documents.upload(c.req.param("id"), c.req.raw);
      const body = { files: accepted.map(toFileJson), errors: errors.map(({ status: _s, ...e }) => e) };
      if (accepted.length === 0 && errors.length > 0) {
        const first = errors[0]!;
        const detail = errors.length === 1 ? first.detail : `No file was accepted: ${errors.map((e) => e.detail).join(" ")}`;
        return c.json({ detail, error_code: first.error_code, ...body }, first.status as 413);
      }
      return c.json(body, 201);
    })
    .get("/projects/:id/files", (c) => c.json({ files: documents.list(c.req.param("id")).map(toFileJson) }))
    .delete("/projects/:id/files/:fileId", async (c) => {
      await documents.remove(c.req.param("id"), c.req.param("fileId"));
      // JSON, not an empty 204: clients that parse every answer (the spec's ApiClient) must not throw.
      return c.json({ deleted: true, id: c.req.param("fileId") });
    })
    .post("/projects/:id/files/:fileId/mapping", async (c) => {
      const mapping = await parseJsonBody(c, columnMappingSchema);
      return c.json(toFileJson(imports.applyMapping(c.req.param("id"), c.req.param("fileId"), mapping)), 202);
    });
}

export function documentPageRoutes(documents: DocumentService, imports: ImportService, wizard: WizardRenderer) {
  const list = (projectId: string) => {
    const { project, states } = wizard.load(projectId);
    return <FileListFragment project={project} states={states} files={documents.list(projectId).map(toFileJson)} />;
  };
  return new Hono<AppEnv>()
    .get("/projects/:id/files/list", (c) => c.html(list(c.req.param("id"))))
    .delete("/projects/:id/files/:fileId", async (c) => {
      await documents.remove(c.req.param("id"), c.req.param("fileId"));
      return c.html(list(c.req.param("id")));
    })
    .post("/projects/:id/files/:fileId/mapping", async (c) => {
      const form = await readFormFields(c);
      const mapping = parseWith(columnMappingSchema, { instruction: form.instruction, input: form.input, output: form.output });
      if (mapping.instruction === mapping.output) throw new AppError(422, "validation_error", "The instruction and the output must be different columns.");
      imports.applyMapping(c.req.param("id"), c.req.param("fileId"), mapping);
      return c.html(list(c.req.param("id")));
    });
}
