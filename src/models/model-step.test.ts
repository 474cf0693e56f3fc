/** The Model step with a local folder, and the Model and Task step pages (forms, errors, the stepper). */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { fixtureRepo, startFakeHub, type FakeHub } from "../../tests/fakes/fake-hub.ts";
import { writeTinyModelFolder } from "../../tests/fakes/tiny-model-folder.ts";
import { makeTempDir, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";

let hub: FakeHub;
let t: TestApp;

beforeAll(() => {
  hub = startFakeHub([fixtureRepo("Qwen__Qwen2.5-7B-Instruct", { license: "apache-2.0", safetensorsTotal: 7_615_616_512 })]);
});
afterAll(() => hub.stop());
afterEach(() => t?.close());

function app() {
  t = makeTestApp({ hub: { endpoint: hub.url, timeoutMs: 1000 } });
  return t;
}

async function newProject() {
  return (await (await t.json("POST", "/api/projects", { name: "p" })).json()).id as string;
}

const resolve = (id: string, model_id: unknown) => t.json("POST", `/api/projects/${id}/model/resolve`, { model_id });

describe("resolving a local model folder", () => {
  test("counts parameters exactly from the safetensors headers and reads the license", async () => {
    app();
    const { dir, params } = writeTinyModelFolder(join(makeTempDir(), "tiny-llama"), { readme: "---\nlicense: apache-2.0\n---\n# Tiny" });
    const info = await (await resolve(await newProject(), dir)).json();
    expect(info).toMatchObject({ model_id: dir, source: "local", num_parameters: params, parameter_source: "safetensors", license: "apache-2.0", gated: false });
    expect(info.warnings.join(" ")).toContain("No tokenizer.json");
  });

  test("sums sharded safetensors files", async () => {
    app();
    const { dir, params } = writeTinyModelFolder(join(makeTempDir(), "sharded"), { shards: 3 });
    expect((await (await resolve(await newProject(), dir)).json()).num_parameters).toBe(params);
  });

  test("a missing folder, a folder without config.json and an unreadable path answer alike; a corrupt safetensors file says what is wrong", async () => {
    app();
    const id = await newProject();
    // The same answer for each, so the form cannot be used to learn which paths exist.
    const answers = [];
    for (const path of ["/definitely/not/here", makeTempDir(), "/etc/passwd", "/root/.ssh"]) {
      const res = await resolve(id, path);
      answers.push({ status: res.status, body: await res.json() });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ status: 422, body: { error_code: "not_a_model_folder" } });
    expect(answers[0]!.body.detail).not.toContain("/definitely");
    const { dir } = writeTinyModelFolder(join(makeTempDir(), "corrupt"));
    writeFileSync(join(dir, "model.safetensors"), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]));
    const corrupt = await resolve(id, dir);
    expect(corrupt.status).toBe(422);
    expect((await corrupt.json()).error_code).toBe("invalid_safetensors");
  });
});

describe("Model and Task step pages", () => {
  test("resolving from the Model step renders the panel and marks the step complete", async () => {
    app();
    const id = await newProject();
    const res = await t.request(`/projects/${id}/model`, {
      method: "POST",
      headers: { "HX-Request": "true" },
      body: new URLSearchParams({ model_id: "Qwen/Qwen2.5-7B-Instruct" }),
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toStartWith('<div id="wizard"');
    expect(html).toContain("Model found");
    expect(html).toContain("Qwen2ForCausalLM");
    expect(html).toContain("7.62B");
    expect(html).toMatch(/class="step step-current is-complete" data-step="model"/);
  });

  test("a resolution error is shown on the panel with its status, not as a toast", async () => {
    app();
    const id = await newProject();
    const res = await t.request(`/projects/${id}/model`, {
      method: "POST",
      headers: { "HX-Request": "true" },
      body: new URLSearchParams({ model_id: "nobody/nothing" }),
    });
    expect(res.status).toBe(404);
    expect(res.headers.get("HX-Retarget")).toBeNull();
    const html = await res.text();
    expect(html).toContain('class="panel panel-error"');
    expect(html).toContain("Model not found");
    expect(html).toContain('value="nobody/nothing"');
  });

  test("choosing a task saves it and unlocks Data once a model is resolved", async () => {
    app();
    const id = await newProject();
    await resolve(id, "Qwen/Qwen2.5-7B-Instruct");
    const res = await t.request(`/projects/${id}/task`, { method: "POST", headers: { "HX-Request": "true" }, body: new URLSearchParams({ task_type: "qa" }) });
    const html = await res.text();
    expect(html).toMatch(/value="qa" checked=""/);
    expect(html).toMatch(/class="step step-current is-complete" data-step="task"/);
    expect(html).not.toMatch(/class="step step-locked" data-step="data"/);
    expect((await (await t.request(`/api/projects/${id}`)).json()).task_type).toBe("qa");
  });

  test("an invalid task choice is refused with 422 and changes nothing", async () => {
    app();
    const id = await newProject();
    for (const form of [{ task_type: "chat" }, {}, { task_type: "qa", qa_context: "open_book" }] as Record<string, string>[]) {
      const res = await t.request(`/projects/${id}/task`, { method: "POST", body: new URLSearchParams(form) });
      expect(res.status).toBe(422);
    }
    const project = await (await t.request(`/api/projects/${id}`)).json();
    expect(project.task_type).toBeNull();
    expect(project.config.qa_context).toBeUndefined();
    const api = await t.json("PATCH", `/api/projects/${id}`, { qa_context: "sometimes" });
    expect(api.status).toBe(422);
    expect((await api.json()).detail).toContain("with_context or closed_book");
  });

  test("Q&A offers closed-book beside the passage as context; the choice is saved", async () => {
    app();
    const id = await newProject();
    const post = (form: Record<string, string>) => t.request(`/projects/${id}/task`, { method: "POST", headers: { "HX-Request": "true" }, body: new URLSearchParams(form) });
    expect(await (await post({ task_type: "instruction" })).text()).not.toContain("How will the model be asked?");
    const qa = await (await post({ task_type: "qa" })).text();
    expect(qa).toContain("How will the model be asked?");
    expect(qa).toMatch(/id="qa-with_context" name="qa_context" value="with_context" checked=""/);
    const closed = await (await post({ task_type: "qa", qa_context: "closed_book" })).text();
    expect(closed).toMatch(/id="qa-closed_book" name="qa_context" value="closed_book" checked=""/);
    expect((await (await t.request(`/api/projects/${id}`)).json()).config.qa_context).toBe("closed_book");
    // The API sets it too, and a later Task post without it keeps it.
    expect((await t.json("PATCH", `/api/projects/${id}`, { qa_context: "with_context" })).status).toBe(200);
    await post({ task_type: "qa" });
    expect((await (await t.request(`/api/projects/${id}`)).json()).config.qa_context).toBe("with_context");
  });
});
