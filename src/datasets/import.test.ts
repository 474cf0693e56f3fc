import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { resolveModel, chooseTask } from "../../tests/helpers/builders.ts";

let t: TestApp;
let pid: string;

beforeEach(async () => {
  t = makeTestApp();
  pid = (await (await t.json("POST", "/api/projects", { name: "dataset" })).json()).id;
});
afterEach(() => t.close());

async function importFile(name: string, data: string | Uint8Array) {
  const form = new FormData();
  form.append("kind", "dataset_upload");
  form.append("files", new File([data as BlobPart], name));
  const res = await t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form });
  await t.queue.runUntilEmpty();
  const files = (await (await t.request(`/api/projects/${pid}/files`)).json()).files;
  return { res, file: files.find((f: { filename: string }) => f.filename === name) };
}

const examples = () =>
  t.db.$client.query("select instruction, input, output, is_valid, validation_error, source_line, split from examples order by source_line").all() as Record<string, any>[];

const alpaca = (i: number) => JSON.stringify({ instruction: `Question number ${i}?`, input: "", output: `Answer number ${i}.` });

describe("importing a ready dataset", () => {
  test("a JSONL with a broken line in the middle imports the rest and reports the line", async () => {
    const lines = [alpaca(1), alpaca(2), '{"instruction": "broken', alpaca(4), JSON.stringify({ instruction: "No answer here" }), alpaca(6)];
    const { file } = await importFile("data.jsonl", lines.join("\n"));
    expect(file.status).toBe("ready");
    expect(file.details.summary).toBe("4 imported, 2 invalid (first errors: line 3: not valid JSON; line 5: missing output)");
    const rows = examples();
    expect(rows).toHaveLength(6);
    expect(rows.find((r) => r.source_line === 3)).toMatchObject({ is_valid: 0, validation_error: "not valid JSON" });
    expect(rows.filter((r) => r.is_valid).map((r) => r.source_line)).toEqual([1, 2, 4, 6]);
  });

  test("Q&A JSON arrays map question / context / answer", async () => {
    const data = JSON.stringify([{ question: "How long is the warranty?", context: "Section 2", answer: "Two years." }]);
    const { file } = await importFile("qa.json", data);
    expect(file.details).toMatchObject({ shape: "qa", imported: 1 });
    expect(examples()[0]).toMatchObject({ instruction: "How long is the warranty?", input: "Section 2", output: "Two years.", is_valid: 1 });
  });

  test("JSON that is an object instead of an array fails with a sentence saying so", async () => {
    const { res, file } = await importFile("obj.json", JSON.stringify({ data: [{ instruction: "a", output: "b" }] }));
    expect(res.status).toBe(201);
    expect(file).toMatchObject({ status: "failed", error_code: "json_not_array" });
    expect(file.error_message).toContain("holds a JSON object; a dataset must be an array of objects");
    expect(examples()).toHaveLength(0);
  });

  test("CSV with a BOM, `;` separators and quoted newlines", async () => {
    const csv = '\uFEFFquestion;answer\n"What does ""IP67"" mean?";"Dust tight;\nwater resistant."\nShort?;Yes.\n';
    const { file } = await importFile("faq.csv", csv);
    expect(file.details).toMatchObject({ shape: "qa", imported: 2, invalid: 0 });
    const rows = examples();
    expect(rows[0]).toMatchObject({ instruction: 'What does "IP67" mean?', output: "Dust tight;\nwater resistant.", source_line: 2 });
    expect(rows[1]).toMatchObject({ instruction: "Short?", source_line: 4 });
  });

  test("Windows line endings, tabs, a quoted row spanning lines: errors name the line a user sees", async () => {
    const csv = 'question\tanswer\r\n"Two\r\nlines?"\tYes.\r\n\r\nA stray field\tno\textra\r\nLast?\tIndeed.\r\n';
    const { file } = await importFile("tabs.csv", csv);
    expect(file.details).toMatchObject({ shape: "qa", imported: 2, invalid: 1 });
    expect(file.details.summary).toContain("line 5: has 3 fields, the header has 2");
    expect(examples().map((r) => [r.instruction, r.source_line])).toEqual([["Two\nlines?", 2], ["", 5], ["Last?", 6]]);
  });

  test("a quote never closed fails the file with the line it opened on", async () => {
    const { file } = await importFile("open.csv", 'question,answer\nFine?,Yes.\n"Never closed,oops\n');
    expect(file).toMatchObject({ status: "failed", error_code: "invalid_csv" });
    expect(file.error_message).toContain("open.csv");
    expect(file.error_message).toContain("line 3");
    expect(examples()).toHaveLength(0);
  });

  test("chat messages and ShareGPT conversations become instruction / output", async () => {
    const lines = [
      JSON.stringify({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi there" }, { role: "assistant", content: "Hello!" }] }),
      JSON.stringify({ messages: [{ role: "user", content: "No reply" }] }),
    ];
    const { file } = await importFile("chat.jsonl", lines.join("\n"));
    expect(file.details.summary).toBe("1 imported, 1 invalid (first errors: line 2: the last turn must be the assistant's)");
    expect(examples()[0]).toMatchObject({ instruction: "Hi there", input: "system: Be brief.", output: "Hello!" });

    const share = JSON.stringify({ conversations: [{ from: "human", value: "Capital of Peru?" }, { from: "gpt", value: "Lima." }] });
    const { file: f2 } = await importFile("share.jsonl", share);
    expect(f2.details).toMatchObject({ shape: "sharegpt", imported: 1 });
  });

  test("exact duplicates (case and punctuation aside) are kept as invalid", async () => {
    const lines = [alpaca(1), JSON.stringify({ instruction: "QUESTION number 1 ?", input: "", output: "answer number 1" })];
    const { file } = await importFile("dup.jsonl", lines.join("\n"));
    expect(file.details.summary).toContain("line 2: duplicate of line 1");
  });

  test("unrecognised columns wait for a mapping; the mapping imports them", async () => {
    const csv = "prompt_text,reply,notes\nWhat is X?,X is a thing.,n1\nWhat is Y?,Y is another.,n2\n";
    const { file } = await importFile("custom.csv", csv);
    expect(file.status).toBe("needs_mapping");
    expect(file.details.columns).toEqual(["prompt_text", "reply", "notes"]);
    const bad = await t.json("POST", `/api/projects/${pid}/files/${file.id}/mapping`, { instruction: "prompt_text", output: "missing_col" });
    expect(bad.status).toBe(422);
    expect((await bad.json()).error_code).toBe("unknown_column");
    const ok = await t.json("POST", `/api/projects/${pid}/files/${file.id}/mapping`, { instruction: "prompt_text", input: "notes", output: "reply" });
    expect(ok.status).toBe(202);
    await t.queue.runUntilEmpty();
    expect(examples().map((r) => [r.instruction, r.input, r.output])).toEqual([["What is X?", "n1", "X is a thing."], ["What is Y?", "n2", "Y is another."]]);
  });

  test.each([
    ["the same column twice", { instruction: "reply", output: "reply" }, "different columns"],
    ["the input as the output", { instruction: "prompt_text", input: "reply", output: "reply" }, "third column"],
    ["no output", { instruction: "prompt_text" }, "output: This field is required."],
  ])("the API and the form refuse %s alike, and the file keeps waiting", async (_name, mapping, message) => {
    const { file } = await importFile("custom.csv", "prompt_text,reply,notes\nWhat is X?,X is a thing.,n1\n");
    const api = await t.json("POST", `/api/projects/${pid}/files/${file.id}/mapping`, mapping);
    expect(api.status).toBe(422);
    expect((await api.json()).detail).toContain(message);
    const page = await t.request(`/projects/${pid}/files/${file.id}/mapping`, { method: "POST", headers: { "HX-Request": "true" }, body: new URLSearchParams(mapping as Record<string, string>) });
    expect(page.status).toBe(422);
    expect(await page.text()).toContain(message);
    expect((await (await t.request(`/api/projects/${pid}/files`)).json()).files[0].status).toBe("needs_mapping");
  });

  test("an imported dataset with 10+ valid examples opens Review and Hardware and marks the project ready", async () => {
    resolveModel(t.db, pid);
    chooseTask(t.db, pid);
    await importFile("twelve.jsonl", Array.from({ length: 12 }, (_, i) => alpaca(i)).join("\n"));
    const splits = examples().map((r) => r.split);
    expect(splits.every((s) => s === "train" || s === "eval")).toBe(true);
    expect((await t.request(`/projects/${pid}/wizard?step=hardware`)).status).toBe(200);
    expect((await (await t.request(`/api/projects/${pid}`)).json()).status).toBe("ready_to_train");
  });
});
