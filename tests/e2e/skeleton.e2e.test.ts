import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot, watchPage } from "../helpers/browser.ts";
import { startServer, type RunningServer } from "../helpers/server-process.ts";

let server: RunningServer;
let browser: Browser;
let page: Page;
let problems: string[];

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  problems = watchPage(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

test("a user creates a project, walks the wizard and deletes the project", async () => {
  await page.goto(server.url + "/");
  await expect(page.getByRole("heading", { name: "No projects yet" }).isVisible()).resolves.toBe(true);
  await screenshot(page, "skeleton-01-empty-dashboard");

  await page.getByRole("link", { name: "+ New Project" }).click();
  await page.waitForURL("**/projects/new");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.locator("#name-error").waitFor();
  expect(await page.locator("#name-error").textContent()).toBe("Name is required.");
  await screenshot(page, "skeleton-02-form-error");

  await page.getByLabel("Name").fill("Warranty assistant");
  await page.getByLabel("Description (optional)").fill("Answers from our product manuals");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(/\/wizard\?step=model$/);

  // Locked steps are disabled with a reason; Model and Task are open.
  const locked = page.locator(".step-locked [aria-disabled=true]");
  expect(await locked.count()).toBe(6);
  expect(await page.locator('.step[data-step="data"] .step-link').getAttribute("title")).toBe("Resolve a model and choose a task first.");
  await screenshot(page, "skeleton-03-wizard-model");

  // Step changes swap only the wizard: a marker on window survives, the URL is pushed.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  await page.locator('[data-nav="next"]').click();
  await page.waitForURL(/step=task$/);
  await page.locator('.step-current[data-step="task"]').waitFor();
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  await page.waitForFunction(() => document.activeElement?.id === "step-title");
  // Next from Task is locked until a model is resolved and a task is chosen.
  expect(await page.locator('[data-nav="next"]').getAttribute("aria-disabled")).toBe("true");
  await screenshot(page, "skeleton-04-wizard-task");

  await page.goBack();
  await page.waitForURL(/step=model$/);
  await page.locator('.step-current[data-step="model"]').waitFor();
  await page.goForward();
  await page.waitForURL(/step=task$/);
  await page.locator('.step-current[data-step="task"]').waitFor();
  await page.reload();
  await page.locator('.step-current[data-step="task"]').waitFor();

  await page.locator('[data-nav="prev"]').click();
  await page.waitForURL(/step=model$/);

  // Asking for a locked step by URL lands on the first incomplete one with a message.
  await page.goto(page.url().replace("step=model", "step=review"));
  await page.locator(".notice").waitFor();
  expect(await page.locator(".notice").textContent()).toContain("The Review step is locked");
  expect(page.url()).toContain("step=model");

  await page.goto(server.url + "/");
  const card = page.locator(".project-card", { hasText: "Warranty assistant" });
  await card.waitFor();
  expect(await card.locator(".badge.status-draft").textContent()).toBe("Draft");
  expect(await card.textContent()).toContain("Created just now");
  await screenshot(page, "skeleton-05-dashboard");

  // Delete asks in a dialog; Cancel keeps the project, Confirm removes it.
  await card.getByRole("button", { name: "Delete Warranty assistant" }).click();
  const dialog = page.locator("#confirm-dialog");
  await dialog.waitFor({ state: "visible" });
  expect(await dialog.textContent()).toContain("Delete “Warranty assistant”");
  await screenshot(page, "skeleton-06-confirm-dialog");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "hidden" });
  expect(await page.locator(".project-card").count()).toBe(1);

  await card.getByRole("button", { name: "Delete Warranty assistant" }).click();
  await dialog.getByRole("button", { name: "Delete project" }).click();
  await page.getByRole("heading", { name: "No projects yet" }).waitFor();
  const remaining = await (await fetch(server.url + "/api/projects")).json();
  expect(remaining.total).toBe(0);

  expect(problems).toEqual([]);
}, 60_000);

test("a server error on an htmx request shows a toast", async () => {
  const created = await (
    await fetch(server.url + "/api/projects", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"name":"Gone soon"}' })
  ).json();
  await page.goto(server.url + "/");
  // Someone else deletes it meanwhile; deleting it here must say so, not fail silently.
  await fetch(`${server.url}/api/projects/${created.id}`, { method: "DELETE" });
  await page.getByRole("button", { name: "Delete Gone soon" }).click();
  await page.locator("#confirm-dialog").getByRole("button", { name: "Delete project" }).click();
  const toast = page.locator("#toasts .toast-error");
  await toast.waitFor();
  expect(await toast.textContent()).toContain("Project not found.");
  await screenshot(page, "skeleton-07-error-toast");
  await toast.getByRole("button", { name: "Dismiss" }).click();
  expect(await page.locator("#toasts .toast").count()).toBe(0);
}, 30_000);

test("the dashboard is readable on a phone", async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await fetch(server.url + "/api/projects", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"name":"Phone check"}' });
  await phone.goto(server.url + "/");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await screenshot(phone, "skeleton-08-phone-dashboard");
  await phone.close();
}, 30_000);
