import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { insertExamples, insertJob } from "../../tests/helpers/builders.ts";
import { makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";

let t: TestApp;
let pid: string;

beforeEach(async () => {
  t = makeTestApp();
  pid = (await (await t.json("POST", "/api/projects", { name: "review" })).json()).id;
  // 30 train valid, 5 train invalid, 8 eval valid, 4 preview valid.
  insertExamples(t.db, pid, 30, { split: "train", tokenCount: 100 });
  insertExamples(t.db, pid, 5, { split: "train", isValid: false, validationError: "missing output", tokenCount: 10 });
  insertExamples(t.db, pid, 8, { split: "eval", tokenCount: 300, instruction: "How do I reset the router?", output: "Hold the reset button for ten seconds." });
  insertExamples(t.db, pid, 4, { split: "preview", tokenCount: 3000 });
});
afterEach(() => t.close());

const examples = async (query: string) => (await t.request(`/api/projects/${pid}/dataset/examples?${query}`)).json();

describe("dataset stats", () => {
  test("counts totals, splits, token ranges and examples over max length", async () => {
    insertJob(t.db, pid, { type: "dataset_generate", status: "success", result: { duplicates_removed: 7 } });
    const s = await (await t.request(`/api/projects/${pid}/dataset/stats`)).json();
    expect(s).toMatchObject({ total: 47, valid: 42, invalid: 5, duplicates_removed: 7, over_max_length: 4, max_seq_length: 2048 });
    expect(s.by_split.train).toEqual({ count: 30, avg_tokens: 100, min_tokens: 100, max_tokens: 100 });
    expect(s.by_split.eval).toEqual({ count: 8, avg_tokens: 300, min_tokens: 300, max_tokens: 300 });
  });
});

describe("paged, filtered table", () => {
  test.each([
    ["", 47],
    ["split=train", 35],
    ["split=eval", 8],
    ["split=preview", 4],
    ["valid=valid", 42],
    ["valid=invalid", 5],
    ["split=train&valid=valid", 30],
    ["split=train&valid=invalid", 5],
    ["split=eval&valid=invalid", 0],
    ["valid=true", 42],
    ["split=nonsense", 47],
  ])("?%s matches %i examples", async (query, total) => {
    const body = await examples(query);
    expect(body.total).toBe(total);
    expect(body.items.length).toBe(Math.min(50, total));
  });

  test("pages of 50: the last page, a page past the end, and an empty project", async () => {
    insertExamples(t.db, pid, 60, { split: "train" });
    const last = await examples("page=3");
    expect(last).toMatchObject({ total: 107, page: 3, pages: 3 });
    expect(last.items).toHaveLength(7);
    const past = await examples("page=9");
    expect(past.items).toHaveLength(0);
    const small = await examples("page_size=10&page=2");
    expect(small.items).toHaveLength(10);
    const other = (await (await t.json("POST", "/api/projects", { name: "empty" })).json()).id;
    expect(await (await t.request(`/api/projects/${other}/dataset/examples`)).json()).toMatchObject({ items: [], total: 0, pages: 1 });
  });

  test("walking every page, from either end, lists each example exactly once in order", async () => {
    insertExamples(t.db, pid, 60, { split: "train" });
    for (const sort of ["created", "tokens_desc", "tokens_asc"]) {
      const seen: string[] = [];
      for (let page = 1; page <= 11; page++) seen.push(...(await examples(`page_size=10&page=${page}&sort=${sort}`)).items.map((e: { id: string }) => e.id));
      expect(seen).toHaveLength(107);
      expect(new Set(seen).size).toBe(107);
      const all = (await examples(`page_size=200&sort=${sort}`)).items.map((e: { id: string }) => e.id);
      expect(seen).toEqual(all);
    }
  });

  test("sorts by tokens", async () => {
    const desc = await examples("sort=tokens_desc&page_size=1");
    expect(desc.items[0].token_count).toBe(3000);
    const asc = await examples("sort=tokens_asc&page_size=1");
    expect(asc.items[0].token_count).toBe(10);
  });

  test("full-text search over instruction and output, combined with filters", async () => {
    expect((await examples("q=router")).total).toBe(8);
    expect((await examples("q=RESET%20button")).total).toBe(8);
    expect((await examples("q=router&split=train")).total).toBe(0);
    expect((await examples("q=warranty")).total).toBe(39);
  });

  test.each(['"', '"unbalanced', "*", "-router", "NEAR", "NEAR(a b)", "a OR", "AND", "(((", "col:router", "^"])("search text %j never errors", async (q) => {
    const res = await t.request(`/api/projects/${pid}/dataset/examples?q=${encodeURIComponent(q)}`);
    expect(res.status).toBe(200);
  });
});

describe("batch delete", () => {
  test("by ids, then by filter; stats follow", async () => {
    const ids = (await examples("split=eval")).items.map((e: { id: string }) => e.id).slice(0, 3);
    const byIds = await t.json("POST", `/api/projects/${pid}/dataset/examples/delete`, { ids });
    expect(await byIds.json()).toEqual({ deleted: 3 });
    const byFilter = await t.json("POST", `/api/projects/${pid}/dataset/examples/delete`, { filter: { split: "train", valid: "invalid" } });
    expect(await byFilter.json()).toEqual({ deleted: 5 });
    const s = await (await t.request(`/api/projects/${pid}/dataset/stats`)).json();
    expect(s).toMatchObject({ total: 39, invalid: 0 });
    expect(s.by_split.eval.count).toBe(5);
  });

  test("refuses an empty or malformed selection", async () => {
    for (const body of [{ ids: [] }, {}, { ids: "x" }, { filter: { split: "train" }, ids: ["a"] }]) {
      expect((await t.json("POST", `/api/projects/${pid}/dataset/examples/delete`, body)).status).toBe(422);
    }
  });

  test("cannot delete another project's examples by id", async () => {
    const other = (await (await t.json("POST", "/api/projects", { name: "other" })).json()).id;
    const ids = (await examples("")).items.map((e: { id: string }) => e.id);
    expect(await (await t.json("POST", `/api/projects/${other}/dataset/examples/delete`, { ids })).json()).toEqual({ deleted: 0 });
  });
});

describe("editing an example", () => {
  test("edits are re-validated and re-counted; moving split updates the stats", async () => {
    const e = (await examples("split=train&valid=valid&page_size=1")).items[0];
    const edited = await (await t.json("PATCH", `/api/projects/${pid}/dataset/examples/${e.id}`, { output: "x", split: "eval" })).json();
    expect(edited).toMatchObject({ is_valid: false, validation_error: "the output is too short", split: "eval" });
    const refused = await t.json("PATCH", `/api/projects/${pid}/dataset/examples/${e.id}`, { is_valid: true });
    expect(refused.status).toBe(422);
    const fixed = await (await t.json("PATCH", `/api/projects/${pid}/dataset/examples/${e.id}`, { output: "A much better and complete answer here." })).json();
    expect(fixed).toMatchObject({ is_valid: true, validation_error: null });
    expect(fixed.token_count).toBeGreaterThan(5);
    const marked = await (await t.json("PATCH", `/api/projects/${pid}/dataset/examples/${e.id}`, { is_valid: false })).json();
    expect(marked.validation_error).toBe("marked invalid by a reviewer");
    expect((await (await t.request(`/api/projects/${pid}/dataset/stats`)).json()).by_split.eval.count).toBe(8);
  });

  test("bad patches are refused", async () => {
    const e = (await examples("page_size=1")).items[0];
    for (const body of [{}, { split: "preview" }, { unknown: 1 }, { is_valid: "yes" }]) {
      expect((await t.json("PATCH", `/api/projects/${pid}/dataset/examples/${e.id}`, body)).status).toBe(422);
    }
    expect((await t.json("PATCH", `/api/projects/${pid}/dataset/examples/nope`, { output: "fine answer" })).status).toBe(404);
  });
});

describe("exports", () => {
  async function reimport(name: string, data: string) {
    const other = (await (await t.json("POST", "/api/projects", { name: "reimport" })).json()).id;
    const form = new FormData();
    form.append("kind", "dataset_upload");
    form.append("files", new File([data], name));
    await t.request(`/api/projects/${other}/files/upload`, { method: "POST", body: form });
    await t.queue.runUntilEmpty();
    return t.db.$client.query("select instruction, input, output from examples where project_id = ? and is_valid = 1 order by source_line").all(other);
  }

  test.each([["alpaca", "train.jsonl"], ["csv", "train.csv"]])("%s export re-imports to the same rows", async (format, name) => {
    t.db.$client.run("update examples set instruction = 'Say \"hi\", then, a newline\nplease' where rowid = (select min(rowid) from examples where split = 'train' and is_valid = 1)");
    const res = await t.request(`/api/projects/${pid}/dataset/export?format=${format}&split=train`);
    expect(res.headers.get("content-disposition")).toContain(`attachment; filename="review-train-${format}.`);
    const text = await res.text();
    const original = t.db.$client.query("select instruction, input, output from examples where project_id = ? and split = 'train' and is_valid = 1 order by rowid").all(pid);
    // Exact duplicates collapse on import, so compare the distinct rows.
    const distinct = [...new Map(original.map((r) => [JSON.stringify(r), r])).values()];
    expect(await reimport(name, text)).toEqual(distinct);
  });

  test("chat format holds messages; invalid examples are never exported", async () => {
    const text = await (await t.request(`/api/projects/${pid}/dataset/export?format=chat&split=all`)).text();
    const lines = text.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(38);
    expect(lines[0].messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
    expect((await t.request(`/api/projects/${pid}/dataset/export?format=xml`)).status).toBe(422);
  });
});

describe("the Review page renders what documents and LLMs wrote as text", () => {
  test("an XSS payload shows escaped in the table and the modal", async () => {
    insertExamples(t.db, pid, 1, { split: "train", instruction: '<script>alert("x")</script>', output: '<img src=x onerror="alert(1)">' });
    const page = await (await t.request(`/projects/${pid}/wizard?step=review&q=script`)).text();
    expect(page).not.toContain('<script>alert("x")</script>');
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    const id = (await examples("q=script")).items[0].id;
    const modal = await (await t.request(`/projects/${pid}/examples/${id}`)).text();
    expect(modal).not.toContain("<img src=x");
    expect(modal).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });
});
