/** Hostile and broken uploads: each gets its own specific outcome, and nothing else is affected. */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { strToU8 } from "fflate";
import { buildDocx, buildPlainZip } from "../../tests/fakes/docx.ts";
import { buildPdf } from "../../tests/fakes/pdf.ts";
import { documentsHarness, GOOD_PDF, type Upload } from "../../tests/helpers/documents-harness.ts";
import { projectDir } from "../lib/data-dir.ts";
import { createApp } from "../app.tsx";
import { silentLogger } from "../lib/logger.ts";

const h = documentsHarness();
const { upload, filesAfterProcessing, chunksOf } = h;

describe("hostile and broken documents: a specific outcome each, nothing else affected", () => {
  const cases: [string, Upload, string, string][] = [
    ["an encrypted PDF", { name: "locked.pdf", data: buildPdf([{ lines: ["secret"] }], { encrypted: true }) }, "pdf_encrypted", "password-protected PDFs are not supported"],
    ["a PDF without a text layer", { name: "scan.pdf", data: buildPdf([{ imageOnly: true }]) }, "pdf_no_text", "no extractable text — is it a scan? Run OCR"],
    ["a corrupt PDF", { name: "broken.pdf", data: "%PDF-1.4\n1 0 obj garbage that never ends" }, "pdf_corrupt", "damaged or truncated"],
    ["a truncated PDF", { name: "cut.pdf", data: buildPdf([{ lines: ["text"] }]).subarray(0, 120) }, "pdf_corrupt", "damaged or truncated"],
    ["a DOCX that is a plain zip", { name: "notes.docx", data: buildPlainZip() }, "invalid_docx", "not a valid Word document"],
    ["a DOCX zip bomb (too many entries)", { name: "bomb.docx", data: buildDocx([{ para: "x" }], Object.fromEntries(Array.from({ length: 2100 }, (_, i) => [`f${i}.xml`, strToU8("x")]))) }, "zip_bomb", "zip bomb"],
  ];

  test.each(cases)("%s fails with its own message while the good file beside it is extracted", async (_label, bad, code, message) => {
    const res = await upload([GOOD_PDF, bad]);
    expect(res.status).toBe(201);
    const files = await filesAfterProcessing();
    const good = files.find((f) => f.filename === "manual.pdf")!;
    const failed = files.find((f) => f.filename === bad.name)!;
    expect(good.status).toBe("ready");
    expect(chunksOf(good.id).length).toBeGreaterThan(0);
    expect(failed).toMatchObject({ status: "failed", error_code: code });
    expect(failed.error_message).toContain(message);
    expect(chunksOf(failed.id)).toHaveLength(0);
    expect((await (await h.t.request(`/api/projects/${h.pid}`)).json()).name).toBe("docs");
  });

  const refusedAtUpload: [string, Upload, number, string, string][] = [
    ["an empty file", { name: "empty.txt", data: "" }, 422, "empty_file", "empty.txt is empty."],
    ["a .pdf that is really an executable", { name: "invoice.pdf", data: new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]) }, 415, "executable_file", "invoice.pdf is a program, not a document"],
    ["a .docx that is not a zip", { name: "fake.docx", data: "plain text pretending" }, 422, "invalid_docx", "not a valid Word document"],
    ["a .txt that is a PDF", { name: "sneaky.txt", data: GOOD_PDF.data }, 415, "type_mismatch", "its content is a PDF"],
    ["an unsupported extension", { name: "photo.png", data: "x" }, 415, "unsupported_type", "only PDF, DOCX, TXT and MD"],
    ["binary data named .txt", { name: "blob.txt", data: new Uint8Array([1, 0, 2, 0, 3]) }, 415, "not_text", "not a text file"],
  ];

  test.each(refusedAtUpload)("%s is refused at upload with a clear reason", async (_label, bad, status, code, message) => {
    const res = await upload([bad]);
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(body.error_code).toBe(code);
    expect(body.detail).toContain(message);
    expect((await filesAfterProcessing()).length).toBe(0);
  });

  test("a file over 50 MB is refused with 413 and the smaller file of the same upload is kept", async () => {
    const big = new Uint8Array(51 * 1024 * 1024).fill(0x61);
    const res = await upload([{ name: "huge.txt", data: big }, { name: "small.txt", data: "small file" }]);
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.errors).toEqual([{ filename: "huge.txt", error_code: "file_too_large", detail: "huge.txt is larger than 50 MB, the limit per file." }]);
    expect(body.files.map((f: { filename: string }) => f.filename)).toEqual(["small.txt"]);
    const alone = await upload([{ name: "huge2.txt", data: big }]);
    expect(alone.status).toBe(413);
    expect(readdirSync(join(projectDir(h.t.dataDir, h.pid), "uploads", ".incoming"))).toEqual([]);
  });

  test("a file of exactly 50 MB is accepted; one byte more is refused", async () => {
    const exact = new Uint8Array(50 * 1024 * 1024).fill(0x61);
    const ok = await upload([{ name: "exact.txt", data: exact }]);
    expect(ok.status).toBe(201);
    expect((await ok.json()).files[0].size_bytes).toBe(52_428_800);
    const over = new Uint8Array(50 * 1024 * 1024 + 1).fill(0x62);
    const refused = await upload([{ name: "over.txt", data: over }]);
    expect(refused.status).toBe(413);
    expect((await refused.json()).error_code).toBe("file_too_large");
  });

  test("a 300-character file name is shortened before its extension and keeps its type", async () => {
    const res = await upload([{ name: `${"long name ".repeat(30)}.md`, data: "# Title\n\nSome text." }]);
    expect(res.status).toBe(201);
    const [file] = (await res.json()).files;
    expect(file.filename.length).toBeLessThanOrEqual(255);
    expect(file.filename.endsWith("….md")).toBe(true);
    expect((await filesAfterProcessing())[0]!.status).toBe("ready");
  });

  test("six identical uploads at once: one 201, five 409s, one stored file and no leftovers", async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => upload([{ ...GOOD_PDF, name: `same-${i}.pdf` }])));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    const listed = await filesAfterProcessing();
    expect(listed).toHaveLength(1);
    const uploads = join(projectDir(h.t.dataDir, h.pid), "uploads");
    expect(readdirSync(uploads).filter((n) => n !== ".incoming")).toEqual([listed[0]!.id + ".pdf"]);
    expect(readdirSync(join(uploads, ".incoming"))).toEqual([]);
  });

  test("an upload cut off mid-file ends with a 400 and leaves no .part file", async () => {
    const boundary = "----ftf-cut";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nraw_doc\r\n--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="cut.txt"\r\nContent-Type: text/plain\r\n\r\n`;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ === 0) controller.enqueue(new TextEncoder().encode(head + "x".repeat(100_000)));
        else controller.error(new Error("connection reset"));
      },
    });
    const res = await h.t.request(`/api/projects/${h.pid}/files/upload`, { method: "POST", headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` }, body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(400);
    expect((await res.json()).error_code).toBe("invalid_multipart");
    expect(readdirSync(join(projectDir(h.t.dataDir, h.pid), "uploads", ".incoming"))).toEqual([]);
    expect(await filesAfterProcessing()).toEqual([]);
  });

  test("a draft is `uploading` while the bytes arrive, `chunking` until its documents are extracted, then a draft again", async () => {
    const status = async () => (await (await h.t.request(`/api/projects/${h.pid}`)).json()).status;
    const boundary = "----ftf-slow";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nraw_doc\r\n--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\n`;
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        step++;
        if (step === 1) controller.enqueue(new TextEncoder().encode(`${head}The warranty lasts two years from the date of purchase.`));
        else if (step === 2) {
          await held;
          controller.enqueue(new TextEncoder().encode(`\r\n--${boundary}--\r\n`));
        } else controller.close();
      },
    });
    const pending = h.t.request(`/api/projects/${h.pid}/files/upload`, { method: "POST", headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` }, body, duplex: "half" } as RequestInit);
    while (step < 2) await Bun.sleep(1);
    expect(await status()).toBe("uploading");
    finish();
    expect((await pending).status).toBe(201);
    expect(await status()).toBe("chunking");
    await h.t.queue.runUntilEmpty();
    expect(await status()).toBe("draft");
  });

  test("an upload never moves a project that is past the draft", async () => {
    h.t.db.$client.run("update projects set status = 'ready_to_train' where id = ?", [h.pid]);
    expect((await upload([{ name: "more.txt", data: "Returns are accepted within 30 days." }])).status).toBe(201);
    await h.t.queue.runUntilEmpty();
    expect((await (await h.t.request(`/api/projects/${h.pid}`)).json()).status).toBe("ready_to_train");
  });

  test("leftover .part files of a crashed upload are removed when the app starts", async () => {
    const incoming = join(projectDir(h.t.dataDir, h.pid), "uploads", ".incoming");
    mkdirSync(incoming, { recursive: true });
    writeFileSync(join(incoming, "left-over.part"), "half a file");
    createApp({ db: h.t.db, queue: h.t.queue, config: { dataDir: h.t.dataDir, hub: { endpoint: "http://127.0.0.1:9", timeoutMs: 1000 }, generation: { ollamaHosts: [], concurrency: 1, timeoutMs: 1000, groundingThreshold: 0.5 }, trainer: { python: "", dir: h.t.dataDir, graceMs: 500 } }, logger: silentLogger });
    expect(existsSync(join(incoming, "left-over.part"))).toBe(false);
  });

  test("a large DOCX is read in a child process: the server answers while it is extracted", async () => {
    const paragraph = "The warranty covers parts and labour for two years from the date of purchase. ";
    const parts = Array.from({ length: 60_000 }, (_, i) => ({ para: `${i}. ${paragraph}` }));
    expect((await upload([{ name: "big.docx", data: buildDocx(parts) }])).status).toBe(201);
    const extraction = h.t.queue.runUntilEmpty(120_000);
    // The health check answers while the document is still being read.
    const health = await h.t.request("/healthz");
    expect(health.status).toBe(200);
    const during = (await (await h.t.request(`/api/projects/${h.pid}/files`)).json()).files[0];
    expect(during.status).toBe("extracting");
    await extraction;
    const [file] = await filesAfterProcessing();
    expect(file!.status).toBe("ready");
    expect(chunksOf(file!.id).length).toBeGreaterThan(100);
  }, 60_000);

  test("a DOCX whose text unpacks past what extraction handles is refused with the reason", async () => {
    const huge = "<w:p><w:r><w:t>" + "a".repeat(1000) + "</w:t></w:r></w:p>";
    const xml = `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${huge.repeat(70_000)}</w:body></w:document>`;
    const docx = buildDocx([{ para: "x" }], { "word/document.xml": strToU8(xml) });
    await upload([{ name: "inflates.docx", data: docx }]);
    const [file] = await filesAfterProcessing();
    expect(file).toMatchObject({ status: "failed", error_code: "document_too_large" });
    expect(file!.error_message).toContain("larger than 64 MB once unpacked");
  }, 60_000);

  test("malformed requests get 4xx with a sentence, never a 500", async () => {
    const notMultipart = await h.t.request(`/api/projects/${h.pid}/files/upload`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(notMultipart.status).toBe(415);
    const noBoundary = await h.t.request(`/api/projects/${h.pid}/files/upload`, { method: "POST", headers: { "Content-Type": "multipart/form-data" }, body: "x" });
    expect(noBoundary.status).toBe(400);
    const noFiles = await upload([]);
    expect(noFiles.status).toBe(422);
    expect((await noFiles.json()).error_code).toBe("no_files");
    const badKind = await upload([GOOD_PDF], "weights");
    expect(badKind.status).toBe(422);
    expect((await upload([GOOD_PDF], "raw_doc", "nope")).status).toBe(404);
  });
});
