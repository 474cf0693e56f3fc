import { expect, test } from "bun:test";
import { screenshot } from "../helpers/browser.ts";
import { useBrowserSession } from "../helpers/browser-session.ts";

const session = useBrowserSession({ viewport: { width: 1280, height: 860 } });

test("a user creates a project, walks the wizard and deletes the project", async () => {
  await session.page.goto(session.server.url + "/");
  await expect(session.page.getByRole("heading", { name: "No projects yet" }).isVisible()).resolves.toBe(true);
  await screenshot(session.page, "skeleton-01-empty-dashboard");

  await session.page.getByRole("link", { name: "+ New Project" }).click();
  await session.page.waitForURL("**/projects/new");
  await session.page.getByRole("button", { name: "Create project" }).click();
  await session.page.locator("#name-error").waitFor();
  expect(await session.page.locator("#name-error").textContent()).toBe("Name is required.");
  await screenshot(session.page, "skeleton-02-form-error");

  await session.page.getByLabel("Name").fill("Warranty assistant");
  await session.page.getByLabel("Description (optional)").fill("Answers from our product manuals");
  await session.page.getByRole("button", { name: "Create project" }).click();
  await session.page.waitForURL(/\/wizard\?step=model$/);

  // Locked steps are disabled with a reason; Model and Task are open.
  const locked = session.page.locator(".step-locked [aria-disabled=true]");
  expect(await locked.count()).toBe(6);
  expect(await session.page.locator('.step[data-step="data"] .step-link').getAttribute("title")).toBe("Resolve a model and choose a task first.");
  await screenshot(session.page, "skeleton-03-wizard-model");

  // Step changes swap only the wizard: a marker on window survives, the URL is pushed.
  await session.page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  await session.page.locator('[data-nav="next"]').click();
  await session.page.waitForURL(/step=task$/);
  await session.page.locator('.step-current[data-step="task"]').waitFor();
  expect(await session.page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  await session.page.waitForFunction(() => document.activeElement?.id === "step-title");
  // Next from Task is locked until a model is resolved and a task is chosen.
  expect(await session.page.locator('[data-nav="next"]').getAttribute("aria-disabled")).toBe("true");
  await screenshot(session.page, "skeleton-04-wizard-task");

  await session.page.goBack();
  await session.page.waitForURL(/step=model$/);
  await session.page.locator('.step-current[data-step="model"]').waitFor();
  await session.page.goForward();
  await session.page.waitForURL(/step=task$/);
  await session.page.locator('.step-current[data-step="task"]').waitFor();
  await session.page.reload();
  await session.page.locator('.step-current[data-step="task"]').waitFor();

  await session.page.locator('[data-nav="prev"]').click();
  await session.page.waitForURL(/step=model$/);

  // Asking for a locked step by URL lands on the first incomplete one with a message.
  await session.page.goto(session.page.url().replace("step=model", "step=review"));
  await session.page.locator(".notice").waitFor();
  expect(await session.page.locator(".notice").textContent()).toContain("The Review step is locked");
  expect(session.page.url()).toContain("step=model");

  await session.page.goto(session.server.url + "/");
  const card = session.page.locator(".project-card", { hasText: "Warranty assistant" });
  await card.waitFor();
  expect(await card.locator(".badge.status-draft").textContent()).toBe("Draft");
  expect(await card.textContent()).toContain("Created just now");
  await screenshot(session.page, "skeleton-05-dashboard");

  // Delete asks in a dialog; Cancel keeps the project, Confirm removes it.
  await card.getByRole("button", { name: "Delete Warranty assistant" }).click();
  const dialog = session.page.locator("#confirm-dialog");
  await dialog.waitFor({ state: "visible" });
  expect(await dialog.textContent()).toContain("Delete “Warranty assistant”");
  await screenshot(session.page, "skeleton-06-confirm-dialog");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "hidden" });
  expect(await session.page.locator(".project-card").count()).toBe(1);

  await card.getByRole("button", { name: "Delete Warranty assistant" }).click();
  await dialog.getByRole("button", { name: "Delete project" }).click();
  await session.page.getByRole("heading", { name: "No projects yet" }).waitFor();
  const remaining = await (await fetch(session.server.url + "/api/projects")).json();
  expect(remaining.total).toBe(0);

  expect(session.problems).toEqual([]);
}, 60_000);

test("a server error on an htmx request shows a toast", async () => {
  const created = await (
    await fetch(session.server.url + "/api/projects", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"name":"Gone soon"}' })
  ).json();
  await session.page.goto(session.server.url + "/");
  // Someone else deletes it meanwhile; deleting it here must say so, not fail silently.
  await fetch(`${session.server.url}/api/projects/${created.id}`, { method: "DELETE" });
  await session.page.getByRole("button", { name: "Delete Gone soon" }).click();
  await session.page.locator("#confirm-dialog").getByRole("button", { name: "Delete project" }).click();
  const toast = session.page.locator("#toasts .toast-error");
  await toast.waitFor();
  expect(await toast.textContent()).toContain("Project not found.");
  await screenshot(session.page, "skeleton-07-error-toast");
  await toast.getByRole("button", { name: "Dismiss" }).click();
  expect(await session.page.locator("#toasts .toast").count()).toBe(0);
}, 30_000);

test("the dashboard is readable on a phone", async () => {
  const phone = await session.browser.newPage({ viewport: { width: 390, height: 844 } });
  await fetch(session.server.url + "/api/projects", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"name":"Phone check"}' });
  await phone.goto(session.server.url + "/");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await screenshot(phone, "skeleton-08-phone-dashboard");
  await phone.close();
}, 30_000);
