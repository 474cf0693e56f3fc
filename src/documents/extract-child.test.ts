import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildDocx } from "../../tests/fakes/docx.ts";
import { makeTempDir } from "../../tests/helpers/test-app.ts";
import { extractInChild } from "./extract-child.ts";

const dir = makeTempDir("ftf-extract-child-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bigDocx = () => {
  const path = join(dir, "big.docx");
  const paragraph = "The warranty covers parts and labour for two years from the date of purchase. ";
  writeFileSync(path, buildDocx(Array.from({ length: 60_000 }, (_, i) => ({ para: `${i}. ${paragraph}` }))));
  return path;
};

describe("extraction in a child process", () => {
  test("returns the document's blocks", async () => {
    const path = join(dir, "small.docx");
    writeFileSync(path, buildDocx([{ heading: { level: 1, text: "Warranty" } }, { para: "Two years." }]));
    const extracted = await extractInChild("docx", path, "small.docx");
    expect(extracted.blocks.map((b) => b.text)).toEqual(["Warranty", "Two years."]);
  });

  test("a child that outgrows its memory limit is stopped with the reason; a small document fits the same limit", async () => {
    const limits = { timeMs: 60_000, memoryBytes: 128 * 1024 * 1024 };
    const small = join(dir, "fits.docx");
    writeFileSync(small, buildDocx([{ para: "Two years." }]));
    expect((await extractInChild("docx", small, "fits.docx", limits)).blocks).toHaveLength(1);
    const err = await extractInChild("docx", bigDocx(), "big.docx", limits).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: "extraction_too_large" });
    expect((err as Error).message).toContain("more than 128 MB of memory");
  }, 60_000);

  test("a child that runs past its time limit is stopped with the reason", async () => {
    const err = await extractInChild("docx", bigDocx(), "big.docx", { timeMs: 50, memoryBytes: 8 * 1024 ** 3 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: "extraction_timeout" });
  }, 60_000);

  test("the child's own refusal keeps its code and sentence", async () => {
    const path = join(dir, "not.docx");
    writeFileSync(path, "plain text, not a zip");
    const err = await extractInChild("docx", path, "not.docx").catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: "invalid_docx" });
  });
});
