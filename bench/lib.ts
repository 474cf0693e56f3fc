/** Tiny helpers shared by the benchmarks: percentiles and the result table. */
export type BenchRow = { bench: string; metric: string; value: number; unit: string; goal?: string; ok?: boolean };

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)]!;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function printTable(rows: BenchRow[]): void {
  const header = ["bench", "metric", "value", "unit", "goal", "ok"];
  const body = rows.map((r) => [r.bench, r.metric, String(r.value), r.unit, r.goal ?? "", r.ok === undefined ? "" : r.ok ? "yes" : "NO"]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const b of body) console.log(line(b));
}

/** A pass-through to Ollama that adds up the generated tokens of each chat answer. */
export function countingProxy(upstream: string) {
  let evalTokens = 0;
  let calls = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const res = await fetch(`${upstream}${url.pathname}${url.search}`, { method: req.method, headers: req.headers, body: req.body ? await req.arrayBuffer() : undefined });
      if (url.pathname !== "/api/chat") return res;
      const text = await res.text();
      calls++;
      try {
        evalTokens += (JSON.parse(text) as { eval_count?: number }).eval_count ?? 0;
      } catch {}
      return new Response(text, { status: res.status, headers: res.headers });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, stats: () => ({ evalTokens, calls }), stop: () => server.stop(true) };
}
