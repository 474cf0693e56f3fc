import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { corpusText } from "../fakes/corpus.ts";
import { groundedResponder, startFakeOllama } from "../fakes/fake-ollama.ts";
import { writeTinyModelFolder } from "../fakes/tiny-model-folder.ts";
import { launchBrowser, screenshot, watchPage } from "../helpers/browser.ts";
import { startServer, type RunningServer } from "../helpers/server-process.ts";
import { makeTempDir } from "../helpers/test-app.ts";

// Two of the first answers are refusals so the preview shows what was filtered out.
const good = groundedResponder();
const ollama = startFakeOllama({
  latencyMs: 60,
  responder: (call, n) =>
    n === 0
      ? { content: JSON.stringify({ examples: [{ instruction: "What is covered?", input: "", output: "As an AI, I cannot say." }] }) }
      : n === 1
        ? { content: JSON.stringify({ examples: [{ instruction: "Which parts wear out?", input: "", output: "Based on the text provided, nobody knows." }] }) }
        : good(call, n),
});
let server: RunningServer;
let browser: Browser;
let page: Page;
let problems: string[];

beforeAll(async () => {
  server = await startServer({ env: { OLLAMA_HOST: ollama.url } });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  problems = watchPage(page);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  ollama.stop();
});

test("a user previews 10 examples, generates the full dataset and reaches Review", async () => {
  const post = (path: string, body: unknown, method = "POST") =>
    fetch(server.url + path, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
  const { id } = await post("/api/projects", { name: "Generation" });
  await post(`/api/projects/${id}`, { task_type: "instruction" }, "PATCH");
  await post(`/api/projects/${id}/model/resolve`, { model_id: writeTinyModelFolder(`${makeTempDir()}/m`).dir });
  const form = new FormData();
  form.append("kind", "raw_doc");
  form.append("files", new File([corpusText(4000, 3)], "manual.txt"));
  await fetch(`${server.url}/api/projects/${id}/files/upload`, { method: "POST", body: form });
  for (let i = 0; i < 100 && (await (await fetch(`${server.url}/api/projects/${id}/files`)).json()).files[0].status !== "ready"; i++) await Bun.sleep(50);

  await page.goto(`${server.url}/projects/${id}/wizard?step=preview`);
  const select = page.locator("#gen-model");
  await select.waitFor();
  expect(await select.locator("option").allTextContents()).toEqual(["llama3.1:8b", "qwen2.5:7b"]);
  await select.selectOption("qwen2.5:7b");
  await page.getByRole("button", { name: "Generate Preview (10 examples)" }).click();
  await screenshot(page, "preview-00-started");
  await page.locator(".preview-table").waitFor({ timeout: 20_000 });
  await page.locator("#preview-panel:not([hx-trigger])").waitFor({ timeout: 20_000 });
  const summary = await page.locator(".preview-summary").textContent();
  expect(summary).toContain("8/10 valid");
  expect(summary).toContain("2 filtered out");
  expect(await page.locator(".filter-reasons").textContent()).toContain("refusal or meta text");
  expect(await page.locator("#projection").textContent()).toContain("examples/s");
  await page.locator('.step[data-step="review"] a.step-link').waitFor();
  await screenshot(page, "preview-01-results");

  await page.getByLabel("Target examples").fill("30");
  // Alpine redraws on its next tick: wait for the text, not for the keystroke.
  await page.locator("#projection", { hasText: "for 30 examples" }).waitFor();
  await page.getByRole("button", { name: "Generate Full Dataset" }).click();
  await page.locator("#preview-panel .job-progress").waitFor();
  await screenshot(page, "preview-02-generating");
  await page.locator(".full-generation .panel-success").waitFor({ timeout: 30_000 });
  expect(await page.locator(".full-generation .panel-success").textContent()).toContain("30 examples generated");
  await page.locator('.step[data-step="hardware"] a.step-link').waitFor();
  await screenshot(page, "preview-03-done");
  await page.locator('[data-nav="next"]').click();
  await page.waitForURL(/step=review$/);
  expect(ollama.calls.every((c) => c.model === "qwen2.5:7b")).toBe(true);
  expect(problems).toEqual([]);
}, 90_000);
