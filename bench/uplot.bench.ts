/**
 * The live loss chart at 100,000 points: uPlot (served by the app, as the page loads
 * it) redrawing train + eval series in headless Chromium, timed from setData to the
 * end of the paint (the next animation frame).
 */
import { launchBrowser } from "../tests/helpers/browser.ts";
import { startServer } from "../tests/helpers/server-process.ts";
import { percentile, round, type BenchRow } from "./lib.ts";

export async function uplotBench(): Promise<BenchRow[]> {
  const server = await startServer({ env: { LOG_LEVEL: "error" } });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(server.url + "/");
    const samples = await page.evaluate(async () => {
      const U = (window as unknown as { uPlot: new (o: object, d: unknown[], el: HTMLElement) => { setData(d: unknown[]): void } }).uPlot;
      const el = document.createElement("div");
      el.style.width = "1000px";
      document.body.append(el);
      const n = 100_000;
      const steps = Array.from({ length: n }, (_, i) => i + 1);
      const train = steps.map((s) => 3 * Math.exp(-s / 20000) + 0.1 * Math.sin(s / 50));
      const evalLoss = steps.map((s) => (s % 500 === 0 ? 3 * Math.exp(-s / 20000) + 0.05 : null));
      const plot = new U({ width: 1000, height: 260, scales: { x: { time: false } }, series: [{}, { stroke: "#4f46e5" }, { stroke: "#d97706", spanGaps: true }] }, [[], [], []], el);
      const times: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        plot.setData([steps, train.map((v) => v + i * 1e-6), evalLoss]);
        await new Promise<void>((r) => requestAnimationFrame(() => r()));
        times.push(performance.now() - t0);
      }
      return times;
    });
    const p95 = percentile(samples.slice(3), 95);
    return [{ bench: "loss chart (Chromium)", metric: "uPlot redraw, 100,000 points × 2 series (to next frame)", value: round(p95, 1), unit: "ms p95", goal: "≤ 50", ok: p95 <= 50 }];
  } finally {
    await browser.close();
    await server.stop();
  }
}
