/**
 * Preference pairs: the user's judgement where it is made (the playground's choices and
 * corrections, the scorecard's wrong answers), kept with where they came from and who
 * wrote each reply; exported in TRL's conversational prompt/chosen/rejected form; and
 * "Improve with feedback", a preference round (DPO) on the latest adapter.
 */
import { and, count, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { AppError } from "../lib/errors.ts";
import type { ProjectService } from "../projects/service.ts";
import type { TrainingService } from "../training/service.ts";
import type { EvaluationView } from "../evaluation/schemas.ts";
import { preferences, type PreferenceRow } from "./table.ts";
import {
  MIN_PREFERENCE_PAIRS,
  PREFERENCE_PAGE_SIZE,
  PREFERENCE_SOURCES,
  SOURCE_LABELS,
  type PreferenceCounts,
  type PreferenceInput,
  type PreferencePage,
  type PreferenceRoundInput,
  type PreferenceSource,
  type PreferenceUpdate,
  type PreferenceView,
} from "./schemas.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toPreferenceView(r: PreferenceRow): PreferenceView {
  return {
    id: r.id,
    source: r.source,
    prompt: r.prompt,
    chosen: r.chosen,
    rejected: r.rejected,
    chosen_by: r.chosenBy,
    rejected_by: r.rejectedBy,
    run_id: r.runId,
    question_id: r.questionId,
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt),
  };
}

/** One line of TRL's conversational preference format. */
export const trlLine = (r: Pick<PreferenceRow, "prompt" | "chosen" | "rejected">) =>
  `${JSON.stringify({ prompt: r.prompt, chosen: [{ role: "assistant", content: r.chosen }], rejected: [{ role: "assistant", content: r.rejected }] })}\n`;

export function createPreferenceService(deps: {
  db: Db;
  projects: ProjectService;
  training: Pick<TrainingService, "getRun" | "startPreferenceRound">;
  /** The latest scorecard (evaluation service): "Use as feedback" reads its answers. */
  latestEvaluation: (projectId: string) => EvaluationView | null;
  now?: () => number;
}) {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  function row(projectId: string, id: string): PreferenceRow {
    deps.projects.get(projectId);
    const found = db.select().from(preferences).where(and(eq(preferences.projectId, projectId), eq(preferences.id, id))).get();
    if (!found) throw new AppError(404, "preference_not_found", "Preference pair not found.");
    return found;
  }

  function counts(projectId: string): PreferenceCounts {
    const rows = db.select({ source: preferences.source, n: count() }).from(preferences).where(eq(preferences.projectId, projectId)).groupBy(preferences.source).all();
    const by = Object.fromEntries(rows.map((r) => [r.source, r.n])) as Partial<Record<PreferenceSource, number>>;
    const each = Object.fromEntries(PREFERENCE_SOURCES.map((s) => [s, by[s] ?? 0])) as Record<PreferenceSource, number>;
    return { total: Object.values(each).reduce((a, b) => a + b, 0), ...each };
  }

  function insert(projectId: string, input: PreferenceInput): PreferenceView {
    if (input.run_id) {
      const run = deps.training.getRun(input.run_id);
      if (!run || run.projectId !== projectId) throw new AppError(422, "run_not_in_project", "run_id names no run of this project: a pair keeps the run of the model that answered.");
    }
    const id = crypto.randomUUID();
    db.insert(preferences)
      .values({
        id,
        projectId,
        source: input.source,
        prompt: input.prompt,
        chosen: input.chosen,
        rejected: input.rejected,
        chosenBy: input.chosen_by ?? "user",
        rejectedBy: input.rejected_by ?? "tuned",
        runId: input.run_id ?? null,
        questionId: input.question_id ?? null,
        createdAt: now(),
      })
      .run();
    return toPreferenceView(row(projectId, id));
  }

  return {
    counts: (projectId: string) => (deps.projects.get(projectId), counts(projectId)),

    list(projectId: string, query: { source?: PreferenceSource; page: number }): PreferencePage {
      deps.projects.get(projectId);
      const where = and(eq(preferences.projectId, projectId), query.source ? eq(preferences.source, query.source) : undefined);
      const total = db.select({ n: count() }).from(preferences).where(where).get()?.n ?? 0;
      const items = db
        .select()
        .from(preferences)
        .where(where)
        .orderBy(desc(preferences.createdAt), desc(preferences.id))
        .limit(PREFERENCE_PAGE_SIZE)
        .offset((query.page - 1) * PREFERENCE_PAGE_SIZE)
        .all();
      return { items: items.map(toPreferenceView), page: query.page, page_size: PREFERENCE_PAGE_SIZE, total, counts: counts(projectId), min_pairs: MIN_PREFERENCE_PAIRS };
    },

    get: (projectId: string, id: string) => toPreferenceView(row(projectId, id)),

    create(projectId: string, input: PreferenceInput): PreferenceView {
      deps.projects.get(projectId);
      if (input.question_id) return this.fromScorecard(projectId, input.question_id, input);
      return insert(projectId, input);
    },

    /**
     * "Use as feedback" on a scorecard question the tuned model got wrong or partly
     * right: chosen is the reference answer, rejected the tuned answer. Asked twice for
     * one question, the pair already made is returned.
     */
    fromScorecard(projectId: string, questionId: string, given?: PreferenceInput): PreferenceView {
      deps.projects.get(projectId);
      const existing = db.select().from(preferences).where(and(eq(preferences.projectId, projectId), eq(preferences.questionId, questionId))).get();
      if (existing) return toPreferenceView(existing);
      const scorecard = deps.latestEvaluation(projectId);
      const item = scorecard?.items.find((i) => i.example_id === questionId);
      if (!scorecard || !item) throw new AppError(422, "question_not_in_scorecard", "question_id names no question of this project's latest scorecard.");
      if (given) return insert(projectId, { ...given, run_id: given.run_id ?? scorecard.run_id });
      if (item.tuned_verdict === "correct") throw new AppError(409, "answer_was_right", "The tuned model answered this question correctly: there is nothing to correct.");
      if (item.tuned_answer.trim() === item.reference.trim()) throw new AppError(409, "answer_was_right", "The tuned answer is the reference answer itself.");
      return insert(projectId, {
        source: "scorecard",
        prompt: [{ role: "user", content: item.question }],
        chosen: item.reference,
        rejected: item.tuned_answer.trim() || "(no answer)",
        chosen_by: "reference",
        rejected_by: "tuned",
        run_id: scorecard.run_id,
        question_id: questionId,
      });
    },

    update(projectId: string, id: string, patch: PreferenceUpdate): PreferenceView {
      const current = row(projectId, id);
      const chosen = patch.chosen ?? current.chosen;
      const rejected = patch.rejected ?? current.rejected;
      if (chosen === rejected) throw new AppError(422, "validation_error", "The chosen and rejected replies are the same: a pair needs two different replies.", { rejected: "The chosen and rejected replies are the same." });
      db.update(preferences).set({ chosen, rejected, updatedAt: now() }).where(eq(preferences.id, id)).run();
      return toPreferenceView(row(projectId, id));
    },

    remove(projectId: string, id: string): void {
      row(projectId, id);
      db.delete(preferences).where(eq(preferences.id, id)).run();
    },

    /** Every pair, oldest first, as TRL's conversational JSONL. */
    exportJsonl(projectId: string): string {
      deps.projects.get(projectId);
      return db.select().from(preferences).where(eq(preferences.projectId, projectId)).orderBy(preferences.createdAt, preferences.id).all().map(trlLine).join("");
    },

    /** "Improve with feedback": a preference round on the latest adapter, refused with the numbers below the minimum. */
    startRound(projectId: string, input: PreferenceRoundInput) {
      deps.projects.get(projectId);
      const have = counts(projectId);
      if (have.total < MIN_PREFERENCE_PAIRS) {
        const parts = PREFERENCE_SOURCES.map((s) => `${have[s]} ${SOURCE_LABELS[s].toLowerCase()}`).join(", ");
        throw new AppError(409, "too_few_pairs", `A preference round needs at least ${MIN_PREFERENCE_PAIRS} pairs; this project has ${have.total} (${parts}). Judge more replies in the playground or use wrong scorecard answers as feedback.`);
      }
      const rows = db.select().from(preferences).where(eq(preferences.projectId, projectId)).orderBy(preferences.createdAt, preferences.id).all();
      const questionIds = rows.flatMap((r) => (r.questionId ? [r.questionId] : []));
      return deps.training.startPreferenceRound(projectId, { pairs: rows.map(trlLine).join(""), count: rows.length, questionIds, ...input });
    },
  };
}

export type PreferenceService = ReturnType<typeof createPreferenceService>;
