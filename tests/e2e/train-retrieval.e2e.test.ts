/**
 * The Train step of a Q&A project offers "Train for retrieval": the checkbox is labelled
 * and explained, the page passes axe, and a project without document passages (its
 * questions imported from a file) is refused on the form with the reason.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { writeTinyModelFolder } from "../fakes/tiny-model-folder.ts";
import { launchBrowser, screenshot, watchPage } from "../helpers/browser.ts";
import { startServer, type RunningServer } from "../helpers/server-process.ts";
import { makeTempDir } from "../helpers/test-app.ts";

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}/api${path}`, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
};

test("a Q&A project's Train step offers retrieval training, explains it, and says why it cannot run without document passages", async () => {
  const { dir } = writeTinyModelFolder(join(makeTempDir(), "tiny-llama"));
  const project = (await api("POST", "/projects", { name: "Retrieval" })) as { id: string };
  await api("POST", `/projects/${project.id}/model/resolve`, { model_id: dir });
  await api("PATCH", `/projects/${project.id}`, { task_type: "qa" });
  const rows = Array.from({ length: 16 }, (_, i) => JSON.stringify({ instruction: `How long is the warranty on pump ${i}?`, input: "", output: `${i + 1} years.` })).join("\n");
  const form = new FormData();
  form.append("kind", "dataset_upload");
  form.append("files", new File([rows], "questions.jsonl"));
  await fetch(`${server.url}/api/projects/${project.id}/files/upload`, { method: "POST", body: form });
  for (let i = 0; i < 100 && ((await api("GET", `/projects/${project.id}/files`)) as { files: { status: string }[] }).files[0]?.status !== "ready"; i++) await Bun.sleep(100);
  expect((await api("GET", `/hardware/check?project_id=${project.id}`)).recommended_method).toBe("lora");

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = watchPage(page);
  await page.goto(`${server.url}/projects/${project.id}/wizard?step=train`);
  const box = page.getByLabel("Train for retrieval");
  await box.waitFor();
  expect(await box.isChecked()).toBe(false);
  expect(await page.locator("#retrieval-training-hint").textContent()).toContain("each question is trained with its passage among 2 look-alike passages");
  await screenshot(page, "train-retrieval-01-form");

  // Imported questions have no passage: the run is refused on the form, nothing started.
  await box.check();
  await page.getByRole("button", { name: "Start training" }).click();
  await page.locator(".form-error").waitFor();
  expect(await page.locator(".form-error").textContent()).toContain("Retrieval training needs questions written from your documents");
  expect(await page.getByLabel("Train for retrieval").isChecked()).toBe(true);
  await screenshot(page, "train-retrieval-02-refused");
  expect(((await api("GET", `/projects/${project.id}/train/runs`)) as { runs: unknown[] }).runs).toEqual([]);
  expect(problems).toEqual([]);
}, 120_000);
