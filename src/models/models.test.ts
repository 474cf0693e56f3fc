import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fixtureRepo, startFakeHub, type FakeHub } from "../../tests/fakes/fake-hub.ts";
import { insertExamples } from "../../tests/helpers/builders.ts";
import { makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { MODEL_CHANGED_WARNING } from "./service.ts";

const TOKEN = "hf_granted_token";
let hub: FakeHub;
let t: TestApp;

beforeAll(() => {
  hub = startFakeHub([
    fixtureRepo("meta-llama__Llama-3.1-8B-Instruct", { license: "llama3.1", gated: "manual", safetensorsTotal: 8_030_261_248, grantedTokens: [TOKEN] }),
    fixtureRepo("Qwen__Qwen2.5-7B-Instruct", { license: "apache-2.0", safetensorsTotal: 7_615_616_512 }),
    fixtureRepo("microsoft__Phi-3-mini-4k-instruct", { license: "mit" }),
    fixtureRepo("google-bert__bert-base-uncased", { license: "apache-2.0" }),
    fixtureRepo("HuggingFaceTB__SmolLM2-135M-Instruct", { license: "apache-2.0", safetensorsTotal: 134_515_008 }),
    { id: "acme/custom-arch", license: "other", files: { "config.json": JSON.stringify({ architectures: ["AcmeForCausalLM"], model_type: "acme", auto_map: { AutoModelForCausalLM: "modeling_acme.AcmeForCausalLM" }, vocab_size: 1000, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128 }) } },
    { id: "acme/broken-config", files: { "config.json": "{ not json" } },
    { id: "acme/slow", files: { "config.json": "{}" }, delayMs: 1500 },
    { id: "acme/down", files: {}, failWith: 500 },
  ]);
});
afterAll(() => hub.stop());
afterEach(() => t?.close());

function app(opts: { token?: string; endpoint?: string; timeoutMs?: number } = {}) {
  t = makeTestApp({ hub: { endpoint: opts.endpoint ?? hub.url, token: opts.token, timeoutMs: opts.timeoutMs ?? 1000 } });
  return t;
}

async function newProject() {
  return (await (await t.json("POST", "/api/projects", { name: "p" })).json()).id as string;
}

const resolve = (id: string, model_id: unknown) => t.json("POST", `/api/projects/${id}/model/resolve`, { model_id });

describe("resolving a Hub model", () => {
  test("returns ModelInfo from the Hub's metadata and saves it on the project", async () => {
    app({ token: TOKEN });
    const id = await newProject();
    const res = await resolve(id, "meta-llama/Llama-3.1-8B-Instruct");
    expect(res.status).toBe(200);
    const info = await res.json();
    expect(info).toMatchObject({
      model_id: "meta-llama/Llama-3.1-8B-Instruct",
      model_type: "llama",
      architecture: "LlamaForCausalLM",
      num_parameters: 8_030_261_248,
      parameter_source: "safetensors",
      vocab_size: 128256,
      context_length: 131072,
      license: "llama3.1",
      gated: true,
      has_chat_template: true,
      source: "hub",
    });
    expect(info.estimated_vram_fp16_gb).toBeGreaterThan(14);
    expect(info.estimated_vram_4bit_gb).toBeLessThan(7);
    expect(info.files_dir).toBeUndefined();
    const project = await (await t.request(`/api/projects/${id}`)).json();
    expect(project.base_model_id).toBe("meta-llama/Llama-3.1-8B-Instruct");
    expect(project.model_info.num_parameters).toBe(8_030_261_248);
    // The token went to the Hub as a bearer token; config and chat template are cached.
    expect(hub.requests.some((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const cache = join(t.dataDir, "models/files/models--meta-llama--Llama-3.1-8B-Instruct");
    expect(existsSync(join(cache, "config.json"))).toBe(true);
    expect(existsSync(join(cache, "tokenizer_config.json"))).toBe(true);
  });

  test("computes the count from config.json when the Hub has no safetensors total", async () => {
    app();
    const info = await (await resolve(await newProject(), "microsoft/Phi-3-mini-4k-instruct")).json();
    expect(info.parameter_source).toBe("config");
    expect(info.num_parameters).toBe(3_821_079_552);
    expect(info.warnings.join(" ")).toContain("transformers implements phi3 itself");
  });

  test("a gated model without a token says it is gated, links to it and names HF_TOKEN", async () => {
    app();
    const res = await resolve(await newProject(), "meta-llama/Llama-3.1-8B-Instruct");
    expect(res.status).toBe(403);
    const err = await res.json();
    expect(err.error_code).toBe("model_gated");
    expect(err.detail).toContain(`${hub.url}/meta-llama/Llama-3.1-8B-Instruct`);
    expect(err.detail).toContain("no HF_TOKEN is set");
  });

  test("a gated model with a token lacking access says the token has no access", async () => {
    app({ token: "hf_someone_else" });
    const err = await (await resolve(await newProject(), "meta-llama/Llama-3.1-8B-Instruct")).json();
    expect(err.error_code).toBe("model_gated");
    expect(err.detail).toContain("has not been granted access");
  });

  test("an unknown repository is 'Model not found', with or without a token", async () => {
    for (const token of [undefined, TOKEN]) {
      app({ token });
      const res = await resolve(await newProject(), "nobody/nothing-here");
      expect(res.status).toBe(404);
      const err = await res.json();
      expect(err.error_code).toBe("model_not_found");
      expect(err.detail).toStartWith("Model not found");
      t.close();
    }
    t = undefined as unknown as TestApp;
  });

  test("refuses a model that is not a causal LM, saying why", async () => {
    app();
    const id = await newProject();
    const res = await resolve(id, "google-bert/bert-base-uncased");
    expect(res.status).toBe(422);
    const err = await res.json();
    expect(err.error_code).toBe("not_causal_lm");
    expect(err.detail).toContain("BertForMaskedLM");
    expect((await (await t.request(`/api/projects/${id}`)).json()).base_model_id).toBeNull();
  });

  test("flags a model that needs its own code (auto_map), and says training waits for consent", async () => {
    app();
    const pid = await newProject();
    const info = await (await resolve(pid, "acme/custom-arch")).json();
    expect(info.needs_remote_code).toBe(true);
    expect(info.warnings.join(" ")).toContain("only once you allow it");
    const page = await (await t.request(`/projects/${pid}/wizard?step=model`)).text();
    expect(page).toContain("This model runs its own code");
  });

  test("a config.json that is not JSON is a clear 422", async () => {
    app();
    const err = await (await resolve(await newProject(), "acme/broken-config")).json();
    expect(err).toEqual({ error_code: "invalid_config", detail: "The config.json of acme/broken-config is not valid JSON." });
  });

  test("an unreachable Hub suggests a mirror or a local folder", async () => {
    app({ endpoint: "http://127.0.0.1:9" });
    const res = await resolve(await newProject(), "Qwen/Qwen2.5-7B-Instruct");
    expect(res.status).toBe(502);
    const err = await res.json();
    expect(err.error_code).toBe("hub_unreachable");
    expect(err.detail).toContain("HF_ENDPOINT");
    expect(err.detail).toContain("local model folder");
  });

  test("a Hub slower than the timeout is a 504, not a hang", async () => {
    app({ timeoutMs: 300 });
    const started = performance.now();
    const res = await resolve(await newProject(), "acme/slow");
    expect(res.status).toBe(504);
    expect((await res.json()).error_code).toBe("hub_timeout");
    expect(performance.now() - started).toBeLessThan(1400);
  });

  test("a Hub error is a 502 with a sentence", async () => {
    app();
    const res = await resolve(await newProject(), "acme/down");
    expect(res.status).toBe(502);
    expect((await res.json()).error_code).toBe("hub_error");
  });

  test.each([
    ["a/b/c", "invalid_model_id"],
    ["../../etc/passwd", "invalid_model_id"],
    ["org/..", "invalid_model_id"],
    ["has space/model", "invalid_model_id"],
    ["org--x/y", "invalid_model_id"],
    ["x".repeat(200), "invalid_model_id"],
    ["~/models/llama", "invalid_model_id"],
  ])("refuses the malformed id %j before calling the Hub", async (modelId, code) => {
    app();
    const before = hub.requests.length;
    const res = await resolve(await newProject(), modelId);
    expect(res.status).toBe(422);
    expect((await res.json()).error_code).toBe(code);
    expect(hub.requests.length).toBe(before);
  });

  test("refuses an empty, missing or non-string model_id with 422", async () => {
    app();
    const id = await newProject();
    for (const body of [{ model_id: "" }, { model_id: "   " }, {}, { model_id: 42 }]) {
      const res = await t.json("POST", `/api/projects/${id}/model/resolve`, body);
      expect(res.status).toBe(422);
      expect((await res.json()).error_code).toBe("validation_error");
    }
  });

  test("an unknown project is a 404 and the Hub is not asked", async () => {
    app();
    const res = await resolve("nope", "Qwen/Qwen2.5-7B-Instruct");
    expect(res.status).toBe(404);
  });

  test("changing the model after a dataset exists warns that counts will be recomputed", async () => {
    app();
    const id = await newProject();
    await resolve(id, "Qwen/Qwen2.5-7B-Instruct");
    insertExamples(t.db, id, 3);
    const again = await (await resolve(id, "Qwen/Qwen2.5-7B-Instruct")).json();
    expect(again.warnings).not.toContain(MODEL_CHANGED_WARNING);
    const changed = await (await resolve(id, "HuggingFaceTB/SmolLM2-135M-Instruct")).json();
    expect(changed.warnings[0]).toBe(MODEL_CHANGED_WARNING);
    const stored = (await (await t.request(`/api/projects/${id}`)).json()).model_info;
    expect(stored.warnings).not.toContain(MODEL_CHANGED_WARNING);
    // …and they are: a recount job runs with the new model's tokenizer.
    const jobs = (await (await t.request(`/api/projects/${id}/jobs`)).json()).jobs;
    expect(jobs.map((j: { type: string }) => j.type)).toContain("dataset_recount");
    await t.queue.runUntilEmpty();
    expect((await (await t.request(`/api/jobs/${jobs[0].id}`)).json()).status).toBe("success");
  });
});
