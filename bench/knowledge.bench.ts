/**
 * `npm run bench -- knowledge`: does the tuned model know the documents? On real parts (the
 * real Ollama serving SmolLM2-135M-Instruct as the generator, the same model as the base,
 * CPU) over the HotpotQA sample (10 documents, 488 Wikipedia paragraphs, 50 questions the
 * data is never generated from): per recipe, upload, generate, train, then ask the
 * questions closed-book (base and tuned), with BM25 top-2 retrieval (tuned + retrieval),
 * and with the two gold paragraphs (the open-book ceiling, base), scored with SQuAD exact
 * match and token F1. Plus the share of distinct kept questions, LLM calls per accepted
 * example, minutes; and the study-notes data trained again for retrieval (RAFT: each
 * question with its passage among look-alikes), asked the same ways. Sizes:
 * FTF_BENCH_KNOWLEDGE_TARGET (examples, 60), _QUESTIONS (50), _RECIPES
 * ("questions,study_notes"), _EPOCHS (3), _RAFT (recipes also trained for retrieval, "study_notes").
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toMessages } from "../src/models/chat-encoding.ts";
import { realParts, startRealOllama } from "../tests/helpers/real-parts.ts";
import { makeTempDir, makeTestApp, PYTHON, TRAINER_DIR } from "../tests/helpers/test-app.ts";
import { countingProxy, round, type BenchRow } from "./lib.ts";

const SAMPLE = join(import.meta.dir, "../../shared/benchmarks/hotpotqa-sample");
const TARGET = Number(process.env.FTF_BENCH_KNOWLEDGE_TARGET ?? 60);
const QUESTIONS = Number(process.env.FTF_BENCH_KNOWLEDGE_QUESTIONS ?? 50);
const EPOCHS = Number(process.env.FTF_BENCH_KNOWLEDGE_EPOCHS ?? 3);
const RECIPES = (process.env.FTF_BENCH_KNOWLEDGE_RECIPES ?? "questions,study_notes").split(",") as ("questions" | "study_notes")[];
/** Recipes whose data is also trained for retrieval (RAFT); "" for none. */
const RAFT_RECIPES = (process.env.FTF_BENCH_KNOWLEDGE_RAFT ?? "study_notes").split(",");
const MODEL = "smollm2:latest";

type Question = { id: string; question: string; answer: string; titles: string[] };

/** SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces. */
export const normalize = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .replace(/\b(a|an|the)\b/g, " ")
    .split(/\s+/)
    .filter(Boolean)
    .join(" ");

export function exactMatch(prediction: string, gold: string): number {
  return normalize(prediction) === normalize(gold) ? 1 : 0;
}

export function tokenF1(prediction: string, gold: string): number {
  const p = normalize(prediction).split(" ").filter(Boolean);
  const g = normalize(gold).split(" ").filter(Boolean);
  const counts = new Map<string, number>();
  for (const w of g) counts.set(w, (counts.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of p) {
    const n = counts.get(w) ?? 0;
    if (n > 0) {
      same++;
      counts.set(w, n - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/** The paragraphs of the sample's documents, by their `## Title`. */
function paragraphs(): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(join(SAMPLE, "documents")).sort()) {
    for (const section of readFileSync(join(SAMPLE, "documents", name), "utf8").split(/^## /m).slice(1)) {
      const [title, ...body] = section.split("\n");
      out.set(title!.trim(), body.join("\n").trim());
    }
  }
  return out;
}

/** Base and tuned answers to each prompt, by the trainer's `answers` (greedy, one load). */
async function answers(runDir: string, prompts: { id: string; messages: { role: string; content: string }[] }[]) {
  const dir = makeTempDir("ftf-bench-knowledge-");
  const questions = join(dir, "questions.jsonl");
  const out = join(dir, "answers.jsonl");
  writeFileSync(questions, prompts.map((p) => JSON.stringify(p)).join("\n") + "\n");
  const proc = Bun.spawn([PYTHON, "-m", "finetuneflow_trainer", "answers", "--run", runDir, "--questions", questions, "--out", out, "--max-new-tokens", "48"], { cwd: TRAINER_DIR, stdout: "ignore", stderr: "pipe" });
  if ((await proc.exited) !== 0) throw new Error(`answers failed: ${(await new Response(proc.stderr).text()).slice(-1000)}`);
  return new Map(
    readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; base: string; tuned: string })
      .map((a) => [a.id, a] as const),
  );
}

export async function knowledgeBench(): Promise<BenchRow[]> {
  const parts = realParts();
  const ollama = await startRealOllama();
  const proxy = countingProxy(ollama.url);
  const questions = readFileSync(join(SAMPLE, "questions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Question).slice(0, QUESTIONS);
  const gold = paragraphs();
  const rows: BenchRow[] = [];
  try {
    for (const recipe of RECIPES) {
      const t = makeTestApp({ generation: { ollamaHosts: [proxy.url], concurrency: 2, timeoutMs: 180_000, groundingThreshold: 0.5 } });
      try {
        t.queue.start();
        const started = performance.now();
        const pid = (await (await t.json("POST", "/api/projects", { name: `knowledge ${recipe}` })).json()).id as string;
        await t.json("POST", `/api/projects/${pid}/model/resolve`, { model_id: parts.smollm2.hf });
        await t.json("PATCH", `/api/projects/${pid}`, { task_type: "qa", qa_context: "closed_book", qa_recipe: recipe });
        const form = new FormData();
        form.append("kind", "raw_doc");
        for (const name of readdirSync(join(SAMPLE, "documents")).sort()) form.append("files", new File([readFileSync(join(SAMPLE, "documents", name))], name, { type: "text/markdown" }));
        await t.request(`/api/projects/${pid}/files/upload`, { method: "POST", body: form });
        await t.queue.runUntilEmpty();
        const callsBefore = proxy.stats().calls;
        await t.json("POST", `/api/projects/${pid}/dataset/generate`, { model: MODEL, target: TARGET, embedding_model: "none" });
        await t.queue.runUntilEmpty(6 * 3_600_000);
        const kept = t.db.$client.query("select instruction from examples where project_id = ? and is_valid = 1 and split != 'preview'").all(pid) as { instruction: string }[];
        const calls = proxy.stats().calls - callsBefore;
        await t.request(`/api/hardware/check?project_id=${pid}`);
        const generated = (performance.now() - started) / 60_000;

        /** Trains a run with `config` and gives its folder (the judged evaluation the app starts after training is not this benchmark's measure: it is stopped). */
        const train = async (config: Record<string, unknown>) => {
          const run = await (await t.json("POST", `/api/projects/${pid}/train/start`, { method: "lora", num_epochs: EPOCHS, learning_rate: 0.0003, per_device_batch_size: 4, gradient_accumulation_steps: 1, max_seq_length: 512, lora_r: 16, lora_alpha: 32, lora_dropout: 0.05, ...config })).json();
          if (!run.run_id) throw new Error(`train/start refused: ${JSON.stringify(run)}`);
          await t.queue.runUntilEmpty(6 * 3_600_000);
          await Bun.sleep(500);
          for (const j of t.db.$client.query("select id from jobs where project_id = ? and type = 'evaluation' and status in ('queued', 'running')").all(pid) as { id: string }[]) {
            await t.json("POST", `/api/jobs/${j.id}/cancel`);
          }
          const { output_dir, status } = t.db.$client.query("select output_dir, status from training_runs where id = ?").get(run.run_id) as { output_dir: string; status: string };
          if (status !== "success") throw new Error(`training ${status}`);
          return output_dir;
        };

        // Closed-book, with BM25 top-2 over the project's chunks, with the two gold paragraphs.
        const bm25 = (q: string) =>
          (t.db.$client
            .query(`select c.text from chunks_fts join chunks c on c.rowid = chunks_fts.rowid where chunks_fts match ? and c.project_id = ? order by bm25(chunks_fts) limit 2`)
            .all([...new Set(q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].filter((w) => w.length > 1).map((w) => `"${w}"`).join(" OR "), pid) as { text: string }[]).map((r) => r.text);
        const ask = (q: Question, input: string) => toMessages({ instruction: q.question, input, output: "" }).slice(0, -1);
        const prompts = questions.flatMap((q) => [
          { id: `${q.id}:closed`, messages: ask(q, "") },
          { id: `${q.id}:retrieved`, messages: ask(q, bm25(q.question).join("\n\n")) },
          { id: `${q.id}:gold`, messages: ask(q, q.titles.map((title) => gold.get(title) ?? "").join("\n\n")) },
        ]);

        /** One trained run asked every question three ways; its rows, labelled `label`. */
        const measure = async (label: string, runDir: string) => {
          const got = await answers(runDir, prompts);
          const score = (arm: string, side: "base" | "tuned") => {
            const em = questions.reduce((s, q) => s + exactMatch(got.get(`${q.id}:${arm}`)?.[side] ?? "", q.answer), 0) / questions.length;
            const f1 = questions.reduce((s, q) => s + tokenF1(got.get(`${q.id}:${arm}`)?.[side] ?? "", q.answer), 0) / questions.length;
            return { em, f1 };
          };
          const arms = { "base, closed-book": score("closed", "base"), "tuned, closed-book": score("closed", "tuned"), "tuned + retrieval (BM25 top-2)": score("retrieved", "tuned"), "ceiling: base + the two gold paragraphs": score("gold", "base") };
          for (const [arm, s] of Object.entries(arms)) {
            rows.push({ bench: "knowledge", metric: `${label} · ${arm} · EM`, value: round(s.em, 3), unit: "EM" });
            rows.push({ bench: "knowledge", metric: `${label} · ${arm} · F1`, value: round(s.f1, 3), unit: "F1" });
          }
          const base = arms["base, closed-book"].f1;
          const ceiling = arms["ceiling: base + the two gold paragraphs"].f1;
          const closed = ceiling > base ? (arms["tuned, closed-book"].f1 - base) / (ceiling - base) : 0;
          rows.push({ bench: "knowledge", metric: `${label} · share of the base→ceiling F1 gap the tuned model closes`, value: round(closed, 3), unit: "share", goal: "≥ 0.5", ok: closed >= 0.5 });
        };

        const trainStarted = performance.now();
        await measure(recipe, await train({}));
        const minutes = generated + (performance.now() - trainStarted) / 60_000;
        const distinct = new Set(kept.map((k) => normalize(k.instruction))).size / Math.max(1, kept.length);
        rows.push(
          { bench: "knowledge", metric: `${recipe} · distinct kept questions (${kept.length} kept)`, value: round(distinct, 3), unit: "share", goal: "≥ 0.9", ok: distinct >= 0.9 },
          { bench: "knowledge", metric: `${recipe} · LLM calls per accepted example`, value: round(calls / Math.max(1, kept.length), 2), unit: "calls", goal: "≤ 1.5", ok: calls / Math.max(1, kept.length) <= 1.5 },
          { bench: "knowledge", metric: `${recipe} · minutes (generate ${TARGET}, train ${EPOCHS} epochs, ask ${questions.length} × 3)`, value: round(minutes, 1), unit: "min" },
        );
        // The same data trained for retrieval (RAFT, src/training/raft.ts): three passages an example need a longer sequence.
        if (RAFT_RECIPES.includes(recipe)) {
          const raftStarted = performance.now();
          await measure(`${recipe} + retrieval training`, await train({ retrieval_training: true, max_seq_length: 2048 }));
          rows.push({ bench: "knowledge", metric: `${recipe} + retrieval training · minutes (train ${EPOCHS} epochs, ask ${questions.length} × 3)`, value: round((performance.now() - raftStarted) / 60_000, 1), unit: "min" });
        }
      } finally {
        t.close();
      }
    }
  } finally {
    proxy.stop();
    ollama.stop();
  }
  return rows;
}
