import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { writeTinyModelFolder } from "../fakes/tiny-model-folder.ts";
import { fixtureRepo, startFakeHub, type FakeHub } from "../fakes/fake-hub.ts";
import { launchBrowser, screenshot, watchPage } from "../helpers/browser.ts";
import { startServer, type RunningServer } from "../helpers/server-process.ts";
import { makeTempDir } from "../helpers/test-app.ts";

let hub: FakeHub;
let server: RunningServer;
let browser: Browser;
let page: Page;
let problems: string[];

beforeAll(async () => {
  hub = startFakeHub([fixtureRepo("google-bert__bert-base-uncased", { license: "apache-2.0" })]);
  server = await startServer({ env: { HF_ENDPOINT: hub.url } });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  problems = watchPage(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  hub?.stop();
});

test("a user resolves a local model folder, picks a task and reaches the Data step", async () => {
  const { dir, params } = writeTinyModelFolder(join(makeTempDir(), "tiny-llama"), { readme: "---\nlicense: mit\n---\n" });
  const created = await (
    await fetch(server.url + "/api/projects", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"name":"Local model"}' })
  ).json();
  await page.goto(`${server.url}/projects/${created.id}`);
  await page.waitForURL(/step=model$/);

  // A model that is not a causal LM is refused on the panel.
  await page.getByLabel("Hugging Face model id or local folder").fill("google-bert/bert-base-uncased");
  await page.getByRole("button", { name: "Resolve" }).click();
  const error = page.locator(".panel-error");
  await error.waitFor();
  expect(await error.textContent()).toContain("BertForMaskedLM");
  await screenshot(page, "model-01-refused");

  await page.getByLabel("Hugging Face model id or local folder").fill(dir);
  await page.getByRole("button", { name: "Resolve" }).click();
  const panel = page.locator(".panel-success");
  await panel.waitFor();
  expect(await panel.textContent()).toContain("LlamaForCausalLM");
  expect(await panel.textContent()).toContain(`${(params / 1e3).toFixed(0)}K`);
  expect(await panel.textContent()).toContain("mit");
  expect(await page.locator('.step[data-step="model"]').getAttribute("class")).toContain("is-complete");
  await screenshot(page, "model-02-resolved");

  await page.locator('[data-nav="next"]').click();
  await page.waitForURL(/step=task$/);
  // The swap moves focus to the new step's title; wait for it before taking focus back.
  await page.waitForFunction(() => document.activeElement?.id === "step-title");
  // Keyboard: focus the first card's radio and pick Q&A with the arrow key.
  await page.getByRole("radio", { name: /Instruction tuning/ }).focus();
  await page.keyboard.press("ArrowDown");
  // Q&A opens its second choice: the passage as context (the default) or closed-book.
  await page.getByRole("group", { name: "How will the model be asked?" }).waitFor();
  expect(await page.getByRole("radio", { name: /Q&A/ }).isChecked()).toBe(true);
  expect(await page.getByRole("radio", { name: /With the passage/ }).isChecked()).toBe(true);
  await screenshot(page, "task-01-chosen");
  await page.getByRole("radio", { name: /Closed-book/ }).check();
  await page.locator(".radio-card:has(#qa-closed_book) .radio-card-selected").waitFor();
  await screenshot(page, "task-02-closed-book");

  await page.locator('[data-nav="next"]').click();
  await page.waitForURL(/step=data$/);
  await page.locator('.step-current[data-step="data"]').waitFor();
  const project = await (await fetch(`${server.url}/api/projects/${created.id}`)).json();
  expect(project).toMatchObject({ base_model_id: dir, task_type: "qa", config: { qa_context: "closed_book" } });
  expect(problems).toEqual([]);
}, 60_000);
