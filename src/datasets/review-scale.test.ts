import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { insertExamples } from "../../tests/helpers/builders.ts";
import { makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";
import { createExampleStore } from "./example-store.ts";
import { PURGE_JOB } from "./purge.ts";

let t: TestApp;
let pid: string;

beforeEach(async () => {
  t = makeTestApp();
  pid = (await (await t.json("POST", "/api/projects", { name: "scale" })).json()).id;
});
afterEach(() => t.close());

const api = (path: string) => `/api/projects/${pid}/dataset/${path}`;
const stats = async () => (await t.request(api("stats"))).json();
const pageIds = async (query: string) => ((await (await t.request(api(`examples?${query}`))).json()).items as { id: string }[]).map((e) => e.id);
const sql = <T>(q: string, ...params: (string | number)[]) => t.db.$client.query(q).all(...params) as T[];

/** What a page must hold: the live rows of the filter in (created_at, rowid) order, sliced. */
function expectedPage(where: string, page: number, size = 50): string[] {
  return sql<{ id: string }>(
    `select id from examples where project_id = ? and rowid not in (select example_rowid from examples_deleted) ${where} order by created_at, rowid limit ? offset ?`,
    pid,
    size,
    (page - 1) * size,
  ).map((r) => r.id);
}

describe("deep pages at any offset", () => {
  beforeEach(() => {
    // 3,600 rows, many sharing one creation time (as an import writes them), some not.
    insertExamples(t.db, pid, 1500, { split: "train", createdAt: 1_700_000_000_000 });
    insertExamples(t.db, pid, 700, { split: "eval", createdAt: 1_700_000_000_500 });
    insertExamples(t.db, pid, 900, { split: "train", isValid: false, validationError: "missing output", createdAt: 1_700_000_000_500 });
    for (let i = 0; i < 500; i++) insertExamples(t.db, pid, 1, { split: i % 2 ? "train" : "eval", createdAt: 1_700_000_001_000 + i });
  });

  const filters: [string, string][] = [
    ["", ""],
    ["split=train", "and split = 'train'"],
    ["split=eval", "and split = 'eval'"],
    ["valid=invalid", "and is_valid = 0"],
    ["split=train&valid=valid", "and split = 'train' and is_valid = 1"],
  ];

  test("every page of every filter holds exactly the rows of a plain ordered read", async () => {
    for (const [query, where] of filters) {
      const total = sql<{ n: number }>(`select count(*) as n from examples where project_id = ? ${where}`, pid)[0]!.n;
      for (let page = 1; page <= Math.ceil(total / 50); page++) {
        expect(await pageIds(`${query}&page=${page}`)).toEqual(expectedPage(where, page));
      }
    }
  });

  test("pages stay right after deletes, edits and new rows", async () => {
    const victims = sql<{ id: string }>("select id from examples where rowid % 7 = 0 and rowid < 2500").map((r) => r.id);
    expect((await (await t.json("POST", api("examples/delete"), { ids: victims })).json()).deleted).toBe(victims.length);
    for (const page of [1, 30, 31, 52, 53]) expect(await pageIds(`page=${page}`)).toEqual(expectedPage("", page));
    // An edit moves a row from train to eval: the filters' pages follow.
    const moved = (await pageIds("split=train&page=25"))[10]!;
    expect((await t.json("PATCH", api(`examples/${moved}`), { split: "eval" })).status).toBe(200);
    for (const page of [20, 25, 40]) expect(await pageIds(`split=train&page=${page}`)).toEqual(expectedPage("and split = 'train'", page));
    insertExamples(t.db, pid, 120, { split: "train", createdAt: 1_600_000_000_000 });
    for (const page of [1, 3, 30, 70]) expect(await pageIds(`split=train&page=${page}`)).toEqual(expectedPage("and split = 'train'", page));
  });
});

describe("soft delete, then a background purge", () => {
  test("deleted rows leave every count and read at once; the purge removes them without moving the counts", async () => {
    insertExamples(t.db, pid, 40, { split: "train", tokenCount: 100, instruction: "How do I pair the remote?" });
    insertExamples(t.db, pid, 10, { split: "eval", tokenCount: 300 });
    const ids = (await pageIds("split=train")).slice(0, 15);
    const res = await t.json("POST", api("examples/delete"), { ids });
    expect(await res.json()).toEqual({ deleted: 15 });

    // Before the purge: the rows are still in the table, and nothing shows them.
    expect(sql<{ n: number }>("select count(*) as n from examples")[0]!.n).toBe(50);
    const s = await stats();
    expect(s).toMatchObject({ total: 35, valid: 35 });
    expect(s.by_split.train).toMatchObject({ count: 25, avg_tokens: 100 });
    const all = await pageIds("page_size=100");
    expect(all).toHaveLength(35);
    expect(all.some((id) => ids.includes(id))).toBe(false);
    const found = (await (await t.request(api("examples?q=remote&page_size=100"))).json()).items as { id: string }[];
    expect(found).toHaveLength(25);
    expect((await t.request(api(`examples/${ids[0]}`))).status).toBe(404);
    const exported = await (await t.request(api("export?format=alpaca&split=train"))).text();
    expect(exported.trim().split("\n")).toHaveLength(25);
    // Deleting the same rows again deletes nothing.
    expect(await (await t.json("POST", api("examples/delete"), { ids })).json()).toEqual({ deleted: 0 });

    // The purge: one job, the rows gone, the counts unchanged.
    const jobs = sql<{ status: string }>("select status from jobs where type = ?", PURGE_JOB);
    expect(jobs).toEqual([{ status: "queued" }]);
    await t.queue.runUntilEmpty();
    expect(sql<{ n: number }>("select count(*) as n from examples")[0]!.n).toBe(35);
    expect(sql<{ n: number }>("select count(*) as n from examples_deleted")[0]!.n).toBe(0);
    expect(await stats()).toMatchObject({ total: 35, valid: 35 });
    expect(sql<{ n: number }>("select count(*) as n from examples_fts where examples_fts match 'remote'")[0]!.n).toBe(25);
  });

  test("a delete by filter is soft too, and a file's removal takes tombstoned rows without counting them twice", async () => {
    insertExamples(t.db, pid, 20, { split: "train", isValid: false, validationError: "missing output" });
    insertExamples(t.db, pid, 20, { split: "train" });
    expect(await (await t.json("POST", api("examples/delete"), { filter: { split: "train", valid: "invalid" } })).json()).toEqual({ deleted: 20 });
    expect(await stats()).toMatchObject({ total: 20, invalid: 0 });
    // A hard delete of a tombstoned row (as removing its file does) leaves the counts alone.
    t.db.$client.run("delete from examples where is_valid = 0");
    expect(await stats()).toMatchObject({ total: 20, invalid: 0 });
    expect(sql<{ n: number }>("select count(*) as n from examples_deleted")[0]!.n).toBe(0);
  });

  test("tombstones left by a crash are purged at the next start", async () => {
    insertExamples(t.db, pid, 5);
    const ids = await pageIds("");
    await t.json("POST", api("examples/delete"), { ids: ids.slice(0, 2) });
    // The purge job never ran (the app died); a new app on the same database asks again.
    t.db.$client.run("delete from jobs");
    const { registerPurgeJob } = await import("./purge.ts");
    registerPurgeJob({ db: t.db, queue: t.queue });
    expect(sql<{ n: number }>("select count(*) as n from jobs where type = ?", PURGE_JOB)[0]!.n).toBe(1);
    await t.queue.runUntilEmpty();
    expect(sql<{ n: number }>("select count(*) as n from examples")[0]!.n).toBe(3);
  });
});

describe("bulk insert (imports)", () => {
  const row = (k: number) => ({ id: `bulk-${k}`, projectId: pid, split: k % 5 ? ("train" as const) : ("eval" as const), instruction: `Question ${k} about the zephyr`, input: "", output: "An answer long enough.", isValid: k % 9 !== 0, tokenCount: 10 + (k % 3) });

  test("rows land searchable and counted, and the per-row trigger is back for later inserts", async () => {
    const store = createExampleStore(t.db);
    t.db.transaction(() => store.bulkInsert(Array.from({ length: 300 }, (_, k) => row(k))));
    const counts = sql<{ split: string; is_valid: number; n: number; tokens: number }>("select split, is_valid, n, tokens from example_counts where project_id = ? order by 1, 2", pid);
    const direct = sql<{ split: string; is_valid: number; n: number; tokens: number }>(
      "select split, is_valid, count(*) as n, sum(token_count) as tokens from examples where project_id = ? group by 1, 2 order by 1, 2",
      pid,
    );
    expect(counts).toEqual(direct);
    expect((await (await t.request(api("examples?q=zephyr"))).json()).total).toBe(300);
    insertExamples(t.db, pid, 1, { instruction: "A later zephyr question" });
    expect((await (await t.request(api("examples?q=zephyr"))).json()).total).toBe(301);
    expect((await stats()).total).toBe(301);
  });

  test("a failure in the middle rolls everything back, the trigger included", () => {
    const store = createExampleStore(t.db);
    const rows = [row(1), row(2), { ...row(3), output: null as unknown as string }];
    expect(() => t.db.transaction(() => store.bulkInsert(rows))).toThrow();
    expect(sql<{ n: number }>("select count(*) as n from examples")[0]!.n).toBe(0);
    expect(sql("select name from sqlite_master where type = 'trigger' and name = 'examples_ai'")).toHaveLength(1);
    insertExamples(t.db, pid, 2);
    expect(sql<{ n: number }>("select coalesce(sum(n), 0) as n from example_counts where project_id = ?", pid)[0]!.n).toBe(2);
  });
});
