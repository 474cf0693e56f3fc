/** Files of a project: the spec's API, and the Data step's list fragment and forms. */
import { Hono } from "hono";
import type { AppEnv } from "../lib/app-env.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import { FileListFragment } from "../../views/wizard/steps/DataStep.tsx";
import { toFileJson } from "./schemas.ts";
import type { DocumentService } from "./service.ts";

export function documentApiRoutes(documents: DocumentService) {
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
