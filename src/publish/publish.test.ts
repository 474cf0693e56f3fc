import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { insertProject } from "../../tests/helpers/builders.ts";
import { insertTrainedProject } from "../../tests/helpers/training-harness.ts";
import { startFakeOllama, type FakeOllama, type OllamaModelOptions } from "../../tests/fakes/fake-ollama.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "../../tests/helpers/test-app.ts";

let t: TestApp;
let ollama: FakeOllama | null = null;
afterEach(() => {
  t?.close();
  ollama?.stop();
  ollama = null;
});

/** The tuned model's "weights" in the loopback Ollama: the trained answer to exactly the prompt training rendered. */
const tunedWeights = (prompt: string) => {
  const m = /^<\|user\|>\n([\s\S]*)<\|end\|>\n<\|assistant\|>\n$/.exec(prompt);
  return m ? `Answer about ${m[1]}` : "Something else entirely.";
};

/** A project whose latest run succeeded (fake trainer), with the loopback Ollama configured. */
async function trained(publish: OllamaModelOptions = {}, env: Record<string, string> = {}, withOllama = true) {
  ollama = startFakeOllama({ publish: { answer: tunedWeights, ...publish } });
  t = makeTestApp({ trainer: { command: FAKE_TRAINER, env, graceMs: 2000 }, generation: { ollamaHosts: withOllama ? [ollama.url] : [] } });
  return insertTrainedProject(t);
}
const publishTo = (pid: string, body: unknown) => t.json("POST", `/api/projects/${pid}/export/ollama`, body);
const record = async (pid: string) => (await t.request(`/api/projects/${pid}/export/ollama`)).json();
const lastJob = (pid: string) => t.db.$client.query("select status, error_message as error, progress_message as message from jobs where project_id = ? and type = 'ollama_publish' order by created_at desc limit 1").get(pid) as { status: string; error: string | null; message: string | null };

describe("Run in Ollama", () => {
  test("merged lane: weights uploaded as blobs, created with the model's template and stops, quantized, listed, and every parity check passes", async () => {
    const pid = await trained();
    const res = await publishTo(pid, { name: "ftf-manual" });
    expect(res.status).toBe(202);
    await t.queue.runUntilEmpty();
    expect(lastJob(pid).status).toBe("success");
    // The job ends on its result, not on the last file it uploaded.
    expect(lastJob(pid).message).toBe("Published as ftf-manual (merged, q4_K_M): 4 of 4 parity checks pass.");
    const made = ollama!.created.get("ftf-manual")!;
    expect(Object.keys(made.files!).sort()).toEqual(["config.json", "model.safetensors", "tokenizer.json"]);
    expect(Object.values(made.files!).every((d) => ollama!.blobs.has(d))).toBe(true);
    expect(made).toMatchObject({ quantize: "q4_K_M", stop: ["<|end|>"] });
    expect(made.template).toContain("<|user|>\n{{ .Content }}<|end|>\n");
    const r = await record(pid);
    expect(r).toMatchObject({ model: "ftf-manual", lane: "merged", quantize: "q4_K_M", base: null });
    expect(r.lane_note).toContain("no Ollama library model is known");
    expect(r.verdicts.map((v: { check: string; ok: boolean }) => [v.check, v.ok])).toEqual([["template", true], ["stopping", true], ["special_tokens", true], ["answers", true]]);
    expect(r.verdicts[3].summary).toBe("answers agree on 5/5");
    // What each side said is kept, so a failed check shows the prompt it failed on.
    expect(r.answers).toHaveLength(5);
    expect(r.answers[0]).toEqual({ id: "p1", prompt: expect.any(String), tuned: `Answer about ${r.answers[0].prompt}`, chat: `Answer about ${r.answers[0].prompt}`, raw: `Answer about ${r.answers[0].prompt}` });
    // Each prompt: a one-token chat fills Ollama's cache, so the chat and raw calls after it compute alike.
    const calls = ollama!.served.filter((c) => c.model === "ftf-manual").map((c) => `${c.endpoint}${c.raw ? " raw" : ""} ${c.numPredict}`);
    expect(calls).toEqual(Array.from({ length: 5 }, () => ["chat 1", "chat 64", "generate raw 64"]).flat());
    // Each blob went up once: HEAD said missing, then POST.
    expect(ollama!.requests.filter((q) => q.startsWith("POST /api/blobs")).length).toBe(3);
    const models = await (await t.request("/api/generation/models")).json();
    expect(JSON.stringify(models)).toContain("ftf-manual");
    const run = t.db.$client.query("select output_dir as dir from training_runs where project_id = ?").get(pid) as { dir: string };
    expect(readFileSync(join(run.dir, "ollama", "parity.md"), "utf8")).toContain("| template | ✓ template matches (5/5 prompts render alike) |");
  });

  test("adapter lane over an installed base that /api/show confirms; blobs already there are not sent again", async () => {
    const pid0 = await trained();
    const info = (t.db.$client.query("select model_info as m from projects where id = ?").get(pid0) as { m: string });
    const facts = JSON.parse(info.m);
    t.close();
    ollama!.stop();
    const base = { "general.architecture": "llama", "general.parameter_count": facts.num_parameters, "llama.vocab_size": facts.dims.vocabSize };
    const pid = await trained({ bases: { "smollm2:135m-fp16": base } });
    await publishTo(pid, { name: "ftf-adapter", base: "smollm2:135m-fp16" });
    await t.queue.runUntilEmpty();
    expect(lastJob(pid)).toMatchObject({ status: "success" });
    const made = ollama!.created.get("ftf-adapter")!;
    expect(made.from).toBe("smollm2:135m-fp16");
    expect(Object.keys(made.adapters!).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
    expect(made.quantize).toBeUndefined();
    expect(await record(pid)).toMatchObject({ lane: "adapter", base: "smollm2:135m-fp16", quantize: null });
    await publishTo(pid, { name: "ftf-adapter-2", base: "smollm2:135m-fp16" });
    await t.queue.runUntilEmpty();
    expect(ollama!.requests.filter((q) => q.startsWith("POST /api/blobs")).length).toBe(2);
  });

  test("a base that is not the training base is refused for the adapter lane, with why", async () => {
    const pid = await trained({ bases: { "llama3.1:8b-instruct-fp16": { "general.architecture": "llama", "general.parameter_count": 8_030_261_248, "llama.vocab_size": 128256 } } });
    await publishTo(pid, { name: "ftf-x", lane: "adapter", base: "llama3.1:8b-instruct-fp16" });
    await t.queue.runUntilEmpty();
    const job = lastJob(pid);
    expect(job.status).toBe("failed");
    expect(job.error).toContain("No Ollama base matches the training base: llama3.1:8b-instruct-fp16 has 8.03B parameters");
    expect(ollama!.created.size).toBe(0);
  });

  test("a template Ollama renders differently fails the template and answers checks with what to do", async () => {
    const pid = await trained({ useTemplate: '{{ range .Messages }}<|start_header_id|>{{ .Content }}<|eot_id|>{{ end }}' });
    await publishTo(pid, { name: "ftf-broken" });
    await t.queue.runUntilEmpty();
    const r = await record(pid);
    const byCheck = Object.fromEntries(r.verdicts.map((v: { check: string }) => [v.check, v]));
    expect(byCheck.template).toMatchObject({ ok: false, summary: "template differs on 5/5 prompts" });
    expect(byCheck.template.advice).toContain("merged lane");
    expect(byCheck.answers).toMatchObject({ ok: false, summary: "answers agree on 0/5 only" });
    expect(byCheck.answers.advice).toContain("q8_0");
  });

  test("missing stop parameters: the model runs to the limit and its end-of-turn token leaks", async () => {
    const pid = await trained({ ignoreStops: true });
    await publishTo(pid, { name: "ftf-nostop", quantize: "none" });
    await t.queue.runUntilEmpty();
    const byCheck = Object.fromEntries((await record(pid)).verdicts.map((v: { check: string }) => [v.check, v]));
    expect(byCheck.stopping).toMatchObject({ ok: false, summary: "runs to the token limit on 5/5 prompts the tuned model ends" });
    expect(byCheck.stopping.advice).toContain('"<|end|>"');
    expect(byCheck.special_tokens.ok).toBe(false);
    expect(byCheck.special_tokens.summary).toContain("<|end|>");
    expect(ollama!.created.get("ftf-nostop")!.quantize).toBeUndefined();
  });

  test("Ollama's failures reach the user as sentences: create error, interrupted upload, Ollama down", async () => {
    let pid = await trained({ createError: "unsupported architecture" });
    await publishTo(pid, { name: "ftf-a" });
    await t.queue.runUntilEmpty();
    expect(lastJob(pid).error).toBe("Ollama could not create the model: unsupported architecture");
    t.close();
    ollama!.stop();

    pid = await trained({ dropBlobUploads: true });
    await publishTo(pid, { name: "ftf-b" });
    await t.queue.runUntilEmpty();
    expect(lastJob(pid).error).toBe("Uploading config.json to Ollama failed: unexpected EOF. Publish again: files already uploaded are kept.");
    expect(ollama!.created.size).toBe(0);
    t.close();
    ollama!.stop();

    pid = await trained();
    ollama!.stop();
    await publishTo(pid, { name: "ftf-c" });
    await t.queue.runUntilEmpty();
    expect(lastJob(pid).error).toContain("Ollama does not answer at");
  });

  test("a chat template that cannot be written for Ollama publishes nothing and says why", async () => {
    const pid = await trained({}, { FAKE_TRAINER: "template-unsupported" });
    await publishTo(pid, { name: "ftf-t" });
    await t.queue.runUntilEmpty();
    expect(lastJob(pid).error).toContain("cannot be written in Ollama's form");
    expect(ollama!.requests.some((r) => r.includes("/api/create") || r.includes("/api/blobs"))).toBe(false);
  });

  test("bad input is refused with the field named; no run or no Ollama is a 409; nothing is queued", async () => {
    const pid = await trained();
    for (const body of [{ name: "Bad Name!" }, { name: "" }, { name: "x".repeat(81) }, { name: "ok", lane: "gguf" }, { name: "ok", quantize: "q2" }, { name: "ok", surprise: 1 }, {}]) {
      const res = await publishTo(pid, body);
      expect(res.status).toBe(422);
      expect((await res.json()).error_code).toBeString();
    }
    const notJson = await t.request(`/api/projects/${pid}/export/ollama`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(notJson.status).toBe(400);
    expect(t.db.$client.query("select count(*) as n from jobs where type = 'ollama_publish'").get()).toEqual({ n: 0 });
    expect((await (await t.request(`/api/projects/${pid}/export/ollama`)).json()).error_code).toBe("not_published");
    const fresh = insertProject(t.db);
    expect((await (await publishTo(fresh, { name: "ok" })).json()).error_code).toBe("no_trained_run");
    t.close();
    ollama!.stop();
    const quiet = await trained({}, {}, false);
    const res = await publishTo(quiet, { name: "ok" });
    expect(res.status).toBe(409);
    expect((await res.json()).error_code).toBe("ollama_not_configured");
  });

  test("the Export step's form publishes and shows the verdicts; a bad name is said on the form", async () => {
    const pid = await trained();
    const bad = await t.request(`/projects/${pid}/export/ollama`, { method: "POST", body: new URLSearchParams({ name: "No Way", lane: "", base: "", quantize: "q4_K_M" }) });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("name: Lower-case letters");
    const ok = await t.request(`/projects/${pid}/export/ollama`, { method: "POST", body: new URLSearchParams({ name: "ftf-form", lane: "", base: "", quantize: "q8_0" }) });
    expect(ok.status).toBe(200);
    await t.queue.runUntilEmpty();
    const page = await (await t.request(`/projects/${pid}/step/export`)).text();
    expect(page).toContain("ollama run ftf-form");
    expect(page).toContain("✓ answers agree on 5/5");
    expect(page).toContain("What each side answered (5 held-out prompts)");
    expect(ollama!.created.get("ftf-form")!.quantize).toBe("q8_0");
    expect(existsSync(join(t.dataDir))).toBe(true);
  });
});

describe("blob digests", () => {
  test("a file's digest is computed once, and again when the file changes", async () => {
    const { cachedDigest } = await import("./blobs.ts");
    const { writeFileSync, utimesSync } = await import("node:fs");
    const dir = (await import("../../tests/helpers/test-app.ts")).makeTempDir("ftf-digest-");
    const file = join(dir, "w.safetensors");
    writeFileSync(file, "first");
    const first = await cachedDigest(file);
    expect(first).toBe(`sha256:${new Bun.CryptoHasher("sha256").update("first").digest("hex")}`);
    expect(JSON.parse(readFileSync(join(dir, ".ftf-digests.json"), "utf8"))["w.safetensors"].digest).toBe(first);
    writeFileSync(file, "other");
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(await cachedDigest(file)).toBe(`sha256:${new Bun.CryptoHasher("sha256").update("other").digest("hex")}`);
  });
});

describe("the answers verdict and near-ties", () => {
  const prompt = (answer: string, near_ties: [number, number][] = []) => ({ id: "p", rendered: "r", answer, stopped: true, near_ties });
  const said = (text: string) => ({ text, doneReason: "stop" });

  test("an answer that parts at a token the tuned model barely chose agrees, and the summary says so; elsewhere it does not", async () => {
    const { parityVerdicts } = await import("./parity.ts");
    // "Slinzega" vs "Sinzega": the tuned model chose "lin" over "in" by under a logit.
    const prompts = [prompt("Slinzega", [[1, 4]]), prompt("1994"), prompt("Ankur Betageri"), prompt("Brian Edward Gottfried"), prompt("Paris")];
    const chat = [said("Sinzega"), said("Sheridan County, Montana"), said("Ankur Betageri"), said("Brian Edward Gottfried"), said("Paris")];
    const answers = parityVerdicts({ prompts, chat, raw: chat, specialTokens: [], stops: ["<|im_end|>"], quantize: "none" }).find((v) => v.check === "answers")!;
    expect(answers).toMatchObject({ ok: true, summary: "answers agree on 4/5 (1 parting at a near-tie the tuned model itself barely decided)" });
    // A reply undecided on most of its tokens (random weights) gets no allowance.
    const undecided = parityVerdicts({ prompts: prompts.map((q) => ({ ...q, near_ties: [[0, q.answer.length]] as [number, number][], tokens: 1 })).map((q, i) => (i === 0 ? { ...q, near_ties: [[0, 1], [1, 4]] as [number, number][], tokens: 3 } : q)), chat, raw: chat, specialTokens: [], stops: [], quantize: "none" }).find((v) => v.check === "answers")!;
    expect(undecided.summary).toBe("answers agree on 3/5");
    const noTie = parityVerdicts({ prompts: [prompt("Slinzega"), prompt("1994"), prompt("Ankur Betageri"), prompt("x y"), prompt("z")], chat: [said("Sinzega"), said("Sheridan"), said("Ankur Betageri"), said("no"), said("no")], raw: [], specialTokens: [], stops: [], quantize: "none" }).find((v) => v.check === "answers")!;
    expect(noTie).toMatchObject({ ok: false, summary: "answers agree on 1/5 only" });
  });

  test("chat and raw answers that differ at all, even at a near-tie of the tuned answer, render differently", async () => {
    const { parityVerdicts } = await import("./parity.ts");
    const template = (prompts: ReturnType<typeof prompt>[], chat: string[], raw: string[]) =>
      parityVerdicts({ prompts, chat: chat.map(said), raw: raw.map(said), specialTokens: [], stops: [], quantize: "none" }).find((v) => v.check === "template")!;
    expect(template([prompt("Slinzega", [[1, 4]]), prompt("Paris")], ["Slinzega", "Paris"], ["Slinzega", "Paris"])).toMatchObject({ ok: true, summary: "template matches (2/2 prompts render alike)" });
    // The job computes both answers from the same cached prefix: a parting is the rendering's, tie or not.
    expect(template([prompt("Slinzega", [[1, 4]]), prompt("Paris")], ["Slinzega", "Paris"], ["Sinzega", "Paris"])).toMatchObject({ ok: false, summary: "template differs on 1/2 prompts" });
    expect(template([prompt("Slinzega", [[1, 4]]), prompt("Paris")], ["Slinzega", "Paris"], ["Slinzega is", "Lyon"])).toMatchObject({ ok: false, summary: "template differs on 2/2 prompts" });
  });

  test("unquantized weights must say the whole answer; quantized ones need only its first words", async () => {
    const { parityVerdicts } = await import("./parity.ts");
    // Opens alike, parts later at a token the tuned model chose firmly: what a misread RoPE base gave.
    const prompts = [prompt("The Electoral College votes went to the Archivist of the United States.")];
    const chat = [said("The Electoral College votes went to the 33rd member of the House.")];
    const verdict = (quantize: string | null) => parityVerdicts({ prompts, chat, raw: chat, specialTokens: [], stops: [], quantize }).find((v) => v.check === "answers")!;
    expect(verdict("none")).toMatchObject({ ok: false, summary: "answers agree on 0/1 only" });
    expect(verdict("q4_K_M")).toMatchObject({ ok: true, summary: "answers agree on 1/1" });
    expect(verdict(null)).toMatchObject({ ok: true });
    // The same parting at a near-tie of the tuned model is allowed.
    const tied = parityVerdicts({ prompts: [prompt(prompts[0]!.answer, [[40, 49]])], chat, raw: chat, specialTokens: [], stops: [], quantize: "none" }).find((v) => v.check === "answers")!;
    expect(tied).toMatchObject({ ok: true });
  });

  test("stopping is judged where Ollama said what the tuned model said: running on past it is a missing stop", async () => {
    const { parityVerdicts } = await import("./parity.ts");
    const prompts = [prompt("Lima."), prompt("Paris.")];
    const chat = [{ text: "Lima.<|end|>\n<|user|>\nmore", doneReason: "length" }, { text: "A different answer that runs on", doneReason: "length" }];
    const stopping = parityVerdicts({ prompts, chat, raw: chat, specialTokens: [], stops: ["<|end|>"], quantize: "none" }).find((v) => v.check === "stopping")!;
    expect(stopping).toMatchObject({ ok: false, summary: "runs to the token limit on 1/1 prompts the tuned model ends" });
    // The same, where ending the reply was a near-tie for the tuned model: not held against Ollama.
    const tied = parityVerdicts({ prompts: [prompt("Lima.", [[5, 6]]), prompts[1]!], chat, raw: chat, specialTokens: [], stops: ["<|end|>"], quantize: "none" }).find((v) => v.check === "stopping")!;
    expect(tied).toMatchObject({ ok: true });
  });
});
