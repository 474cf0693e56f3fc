/** A test app with one project, and helpers to upload files into it and read what came out. */
import { afterEach, beforeEach } from "bun:test";
import { buildPdf } from "../fakes/pdf.ts";
import { makeTestApp, type TestApp } from "./test-app.ts";

export type Upload = { name: string; data: Uint8Array | string };

export const GOOD_PDF = { name: "manual.pdf", data: buildPdf([{ lines: ["Warranty terms", "The warranty lasts two years."] }, { lines: ["Returns are accepted within 30 days."] }]) };

/** Call at a test file's top level: a fresh app and project before each test. */
type Harness = {
  t: TestApp;
  pid: string;
  upload: (files: Upload[], kind?: string, project?: string) => Promise<Response>;
  filesAfterProcessing: () => Promise<Record<string, any>[]>;
  chunksOf: (fileId: string) => Record<string, any>[];
};

export function documentsHarness(): Harness {
  const h: Harness = {
    t: undefined as unknown as TestApp,
    pid: "",
    upload(files: Upload[], kind = "raw_doc", project = h.pid) {
      const form = new FormData();
      form.append("kind", kind);
      for (const f of files) form.append("files", new File([f.data as BlobPart], f.name));
      return h.t.request(`/api/projects/${project}/files/upload`, { method: "POST", body: form });
    },
    async filesAfterProcessing() {
      await h.t.queue.runUntilEmpty();
      return (await (await h.t.request(`/api/projects/${h.pid}/files`)).json()).files as Record<string, any>[];
    },
    chunksOf: (fileId: string) => h.t.db.$client.query("select * from chunks where file_id = ? order by ordinal").all(fileId) as Record<string, any>[],
  };
  beforeEach(async () => {
    h.t = makeTestApp();
    h.pid = (await (await h.t.json("POST", "/api/projects", { name: "docs" })).json()).id;
  });
  afterEach(() => h.t.close());
  return h;
}
