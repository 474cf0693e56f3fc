// Train step: the live run over SSE (EventSource reconnects and resumes from the last
// event id, so a reload or a dropped connection redraws the whole curve), the uPlot
// loss chart with a log-scale toggle, and the LogStream.
(() => {
  "use strict";
  const fmt = (v, d = 4) => (typeof v === "number" ? (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(d)) : "—");
  const dur = (s) => (typeof s !== "number" ? "—" : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

  function chart(el, logScale) {
    const width = Math.max(300, el.clientWidth || 600);
    return new uPlot(
      {
        width,
        height: 260,
        scales: { x: { time: false }, y: { distr: logScale ? 3 : 1 } },
        axes: [{ label: "step" }, { label: "loss" }],
        series: [{ label: "step" }, { label: "train loss", stroke: "#4f46e5", width: 2, spanGaps: true }, { label: "eval loss", stroke: "#d97706", width: 2, spanGaps: true, points: { show: true } }],
      },
      [[], [], []],
      el,
    );
  }

  /** A preference round's rewards by step: chosen, rejected and their margin. */
  function rewardChart(el) {
    return new uPlot(
      {
        width: Math.max(300, el.clientWidth || 600),
        height: 220,
        scales: { x: { time: false } },
        axes: [{ label: "step" }, { label: "reward" }],
        series: [{ label: "step" }, { label: "chosen", stroke: "#059669", width: 2, spanGaps: true }, { label: "rejected", stroke: "#dc2626", width: 2, spanGaps: true }, { label: "margin", stroke: "#4f46e5", width: 2, spanGaps: true }],
      },
      [[], [], [], []],
      el,
    );
  }

  function start(section) {
    if (section.dataset.wired) return;
    section.dataset.wired = "1";
    const points = new Map(); // step -> [train, eval]
    const el = section.querySelector("[data-loss-chart]");
    let plot = typeof uPlot === "function" ? chart(el, false) : null;
    const logBox = section.querySelector("[data-log-scale]");
    let pending = false;
    const redraw = () => {
      if (pending || !plot) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        const steps = [...points.keys()].sort((a, b) => a - b);
        plot.setData([steps, steps.map((s) => points.get(s)[0]), steps.map((s) => points.get(s)[1])]);
      });
    };
    logBox?.addEventListener("change", () => {
      plot?.destroy();
      plot = chart(el, logBox.checked);
      redraw();
    });
    const set = (k, v) => {
      const dd = section.querySelector(`[data-metric="${k}"]`);
      if (dd) dd.textContent = v;
    };
    const log = section.querySelector("[data-log-stream]");
    const bar = section.querySelector("[data-progress]");
    const source = new EventSource(section.dataset.streamUrl);
    const point = (step) => points.get(step) || (points.set(step, [null, null]), points.get(step));
    const rewardEl = section.querySelector("[data-reward-chart]");
    const rewards = new Map(); // step -> [chosen, rejected, margin]
    const rewardPlot = rewardEl && typeof uPlot === "function" ? rewardChart(rewardEl) : null;
    source.addEventListener("log", (e) => {
      const d = JSON.parse(e.data);
      point(d.step)[0] = d.train_loss;
      if (d.preference) {
        rewards.set(d.step, [d.preference.rewards_chosen, d.preference.rewards_rejected, d.preference.margin]);
        set("margin", fmt(d.preference.margin, 3));
        set("accuracy", `${Math.round(d.preference.accuracy * 100)}%`);
        if (rewardPlot) {
          const steps = [...rewards.keys()].sort((a, b) => a - b);
          rewardPlot.setData([steps, ...[0, 1, 2].map((k) => steps.map((s) => rewards.get(s)[k]))]);
        }
      }
      set("step", `${d.step} / ${d.total_steps}`);
      set("train_loss", fmt(d.train_loss));
      set("learning_rate", fmt(d.learning_rate, 6));
      set("epoch", fmt(d.epoch, 2));
      set("tokens_per_second", d.tokens_per_second ? Math.round(d.tokens_per_second).toLocaleString("en-US") : "—");
      set("elapsed", dur(d.elapsed_seconds));
      set("eta", dur(d.eta_seconds));
      redraw();
    });
    source.addEventListener("eval", (e) => {
      const d = JSON.parse(e.data);
      point(d.step)[1] = d.eval_loss;
      set("eval_loss", fmt(d.eval_loss));
      redraw();
    });
    const badge = section.querySelector("[data-run-status]");
    const markRunning = () => {
      if (badge && section.dataset.active && badge.textContent !== "running") {
        badge.textContent = "running";
        badge.className = "badge status-running";
      }
    };
    const setup = section.querySelector("[data-run-setup]");
    source.addEventListener("started", (e) => {
      const d = JSON.parse(e.data);
      // Same words as runSetup() in views/wizard/steps/TrainStep.tsx.
      if (setup) {
        const size = d.world_size > 1 ? `${d.device} × ${d.world_size} processes` : d.device;
        const layers = d.checkpointed_layers;
        const checkpointing = layers === undefined || !d.decoder_layers ? null : layers === 0 ? "no checkpointing" : layers >= d.decoder_layers ? "checkpointing every layer" : `checkpointing ${layers} of ${d.decoder_layers} layers`;
        setup.textContent = [size, d.attn_implementation, d.packing === undefined ? null : d.packing ? "packed" : "padded", d.liger ? "Liger" : null, checkpointing].filter(Boolean).join(" · ");
      }
      // A resumed run continues from its checkpoint: points past it are redrawn.
      const from = d.resumed_from_step;
      if (typeof from === "number") for (const step of [...points.keys()]) if (step > from) points.delete(step);
      redraw();
      markRunning();
    });
    source.addEventListener("progress", (e) => {
      const d = JSON.parse(e.data);
      if (bar) bar.value = Math.round(d.progress_pct);
      markRunning();
    });
    source.addEventListener("stderr", (e) => {
      if (!log) return;
      log.textContent += `${JSON.parse(e.data).line}\n`;
      if (log.textContent.length > 200000) log.textContent = log.textContent.slice(-150000);
    });
    const end = () => {
      source.close();
      // The run ended: re-render the step (final status, Export unlocked).
      if (section.dataset.active) htmx.ajax("GET", section.dataset.refreshUrl, { target: "#wizard", swap: "outerHTML" });
    };
    for (const name of ["complete", "error", "cancelled"]) source.addEventListener(name, end);
    window.__ftfChart = { points, rewards, redraw, get plot() { return plot; } };
  }

  // Past runs on one chart: one train-loss series per run, on the union of their steps.
  const COLOURS = ["#4f46e5", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2"];
  async function compare(el) {
    if (el.dataset.wired || typeof uPlot !== "function") return;
    el.dataset.wired = "1";
    const { runs } = await (await fetch(el.dataset.compareRuns)).json();
    const steps = [...new Set(runs.flatMap((r) => r.points.map((p) => p[0])))].sort((a, b) => a - b);
    const series = runs.map((r) => {
      const byStep = new Map(r.points);
      return steps.map((s) => (byStep.has(s) ? byStep.get(s) : null));
    });
    new uPlot(
      {
        width: Math.max(300, el.clientWidth || 600),
        height: 260,
        scales: { x: { time: false } },
        axes: [{ label: "step" }, { label: "train loss" }],
        series: [{ label: "step" }, ...runs.map((r, i) => ({ label: r.label, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true }))],
      },
      [steps, ...series],
      el,
    );
  }

  const wire = (root) => {
    root.querySelectorAll("[data-live-run]").forEach(start);
    root.querySelectorAll("[data-compare-runs]").forEach(compare);
  };
  document.addEventListener("DOMContentLoaded", () => wire(document));
  document.addEventListener("htmx:load", (e) => wire(e.target));

})();
