/**
 * The whole journey on real parts, through the API, then its pages in a browser:
 * SmolLM2-135M-Instruct (a real pretrained model, from PyPI) as the base, a real Ollama
 * (built from its Go module) serving the same model as generator and judge, and real
 * documents no one here wrote (Wikipedia paragraphs of the HotpotQA sample). It asserts
 * what must hold with any model: every job settles, the published template renders as
 * training did, nothing special leaks, stopping works, unquantized answers agree with
 * the tuned model's, and what the pages show is what the API says.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { launchBrowser, screenshot, watchPage } from "../helpers/browser.ts";
import { realParts, startRealOllama } from "../helpers/real-parts.ts";
import { startServer, type RunningServer } from "../helpers/server-process.ts";
import { databasePath } from "../../src/lib/data-dir.ts";

const DOCS = join(import.meta.dir, "../../../shared/benchmarks/hotpotqa-sample/documents");
const GENERATOR = "smollm2:latest";

let ollama: Awaited<ReturnType<typeof startRealOllama>>;
let server: RunningServer;
let pid = "";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers, asserted field by field
type Json = Record<string, any>;
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${server.url}/api${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Json };
}

async function settle(jobId: string, ms: number): Promise<Json> {
  const end = Date.now() + ms;
  for (;;) {
    const { body } = await call("GET", `/jobs/${jobId}`);
    if (["success", "failed", "cancelled"].includes(body.status)) return body;
    if (Date.now() > end) throw new Error(`job ${jobId} did not settle in ${ms / 1000} s: ${JSON.stringify(body).slice(0, 400)}`);
    await Bun.sleep(250);
  }
}

/** The generation jobs' stored results (their counts and why they stopped), read from the server's database. */
function generationResults() {
  const db = new Database(databasePath(server.dataDir), { readonly: true });
  try {
    return db.query("select type, status, result from jobs where project_id = ? and type like 'dataset_%'").all(pid);
  } finally {
    db.close();
  }
}

/** The SSE reply of the playground as [event, data] pairs. */
async function play(target: string, content: string) {
  const res = await fetch(`${server.url}/api/projects/${pid}/playground`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ messages: [{ role: "user", content }], target, max_new_tokens: 24, temperature: 0 }) });
  expect(res.status).toBe(200);
  return (await res.text())
    .split("\n\n")
    .filter((b) => b.trim())
    .map((b) => [/^event: (.*)$/m.exec(b)![1]!, JSON.parse(/^data: (.*)$/m.exec(b)![1]!)] as [string, Json]);
}

beforeAll(async () => {
  if (!existsSync(DOCS)) throw new Error(`The benchmark documents are missing at ${DOCS} (shared/ lies beside the clone).`);
  ollama = await startRealOllama();
  server = await startServer({ env: { OLLAMA_HOST: ollama.url, FTF_GENERATION_CONCURRENCY: "2", FTF_GENERATION_TIMEOUT_MS: "180000" } });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  ollama?.stop();
});

test("documents → SmolLM2 → a tuned model in a real Ollama, both lanes, with the parity check and the playground", async () => {
  const project = await call("POST", "/projects", { name: "Real parts", description: "SmolLM2 and a real Ollama" });
  pid = project.body.id;
  const model = await call("POST", `/projects/${pid}/model/resolve`, { model_id: realParts().smollm2.hf });
  expect(model.status).toBe(200);
  expect(model.body).toMatchObject({ architecture: "LlamaForCausalLM", num_parameters: 134_515_008, has_chat_template: true });
  expect((await call("PATCH", `/projects/${pid}`, { task_type: "qa" })).status).toBe(200);

  // One real document: Wikipedia paragraphs of the HotpotQA sample.
  const form = new FormData();
  form.append("kind", "raw_doc");
  form.append("files", new File([readFileSync(join(DOCS, "wiki-part-00.md"))], "wiki-part-00.md", { type: "text/markdown" }));
  const uploaded = await fetch(`${server.url}/api/projects/${pid}/files/upload`, { method: "POST", body: form });
  expect(uploaded.status).toBe(201);
  for (let i = 0; i < 200; i++) {
    const { body } = await call("GET", `/projects/${pid}/files`);
    if (body.files.every((f: Json) => f.status === "ready")) break;
    await Bun.sleep(200);
  }

  const models = await call("GET", "/generation/models");
  expect(models.body.models).toContain(GENERATOR);

  const preview = await call("POST", `/projects/${pid}/dataset/preview`, { model: GENERATOR });
  expect(preview.status).toBe(202);
  const previewJob = await settle(preview.body.job_id, 600_000);
  expect(previewJob.status).toBe("success");

  const generate = await call("POST", `/projects/${pid}/dataset/generate`, { model: GENERATOR, target: 12 });
  const generateJob = await settle(generate.body.job_id, 900_000);
  expect(generateJob.status).toBe("success");
  const stats = (await call("GET", `/projects/${pid}/dataset/stats`)).body;
  // The real embedding model (all-MiniLM-L6-v2) is installed: near-duplicates were looked for by meaning with it.
  const generated = generationResults().find((j) => (j as Json).type === "dataset_generate") as Json;
  expect(JSON.parse(generated.result).dedup).toBe("embeddings (all-minilm:latest)");
  expect(stats.duplicates_by_kind).toHaveProperty("semantic");
  // Too few to train on: say what the generation jobs counted (refusal reasons, why they stopped).
  if (stats.valid < 10) throw new Error(`${stats.valid} valid examples, 10 needed to train. The generation jobs: ${JSON.stringify(generationResults())}`);

  const readiness = await call("GET", `/projects/${pid}/dataset/readiness?max_seq_length=512`);
  expect(readiness.status).toBe(200);
  expect(readiness.body.template_source).toBe("model");
  expect(readiness.body.totals.fit).toBeGreaterThan(0);

  expect((await call("GET", `/hardware/check?project_id=${pid}`)).status).toBe(200);
  const start = await call("POST", `/projects/${pid}/train/start`, { method: "lora", num_epochs: 3, learning_rate: 0.0003, per_device_batch_size: 4, gradient_accumulation_steps: 1, max_seq_length: 512, lora_r: 8, lora_alpha: 16, lora_dropout: 0.05, max_steps: 8 });
  expect(start.status).toBe(202);
  const training = await settle(start.body.job_id, 900_000);
  expect(training.status).toBe("success");
  const status = (await call("GET", `/projects/${pid}/train/status`)).body;
  expect(status).toMatchObject({ status: "success", progress_pct: 100 });

  // The judged scorecard runs after training (the generation model judges).
  let scorecard: { status: number; body: Json } = { status: 0, body: {} };
  for (let i = 0; i < 1200 && scorecard.status !== 200; i++) {
    scorecard = await call("GET", `/projects/${pid}/evaluation`);
    if (scorecard.status !== 200) await Bun.sleep(500);
  }
  expect(scorecard.status).toBe(200);
  expect(scorecard.body.summary.n).toBeGreaterThan(0);

  const exported = await call("POST", `/projects/${pid}/export`);
  expect((await settle(exported.body.job_id, 600_000)).status).toBe("success");
  const zip = await fetch(`${server.url}/api/projects/${pid}/export/download`);
  expect(zip.status).toBe(200);

  // Merged weights, unquantized: the Ollama model must answer as the PEFT model does.
  const verdictsOf = async (name: string, body: Json) => {
    const published = await call("POST", `/projects/${pid}/export/ollama`, { name, ...body });
    expect(published.status).toBe(202);
    const job = await settle(published.body.job_id, 900_000);
    expect({ name, status: job.status, error: job.error_message }).toEqual({ name, status: "success", error: null });
    const record = (await call("GET", `/projects/${pid}/export/ollama`)).body;
    expect(record.model).toBe(name);
    // A failed check prints what each side said: the prompt, the tuned answer, Ollama's chat and raw answers.
    if (record.verdicts.some((v: Json) => !v.ok)) console.log(`${name}: ${JSON.stringify(record.verdicts)}\n${JSON.stringify(record.answers, null, 1)}`);
    return Object.fromEntries(record.verdicts.map((v: Json) => [v.check, v])) as Record<string, Json>;
  };
  const none = await verdictsOf("ftf-real-none", { lane: "merged", quantize: "none" });
  expect(none.template).toMatchObject({ ok: true });
  expect(none.special_tokens).toMatchObject({ ok: true });
  // Stopping: the published model carries the end-of-turn stop, and ends where the tuned
  // model ends. (Before the merged config named its RoPE base the legacy way, Ollama's
  // converter fell back to 10,000 for SmolLM2's 100,000 and ran on: 2 of 4 runs failed here.)
  const shown = (await (await fetch(`${ollama.url}/api/show`, { method: "POST", body: JSON.stringify({ model: "ftf-real-none" }) })).json()) as { parameters: string };
  expect(shown.parameters).toMatch(/stop\s+"<\|im_end\|>"/);
  expect(none.stopping).toMatchObject({ ok: true });
  expect(none.answers).toMatchObject({ ok: true });

  const q8 = await verdictsOf("ftf-real-q8", { lane: "merged", quantize: "q8_0" });
  expect(q8.template).toMatchObject({ ok: true });
  expect(q8.special_tokens).toMatchObject({ ok: true });

  // The adapter over the same model Ollama already serves.
  const adapter = await verdictsOf("ftf-real-adapter", { lane: "adapter", base: GENERATOR });
  expect(adapter.template).toMatchObject({ ok: true });
  expect(adapter.special_tokens).toMatchObject({ ok: true });
  const tags = (await (await fetch(`${ollama.url}/api/tags`)).json()) as { models: { name: string }[] };
  expect(tags.models.map((m) => m.name)).toEqual(expect.arrayContaining(["ftf-real-none:latest", "ftf-real-q8:latest", "ftf-real-adapter:latest"]));

  for (const target of ["tuned", "base", "ollama:ftf-real-none"]) {
    const events = await play(target, "Who was the first Archivist of the United States?");
    expect({ target, tokens: events.filter(([e]) => e === "token").length > 0 }).toEqual({ target, tokens: true });
    expect(events.at(-1)![0]).toBe("done");
  }
}, 1_800_000);

test("the pages show what the API says: Review's counts, the Export step's verdicts, the playground streaming", async () => {
  expect(pid).not.toBe("");
  const stats = (await call("GET", `/projects/${pid}/dataset/stats`)).body;
  const record = (await call("GET", `/projects/${pid}/export/ollama`)).body;
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchPage(page);
    await page.goto(`${server.url}/projects/${pid}/wizard?step=review`);
    expect(await page.locator("main").textContent()).toContain(stats.valid.toLocaleString("en"));
    await screenshot(page, "real-01-review");
    await page.goto(`${server.url}/projects/${pid}/wizard?step=export`);
    for (const v of record.verdicts) expect(await page.locator(`.verdicts [data-check="${v.check}"]`).textContent()).toContain(v.summary);
    await screenshot(page, "real-02-export");
    await page.goto(`${server.url}/projects/${pid}/playground`);
    await page.locator("[data-playground]").waitFor();
    await page.getByLabel("Your message").fill("What is Pago Pago International Airport also known as?");
    await page.getByRole("button", { name: "Send to both" }).click();
    await page.waitForFunction(() => [...document.querySelectorAll("[data-stats]")].every((s) => /tokens in/.test(s.textContent ?? "")), null, { timeout: 180_000 });
    expect(await page.locator(".play-reply [role=alert]").count()).toBe(0);
    await screenshot(page, "real-03-playground");
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
  }
}, 300_000);
