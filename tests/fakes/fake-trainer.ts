#!/usr/bin/env bun
// A stand-in for `python -m finetuneflow_trainer` in supervisor tests: prints canned
// JSON lines per scenario (FAKE_TRAINER env), can crash, hang, ignore SIGTERM or
// print garbage. The real trainer is tested in python/tests and the full journey.
const mode = process.env.FAKE_TRAINER ?? "ok";
const steps = Number(process.env.FAKE_STEPS ?? 10);
const delay = Number(process.env.FAKE_DELAY_MS ?? 5);
const out = (e: object) => process.stdout.write(`${JSON.stringify(e)}\n`);
let stopping = false;
process.on("SIGTERM", () => {
  if (mode === "ignore-sigterm") return;
  stopping = true;
});

const command = process.argv[2];
if (process.env.FAKE_CHILD_PID_FILE) {
  // Like torchrun's ranks: a process of the trainer's own that outlives a lone SIGKILL of the trainer.
  const child = Bun.spawn(["sleep", "600"], { stdio: ["ignore", "ignore", "ignore"] });
  (await import("node:fs")).writeFileSync(process.env.FAKE_CHILD_PID_FILE, String(child.pid));
}
if (command === "hardware") {
  out({ event: "hardware", gpu_name: null, gpu_count: 0, vram_total_gb: null, vram_free_gb: null, cuda_available: false, cuda_version: null, torch_version: "2.15.0+cpu", transformers_version: "5.24.0", peft_version: "0.21.2", bnb_available: false, bnb_error: "bitsandbytes 4-bit needs a CUDA GPU.", bf16_supported: false, cpu_count: 2, ram_total_gb: 23.5, recommended_method: "lora", recommendation_reason: "No GPU was found; LoRA on the CPU works for tiny models only.", warnings: ["No CUDA GPU: very slow."] });
  process.exit(0);
}
if (command === "export") {
  const { mkdirSync, writeFileSync } = await import("node:fs");
  const run = process.argv[process.argv.indexOf("--run") + 1]!;
  const outDir = process.argv.includes("--out") ? process.argv[process.argv.indexOf("--out") + 1]! : `${run}/export`;
  mkdirSync(outDir, { recursive: true });
  if (process.argv.includes("--merge")) {
    mkdirSync(`${outDir}/merged`, { recursive: true });
    for (const name of ["model.safetensors", "config.json", "tokenizer.json"]) writeFileSync(`${outDir}/merged/${name}`, `merged ${name} `.repeat(1000));
  }
  const files = ["adapter_model.safetensors", "adapter_config.json", "report.md", "finetuneflow_export.zip"].map((name) => {
    writeFileSync(`${outDir}/${name}`, `fake ${name}`);
    return { name, path: `${outDir}/${name}`, size_bytes: 5 + name.length };
  });
  out({ event: "progress", progress_pct: 50, message: "writing" });
  out({ event: "complete", adapter_path: `${run}/export/adapter_model.safetensors`, metrics: { files, modelfile: null, modelfile_note: "Ollama cannot import an adapter for this architecture." } });
  process.exit(0);
}
if (command === "answers") {
  // Canned answers the loopback judge can tell apart: "TUNED …" and "BASE …" per question.
  const { readFileSync, writeFileSync } = await import("node:fs");
  const arg = (name: string) => process.argv[process.argv.indexOf(name) + 1]!;
  if (mode === "answers-fail") {
    out({ event: "error", error_code: "model_load_failed", message: "The base model could not be loaded.", advice: null });
    process.exit(2);
  }
  const questions = readFileSync(arg("--questions"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { id: string; messages: { role: string; content: string }[] });
  const lines = questions.map((q) => {
    const asked = q.messages.at(-1)!.content;
    return JSON.stringify({ id: q.id, tuned: `TUNED answer to: ${asked}`, base: `BASE answer to: ${asked}`, tuned_stopped: true, base_stopped: true });
  });
  writeFileSync(arg("--out"), lines.join("\n") + "\n");
  out({ event: "progress", progress_pct: 100, message: `answered ${questions.length}/${questions.length}` });
  out({ event: "complete", adapter_path: null, metrics: { answers_file: arg("--out"), answered: questions.length } });
  process.exit(0);
}
if (command === "probe") {
  // Measures nothing: reports the config's settings (or a back-off) with FAKE_PROBE_PEAK GB and 1234.5 tokens/s.
  const { readFileSync } = await import("node:fs");
  if (mode === "probe-fail") {
    out({ event: "error", error_code: "model_load_failed", message: "Could not load the base model.", advice: "Check the path." });
    process.exit(2);
  }
  const cfg = JSON.parse(readFileSync(process.argv[process.argv.indexOf("--config") + 1]!, "utf8"));
  const planned = { per_device_batch_size: cfg.per_device_batch_size, max_seq_length: cfg.max_seq_length, checkpointing: cfg.checkpointing, method: cfg.method };
  const peak = process.env.FAKE_PROBE_PEAK ? Number(process.env.FAKE_PROBE_PEAK) : null;
  const oom = mode === "probe-oom" || mode === "probe-none";
  const chosen = mode === "probe-none" ? null : mode === "probe-oom" ? { ...planned, per_device_batch_size: planned.per_device_batch_size / 2 } : planned;
  const attempts = [{ ...planned, outcome: oom ? "oom" : "ok", peak_vram_gb: peak }, ...(mode === "probe-oom" ? [{ ...chosen, outcome: "ok", peak_vram_gb: peak }] : [])];
  out({ event: "progress", progress_pct: 10, message: `${planned.method} · batch ${planned.per_device_batch_size}` });
  out({
    event: "complete",
    adapter_path: null,
    metrics: {
      fits: chosen !== null, chosen, changes: mode === "probe-oom" ? [`batch size ${planned.per_device_batch_size} → ${planned.per_device_batch_size / 2}`] : mode === "probe-none" ? ["batch size 4 → 2", "batch size 2 → 1"] : [],
      steps: 6, peak_vram_gb: chosen ? peak : null, peak_reserved_gb: chosen ? peak : null, tokens_per_second: chosen ? 1234.5 : null, step_seconds: chosen ? 0.2 : null,
      packing: chosen ? cfg.packing : null, liger: chosen ? false : null, attn_implementation: chosen ? "sdpa" : null, device: "cpu", vram_total_gb: null, vram_free_gb: null, attempts,
    },
  });
  process.exit(0);
}
if (command === "ollama-prepare") {
  // The tiny model's template in Ollama's form, and "answers" the loopback Ollama's weights can match.
  const { readFileSync, writeFileSync, mkdirSync } = await import("node:fs");
  const arg = (name: string) => process.argv[process.argv.indexOf(name) + 1]!;
  const run = arg("--run");
  mkdirSync(`${run}/adapter`, { recursive: true });
  for (const f of ["adapter_model.safetensors", "adapter_config.json"]) writeFileSync(`${run}/adapter/${f}`, `adapter ${f} `.repeat(500));
  const prompts = readFileSync(arg("--prompts"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { id: string; messages: { role: string; content: string }[] });
  const template = mode === "template-unsupported" ? null : '{{ range .Messages }}{{ if eq .Role "user" }}<|user|>\n{{ .Content }}<|end|>\n{{ else if eq .Role "assistant" }}<|assistant|>\n{{ .Content }}<|end|>\n{{ end }}{{ end }}<|assistant|>\n';
  const data = {
    template,
    template_unsupported: template ? null : "the chat template renders earlier turns differently once later ones exist",
    stops: ["<|end|>"],
    special_tokens: ["<pad>", "<|assistant|>", "<|begin|>", "<|end|>", "<|system|>", "<|user|>"],
    prompts: prompts.map((p) => ({ id: p.id, rendered: `<|user|>\n${p.messages.at(-1)!.content}<|end|>\n<|assistant|>\n`, answer: `Answer about ${p.messages.at(-1)!.content}`, stopped: true })),
  };
  writeFileSync(arg("--out"), JSON.stringify(data));
  out({ event: "progress", progress_pct: 50, message: "answering" });
  out({ event: "complete", adapter_path: null, metrics: { ollama_file: arg("--out"), prompts: prompts.length, template: template !== null } });
  process.exit(0);
}
if (command === "serve") {
  // The playground worker: "tuned" and "base" replies word by word; FAKE_SERVE_LOG counts starts.
  const { appendFileSync } = await import("node:fs");
  if (process.env.FAKE_SERVE_LOG) appendFileSync(process.env.FAKE_SERVE_LOG, "start\n");
  if (mode === "serve-crash") {
    out({ event: "error", id: null, error_code: "model_load_failed", message: "Could not load the base model.", advice: null });
    process.exit(2);
  }
  out({ event: "progress", progress_pct: 5, message: "loading the model" });
  out({ event: "ready", device: "cpu" });
  // Like the real worker: SIGTERM ends it; stdin is read while a reply streams, so a
  // cancel stops the reply at its next word; FAKE_SERVE_LOG records requests and cancels.
  process.on("SIGTERM", () => process.exit(143));
  type Req = { id: string; target: string; messages: { content: string }[]; max_new_tokens: number; time_limit_seconds?: number };
  const pending: Req[] = [];
  const cancelled = new Set<string>();
  let wake = null as (() => void) | null;
  let closed = false;
  void (async () => {
    for await (const line of console) {
      if (!line.trim()) continue;
      const msg = JSON.parse(line) as Req | { cancel: string };
      if ("cancel" in msg) {
        cancelled.add(msg.cancel);
        if (process.env.FAKE_SERVE_LOG) appendFileSync(process.env.FAKE_SERVE_LOG, `cancel ${msg.cancel}\n`);
      } else pending.push(msg);
      wake?.();
    }
  })().finally(() => {
    closed = true;
    wake?.();
  });
  for (;;) {
    while (!pending.length && !closed) await new Promise<void>((r) => (wake = r));
    const req = pending.shift();
    if (!req) break;
    if (process.env.FAKE_SERVE_LOG) appendFileSync(process.env.FAKE_SERVE_LOG, `ask ${req.messages.length}\n`);
    const words = `${req.target === "base" ? "Base" : "Tuned"} reply to ${req.messages.at(-1)!.content}`.split(" ").slice(0, req.max_new_tokens);
    const started = Date.now();
    let ended = "stop";
    let sent = 0;
    for (const [i, w] of words.entries()) {
      if (cancelled.has(req.id)) ended = "cancelled";
      else if (Date.now() - started > (req.time_limit_seconds ?? 600) * 1000) ended = "time_limit";
      if (ended !== "stop") break;
      out({ event: "token", id: req.id, text: i ? ` ${w}` : w });
      sent++;
      await Bun.sleep(delay);
    }
    out({ event: "done", id: req.id, tokens: sent, seconds: 0.01, stopped: ended === "stop", ended });
  }
  process.exit(0);
}
if (command === "evaluate") {
  // The real evaluation takes a while after training: long enough to see who waits for it.
  await Bun.sleep(Number(process.env.FAKE_EVAL_MS ?? 0));
  out({ event: "complete", adapter_path: null, metrics: { eval_loss: 2.2, perplexity: 9.0, samples: 0 } });
  process.exit(0);
}
// Like the real trainer: the validated config beside the run (evaluate and export read it); a preference round logs its rewards.
const configPath = process.argv.includes("--config") ? process.argv[process.argv.indexOf("--config") + 1]! : null;
const runJson = configPath && (await import("node:fs")).existsSync(configPath) ? JSON.parse((await import("node:fs")).readFileSync(configPath, "utf8")) : null;
if (runJson?.output_dir) (await import("node:fs")).writeFileSync(`${runJson.output_dir}/run_config.json`, JSON.stringify(runJson));
const preference = (step: number) => (runJson?.stage === "dpo" ? { preference: { rewards_chosen: step * 0.1, rewards_rejected: -step * 0.1, margin: step * 0.2, accuracy: Math.min(1, step / 5) } } : {});
out({ event: "started", total_steps: steps, num_train_examples: 40, num_eval_examples: 4, device: "cpu", method: "lora", trainable_params: 16384, resumed_from_step: process.argv.includes("--resume") ? 3 : null, world_size: 1, packing: true, attn_implementation: "sdpa", liger: false, checkpointed_layers: 0, decoder_layers: 2 });
process.stderr.write("loading the model\n");
if (mode === "garbage") {
  process.stdout.write("this is not json\n");
  out({ event: "log", step: "one" });
  out({ event: "teleport" });
}
// Where the trainer was told to read the base model from (the weights download tests).
if (process.env.FAKE_ECHO_HUB) process.stderr.write(`hub offline=${process.env.HF_HUB_OFFLINE ?? ""} cache=${process.env.HF_HUB_CACHE ?? ""}\n`);
const first = process.argv.includes("--resume") ? 4 : 1;
for (let step = first; step <= steps; step++) {
  if (stopping) {
    out({ event: "checkpoint", step: step - 1, path: "/tmp/ckpt" });
    out({ event: "cancelled", step: step - 1, checkpoint_path: `/tmp/checkpoint-${step - 1}`, adapter_path: "/tmp/adapter" });
    process.exit(3);
  }
  await Bun.sleep(delay);
  out({ event: "log", step, total_steps: steps, epoch: step / steps, train_loss: 3 - step * 0.1, learning_rate: 2e-4, grad_norm: 0.5, tokens_per_second: 1000, elapsed_seconds: step * 0.01, eta_seconds: (steps - step) * 0.01, ...preference(step) });
  out({ event: "progress", progress_pct: (100 * step) / steps, step, total_steps: steps, ...(process.env.FAKE_TS ? { message: String(Date.now()) } : {}) });
  if (step % 5 === 0) out({ event: "eval", step, eval_loss: 3 - step * 0.08, perplexity: Math.exp(3 - step * 0.08) });
  if (mode === "crash" && step === 3) {
    process.stderr.write("Traceback (most recent call last):\nRuntimeError: boom\n");
    process.exit(1);
  }
  if (mode === "nan" && step === 3) {
    out({ event: "error", error_code: "loss_not_finite", message: "The loss became NaN at step 3: training stopped.", advice: "Lower the learning rate." });
    process.exit(2);
  }
  if (mode === "oom" && step === 2) {
    out({ event: "error", error_code: "cuda_oom", message: "The GPU ran out of memory during training.", advice: "Lower per_device_batch_size." });
    process.exit(4);
  }
  if ((mode === "hang" || mode === "ignore-sigterm") && step === 2) await new Promise(() => {});
}
out({ event: "complete", adapter_path: "/tmp/adapter", metrics: {
  final_train_loss: 3 - steps * 0.1, eval_loss: 2.2, perplexity: 9.0, total_steps: steps, epochs: 1, duration_seconds: 0.1, tokens_per_second: 1000,
  num_train_examples: 40, num_eval_examples: 4, dropped_examples: 0, trainable_params: 16384, peak_vram_gb: null, device: "cpu", chat_template: "generic",
} });
export {};
