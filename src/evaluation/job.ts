/**
 * The `evaluation` job: held-out questions answered by the base and the tuned model
 * (the trainer's `answers`, greedy, one load), graded by the judge through the
 * generation backends, saved as the project's latest evaluation, and written beside the
 * run as scorecard.md (the export puts it into report.md).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { evaluations } from "./table.ts";
import type { TrainingRunRow } from "../training/tables.ts";
import type { ExampleStore } from "../datasets/example-store.ts";
import type { Backend } from "../generation/backends.ts";
import { JobError, type JobContext, type JobQueue } from "../jobs/queue.ts";
import { toMessages } from "../models/chat-encoding.ts";
import { answerLineSchema } from "../training/events.ts";
import type { TrainerClient } from "../training/trainer-client.ts";
import general from "./general-questions.v1.json";
import { judge } from "./judge.ts";
import { scorecardMarkdown, summarize, type JudgedItem } from "./scorecard.ts";
import { preferenceRoundScore } from "./before-after.ts";
import { controlPairs, judgeCheck } from "./controls.ts";
import { CLOSED_SUFFIX, EVALUATION_JOB, EVALUATION_MODES, FORGETTING_DROP, type EvaluationMode, type Forgetting, type Retrieval } from "./schemas.ts";

/** Long enough for a full answer to a documents question; a model that never stops is cut here. */
const MAX_ANSWER_TOKENS = 160;
/** Questions judged at once per endpoint. */
const JUDGE_CONCURRENCY = 4;
/** Passages the retrieval arm puts before each question (BM25 over the project's chunks). */
export const RETRIEVED_PASSAGES = 2;
/** The retrieval arm's twin of a question: asked with the passages BM25 found for it. */
const RETRIEVED_SUFFIX = "#retrieved";

export const evaluationPayload = z.object({
  runId: z.string(),
  judgeModel: z.string(),
  samples: z.number().int(),
  mode: z.enum(EVALUATION_MODES),
  /** A bigger installed model, named when the judge fails its controls. */
  strongerJudge: z.string().nullable().optional(),
});

type Question = { id: string; fileId: string | null; filename: string | null; question: string; reference: string; passage: string | null; prompt: ReturnType<typeof toMessages> };

type Deps = {
  db: Db;
  queue: JobQueue;
  examples: ExampleStore;
  backends: Backend[];
  trainer: TrainerClient;
  getRun: (runId: string) => TrainingRunRow | undefined;
  /** The export service: puts scorecard.md into a report already exported. */
  reports: { refreshReport: (runId: string) => void };
  /** BM25 over the project's document chunks (documents service). */
  retrieve: (projectId: string, query: string, k: number) => { text: string }[];
  random: () => number;
  now: () => number;
};

export function registerEvaluationJob(deps: Deps) {
  /**
   * The run's questions in the asked mode; with the passage, the same questions without
   * it too (`closed`): users will ask without the passage, so both scores are shown.
   */
  function questions(projectId: string, runDir: string, samples: number, mode: EvaluationMode): { own: Question[]; closed: Question[]; retrieved: Question[]; general: Question[] } {
    const config = z.object({ system_prompt: z.string().nullish() }).passthrough().parse(JSON.parse(readFileSync(join(runDir, "run_config.json"), "utf8")));
    const prompt = (instruction: string, input: string) => toMessages({ instruction, input, output: "" }, config.system_prompt).slice(0, -1);
    const own = deps.examples.heldOutByDocument(projectId, samples).map((e) => ({
      id: e.id,
      fileId: e.fileId,
      filename: e.filename,
      question: e.instruction,
      reference: e.output,
      // The judge reads the chunk the example was generated from; imported rows have their input.
      passage: e.source || e.input || null,
      prompt: prompt(e.instruction, mode === "with_context" ? e.input : ""),
    }));
    const closed = mode === "with_context" ? own.map((q) => ({ ...q, id: `${q.id}${CLOSED_SUFFIX}`, prompt: prompt(q.question, "") })) : [];
    // Fine-tune, retrieve, or both? The same questions with what retrieval finds for them,
    // laid out as training lays out an example's input after its question.
    const retrieved = own.map((q) => {
      const passages = deps.retrieve(projectId, q.question, RETRIEVED_PASSAGES).map((c) => c.text.trim());
      return { ...q, id: `${q.id}${RETRIEVED_SUFFIX}`, prompt: prompt(q.question, passages.join("\n\n")) };
    });
    const generalQuestions = general.questions.map((g) => ({ id: `general:${g.id}`, fileId: null, filename: null, question: g.question, reference: g.reference, passage: null, prompt: prompt(g.question, "") }));
    return { own, closed, retrieved, general: generalQuestions };
  }

  /** Judges every question, JUDGE_CONCURRENCY at a time per endpoint, in the questions' order. */
  async function judgeAll(list: Question[], answers: Map<string, z.infer<typeof answerLineSchema>>, judgeModel: string, signal: AbortSignal, onDone: () => void): Promise<JudgedItem[]> {
    const out: JudgedItem[] = new Array(list.length);
    let next = 0;
    const worker = async (backend: Backend) => {
      while (next < list.length) {
        const k = next++;
        const q = list[k]!;
        const a = answers.get(q.id) ?? { tuned: "", base: "" };
        const r = await judge(backend, judgeModel, { question: q.question, reference: q.reference, passage: q.passage, base: a.base, tuned: a.tuned }, { random: deps.random, signal });
        out[k] = {
          example_id: q.id,
          file_id: q.fileId,
          filename: q.filename,
          question: q.question,
          reference: q.reference,
          base_answer: a.base,
          tuned_answer: a.tuned,
          base_verdict: r.base,
          tuned_verdict: r.tuned,
          judge_reason: r.reason,
        };
        onDone();
      }
    };
    await Promise.all(deps.backends.flatMap((b) => Array.from({ length: JUDGE_CONCURRENCY }, () => worker(b))));
    return out;
  }

  async function run({ payload, progress, signal, job }: JobContext<z.infer<typeof evaluationPayload>>) {
    const run = deps.getRun(payload.runId);
    if (!run) return { skipped: "run deleted" };
    const dir = join(run.outputDir, "evaluation");
    mkdirSync(dir, { recursive: true });
    const { own, closed, retrieved, general: generalQuestions } = questions(run.projectId, run.outputDir, payload.samples, payload.mode);
    if (own.length === 0) throw new JobError("There are no valid eval examples to ask: the eval split is empty.");
    const all = [...own, ...closed, ...retrieved, ...generalQuestions];
    const controls = controlPairs(own.map((q) => ({ id: q.id, question: q.question, reference: q.reference, passage: q.passage })));
    const questionsFile = join(dir, "questions.jsonl");
    const answersFile = join(dir, "answers.jsonl");
    writeFileSync(questionsFile, all.map((q) => JSON.stringify({ id: q.id, messages: q.prompt })).join("\n") + "\n");
    progress(1, `Answering ${all.length} questions with the base and the tuned model`);
    const result = await deps.trainer.answers(run.projectId, run.outputDir, { questions: questionsFile, out: answersFile, maxNewTokens: MAX_ANSWER_TOKENS }, {
      signal,
      onProgress: (pct, message) => progress(Math.min(60, pct * 0.6), `Answering: ${message}`),
    });
    if (result.failure) throw new JobError(result.failure);
    const answers = new Map(
      readFileSync(answersFile, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => answerLineSchema.parse(JSON.parse(l)))
        .map((a) => [a.id, a] as const),
    );
    // The controls are judged beside the real questions: answers of known grade (controls.ts).
    const toJudge = [...all, ...controls.map((c) => ({ id: c.id, fileId: null, filename: null, question: c.question, reference: c.reference, passage: c.passage, prompt: [] }))];
    for (const c of controls) answers.set(c.id, { id: c.id, base: c.base, tuned: c.tuned, base_stopped: true, tuned_stopped: true });
    let judged = 0;
    const judgedItems = await judgeAll(toJudge, answers, payload.judgeModel, signal, () => {
      judged++;
      progress(60 + (40 * judged) / toJudge.length, `Judged ${judged}/${toJudge.length} with ${payload.judgeModel} (${controls.length} of them controls)`);
    });
    const items = judgedItems.slice(0, all.length);
    const judgeChecked = judgeCheck(
      payload.judgeModel,
      controls.map((pair, i) => ({ pair, base: judgedItems[all.length + i]!.base_verdict, tuned: judgedItems[all.length + i]!.tuned_verdict })),
      payload.strongerJudge ?? null,
    );
    let at0 = 0;
    const next = (n: number) => items.slice(at0, (at0 += n));
    const ownItems = next(own.length);
    const closedItems = next(closed.length).map((i) => ({ ...i, example_id: i.example_id.slice(0, -CLOSED_SUFFIX.length) }));
    const retrievedItems = next(retrieved.length).map((i) => ({ ...i, example_id: i.example_id.slice(0, -RETRIEVED_SUFFIX.length) }));
    const generalSummary = summarize(next(generalQuestions.length));
    const forgetting: Forgetting = {
      version: general.version,
      n: generalQuestions.length,
      base_score: generalSummary.base.score,
      tuned_score: generalSummary.tuned.score,
      drop: generalSummary.base.score !== null && generalSummary.tuned.score !== null && generalSummary.base.score - generalSummary.tuned.score >= FORGETTING_DROP,
    };
    const retrieval: Retrieval = { k: RETRIEVED_PASSAGES, summary: summarize(retrievedItems), items: retrievedItems };
    const summary = { ...summarize(ownItems), judge_check: judgeChecked, retrieval };
    const closedSummary = closed.length ? { ...summarize(closedItems), judge_check: judgeChecked, retrieval } : null;
    const at = deps.now();
    deps.db.transaction((tx) => {
      if (closedSummary) {
        tx.insert(evaluations).values({ id: `${job.id}${CLOSED_SUFFIX}`, projectId: run.projectId, runId: run.id, judgeModel: payload.judgeModel, mode: "closed_book", summary: closedSummary, items: closedItems, forgetting, createdAt: at }).run();
      }
      // The asked mode is the project's latest evaluation (a millisecond after its closed-book twin).
      tx.insert(evaluations).values({ id: job.id, projectId: run.projectId, runId: run.id, judgeModel: payload.judgeModel, mode: payload.mode, summary, items: ownItems, forgetting, createdAt: at + (closedSummary ? 1 : 0) }).run();
    });
    // The run's section for the next export, and for any export already made.
    const preferenceRound = preferenceRoundScore(deps.db, run, payload.mode, payload.judgeModel, ownItems, forgetting.tuned_score);
    writeFileSync(join(dir, "scorecard.md"), scorecardMarkdown(summary, { judgeModel: payload.judgeModel, mode: payload.mode, forgetting, closedBook: closedSummary, judgeCheck: judgeChecked, retrieval, preferenceRound }));
    deps.reports.refreshReport(run.id);
    return { n: summary.n, tuned_score: summary.tuned.score, base_score: summary.base.score, unjudged: summary.tuned.unjudged + summary.base.unjudged, judge_trusted: judgeChecked.trusted };
  }

  // It loads the model: one GPU job at a time, as training and export.
  deps.queue.register(EVALUATION_JOB, { payload: evaluationPayload, group: "gpu", maxAttempts: 1, run });
}
