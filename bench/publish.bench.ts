/**
 * Run in Ollama and the playground (issue #16):
 *  - blob upload over loopback (streamed from disk, digest known) ÷ a plain read of the
 *    same file (goal ≥ 0.8×); the first publication also hashes the file once;
 *  - the playground worker on the tiny model, warm: time to first token, and tokens/s
 *    ÷ a bare transformers generate loop on the same model, adapter and prompt (goal ≥ 0.9×).
 */
import { createReadStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cachedDigest, pushBlob } from "../src/publish/blobs.ts";
import { makeTempDir } from "../tests/helpers/test-app.ts";
import { round, type BenchRow } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const PYTHON = join(ROOT, "python/.venv/bin/python");
const MB = 1024 * 1024;

async function py(args: string[]): Promise<string> {
  const proc = Bun.spawn([PYTHON, ...args], { cwd: join(ROOT, "python"), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${args.join(" ")} failed (${code}):\n${err.slice(-2000)}`);
  return out;
}

async function blobBench(): Promise<BenchRow[]> {
  const dir = makeTempDir("ftf-bench-blob-");
  const file = join(dir, "model.safetensors");
  const size = 256 * MB;
  const chunk = new Uint8Array(MB).map((_, i) => (i * 31) & 255);
  const parts: Uint8Array[] = Array.from({ length: size / MB }, () => chunk);
  writeFileSync(file, Buffer.concat(parts));
  // A blob endpoint in its own process (as Ollama is) that reads each body to the end, keeping nothing.
  const sink = Bun.spawn([process.execPath, "-e", `const s = Bun.serve({ port: 0, hostname: "127.0.0.1", maxRequestBodySize: 2 ** 33, async fetch(req) {
    if (req.method === "HEAD") return new Response(null, { status: 404 });
    const r = req.body.getReader(); while (!(await r.read()).done); return new Response(null, { status: 201 }); } }); console.log(s.port);`], { stdout: "pipe" });
  const port = new TextDecoder().decode((await sink.stdout.getReader().read()).value).trim();
  const server = { port, stop: () => sink.kill() };
  const base = `http://127.0.0.1:${server.port}`;
  const plainRead = async () => {
    for await (const _ of createReadStream(file, { highWaterMark: MB }));
  };
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / 1000;
  };
  const hashFirst = await time(() => cachedDigest(file));
  const best = async (fn: () => Promise<unknown>) => Math.min(await time(fn), await time(fn), await time(fn));
  const read = await best(plainRead);
  // The same file read from the disk itself (O_DIRECT: no page cache), what a first publication of fresh weights meets.
  const direct = await best(async () => {
    const dd = Bun.spawn(["dd", `if=${file}`, "of=/dev/null", "bs=4M", "iflag=direct"], { stdout: "ignore", stderr: "ignore" });
    if ((await dd.exited) !== 0) throw new Error("dd iflag=direct failed");
  });
  const upload = await best(() => pushBlob(base, file, () => {}));
  server.stop();
  const ratio = direct / upload;
  return [
    { bench: "publish (256 MB blob)", metric: "plain read of the file (page cache)", value: round(size / MB / read, 0), unit: "MB/s" },
    { bench: "publish (256 MB blob)", metric: "upload over loopback, digest known", value: round(size / MB / upload, 0), unit: "MB/s" },
    { bench: "publish (256 MB blob)", metric: "plain read from the disk (O_DIRECT)", value: round(size / MB / direct, 0), unit: "MB/s" },
    { bench: "publish (256 MB blob)", metric: "upload ÷ disk read", value: round(ratio, 2), unit: "×", goal: "≥ 0.8", ok: ratio >= 0.8 },
    { bench: "publish (256 MB blob)", metric: "upload ÷ page-cache read", value: round(read / upload, 2), unit: "×" },
    { bench: "publish (256 MB blob)", metric: "first publication: sha256 of the file, once", value: round(size / MB / hashFirst, 0), unit: "MB/s" },
  ];
}

async function playgroundBench(): Promise<BenchRow[]> {
  const dir = makeTempDir("ftf-bench-play-");
  const model = join(dir, "model");
  await py(["-m", "finetuneflow_trainer", "make-tiny-model", model]);
  const train = join(dir, "train.jsonl");
  writeFileSync(train, Array.from({ length: 40 }, (_, i) => JSON.stringify({ instruction: `Question ${i}?`, output: `Answer ${i}.` })).join("\n"));
  const config = join(dir, "config.json");
  writeFileSync(config, JSON.stringify({ base_model: model, output_dir: join(dir, "run"), train_file: train, max_steps: 2, per_device_batch_size: 4, gradient_accumulation_steps: 1, gradient_checkpointing: false, max_seq_length: 64 }));
  await py(["-m", "finetuneflow_trainer", "train", "--config", config]);
  const runDir = join(dir, "run");
  const TOKENS = 128;
  const REPEATS = 5;
  const messages = [{ role: "user", content: "What is the capital of Peru?" }];

  // The worker, warm: one untimed request, then the timed ones.
  const proc = Bun.spawn([PYTHON, "-m", "finetuneflow_trainer", "serve", "--run", runDir], { cwd: join(ROOT, "python"), stdin: "pipe", stdout: "pipe", stderr: "ignore" });
  const { readLines } = await import("../src/lib/lines.ts");
  const lines = readLines(proc.stdout as ReadableStream<Uint8Array>)[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string);
  while ((await next()).event !== "ready");
  const once = async (id: string) => {
    const t0 = performance.now();
    proc.stdin.write(`${JSON.stringify({ id, messages, target: "tuned", max_new_tokens: TOKENS, temperature: 0 })}\n`);
    proc.stdin.flush();
    let first = 0;
    for (;;) {
      const e = await next();
      if (e.event === "token" && !first) first = performance.now() - t0;
      if (e.event === "done") return { ttft: first, seconds: (performance.now() - t0) / 1000, tokens: e.tokens as number };
    }
  };
  await once("warm");
  const runs = [];
  for (let i = 0; i < REPEATS; i++) runs.push(await once(`r${i}`));
  proc.stdin.end();
  await proc.exited;
  const workerRate = Math.max(...runs.map((r) => r.tokens / r.seconds));
  const ttft = Math.min(...runs.map((r) => r.ttft));

  const bare = JSON.parse(
    (
      await py([
        "-c",
        `import json,sys,time,torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer
run=sys.argv[1]; model_dir=sys.argv[2]
tok=AutoTokenizer.from_pretrained(run+"/adapter")
m=PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32), run+"/adapter").eval()
ids=tok.apply_chat_template([{"role":"user","content":"What is the capital of Peru?"}], add_generation_prompt=True, return_tensors="pt", return_dict=True)
best=0
for i in range(${REPEATS + 1}):
    t=time.monotonic()
    with torch.no_grad(): out=m.generate(**ids, max_new_tokens=${TOKENS}, do_sample=False, pad_token_id=tok.pad_token_id)
    n=out.shape[1]-ids["input_ids"].shape[1]; s=time.monotonic()-t
    if i: best=max(best, n/s)
print(json.dumps({"rate": best}))`,
        runDir,
        model,
      ])
    ).trim().split("\n").pop()!,
  );
  const ratio = workerRate / bare.rate;
  return [
    { bench: "playground (tiny model, CPU)", metric: "time to first token, worker warm", value: round(ttft, 1), unit: "ms" },
    { bench: "playground (tiny model, CPU)", metric: "worker tokens/s", value: round(workerRate, 0), unit: "tok/s" },
    { bench: "playground (tiny model, CPU)", metric: "bare generate tokens/s", value: round(bare.rate, 0), unit: "tok/s" },
    { bench: "playground (tiny model, CPU)", metric: "worker ÷ bare", value: round(ratio, 2), unit: "×", goal: "≥ 0.9", ok: ratio >= 0.9 },
  ];
}

export async function publishBench(): Promise<BenchRow[]> {
  return [...(await blobBench()), ...(await playgroundBench())];
}
