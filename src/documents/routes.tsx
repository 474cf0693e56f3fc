/** Files of a project: the spec's API, and the Data step's list fragment and forms. */
import { z } from "zod";
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { Hono } from "hono";
import type { AppEnv } from "../lib/app-env.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { FileListFragment } from "../../views/wizard/steps/DataStep.tsx";
import { fileJsonSchema, toFileJson, uploadRefusalSchema } from "./schemas.ts";
import type { DocumentService } from "./service.ts";

export const FILES_API = defineApi({
  name: "Files",
  description: "Documents (PDF, DOCX, TXT, MD) and ready datasets (JSONL, JSON, CSV), 50 MB each.",
  operations: {
    upload: {
      method: "post",
      path: "/projects/:id/files/upload",
      summary: "Upload files; each is accepted or refused with its reason",
      body: { multipart: { kind: "`raw_doc` (documents, default) or `dataset_upload`", files: "One or more files" } },
      response: { status: 201, description: "The accepted files and the per-file refusals (when none is accepted: the first refusal's status, with detail, error_code, files and errors)", schema: z.object({ files: z.array(fileJsonSchema), errors: z.array(uploadRefusalSchema) }) },
      errors: [400, 404, 409, 413, 415, 422, 507],
    },
    list: { method: "get", path: "/projects/:id/files", summary: "A project's files with their extraction or import status", response: { status: 200, description: "The files", schema: z.object({ files: z.array(fileJsonSchema) }) }, errors: [404] },
    // JSON, not an empty 204: clients that parse every answer (the spec's ApiClient) must not throw.
    remove: { method: "delete", path: "/projects/:id/files/:fileId", summary: "Delete a file with its chunks and examples", response: { status: 200, description: "What was deleted", schema: z.object({ deleted: z.literal(true), id: z.string() }) }, errors: [404] },
  },
});

export function documentApiRoutes(documents: DocumentService) {
  return apiRoutes(FILES_API, {
    upload: async (c, { params }) => {
      const { accepted, errors } = await documents.upload(params.id, c.req.raw);
      const body = { files: accepted.map(toFileJson), errors: errors.map(({ status: _s, ...e }) => e) };
      if (accepted.length === 0 && errors.length > 0) {
        const first = errors[0]!;
        const detail = errors.length === 1 ? first.detail : `No file was accepted: ${errors.map((e) => e.detail).join(" ")}`;
        return c.json({ detail, error_code: first.error_code, ...body }, first.status as 413);
      }
      return body;
    },
    list: (_c, { params }) => ({ files: documents.list(params.id).map(toFileJson) }),
    remove: async (_c, { params }) => {
      await documents.remove(params.id, params.fileId);
      return { deleted: true as const, id: params.fileId };
    },
  });
}

/** The Data step's file list, as a fragment (after an upload, a delete, a mapping). */
export const fileListRenderer = (documents: DocumentService, wizard: WizardRenderer) => (projectId: string) => {
  const { project, states } = wizard.load(projectId);
  return <FileListFragment project={project} states={states} files={documents.list(projectId).map(toFileJson)} />;
};

export type FileListRenderer = ReturnType<typeof fileListRenderer>;

export function documentPageRoutes(documents: DocumentService, renderFileList: FileListRenderer) {
  return new Hono<AppEnv>()
    .get("/projects/:id/files/list", (c) => c.html(renderFileList(c.req.param("id"))))
    .delete("/projects/:id/files/:fileId", async (c) => {
      await documents.remove(c.req.param("id"), c.req.param("fileId"));
      return c.html(renderFileList(c.req.param("id")));
    });
}

