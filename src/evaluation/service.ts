/**
 * The judged evaluation: did the model learn the documents? Held-out questions (the
 * eval split, which holds whole documents out of training) are answered by the base
 * and the tuned model (the trainer's `answers`, greedy, one load), then graded by an
 * LLM judge through the generation backends. Closed-book asks without the passage;
 * with_context gives it, as the spec's Q&A trains. General questions shipped with the
 * app check that the tuned model did not forget what the base knew.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { artifacts, evaluations, trainingRuns } from "../db/schema.ts";
import { projectDir } from "../lib/data-dir.ts";
import type { Backend } from "../generation/backends.ts";
import { JobError, type JobQueue } from "../jobs/queue.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { toMessages } from "../models/chat-encoding.ts";
import type { ProjectService } from "../projects/service.ts";
import { answerLineSchema } from "../training/events.ts";
import { runTrainer, type TrainerSettings } from "../training/supervisor.ts";
import { liveRow } from "../datasets/example-store.ts";
import general from "./general-questions.v1.json";
import { judge } from "./judge.ts";
import { scorecardMarkdown, summarize, withScorecard, type JudgedItem, type Summary } from "./scorecard.ts";

export const EVALUATION_JOB = "evaluation";
export const EVALUATION_MODES = ["closed_book", "with_context"] as const;
export type EvaluationMode = (typeof EVALUATION_MODES)[number];
const DEFAULT_SAMPLES = 40;
/** The closed-book twin of a question asked with its passage. */
const CLOSED_SUFFIX = "#closed";
/** A tuned score this far under the base's on general questions is a clear drop. */
export const FORGETTING_DROP = 0.15;
/** Long enough for a full answer to a documents question; a model that never stops is cut here. */
const MAX_ANSWER_TOKENS = 160;
/** Questions judged at once per endpoint. */
const JUDGE_CONCURRENCY = 4;

export const evaluateInput = z
  .object({
    judge_model: z.string().trim().min(1).max(200).optional(),
    samples: z.number().int().min(1, "Ask at least one question.").max(500, "At most 500 questions.").optional(),
    mode: z.enum(EVALUATION_MODES, { error: "Mode must be closed_book or with_context." }).optional(),
  })
  .strict();
export type EvaluateInput = z.infer<typeof evaluateInput>;

const payloadSchema = z.object({ runId: z.string(), judgeModel: z.string(), samples: z.number().int(), mode: z.enum(EVALUATION_MODES) });

export type Forgetting = { version: string; n: number; base_score: number | null; tuned_score: number | null; drop: boolean };
export type EvaluationView = {
  run_id: string;
  judge_model: string;
  mode: EvaluationMode;
  summary: Summary;
  items: JudgedItem[];
  forgetting: Forgetting | null;
  created_at: string;
};

type Question = { id: string; fileId: string | null; filename: string | null; question: string; reference: string; passage: string | null; prompt: ReturnType<typeof toMessages> };

export function createEvaluationService(deps: {
  db: Db;
  queue: JobQueue;
  projects: ProjectService;
  backends: Backend[];
  trainer: TrainerSettings;
  trainerEnv?: (projectId: string) => Record<string, string>;
  logger: Logger;
  listModels: () => Promise<string[]>;
  dataDir: string;
  random?: () => number;
  now?: () => number;
}) {
  const { db } = deps;
  const sqlite = db.$client;
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;

  /** Up to `n` eval examples, taken in turn from each document so every one is covered (SQL picks them: an eval split can hold 100k rows). */
  function heldOut(projectId: string, n: number) {
    return sqlite
      .query(
        `select id, instruction, input, output, fileId, filename, source from (
           select e.id, e.instruction, e.input, e.output, e.file_id as fileId, f.filename, c.text as source, e.rowid as r,
                  row_number() over (partition by e.file_id order by e.rowid) as k
           from examples e left join files f on f.id = e.file_id left join chunks c on c.id = e.chunk_id
           where e.project_id = ? and e.split = 'eval' and e.is_valid = 1 and ${liveRow("e")})
         order by k, fileId, r limit ?`,
      )
      .all(projectId, n) as { id: string; instruction: string; input: string; output: string; fileId: string | null; filename: string | null; source: string | null }[];
  }

  /**
   * The run's questions in the asked mode; with the passage, the same questions without
   * it too (`closed`): users will ask without the passage, so both scores are shown.
   */
  function questions(projectId: string, runDir: string, samples: number, mode: EvaluationMode): { own: Question[]; closed: Question[]; general: Question[] } {
    const config = z.object({ system_prompt: z.string().nullish() }).passthrough().parse(JSON.parse(readFileSync(join(runDir, "run_config.json"), "utf8")));
    const prompt = (instruction: string, input: string) => toMessages({ instruction, input, output: "" }, config.system_prompt).slice(0, -1);
    const own = heldOut(projectId, samples).map((e) => ({
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
    const generalQuestions = general.questions.map((g) => ({ id: `general:${g.id}`, fileId: null, filename: null, question: g.question, reference: g.reference, passage: null, prompt: prompt(g.question, "") }));
    return { own, closed, general: generalQuestions };
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
        const r = await judge(backend, judgeModel, { question: q.question, reference: q.reference, passage: q.passage, base: a.base, tuned: a.tuned }, { random, signal });
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

  deps.queue.register(EVALUATION_JOB, {
    payload: payloadSchema,
    // It loads the model: one GPU job at a time, as training and export.
    group: "gpu",
    maxAttempts: 1,
    run: async ({ payload, progress, signal, job }) => {
      const run = db.select().from(trainingRuns).where(eq(trainingRuns.id, payload.runId)).get();
      if (!run) return { skipped: "run deleted" };
      const dir = join(run.outputDir, "evaluation");
      mkdirSync(dir, { recursive: true });
      const { own, closed, general: generalQuestions } = questions(run.projectId, run.outputDir, payload.samples, payload.mode);
      if (own.length === 0) throw new JobError("There are no valid eval examples to ask: the eval split is empty.");
      const all = [...own, ...closed, ...generalQuestions];
      const questionsFile = join(dir, "questions.jsonl");
      const answersFile = join(dir, "answers.jsonl");
      writeFileSync(questionsFile, all.map((q) => JSON.stringify({ id: q.id, messages: q.prompt })).join("\n") + "\n");
      progress(1, `Answering ${all.length} questions with the base and the tuned model`);
      const result = await runTrainer({
        trainer: { ...deps.trainer, env: { ...deps.trainer.env, ...deps.trainerEnv?.(run.projectId) } },
        args: ["answers", "--run", run.outputDir, "--questions", questionsFile, "--out", answersFile, "--max-new-tokens", String(MAX_ANSWER_TOKENS)],
        signal,
        logger: deps.logger,
        handlers: {
          onEvent: (e) => {
            if (e.event === "progress") progress(Math.min(60, e.progress_pct * 0.6), `Answering: ${e.message}`);
          },
          onStderr: () => {},
        },
      });
      if (result.exitCode !== 0) throw new JobError(result.lastError?.message ?? result.spawnError ?? `The model could not answer the questions (exit code ${result.exitCode}).`);
      const answers = new Map(
        readFileSync(answersFile, "utf8")
          .split("\n")
          .filter((l) => l.trim())
          .map((l) => answerLineSchema.parse(JSON.parse(l)))
          .map((a) => [a.id, a] as const),
      );
      let judged = 0;
      const items = await judgeAll(all, answers, payload.judgeModel, signal, () => {
        judged++;
        progress(60 + (40 * judged) / all.length, `Judged ${judged}/${all.length} with ${payload.judgeModel}`);
      });
      const ownItems = items.slice(0, own.length);
      const closedItems = items.slice(own.length, own.length + closed.length).map((i) => ({ ...i, example_id: i.example_id.slice(0, -CLOSED_SUFFIX.length) }));
      const generalSummary = summarize(items.slice(own.length + closed.length));
      const forgetting: Forgetting = {
        version: general.version,
        n: generalQuestions.length,
        base_score: generalSummary.base.score,
        tuned_score: generalSummary.tuned.score,
        drop: generalSummary.base.score !== null && generalSummary.tuned.score !== null && generalSummary.base.score - generalSummary.tuned.score >= FORGETTING_DROP,
      };
      const summary = summarize(ownItems);
      const closedSummary = closed.length ? summarize(closedItems) : null;
      const at = now();
      db.transaction((tx) => {
        if (closedSummary) {
          tx.insert(evaluations).values({ id: `${job.id}${CLOSED_SUFFIX}`, projectId: run.projectId, runId: run.id, judgeModel: payload.judgeModel, mode: "closed_book", summary: closedSummary, items: closedItems, forgetting, createdAt: at }).run();
        }
        // The asked mode is the project's latest evaluation (a millisecond after its closed-book twin).
        tx.insert(evaluations).values({ id: job.id, projectId: run.projectId, runId: run.id, judgeModel: payload.judgeModel, mode: payload.mode, summary, items: ownItems, forgetting, createdAt: at + (closedSummary ? 1 : 0) }).run();
      });
      // report.md: the run's own section for the next export, and any export already made.
      const section = scorecardMarkdown(summary, { judgeModel: payload.judgeModel, mode: payload.mode, forgetting, closedBook: closedSummary });
      writeFileSync(join(dir, "scorecard.md"), section);
      for (const a of db.select().from(artifacts).where(and(eq(artifacts.runId, run.id), eq(artifacts.filename, "report.md"))).all()) {
        const path = join(projectDir(deps.dataDir, run.projectId), a.relativePath);
        if (existsSync(path)) writeFileSync(path, withScorecard(readFileSync(path, "utf8"), section));
      }
      return { n: summary.n, tuned_score: summary.tuned.score, base_score: summary.base.score, unjudged: summary.tuned.unjudged + summary.base.unjudged };
    },
  });

  function latestRun(projectId: string) {
    const run = db
      .select()
      .from(trainingRuns)
      .where(and(eq(trainingRuns.projectId, projectId), eq(trainingRuns.status, "success")))
      .orderBy(desc(trainingRuns.createdAt))
      .get();
    if (!run) throw new AppError(409, "no_trained_run", "No training run finished successfully yet: train the model first.");
    return run;
  }

  return {
    async start(projectId: string, input: EvaluateInput) {
      const project = deps.projects.get(projectId);
      const run = latestRun(projectId);
      if (deps.queue.active(projectId, [EVALUATION_JOB])) throw new AppError(409, "evaluation_running", "An evaluation is already running for this project.");
      let judgeModel = input.judge_model ?? project.config.generation_model;
      if (!judgeModel) {
        const models = await deps.listModels();
        if (models.length === 0) throw new AppError(409, "no_models", "No judge model: Ollama has none installed. Install one with `ollama pull llama3.1:8b`, then try again.");
        judgeModel = models[0]!;
      }
      const mode = input.mode ?? (project.taskType === "qa" && project.config.qa_context !== "closed_book" ? "with_context" : "closed_book");
      return deps.queue.enqueue(EVALUATION_JOB, projectId, { runId: run.id, judgeModel, samples: input.samples ?? DEFAULT_SAMPLES, mode });
    },

    /**
     * After each successful run, when a judge is known (the model that generated the
     * data): never throws, a training that succeeded stays a success.
     */
    afterTraining(projectId: string): void {
      const judgeModel = deps.projects.get(projectId).config.generation_model;
      if (!judgeModel) return;
      this.start(projectId, { judge_model: judgeModel }).catch((err) => deps.logger.warn("evaluation not started after training", { project_id: projectId, error: (err as Error).message }));
    },

    /** The latest evaluation (of one mode when asked), or null. */
    latest(projectId: string, mode?: EvaluationMode): EvaluationView | null {
      deps.projects.get(projectId);
      const row = db
        .select()
        .from(evaluations)
        .where(and(eq(evaluations.projectId, projectId), mode ? eq(evaluations.mode, mode) : undefined))
        .orderBy(desc(evaluations.createdAt))
        .get();
      if (!row) return null;
      return {
        run_id: row.runId,
        judge_model: row.judgeModel,
        mode: row.mode,
        summary: row.summary as Summary,
        items: row.items as JudgedItem[],
        forgetting: (row.forgetting as Forgetting | null) ?? null,
        created_at: new Date(row.createdAt).toISOString(),
      };
    },
  };
}

export type EvaluationService = ReturnType<typeof createEvaluationService>;
