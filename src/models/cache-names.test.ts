/** One naming rule for the model cache: one- and two-part model ids, and no phantom entries. */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fixtureRepo } from "../../tests/fakes/fake-hub.ts";
import { insertProject } from "../../tests/helpers/builders.ts";
import { downloadHarness, nextRepoNumber } from "../../tests/helpers/download-harness.ts";
import { waitFor } from "../../tests/helpers/training-harness.ts";

const h = downloadHarness();
const { hub, app, repo, projectOn, job, startDownload } = h;

describe("one naming rule for the model cache", () => {
  test("resolving models/x leaves no phantom x in the cache list", async () => {
    const id = "models/x";
    hub.add(fixtureRepo("meta-llama__Llama-3.1-8B-Instruct", { id }));
    app();
    const pid = insertProject(h.t.db);
    const res = await h.t.json("POST", `/api/projects/${pid}/model/resolve`, { model_id: id });
    expect(res.status).toBe(200);
    expect(((await (await h.t.request("/api/models/cache")).json()) as { models: unknown[] }).models).toEqual([]);
  });

  test("a one-part model id is downloaded to models--name and removed through the API", async () => {
    app();
    const r = repo({ id: `gpt${nextRepoNumber()}` });
    const pid = projectOn(r.id);
    const id = await startDownload(pid);
    h.t.queue.start();
    await waitFor(async () => (await job(id)).status === "success", 20_000);
    expect(existsSync(join(h.t.dataDir, "models", "hub", `models--${r.id}`, "snapshots", r.sha!))).toBe(true);
    const cache = (await (await h.t.request("/api/models/cache")).json()) as { models: { repo_id: string }[] };
    expect(cache.models.map((m) => m.repo_id)).toContain(r.id);
    expect((await h.t.request(`/api/projects/${pid}`, { method: "DELETE" })).status).toBeLessThan(300);
    const removed = await h.t.request(`/api/models/cache/${r.id}`, { method: "DELETE" });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ removed: r.id });
    expect(existsSync(join(h.t.dataDir, "models", "hub", `models--${r.id}`))).toBe(false);
  }, 30_000);
});
