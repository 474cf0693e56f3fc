/**
 * The generation tests' app: a project with one uploaded document, fake Ollama servers
 * stopped after each test, and a way to run a preview or a generation to its end.
 * Call once at a test file's top level (it registers the file's afterEach).
 */
import { afterEach, expect } from "bun:test";
import { corpusText } from "../fakes/corpus.ts";
import { startFakeOllama, type FakeOllama } from "../fakes/fake-ollama.ts";
import { resolveModel } from "./builders.ts";
import { makeTestApp, type TestApp } from "./test-app.ts";

export function generationHarness() {
  let app: TestApp | undefined;
  let fakes: FakeOllama[] = [];
  afterEach(() => {
    app?.close();
    for (const f of fakes) f.stop();
    fakes = [];
  });

  const harness = {
    /** The current test's app (made by `setup`). */
    get t(): TestApp {
      if (!app) throw new Error("call setup() first");
      return app;
    },

    /** The fake servers started in this test, in order. */
    get fakes(): readonly FakeOllama[] {
      return fakes;
    },

    /** Makes `app` the current test's app (closed after the test). */
    adopt(made: TestApp) {
      app = made;
      return made;
    },

    fake(opts: Parameters<typeof startFakeOllama>[0] = {}) {
      const f = startFakeOllama(opts);
      fakes.push(f);
      return f;
    },

    async setup(opts: { hosts?: string[]; openai?: string; timeoutMs?: number; task?: "instruction" | "qa"; words?: number; concurrency?: number } = {}) {
      const t = (app = makeTestApp({ generation: { ollamaHosts: opts.hosts ?? [], openaiBaseUrl: opts.openai, timeoutMs: opts.timeoutMs ?? 5000, concurrency: opts.concurrency ?? 4 } }));
      const pid = (await (await t.json("POST", "/api/projects", { name: "gen" })).json()).id as string;
      resolveModel(t.db, pid);
      await t.json("PATCH", `/api/projects/${pid}`, { task_type: opts.task ?? "instruction" });
      const form = new FormData();
      form.append("kind", "raw_doc");
      form.append("files", new File([corpusText(opts.words ?? 3000)], "manual.txt"));
      await t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form });
      await t.queue.runUntilEmpty();
      return pid;
    },

    rows: (pid: string) => harness.t.db.$client.query("select * from examples where project_id = ? order by created_at").all(pid) as Record<string, any>[],
    job: async (id: string) => (await harness.t.request(`/api/jobs/${id}`)).json(),

    async run(pid: string, kind: "preview" | "generate", body?: unknown) {
      const res = await harness.t.json("POST", `/api/projects/${pid}/dataset/${kind}`, body);
      expect(res.status).toBe(202);
      const { job_id } = await res.json();
      await harness.t.queue.runUntilEmpty(60_000);
      return harness.job(job_id);
    },
  };
  return harness;
}
