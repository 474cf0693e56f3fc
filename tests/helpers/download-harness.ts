/**
 * The weights download tests' world: a loopback Hub, repos of made-up weights added to it
 * one by one, the app with the fake trainer, and a project on a repo. Call once at a test
 * file's top level (it registers the file's afterEach/afterAll).
 */
import { afterAll, afterEach } from "bun:test";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { projects } from "../../src/projects/table.ts";
import { startFakeHub, type FakeRepo } from "../fakes/fake-hub.ts";
import { insertProject, modelInfoFor } from "./builders.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "./test-app.ts";

/** Bytes that differ by seed: two shards never share a digest. */
export const randomBytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 17 + (i >> 8)) & 0xff);

let repoSeq = 0;
/** A fresh number for repo ids and commits, unique across the test files of a run. */
export const nextRepoNumber = () => ++repoSeq;

export function downloadHarness() {
  const hub = startFakeHub();
  let app: TestApp | undefined;
  afterEach(() => app?.close());
  afterAll(() => hub.stop());

  const h = {
    hub,
    get t(): TestApp {
      if (!app) throw new Error("call app() first");
      return app;
    },
    app: () => (app = makeTestApp({ hub: { endpoint: hub.url }, trainer: { command: FAKE_TRAINER, env: { FAKE_ECHO_HUB: "1" } } })),

    /** A repo with what training needs (config, tokenizer, two shards, their index) and what it does not (README, ONNX). */
    repo(extra: Partial<FakeRepo> = {}): FakeRepo {
      const n = nextRepoNumber();
      const r: FakeRepo = {
        id: `org/weights-${n}`,
        sha: `${String(n).padStart(4, "0")}c0ffee${"0".repeat(30)}`,
        files: {
          "config.json": JSON.stringify({ model_type: "llama", architectures: ["LlamaForCausalLM"] }),
          "tokenizer_config.json": "{}",
          "model-00001-of-00002.safetensors": randomBytes(3 * 1024 * 1024, 1),
          "model-00002-of-00002.safetensors": randomBytes(512 * 1024, 2),
          "model.safetensors.index.json": JSON.stringify({ weight_map: {} }),
          "README.md": "# not needed",
          "onnx/model.onnx": randomBytes(1024, 3),
        },
        ...extra,
      };
      hub.add(r);
      return r;
    },

    projectOn(repoId: string, name = "P") {
      const pid = insertProject(h.t.db, { name });
      h.t.db.update(projects).set({ baseModelId: repoId, modelInfo: modelInfoFor(repoId, { source: "hub" }) }).where(eq(projects.id, pid)).run();
      return pid;
    },

    job: async (id: string) => (await (await h.t.request(`/api/jobs/${id}`)).json()) as { status: string; progress_message: string | null; error_message: string | null },
    startDownload: async (pid: string) => ((await (await h.t.json("POST", `/api/projects/${pid}/model/download`)).json()) as { job_id: string }).job_id,
    snapshot: (r: FakeRepo) => join(h.t.dataDir, "models", "hub", `models--${r.id.replace("/", "--")}`, "snapshots", r.sha!),
  };
  return h;
}
