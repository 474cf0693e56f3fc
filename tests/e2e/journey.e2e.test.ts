// The whole wizard in Chromium, with the real Python trainer on a tiny random Llama
// built for the test, a loopback Ollama, and a local model folder: project → model →
// task → document → preview → full dataset → review → hardware → train → export, and
// the downloaded zip loads with PeftModel.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { corpusText } from "../fakes/corpus.ts";
import { startFakeOllama } from "../fakes/fake-ollama.ts";
import { launchBrowser, screenshot, watchPage } from "../helpers/browser.ts";
import { startServer, type RunningServer } from "../helpers/server-process.ts";
import { makeTempDir, PYTHON, TRAINER_DIR } from "../helpers/test-app.ts";

// Created models answer one fixed sentence: their "weights" are not the tiny model's, so the
// parity check's answer comparison fails while its template check must pass (the real
// trainer's Go template, rendered with Go's rules, against the Jinja rendering).
const ollama = startFakeOllama({ latencyMs: 20, publish: { answer: () => "The capital is Paris." } });
let server: RunningServer;
let browser: Browser;
let page: Page;
let problems: string[];
let modelDir: string;

async function python(args: string[]): Promise<string> {
  const proc = Bun.spawn([PYTHON, ...args], { cwd: TRAINER_DIR, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`python ${args.join(" ")} failed:\n${err.slice(-2000)}`);
  return out;
}

beforeAll(async () => {
  modelDir = join(makeTempDir("ftf-journey-model-"), "tiny-llama");
  await python(["-m", "finetuneflow_trainer", "make-tiny-model", modelDir]);
  server = await startServer({ env: { OLLAMA_HOST: ollama.url, FTF_TRAINER_GRACE_MS: "5000" } });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  problems = watchPage(page);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  ollama.stop();
});

const next = async (step: string) => {
  await page.locator('[data-nav="next"]').click();
  await page.waitForURL(new RegExp(`step=${step}`));
  await page.locator(`.step-current[data-step="${step}"]`).waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "step-title");
};

test("the whole wizard, from a new project to a downloaded adapter that loads", async () => {
  await page.goto(server.url + "/projects/new");
  await page.getByLabel("Name").fill("Journey");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(/step=model$/);

  await page.getByLabel("Hugging Face model id or local folder").fill(modelDir);
  await page.getByRole("button", { name: "Resolve" }).click();
  await page.locator(".panel-success").waitFor();
  await screenshot(page, "journey-01-model");
  await next("task");
  await page.getByRole("radio", { name: /Instruction tuning/ }).check();
  await page.locator(".radio-card-selected").waitFor();
  await screenshot(page, "journey-02-task");
  await next("data");

  await page.locator("#raw_doc-input").setInputFiles({ name: "manual.txt", mimeType: "text/plain", buffer: Buffer.from(corpusText(2500, 5)) });
  await page.waitForFunction(() => document.querySelectorAll("#file-list .status-ready").length === 1, null, { timeout: 20_000 });
  await screenshot(page, "journey-03-data");
  await next("preview");

  await page.locator("#gen-model").waitFor();
  await page.getByRole("button", { name: "Generate Preview (10 examples)" }).click();
  await page.locator(".preview-table").waitFor({ timeout: 30_000 });
  await page.getByLabel("Target examples").fill("48");
  await page.getByRole("button", { name: "Generate Full Dataset" }).click();
  await page.locator(".full-generation .panel-success").waitFor({ timeout: 60_000 });
  await screenshot(page, "journey-04-preview");
  await next("review");

  await page.getByLabel("Split").selectOption("train");
  await page.waitForURL(/split=train/);
  const boxes = page.locator('input[name="ids"]');
  for (let i = 0; i < 3; i++) await boxes.nth(i).check();
  await page.getByRole("button", { name: "Delete selected (3)" }).click();
  await page.locator("#confirm-dialog").getByRole("button", { name: "Delete examples" }).click();
  await page.waitForFunction(() => document.querySelector(".stats-bar")?.textContent?.includes("Duplicates removed"));
  // Before training: a sample as training sees it, the answer and its end token trained.
  const sample = page.locator("#readiness .readiness-example").first();
  await sample.waitFor();
  expect((await sample.locator("mark.seg.trained").allTextContents()).join("")).toEndWith("<|end|>\n");
  expect(await sample.locator(".seg.special").first().textContent()).toBe("<|user|>");
  // The panel counted the examples left after the delete (train + eval, the 3 gone).
  const trainable = await page.evaluate(() => [...document.querySelectorAll(".stats-bar .stat")].map((s) => s.textContent ?? ""));
  const count = (label: string) => Number(trainable.find((s) => s.startsWith(label))!.replace(/\D+/g, " ").trim().split(" ")[0]);
  await page.waitForFunction((n) => document.querySelector('#readiness [data-readiness="fit"]')?.textContent?.endsWith(`of ${n}`), count("Train") + count("Eval"));
  await screenshot(page, "journey-05-review");
  await next("hardware");

  await page.getByRole("button", { name: "Check Hardware" }).click();
  await page.locator(".recommendation").waitFor({ timeout: 60_000 });
  expect(await page.locator(".recommendation").textContent()).toContain("LoRA");
  await screenshot(page, "journey-06-hardware");
  await next("train");

  // A short CPU run: a few dozen steps of LoRA on the tiny model.
  // "Reset to defaults" puts back every field the user changed.
  await page.getByLabel("LoRA rank (r)").fill("64");
  await page.getByRole("button", { name: "Reset to defaults" }).click();
  expect(await page.getByLabel("LoRA rank (r)").inputValue()).toBe("16");
  await page.getByLabel("Epochs").fill("3");
  await page.getByLabel("Batch size").fill("4");
  await page.getByLabel("Gradient accumulation").fill("1");
  expect(await page.locator(".preset-note summary").textContent()).toContain("No preset for this model family");
  // The readiness panel follows the length typed in the form.
  await page.getByLabel("Max sequence length").fill("64");
  await page.getByLabel("Max sequence length").blur();
  await page.waitForFunction(() => document.querySelector("#readiness .readiness-meta")?.textContent?.includes("at 64 tokens"));
  await page.getByLabel("Max sequence length").fill("256");
  await page.getByLabel("Max sequence length").blur();
  await page.waitForFunction(() => document.querySelector("#readiness .readiness-meta")?.textContent?.includes("at 256 tokens"));
  expect(await page.locator('#readiness [data-readiness="dropped"]').textContent()).toBe("0");
  await page.getByLabel("Learning rate").fill("0.005");
  await page.locator("#train-plan").getByText("Optimizer steps").waitFor();
  await screenshot(page, "journey-07-train-form");
  await page.getByRole("button", { name: "Start training" }).click();
  await page.locator("[data-live-run]").waitFor();
  await page.waitForFunction(() => ((window as unknown as { __ftfChart?: { points: Map<number, unknown> } }).__ftfChart?.points.size ?? 0) >= 3, null, { timeout: 120_000 });
  await screenshot(page, "journey-08-training");
  await page.locator('[data-run-status]', { hasText: "success" }).waitFor({ timeout: 180_000 });
  await screenshot(page, "journey-09-trained");
  const status = await (await fetch(page.url().replace(/\/projects\/([^/]+)\/wizard.*/, "/api/projects/$1/train/status"))).json();
  expect(status.status).toBe("success");
  await next("export");
  // The judged evaluation starts after training (the generation model judges): the
  // tiny model answers, the loopback judge grades, the scorecard appears.
  await page.locator('[data-testid="scorecard-headline"]').waitFor({ timeout: 180_000 });
  expect(await page.locator('[data-testid="scorecard-headline"]').textContent()).toMatch(/^tuned \d\.\d\d vs base \d\.\d\d \(n = \d+, ±\d\.\d\d\); wins \d+, ties \d+, losses \d+$/);
  expect(await page.locator(".scorecard-table tbody tr").count()).toBeGreaterThan(0);
  await screenshot(page, "journey-09b-scorecard");

  expect(await page.locator(".samples-table tbody tr").count()).toBeGreaterThan(0);
  // An answer of one long unbroken run wraps inside its column: the table stays within the page.
  const overflow = await page.evaluate(() => {
    const table = document.querySelector(".samples-table") as HTMLElement;
    table.querySelector("tbody td:last-child")!.textContent = "x".repeat(600);
    return table.getBoundingClientRect().right - (table.parentElement as HTMLElement).getBoundingClientRect().right;
  });
  expect(overflow).toBeLessThanOrEqual(1);
  await page.getByRole("button", { name: "Export Artifacts" }).click();
  await page.locator(".artifact-list").waitFor({ timeout: 120_000 });
  const names = await page.locator(".artifact-list a").allTextContents();
  for (const n of ["adapter_model.safetensors", "adapter_config.json", "report.md", "metrics.json", "loss_curve.svg", "Modelfile", "finetuneflow_export.zip"]) expect(names).toContain(n);
  await screenshot(page, "journey-10-export");

  const zipUrl = await page.locator(".artifact-list a", { hasText: "finetuneflow_export.zip" }).getAttribute("href");
  const zip = await fetch(server.url + zipUrl);
  expect(zip.headers.get("content-disposition")).toContain("attachment");
  const dir = makeTempDir("ftf-journey-zip-");
  await Bun.write(join(dir, "export.zip"), await zip.arrayBuffer());
  const check = await python([
    "-c",
    `import zipfile,sys; from peft import PeftModel; from transformers import AutoModelForCausalLM
z=zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2])
m=PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(sys.argv[3]), sys.argv[2]); print("LOADED", type(m).__name__)`,
    join(dir, "export.zip"),
    join(dir, "unzipped"),
    modelDir,
  ]);
  expect(check).toContain("LOADED PeftModelForCausalLM");

  // Run in Ollama: the merged lane (a local folder has no Ollama library base), then the verdicts.
  await page.getByLabel("Model name").fill("journey-model");
  await page.getByRole("button", { name: "Run in Ollama" }).click();
  await page.locator('[data-testid="ollama-result"]').waitFor({ timeout: 180_000 });
  expect(await page.locator('[data-testid="ollama-result"]').textContent()).toContain("ollama run journey-model");
  expect(await page.locator('.verdicts [data-check="template"]').textContent()).toContain("✓ template matches");
  expect(await page.locator('.verdicts [data-check="answers"]').textContent()).toContain("✗ answers agree on 0/");
  expect(ollama.created.get("journey-model")?.quantize).toBe("q4_K_M");
  // What each side answered, opened: one row per held-out prompt.
  await page.getByText("What each side answered").click();
  expect(await page.locator(".parity-answers tbody tr").count()).toBe(5);
  await screenshot(page, "journey-11-ollama");

  // The playground: one question to the tuned model and the base, both streamed by the real worker.
  await page.getByRole("link", { name: "Open the playground" }).click();
  await page.locator("[data-playground]").waitFor();
  await page.getByLabel("Your message").fill("What is the capital of Peru?");
  await page.getByRole("button", { name: "Send to both" }).click();
  await page.waitForFunction(() => [...document.querySelectorAll("[data-stats]")].every((s) => /tokens in/.test(s.textContent ?? "")), null, { timeout: 120_000 });
  expect(await page.locator(".play-reply").count()).toBe(2);
  expect(await page.locator(".play-reply [role=alert]").count()).toBe(0);
  await screenshot(page, "journey-12-playground");
  // A reply corrected and saved joins the training set.
  await page.locator(".play-reply").first().locator("summary").click();
  await page.locator(".play-reply").first().getByLabel("Corrected reply").fill("The capital of Peru is Lima.");
  await page.locator(".play-reply").first().getByRole("button", { name: "Save as training example" }).click();
  await page.locator(".play-reply [data-saved]", { hasText: "Saved to the training set." }).waitFor();

  // Judgement as preference pairs: the right answer written for that question, then a side picked
  // on a second one, asked of the tuned model and of the published Ollama model.
  const pid = new URL(page.url()).pathname.split("/")[2]!;
  const firstBar = page.locator(".play-judge").first();
  await firstBar.locator("summary").click();
  await firstBar.getByLabel("The right answer").fill("Lima is the capital of Peru.");
  await firstBar.getByRole("button", { name: "Save as feedback" }).click();
  await firstBar.locator("[data-judge-status]", { hasText: "Saved as feedback." }).waitFor();
  await page.getByRole("button", { name: "New chat" }).click();
  const rightModel = page.locator("[data-pane]").nth(1).getByLabel("Model");
  const published = (await rightModel.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).find((v) => v.startsWith("ollama:journey-model"))!;
  await rightModel.selectOption(published);
  await page.getByLabel("Your message").fill("What is the capital of France?");
  await page.getByRole("button", { name: "Send to both" }).click();
  await page.locator(".play-judge").waitFor({ timeout: 120_000 });
  await page.getByRole("button", { name: "Right is better" }).click();
  await page.locator(".play-judge [data-judge-status]", { hasText: "Saved as feedback." }).waitFor();
  await screenshot(page, "journey-13-judged");
  const pairs = await (await fetch(`${server.url}/api/projects/${pid}/preferences`)).json();
  expect(pairs.counts).toMatchObject({ total: 2, playground_choice: 1, playground_correction: 1 });
  expect(pairs.items[0]).toMatchObject({ source: "playground_choice", prompt: [{ role: "user", content: "What is the capital of France?" }], chosen: "The capital is Paris.", chosen_by: published, rejected_by: "tuned" });
  expect(pairs.items[1]).toMatchObject({ source: "playground_correction", prompt: [{ role: "user", content: "What is the capital of Peru?" }], chosen: "Lima is the capital of Peru.", chosen_by: "user", rejected_by: "tuned" });

  // Six more pairs (the API) reach a round's minimum; the Feedback view lists them and starts the round.
  for (const [country, city] of [["Spain", "Madrid"], ["Italy", "Rome"], ["Japan", "Tokyo"], ["Egypt", "Cairo"], ["Chile", "Santiago"], ["Kenya", "Nairobi"]]) {
    const saved = await fetch(`${server.url}/api/projects/${pid}/preferences`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ source: "playground_correction", prompt: `What is the capital of ${country}?`, chosen: `The capital of ${country} is ${city}.`, rejected: "I do not know." }),
    });
    expect(saved.status).toBe(201);
  }
  await page.goto(`${server.url}/projects/${pid}/feedback`);
  expect(await page.locator("[data-pair]").count()).toBe(8);
  await screenshot(page, "journey-14-feedback");
  await page.getByRole("button", { name: "Improve with feedback" }).click();
  await page.waitForURL(/step=train/);
  await page.locator("#live-title", { hasText: "Preference round" }).waitFor();
  // The round's rewards arrive over the same stream as the loss, on a chart of their own.
  await page.waitForFunction(() => ((window as unknown as { __ftfChart?: { rewards: Map<number, unknown> } }).__ftfChart?.rewards.size ?? 0) >= 2, null, { timeout: 120_000 });
  await screenshot(page, "journey-15-round");
  // The round ends, the judged evaluation runs on it, and the scorecard compares it with the adapter before.
  await page.locator('[data-run-status]', { hasText: "success" }).waitFor({ timeout: 180_000 });
  let beforeAfter = "";
  for (let i = 0; i < 120 && !beforeAfter; i++) {
    await page.goto(`${server.url}/projects/${pid}/wizard?step=export`);
    beforeAfter = (await page.locator('[data-testid="before-after"]').textContent({ timeout: 1000 }).catch(() => null)) ?? "";
    if (!beforeAfter) await Bun.sleep(1000);
  }
  expect(beforeAfter).toMatch(/after the round \d\.\d\d vs before \d\.\d\d on \d+ questions: win rate \d\.\d\d/);
  expect(await page.locator('[data-testid="feedback-panel"]').textContent()).toContain("8 preference pairs");
  await screenshot(page, "journey-16-before-after");

  await page.goto(server.url + "/");
  expect(await page.locator(".project-card", { hasText: "Journey" }).locator(".badge.status-completed").count()).toBe(1);
  expect(problems).toEqual([]);
}, 600_000);
