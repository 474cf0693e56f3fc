import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { strToU8 } from "fflate";
import { buildDocx } from "../../tests/fakes/docx.ts";
import { buildPdf } from "../../tests/fakes/pdf.ts";
import { documentsHarness, GOOD_PDF } from "../../tests/helpers/documents-harness.ts";
import { projectDir } from "../lib/data-dir.ts";

const h = documentsHarness();
const { upload, filesAfterProcessing, chunksOf } = h;

describe("uploading documents", () => {
  test("a PDF is stored under a generated name, extracted page by page and chunked with provenance", async () => {
    const res = await upload([GOOD_PDF]);
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.files[0]).toMatchObject({ filename: "manual.pdf", kind: "raw_doc", status: "extracting", mime_type: "application/pdf" });
    expect(body.files[0].sha256).toHaveLength(64);
    const [file] = await filesAfterProcessing();
    expect(file).toMatchObject({ status: "ready", page_count: 2 });
    expect(file!.char_count).toBeGreaterThan(40);
    const stored = readdirSync(join(projectDir(h.t.dataDir, h.pid), "uploads")).filter((n) => !n.startsWith("."));
    expect(stored).toEqual([`${file!.id}.pdf`]);
    const chunks = chunksOf(file!.id);
    expect(chunks.length).toBe(1);
    expect(chunks[0]).toMatchObject({ page_start: 1, page_end: 2, char_start: 0 });
    expect(chunks[0]!.text).toContain("Returns are accepted within 30 days.");
  });

  test("a CJK PDF (CID font, predefined CMap) comes out as text", async () => {
    await upload([{ name: "日本語.pdf", data: buildPdf([{ cjk: ["保証期間は二年間です", "東京都千代田区"] }]) }]);
    const [file] = await filesAfterProcessing();
    expect(file).toMatchObject({ status: "ready", filename: "日本語.pdf" });
    expect(chunksOf(file!.id)[0]!.text).toContain("保証期間は二年間です");
  });

  test("a page mixing Latin and Japanese text keeps both, with form field values and note text", async () => {
    const data = buildPdf([{ lines: ["Warranty terms", "The warranty lasts two years."], cjk: ["保証期間は二年間です"], fields: [{ name: "customer", value: "Jane Doe" }], notes: ["Check the serial number"] }]);
    await upload([{ name: "form.pdf", data }]);
    const [file] = await filesAfterProcessing();
    expect(file!.status).toBe("ready");
    const text = chunksOf(file!.id).map((c) => c.text).join("\n");
    for (const expected of ["The warranty lasts two years.", "保証期間は二年間です", "customer: Jane Doe", "Check the serial number"]) expect(text).toContain(expected);
  });

  test("a DOCX keeps its headings as the chunk's heading path, and its table text", async () => {
    const docx = buildDocx([
      { heading: { level: 1, text: "Warranty" } },
      { para: "The warranty lasts two years." },
      { heading: { level: 2, text: "Claims" } },
      { table: [["Model", "Years"], ["X1", "2"]] },
    ]);
    await upload([{ name: "policy.docx", data: docx }]);
    const [file] = await filesAfterProcessing();
    expect(file!.status).toBe("ready");
    const text = chunksOf(file!.id).map((c) => c.text).join("\n");
    expect(text).toContain("Model | Years");
    expect(chunksOf(file!.id).at(-1)!.heading_path).toBe("Warranty › Claims");
  });

  test("TXT and MD in UTF-8, UTF-8 with BOM, UTF-16 and Windows-1252 all come out right", async () => {
    const utf16 = new Uint8Array([0xff, 0xfe, ...Buffer.from("Café au lait\r\n", "utf16le")]);
    const cp1252 = new Uint8Array([0x43, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x6f, 0x69, 0x72]); // "Café noir" in Windows-1252
    await upload([
      { name: "a.md", data: "# Title\n\nBody text\r\n" },
      { name: "b.txt", data: new Uint8Array([0xef, 0xbb, 0xbf, ...strToU8("Bom text")]) },
      { name: "c.txt", data: utf16 },
      { name: "d.txt", data: cp1252 },
    ]);
    const files = await filesAfterProcessing();
    const byName = Object.fromEntries(files.map((f) => [f.filename, f]));
    expect(files.every((f) => f.status === "ready")).toBe(true);
    expect(chunksOf(byName["a.md"].id)[0]).toMatchObject({ heading_path: "Title" });
    expect(chunksOf(byName["c.txt"].id)[0]!.text).toBe("Café au lait");
    expect(chunksOf(byName["d.txt"].id)[0]!.text).toBe("Café noir");
    expect(byName["d.txt"].details.encoding).toBe("windows-1252");
    expect(byName["c.txt"].details.encoding).toBe("utf-16le");
  });

  test("uploading the same file twice is detected and said", async () => {
    await upload([GOOD_PDF]);
    const res = await upload([{ ...GOOD_PDF, name: "copy.pdf" }]);
    expect(res.status).toBe(409);
    const body = await res.json();
    expect(body.error_code).toBe("duplicate_file");
    expect(body.detail).toBe("copy.pdf was already uploaded (as “manual.pdf”).");
  });

  test("file names are display text only: no path traversal, any Unicode kept", async () => {
    const res = await upload([{ name: "../../etc/passwd.txt", data: "hello" }, { name: "données 📄.md", data: "# Hi\n\nText" }]);
    const names = (await res.json()).files.map((f: { filename: string }) => f.filename);
    expect(names).toEqual(["passwd.txt", "données 📄.md"]);
    expect(existsSync(join(h.t.dataDir, "etc"))).toBe(false);
  });

  test("deleting a file removes its chunks, its examples and the stored file", async () => {
    await upload([GOOD_PDF]);
    const [file] = await filesAfterProcessing();
    const chunkId = chunksOf(file!.id)[0]!.id;
    h.t.db.$client.run(
      "insert into examples (id, project_id, split, instruction, output, is_valid, chunk_id) values ('e1', ?, 'train', 'q', 'a', 1, ?)",
      [h.pid, chunkId],
    );
    const res = await h.t.request(`/api/projects/${h.pid}/files/${file!.id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: true, id: file!.id });
    expect(chunksOf(file!.id)).toHaveLength(0);
    expect(h.t.db.$client.query("select count(*) as n from examples").get()).toEqual({ n: 0 });
    expect(readdirSync(join(projectDir(h.t.dataDir, h.pid), "uploads")).filter((n) => !n.startsWith("."))).toEqual([]);
    expect((await h.t.request(`/api/projects/${h.pid}/files/${file!.id}`, { method: "DELETE" })).status).toBe(404);
  });
});
