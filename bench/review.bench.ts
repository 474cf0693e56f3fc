/**
 * Review at 200,000 examples: p95 server time of a page for every filter and for
 * searches matching few, many and no rows; stats; deleting 10,000 selected; the
 * table's HTML weight per page.
 */
import { makeTestApp } from "../tests/helpers/test-app.ts";
import { chooseTask, insertFile, resolveModel } from "../tests/helpers/builders.ts";
import { percentile, round, type BenchRow } from "./lib.ts";

const N = 200_000;
const WORDS = "router warranty battery screen reset firmware cable adapter signal manual update storage".split(" ");

export async function reviewBench(): Promise<BenchRow[]> {
  const t = makeTestApp();
  const pid = (await (await t.json("POST", "/api/projects", { name: "bench" })).json()).id;
  // A dataset file unlocks the Review step for the page benchmark.
  resolveModel(t.db, pid);
  chooseTask(t.db, pid);
  insertFile(t.db, pid, { kind: "dataset_upload", filename: "bench.jsonl" });
  const insert = t.db.$client.prepare("insert into examples (id, project_id, split, instruction, input, output, is_valid, token_count, created_at) values (?, ?, ?, ?, '', ?, ?, ?, ?)");
  t.db.$client.transaction(() => {
    for (let i = 0; i < N; i++) {
      const w = WORDS[i % WORDS.length]!;
      const rare = i % 20_000 === 0 ? " zephyrine" : "";
      insert.run(`e${i}`, pid, i % 10 === 0 ? "eval" : "train", `How do I use the ${w} of model ${i}?${rare}`, `Use the ${w} as the manual says, step ${i % 97}. common`, i % 25 === 0 ? 0 : 1, 50 + (i % 400), 1_700_000_000_000 + i);
    }
  })();
  const time = async (path: string, runs = 60) => {
    const samples: number[] = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      const body = await (await t.request(path)).text();
      samples.push(performance.now() - s);
      bytes = body.length;
    }
    return { p95: percentile(samples.slice(5), 95), bytes };
  };
  const rows: BenchRow[] = [];
  const api = `/api/projects/${pid}/dataset/examples`;
  const cases: [string, string][] = [
    ["all, page 1", ""],
    ["all, last page", "page=4000"],
    ["train only", "split=train"],
    ["eval, valid only", "split=eval&valid=valid"],
    ["invalid only", "valid=invalid"],
    ["sort by tokens (desc)", "sort=tokens_desc"],
    ["search: few rows (10)", "q=zephyrine"],
    ["search: most rows", "q=common"],
    ["search: most rows, last page", "q=common&page=200"],
    ["search: no rows", "q=nonexistentword"],
  ];
  for (const [label, q] of cases) {
    const r = await time(`${api}?${q}`);
    rows.push({ bench: "review (200k)", metric: `page: ${label}`, value: round(r.p95), unit: "ms p95", goal: "≤ 10", ok: r.p95 <= 10 });
  }
  const stats = await time(`/api/projects/${pid}/dataset/stats`);
  rows.push({ bench: "review (200k)", metric: "stats", value: round(stats.p95), unit: "ms p95", goal: "≤ 10", ok: stats.p95 <= 10 });
  const html = await time(`/projects/${pid}/wizard?step=review`, 10);
  rows.push({ bench: "review (200k)", metric: "review page HTML (50 rows)", value: round(html.bytes / 1024, 1), unit: "KB" });
  rows.push({ bench: "review (200k)", metric: "review page render", value: round(html.p95), unit: "ms p95" });
  const ids = Array.from({ length: 10_000 }, (_, i) => `e${i * 7}`);
  const s = performance.now();
  const res = await t.json("POST", `/api/projects/${pid}/dataset/examples/delete`, { ids });
  const ms = performance.now() - s;
  const deleted = (await res.json()).deleted;
  rows.push({ bench: "review (200k)", metric: `delete ${deleted.toLocaleString("en-US")} selected`, value: round(ms, 0), unit: "ms", goal: "≤ 1000", ok: ms <= 1000 });
  t.close();
  return rows;
}
