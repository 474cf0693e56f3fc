import { expect, test } from "bun:test";
import { screenshot } from "../helpers/browser.ts";
import { useBrowserSession } from "../helpers/browser-session.ts";

const session = useBrowserSession({ viewport: { width: 1280, height: 1000 } });

test("a user filters, searches, edits in the modal and deletes selected examples", async () => {
  const json = (path: string, body: unknown, method = "POST") =>
    fetch(session.server.url + path, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
  const { id } = await json("/api/projects", { name: "Review" });
  const rows = [
    ...Array.from({ length: 70 }, (_, i) => ({ instruction: `How do I reset router model R${i}?`, input: "", output: `Hold the reset button of R${i} for ten seconds.` })),
    { instruction: '<script>window.pwned = true</script>', input: "", output: '<img src=x onerror="window.pwned = true">' },
    { instruction: "Broken row", input: "", output: "" },
  ];
  const form = new FormData();
  form.append("kind", "dataset_upload");
  form.append("files", new File([rows.map((r) => JSON.stringify(r)).join("\n")], "faq.jsonl"));
  await fetch(`${session.server.url}/api/projects/${id}/files/upload`, { method: "POST", body: form });
  for (let i = 0; i < 100 && (await (await fetch(`${session.server.url}/api/projects/${id}/files`)).json()).files[0].status !== "ready"; i++) await Bun.sleep(50);

  await session.page.goto(`${session.server.url}/projects/${id}/wizard?step=review`);
  await session.page.locator(".stats-bar").waitFor();
  expect(await session.page.locator(".stats-bar").textContent()).toContain("Total 72");
  expect(await session.page.locator(".example-row").count()).toBe(50);
  expect(await session.page.evaluate(() => (window as unknown as { pwned?: boolean }).pwned)).toBeUndefined();
  await screenshot(session.page, "review-01-table");

  // Filters live in the URL: invalid only, then a search; a reload keeps them.
  await session.page.getByLabel("Validity").selectOption("invalid");
  await session.page.waitForURL(/valid=invalid/);
  await session.page.waitForFunction(() => document.querySelectorAll(".example-row").length === 1);
  // Typing right after a filter change: the filter's swap must not eat the keys.
  await session.page.getByLabel("Validity").selectOption("all");
  await session.page.getByLabel("Search").pressSequentially("R42", { delay: 15 });
  await session.page.waitForURL(/q=R42/);
  await session.page.waitForFunction(() => document.querySelectorAll(".example-row").length === 1);
  await session.page.reload();
  expect(await session.page.locator(".example-row").count()).toBe(1);
  expect(await session.page.getByLabel("Search").inputValue()).toBe("R42");

  // Open the example, fix its output, save: the table and stats refresh.
  await session.page.locator(".example-row").first().click();
  const modal = session.page.locator("#example-modal");
  await modal.waitFor({ state: "visible" });
  expect(await modal.locator(".provenance").textContent()).toContain("Imported from faq.jsonl, line 43");
  await modal.getByLabel("Output").fill("Press and hold the reset button for ten seconds, then wait for the light.");
  await modal.getByRole("button", { name: "Save" }).click();
  await modal.locator(".notice").waitFor();
  await screenshot(session.page, "review-02-modal");
  await session.page.keyboard.press("Escape");
  await modal.waitFor({ state: "hidden" });
  await session.page.locator(".example-row", { hasText: "Press and hold" }).waitFor();

  // Keyboard: Enter on a row opens it, → moves to the next example, Escape gives focus back to a row.
  await session.page.getByLabel("Search").fill("");
  await session.page.getByLabel("Search").press("Enter");
  await session.page.waitForFunction(() => document.querySelectorAll(".example-row").length === 50);
  const firstId = await session.page.locator(".example-row").first().getAttribute("data-example-id");
  await session.page.locator(".example-row").first().focus();
  await session.page.keyboard.press("Enter");
  await session.page.waitForFunction((id) => document.querySelector<HTMLDialogElement>("#example-modal")?.open && document.querySelector("#example-modal")?.getAttribute("data-example-id") === id, firstId);
  await session.page.keyboard.press("ArrowRight");
  await session.page.waitForFunction((id) => { const m = document.querySelector<HTMLDialogElement>("#example-modal"); return m?.open && m.getAttribute("data-example-id") !== id; }, firstId);
  await session.page.keyboard.press("Escape");
  await modal.waitFor({ state: "hidden" });
  await session.page.waitForFunction(() => document.activeElement?.classList.contains("example-row") === true);

  // Select the page, then every matching example beyond it: the count follows.
  await session.page.getByLabel("Select every example on this page").check();
  await session.page.getByRole("button", { name: "Select all 72 examples" }).click();
  await session.page.getByRole("button", { name: "Delete selected (72)" }).waitFor();
  await session.page.getByLabel("Select every example on this page").uncheck();
  await session.page.getByRole("button", { name: "Delete selected", exact: true }).waitFor();

  // Delete selected: select the page, confirm with the count.
  await session.page.getByLabel("Select every example on this page").check();
  await session.page.getByRole("button", { name: "Delete selected (50)" }).click();
  const dialog = session.page.locator("#confirm-dialog");
  await dialog.waitFor({ state: "visible" });
  expect(await dialog.textContent()).toContain("Delete 50 examples?");
  await dialog.getByRole("button", { name: "Delete examples" }).click();
  await session.page.waitForFunction(() => document.querySelector(".stats-bar")?.textContent?.includes("Total 22"));
  await screenshot(session.page, "review-03-deleted");
  expect(await session.page.evaluate(() => (window as unknown as { pwned?: boolean }).pwned)).toBeUndefined();
  expect(session.problems).toEqual([]);
}, 60_000);
