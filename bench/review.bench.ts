/**
 * Review at one million examples, built the way a user would: four JSONL files (each
 * within the 50 MB upload limit) imported through the API, with the job's progress
 * watched. Then p95 server time of a page for every filter (first, middle and last
 * pages) and for searches matching few, many and no rows; stats; deleting 10,000
 * selected (soft delete: the counts must be exact right after, the purge follows in
 * the background); the export streamed over HTTP.
 */
import { makeTestApp } from "../tests/helpers/test-app.ts";
import { chooseTask, resolveModel } from "../tests/helpers/builders.ts";
import { percentile, round, type BenchRow } from "./lib.ts";

const FILES = 4;
const PER_FILE = Number(process.env.FTF_BENCH_REVIEW_PER_FILE ?? 250_000);
const N = FILES * PER_FILE;
const WORDS = "router warranty battery screen reset firmware cable adapter signal manual update storage".split(" ");
const LABEL = `review (${N >= 1_000_000 ? `${N / 1_000_000}M` : `${N / 1000}k`})`;

function datasetFile(part: number): File {
  const lines: string[] = [];
  for (let i = 0; i < PER_FILE; i++) {
    const k = part * PER_FILE + i;
    const w = WORDS[k % WORDS.length]!;
    const rare = k % 100_000 === 0 ? " zephyrine" : "";
    // One row in 25 has no answer: the invalid filter has rows to show.
    const output = k % 25 === 0 ? "" : `Use the ${w} as the manual says, step ${k % 97}. common`;
    lines.push(JSON.stringify({ instruction: `How do I use the ${w} of model ${k}?${rare}`, input: "", output }));
  }
  return new File([lines.join("\n")], `part-${part}.jsonl`);
}

export async function reviewBench(): Promise<BenchRow[]> {
  const t = makeTestApp();
  t.queue.start();
  const pid = (await (await t.json("POST", "/api/projects", { name: "bench" })).json()).id;
  resolveModel(t.db, pid);
  chooseTask(t.db, pid);
  const rows: BenchRow[] = [];

  // Import: the upload, then every import job to its end; progress is polled as a page would.
  const files = Array.from({ length: FILES }, (_, i) => datasetFile(i));
  const maxMb = Math.max(...files.map((f) => f.size)) / 1024 / 1024;
  const messages = new Set<string>();
  const t0 = performance.now();
  for (const file of files) {
    const form = new FormData();
    form.append("kind", "dataset_upload");
    form.append("files", file);
    const res = await t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form });
    if (res.status >= 300) throw new Error(`upload: ${res.status} ${await res.text()}`);
  }
  for (;;) {
    const jobs = (await (await t.request(`/api/projects/${pid}/jobs`)).json()).jobs as { status: string; progress_message: string | null }[];
    for (const j of jobs) if (j.progress_message) messages.add(j.progress_message);
    if (jobs.length > 0 && jobs.every((j) => j.status === "success" || j.status === "failed")) break;
    await Bun.sleep(200);
  }
  const importSeconds = (performance.now() - t0) / 1000;
  const imported = (t.db.$client.query("select count(*) as n from examples").get() as { n: number }).n;
  if (imported !== N) throw new Error(`imported ${imported} of ${N}`);
  rows.push({ bench: LABEL, metric: `import ${FILES} JSONL files (largest ${round(maxMb, 1)} MB)`, value: round(importSeconds, 1), unit: "s", goal: "≤ 60", ok: importSeconds <= 60 });
  rows.push({ bench: LABEL, metric: "import progress messages seen", value: messages.size, unit: "", goal: "> 4", ok: messages.size > 4 });

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
  const api = `/api/projects/${pid}/dataset/examples`;
  const pages = N / 50;
  const cases: [string, string][] = [
    ["all, page 1", ""],
    ["all, middle page", `page=${pages / 2}`],
    ["all, last page", `page=${pages}`],
    ["train only, middle page", `split=train&page=${Math.round((pages * 0.9) / 2)}`],
    ["eval, valid only, middle page", `split=eval&valid=valid&page=${Math.round((pages * 0.1 * 0.96) / 2)}`],
    ["invalid only, middle page", `valid=invalid&page=${Math.round((pages * 0.04) / 2)}`],
    ["sort by tokens (desc)", "sort=tokens_desc"],
    ["search: few rows", "q=zephyrine"],
    ["search: most rows", "q=common"],
    ["search: most rows, last page", "q=common&page=20"],
    ["search: no rows", "q=nonexistentword"],
  ];
  for (const [label, q] of cases) {
    const r = await time(`${api}?${q}`);
    rows.push({ bench: LABEL, metric: `page: ${label}`, value: round(r.p95), unit: "ms p95", goal: "≤ 10", ok: r.p95 <= 10 });
  }
  const stats = await time(`/api/projects/${pid}/dataset/stats`);
  rows.push({ bench: LABEL, metric: "stats", value: round(stats.p95), unit: "ms p95", goal: "≤ 10", ok: stats.p95 <= 10 });
  const html = await time(`/projects/${pid}/wizard?step=review`, 10);
  rows.push({ bench: LABEL, metric: "review page HTML (50 rows)", value: round(html.bytes / 1024, 1), unit: "KB" });
  rows.push({ bench: LABEL, metric: "review page render", value: round(html.p95), unit: "ms p95" });

  // Export: the whole dataset streamed over HTTP.
  const e0 = performance.now();
  const res = await t.request(`/api/projects/${pid}/dataset/export?format=alpaca&split=all`);
  let exported = 0;
  for await (const chunk of res.body!) exported += chunk.byteLength;
  const mbps = exported / 1024 / 1024 / ((performance.now() - e0) / 1000);
  rows.push({ bench: LABEL, metric: `export (${round(exported / 1024 / 1024, 0)} MB of JSONL)`, value: round(mbps, 0), unit: "MB/s", goal: "≥ 50", ok: mbps >= 50 });

  // Delete 10,000 selected: soft, so the request is short and the counts exact at once.
  const before = (await (await t.request(`/api/projects/${pid}/dataset/stats`)).json()).total as number;
  const ids = (t.db.$client.query("select id from examples where rowid % 97 = 0 limit 10000").all() as { id: string }[]).map((r) => r.id);
  const d0 = performance.now();
  const del = await t.json("POST", `/api/projects/${pid}/dataset/examples/delete`, { ids });
  const ms = performance.now() - d0;
  const deleted = (await del.json()).deleted as number;
  const after = (await (await t.request(`/api/projects/${pid}/dataset/stats`)).json()).total as number;
  rows.push({ bench: LABEL, metric: `delete ${deleted.toLocaleString("en-US")} selected`, value: round(ms, 0), unit: "ms", goal: "≤ 300", ok: ms <= 300 });
  rows.push({ bench: LABEL, metric: "total right after the delete, off by", value: before - deleted - after, unit: "", goal: "0", ok: before - deleted - after === 0 });
  const p0 = performance.now();
  await t.queue.runUntilEmpty(600_000);
  const left = (t.db.$client.query("select count(*) as n from examples_deleted").get() as { n: number }).n;
  rows.push({ bench: LABEL, metric: "background purge of the 10,000", value: round(performance.now() - p0, 0), unit: "ms", goal: "all purged", ok: left === 0 });
  t.close();
  return rows;
}
