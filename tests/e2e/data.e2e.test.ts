import { expect, test } from "bun:test";
import { buildDocx } from "../fakes/docx.ts";
import { buildPdf } from "../fakes/pdf.ts";
import { screenshot } from "../helpers/browser.ts";
import { useBrowserSession } from "../helpers/browser-session.ts";

const session = useBrowserSession({ viewport: { width: 1280, height: 1000 } });

async function projectAtDataStep(): Promise<string> {
  const api = (path: string, body: unknown, method = "POST") =>
    fetch(session.server.url + path, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
  const { id } = await api("/api/projects", { name: "Manuals" });
  await api(`/api/projects/${id}`, { task_type: "qa" }, "PATCH");
  // A model is needed before Data opens; set it the way the Model step does, through the API.
  const { writeTinyModelFolder } = await import("../fakes/tiny-model-folder.ts");
  const { makeTempDir } = await import("../helpers/test-app.ts");
  const { dir } = writeTinyModelFolder(`${makeTempDir()}/tiny`);
  await api(`/api/projects/${id}/model/resolve`, { model_id: dir });
  return id;
}

test("a user uploads two documents and a bad file, sees progress, statuses and the refusal, deletes one", async () => {
  const id = await projectAtDataStep();
  await session.page.goto(`${session.server.url}/projects/${id}/wizard?step=data`);
  await session.page.locator(".step-current[data-step=data]").waitFor();
  expect(await session.page.locator('.step[data-step="preview"] [aria-disabled=true]').count()).toBe(1);

  // Browse: two documents at once.
  await session.page.locator("#raw_doc-input").setInputFiles([
    { name: "manual.pdf", mimeType: "application/pdf", buffer: buildPdf([{ lines: ["Warranty terms", "The warranty lasts two years."] }]) },
    { name: "policy.docx", mimeType: "application/octet-stream", buffer: Buffer.from(buildDocx([{ heading: { level: 1, text: "Returns" } }, { para: "Returns within 30 days." }])) },
  ]);
  // Drop: a file the browser refuses before sending, and one the server refuses.
  await session.page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(["not a program"], "photo.exe"));
    dt.items.add(new File([new Uint8Array([0x4d, 0x5a, 0x90, 0x00])], "invoice.pdf"));
    document.querySelector('[data-kind="raw_doc"]')!.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const refused = session.page.locator(".upload-item.refused");
  await refused.nth(1).waitFor();
  const refusals = await refused.allTextContents();
  expect(refusals.some((r) => r.includes("photo.exe") && r.includes("only .pdf, .docx, .txt, .md files are accepted"))).toBe(true);
  expect(refusals.some((r) => r.includes("invoice.pdf") && r.includes("is a program, not a document"))).toBe(true);
  await screenshot(session.page, "data-01-uploading");

  // Both documents end ready, with page and chunk counts; Preview unlocks without a reload.
  const rows = session.page.locator("#file-list tbody tr");
  await session.page.waitForFunction(() => document.querySelectorAll("#file-list .status-ready").length === 2, null, { timeout: 20_000 });
  expect(await rows.count()).toBe(2);
  expect(await session.page.locator("#file-list").textContent()).toContain("1 page · ");
  await session.page.locator('.step[data-step="preview"] a.step-link').waitFor();
  await screenshot(session.page, "data-02-ready");

  await session.page.getByRole("button", { name: "Delete policy.docx" }).click();
  await session.page.locator("#confirm-dialog").getByRole("button", { name: "Delete file" }).click();
  await session.page.waitForFunction(() => document.querySelectorAll("#file-list tbody tr").length === 1);
  expect(await session.page.locator("#file-list").textContent()).not.toContain("policy.docx");
  await screenshot(session.page, "data-03-deleted");
  expect(session.problems).toEqual([]);
}, 60_000);

test("an oversized file is refused in the browser before it is sent", async () => {
  const id = await projectAtDataStep();
  await session.page.goto(`${session.server.url}/projects/${id}/wizard?step=data`);
  await session.page.evaluate(() => {
    const input = document.querySelector<HTMLInputElement>("#raw_doc-input")!;
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(51 * 1024 * 1024)], "huge.txt"));
    input.files = dt.files;
    input.dispatchEvent(new Event("change"));
  });
  const item = session.page.locator(".upload-item.refused");
  await item.waitFor();
  expect(await item.textContent()).toContain("51.0 MB is over the 50.0 MB limit");
  const files = await (await fetch(`${session.server.url}/api/projects/${id}/files`)).json();
  expect(files.files).toHaveLength(0);
}, 30_000);
