/**
 * The weights download against a loopback Hub speaking its HTTP API: the files
 * training needs in the Hub cache layout, progress, a cancel then a Range request that
 * continues the file, a checksum mismatch, a gated repo without a token, a disk too
 * small, a local folder, and the cache shared between projects.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { projects } from "../projects/table.ts";
import type { FakeRepo } from "../../tests/fakes/fake-hub.ts";
import { createHubClient } from "./hub-client.ts";
import { checkHardware, chooseTask, insertExamples, insertProject, modelInfoFor } from "../../tests/helpers/builders.ts";
import { downloadHarness, randomBytes } from "../../tests/helpers/download-harness.ts";
import { waitFor } from "../../tests/helpers/training-harness.ts";

const h = downloadHarness();
const { hub, app, repo, projectOn, job, startDownload, snapshot } = h;

test("downloads what training needs into the Hub cache layout, with byte progress, once for every project", async () => {
  app();
  const r = repo();
  const pid = projectOn(r.id);
  expect(await (await h.t.request(`/api/projects/${pid}/model/weights`)).json()).toEqual({ state: "none" });
  const id = await startDownload(pid);
  const messages = new Set<string>();
  h.t.queue.start();
  await waitFor(async () => {
    const j = await job(id);
    if (j.progress_message) messages.add(j.progress_message);
    if (j.status === "failed") throw new Error(j.error_message ?? "failed");
    return j.status === "success";
  }, 20_000);
  const dir = snapshot(r);
  expect(readdirSync(dir).sort()).toEqual([".finetuneflow.json", "config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "tokenizer_config.json"]);
  expect(readFileSync(join(dir, "model-00001-of-00002.safetensors"))).toEqual(Buffer.from(r.files["model-00001-of-00002.safetensors"] as Uint8Array));
  expect(readFileSync(join(h.t.dataDir, "models/hub", `models--${r.id.replace("/", "--")}`, "refs/main"), "utf8")).toBe(r.sha!);
  expect([...messages].some((m) => /of 3\.\d MB/.test(m))).toBe(true);
  const weights = await (await h.t.request(`/api/projects/${pid}/model/weights`)).json();
  const needed = ["config.json", "tokenizer_config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"];
  const size = (c: string | Uint8Array) => (typeof c === "string" ? Buffer.byteLength(c) : c.length);
  expect(weights).toEqual({ state: "complete", commit: r.sha, bytes: needed.reduce((n, f) => n + size(r.files[f]!), 0) });
  // A second project on the same model shares the copy: nothing is fetched again.
  const before = hub.requests.length;
  const other = projectOn(r.id, "Q");
  expect((await (await h.t.request(`/api/projects/${other}/model/weights`)).json()).state).toBe("complete");
  expect(hub.requests.length).toBe(before);
  const cache = (await (await h.t.request("/api/models/cache")).json()) as { models: { repo_id: string; used_by: string[]; complete: boolean }[] };
  expect(cache.models.find((m) => m.repo_id === r.id)).toMatchObject({ complete: true, used_by: ["P", "Q"] });
}, 30_000);

test("a cancelled download continues with a Range request and ends with the right bytes", async () => {
  app();
  const r = repo({ throttle: 1024 * 1024 });
  const pid = projectOn(r.id);
  const id = await startDownload(pid);
  h.t.queue.start();
  const partial = join(snapshot(r), "model-00001-of-00002.safetensors.incomplete");
  await waitFor(() => existsSync(partial) && statSync(partial).size > 256 * 1024, 20_000);
  await h.t.json("POST", `/api/jobs/${id}/cancel`);
  await waitFor(async () => (await job(id)).status === "cancelled");
  const kept = statSync(partial).size;
  expect(kept).toBeGreaterThan(0);
  r.throttle = undefined;
  const again = await startDownload(pid);
  await waitFor(async () => (await job(again)).status === "success", 20_000);
  const ranged = hub.requests.filter((q) => q.path.startsWith(`/${r.id}/resolve/`) && q.path.endsWith("model-00001-of-00002.safetensors") && q.range);
  expect(ranged.length).toBe(1);
  expect(Number(/bytes=(\d+)-/.exec(ranged[0]!.range!)![1])).toBeGreaterThanOrEqual(kept);
  expect(readFileSync(join(snapshot(r), "model-00001-of-00002.safetensors"))).toEqual(Buffer.from(r.files["model-00001-of-00002.safetensors"] as Uint8Array));
}, 30_000);

test("a file whose sha256 does not match is fetched again, then refused with a clear message", async () => {
  app();
  const r = repo({ corrupt: ["model-00002-of-00002.safetensors"] });
  const pid = projectOn(r.id);
  const id = await startDownload(pid);
  h.t.queue.start();
  await waitFor(async () => (await job(id)).status === "failed", 20_000);
  expect((await job(id)).error_message).toContain("model-00002-of-00002.safetensors of " + r.id + " arrived damaged twice (sha256");
  expect(hub.requests.filter((q) => q.path.startsWith(`/${r.id}/resolve/`) && q.path.endsWith("model-00002-of-00002.safetensors")).length).toBe(2);
  expect(existsSync(join(snapshot(r), "model-00002-of-00002.safetensors"))).toBe(false);
  expect((await (await h.t.request(`/api/projects/${pid}/model/weights`)).json()).state).toBe("partial");
}, 30_000);

test("a gated repo without a token fails with what to do", async () => {
  app();
  const r = repo({ gated: "manual" });
  const pid = projectOn(r.id);
  const id = await startDownload(pid);
  h.t.queue.start();
  await waitFor(async () => (await job(id)).status === "failed", 20_000);
  expect((await job(id)).error_message).toContain(`${r.id} is a gated model and no HF_TOKEN is set`);
}, 30_000);

test("a model bigger than the free disk is refused with the numbers, before any byte", async () => {
  app();
  const r = repo({ listedSizes: { "model-00001-of-00002.safetensors": 40 * 1024 ** 4 } });
  const pid = projectOn(r.id);
  const id = await startDownload(pid);
  h.t.queue.start();
  await waitFor(async () => (await job(id)).status === "failed", 20_000);
  const message = (await job(id)).error_message!;
  expect(message).toMatch(new RegExp(`^${r.id} needs 40 TB more .* but only .* are free under the data directory`));
  expect(hub.requests.some((q) => q.path.startsWith(`/${r.id}/resolve/`))).toBe(false);
}, 30_000);

test("a local folder needs no download; a model in use cannot be removed, an unused one can", async () => {
  app();
  const local = insertProject(h.t.db);
  h.t.db.update(projects).set({ modelInfo: modelInfoFor("/models/x") }).where(eq(projects.id, local)).run();
  const refused = await h.t.json("POST", `/api/projects/${local}/model/download`);
  expect(refused.status).toBe(409);
  expect(((await refused.json()) as { error_code: string }).error_code).toBe("local_model");

  const r = repo();
  const pid = projectOn(r.id);
  const id = await startDownload(pid);
  h.t.queue.start();
  await waitFor(async () => (await job(id)).status === "success", 20_000);
  const [org, name] = r.id.split("/");
  const inUse = await h.t.request(`/api/models/cache/${org}/${name}`, { method: "DELETE" });
  expect(inUse.status).toBe(409);
  expect(((await inUse.json()) as { detail: string }).detail).toContain("is used by P");
  // Deleting the project leaves the shared copy; then it can go.
  expect((await h.t.request(`/api/projects/${pid}`, { method: "DELETE" })).status).toBeLessThan(300);
  expect(existsSync(snapshot(r))).toBe(true);
  expect((await h.t.request(`/api/models/cache/${org}/${name}`, { method: "DELETE" })).status).toBe(200);
  expect(existsSync(snapshot(r))).toBe(false);
  expect((await h.t.request(`/api/models/cache/${org}/bad--name`, { method: "DELETE" })).status).toBe(422);
}, 30_000);

test("train/start fetches missing weights first, in the run's progress, then trains from the cache offline", async () => {
  app();
  const r = repo({ throttle: 4 * 1024 * 1024 });
  const pid = projectOn(r.id);
  chooseTask(h.t.db, pid);
  insertExamples(h.t.db, pid, 12);
  checkHardware(h.t.db, pid);
  const started = await h.t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1 });
  expect(started.status).toBe(202);
  h.t.queue.start();
  await waitFor(async () => ((await (await h.t.request(`/api/projects/${pid}/train/status`)).json()) as { status: string }).status === "success", 20_000);
  const events = h.t.db.$client.query("select data as event from run_metrics order by seq").all() as { event: string }[];
  const text = events.map((e) => e.event).join("\n");
  expect(text).toContain("Downloading the base model: ");
  expect(text).toContain(`hub offline=1 cache=${join(h.t.dataDir, "models", "hub")}`);
  expect((await (await h.t.request(`/api/projects/${pid}/model/weights`)).json()).state).toBe("complete");
}, 30_000);

describe("a hostile Hub mirror", () => {
  const failedWith = async (r: FakeRepo) => {
    const pid = projectOn(r.id);
    const id = await startDownload(pid);
    h.t.queue.start();
    await waitFor(async () => ["failed", "success"].includes((await job(id)).status), 20_000);
    return job(id);
  };

  test("a revision sha with ../ segments writes nothing outside the cache, and is refused with a sentence", async () => {
    app();
    const outside = mkdtempSync(join(tmpdir(), "ftf-outside-"));
    const r = repo({ sha: `../../../../../../../../../..${outside}` });
    const j = await failedWith(r);
    expect(j.status).toBe("failed");
    expect(j.error_message).toContain("which is not a commit id (40 hexadecimal characters)");
    expect(j.error_message).not.toContain(h.t.dataDir);
    expect(readdirSync(outside)).toEqual([]);
    expect(hub.requests.some((q) => q.path.startsWith(`/${r.id}/resolve/`))).toBe(false);
    const cache = (await (await h.t.request("/api/models/cache")).json()) as { models: { repo_id: string; commit: string }[] };
    expect(cache.models.some((m) => m.commit.includes(".."))).toBe(false);
    rmSync(outside, { recursive: true });
  }, 30_000);

  test.each([
    ["a NUL byte", "a\u0000b.safetensors"],
    ["backslash segments", "..\\..\\x.safetensors"],
    ["a ../ segment", "../x.safetensors"],
    ["an absolute path", "/tmp/x.safetensors"],
    ["a newline", "model\n.safetensors"],
  ])("a sibling name with %s is refused with the name and no server path", async (_what, name) => {
    app();
    const r = repo();
    r.files[name] = randomBytes(1024, 9);
    const j = await failedWith(r);
    expect(j.status).toBe("failed");
    expect(j.error_message).toContain(`named ${JSON.stringify(name)}, which is not a plain file name`);
    expect(j.error_message).not.toContain(h.t.dataDir);
    // One refusal, no retries, and nothing fetched.
    expect(hub.requests.filter((q) => q.path.startsWith(`/api/models/${r.id}/revision/`)).length).toBe(1);
    expect(hub.requests.some((q) => q.path.startsWith(`/${r.id}/resolve/`))).toBe(false);
    expect(existsSync(join(h.t.dataDir, "models", "hub", `models--${r.id.replace("/", "--")}`))).toBe(false);
  }, 30_000);

  test("a body longer than its declared size is cut at that size, fetched once more, then refused with both numbers", async () => {
    app();
    const r = repo({ listedSizes: { "model-00002-of-00002.safetensors": 1000 }, endless: ["model-00002-of-00002.safetensors"] });
    const j = await failedWith(r);
    expect(j.status).toBe("failed");
    expect(j.error_message).toContain("model-00002-of-00002.safetensors of");
    expect(j.error_message).toContain("more than the 1000 B (1000 bytes) the listing declares; stopped at 1000 B");
    expect(hub.requests.filter((q) => q.path.startsWith(`/${r.id}/resolve/`) && q.path.endsWith("/model-00002-of-00002.safetensors")).length).toBe(2);
    // The client stopped pulling: two fetches, a few slices of read-ahead each, never megabytes on disk.
    expect(hub.endlessSent.get("model-00002-of-00002.safetensors")!).toBeLessThan(8 * 1024 * 1024);
    expect(existsSync(join(snapshot(r), "model-00002-of-00002.safetensors.incomplete"))).toBe(false);
    // What was already whole is kept for the next try.
    expect(existsSync(join(snapshot(r), "model-00001-of-00002.safetensors"))).toBe(true);
  }, 30_000);

  test("a declared size of 0 is a cap of 0 bytes, not any length", async () => {
    app();
    const r = repo({ listedSizes: { "model-00002-of-00002.safetensors": 0 }, endless: ["model-00002-of-00002.safetensors"] });
    const j = await failedWith(r);
    expect(j.status).toBe("failed");
    expect(j.error_message).toContain("more than the 0 B (0 bytes) the listing declares");
  }, 30_000);

  test("a needed file listed without a size is refused before any byte", async () => {
    app();
    const r = repo({ unsized: ["model-00001-of-00002.safetensors"] });
    const j = await failedWith(r);
    expect(j.status).toBe("failed");
    expect(j.error_message).toContain(`lists "model-00001-of-00002.safetensors" of ${r.id} without a size`);
    expect(hub.requests.some((q) => q.path.startsWith(`/${r.id}/resolve/`))).toBe(false);
  }, 30_000);

  test("repo id segments are encoded in Hub URLs", async () => {
    const seen: string[] = [];
    const client = createHubClient({
      endpoint: "http://hub.invalid",
      timeoutMs: 1000,
      fetch: (async (url: string) => {
        seen.push(url);
        return new Response("{}", { status: 200 });
      }) as unknown as typeof fetch,
    });
    await client.file("org/name", "a b#c.json");
    await client.download("org/name", "0".repeat(40), "x?y.safetensors", 0, new AbortController().signal);
    expect(seen).toEqual(["http://hub.invalid/org/name/resolve/main/a%20b%23c.json", `http://hub.invalid/org/name/resolve/${"0".repeat(40)}/x%3Fy.safetensors`]);
  });
});
