/** Column mapping of a dataset file whose columns were not recognised: the API and the Data step's form. */
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { Hono } from "hono";
import type { AppEnv } from "../lib/app-env.ts";
import { parseWith, readFormFields } from "../lib/validation.ts";
import type { FileListRenderer } from "../documents/routes.tsx";
import { fileJsonSchema, toFileJson } from "../documents/schemas.ts";
import type { ImportService } from "./import-service.ts";
import { columnMappingSchema } from "./shapes.ts";

/** Joins the Files operations in the API document. */
export const MAPPING_API = defineApi({
  name: "Files",
  description: "The column mapping of a dataset file.",
  operations: {
    mapping: { method: "post", path: "/projects/:id/files/:fileId/mapping", summary: "Say which columns of a dataset file are instruction, input and output", body: columnMappingSchema, response: { status: 202, description: "The file, importing again", schema: fileJsonSchema }, errors: [400, 404, 409, 415, 422] },
  },
});

export function mappingApiRoutes(imports: ImportService) {
  return apiRoutes(MAPPING_API, { mapping: (_c, { body, params }) => toFileJson(imports.applyMapping(params.id, params.fileId, body)) });
}

/** The form answers with the Data step's file list (renderFileList), re-rendered by documents. */
export function mappingPageRoutes(imports: ImportService, renderFileList: FileListRenderer) {
  return new Hono<AppEnv>().post("/projects/:id/files/:fileId/mapping", async (c) => {
    const form = await readFormFields(c);
    const mapping = parseWith(columnMappingSchema, { instruction: form.instruction, input: form.input, output: form.output });
    imports.applyMapping(c.req.param("id"), c.req.param("fileId"), mapping);
    return c.html(renderFileList(c.req.param("id")));
  });
}

