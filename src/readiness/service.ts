/**
 * Before training: what the trainer will see. A sample of the project's own examples
 * rendered exactly as training encodes them (models/chat-encoding.ts: template,
 * answer-only labels, the cut at max_seq_length), how many examples fit, are cut or
 * lose their whole answer at a length, a suggested length, the model family's
 * preset, and the refusal of a run that would train on nothing whole.
 */
import type { ExampleStore } from "../datasets/example-store.ts";
import { AppError } from "../lib/errors.ts";
import { fitAt, toMessages, type EncodedExample } from "../models/chat-encoding.ts";
import { presetFor, SAFE_DEFAULTS } from "../models/presets.ts";
import { projectChatTokenizer, projectTokenCounter } from "../models/tokenizer.ts";
import type { ProjectService } from "../projects/service.ts";
import { TRAINING_DEFAULTS, TRAINING_FIELDS } from "../training/schemas.ts";
import type { ReadinessExample, ReadinessReport, Segment } from "./schemas.ts";

export { CUT_WARNING_SHARE } from "./schemas.ts";
const BACKFILL_BATCH = 2000;
const LENGTH_STEP = 64;

const decoder = new TextDecoder();

/** The tokens of the window, grouped into runs of masked / trained / special text. */
function segmentsOf(e: EncodedExample, window: number): Segment[] {
  const bytes = new TextEncoder().encode(e.text);
  const segments: Segment[] = [];
  let from = 0;
  const kindOf = (i: number) => `${i >= e.promptTokens ? 1 : 0}${e.special[i] ? 1 : 0}`;
  for (let i = 1; i <= window; i++) {
    if (i < window && kindOf(i) === kindOf(from)) continue;
    // A run's text reaches to the next run's first token (spans may skip a trimmed space).
    const end = i < window ? e.spans[i]![0] : e.spans[i - 1]![1];
    segments.push({ text: decoder.decode(bytes.subarray(e.spans[from]![0], end)), trained: from >= e.promptTokens, special: e.special[from]! });
    from = i;
  }
  return segments;
}

/** The smallest multiple of 64 holding 99% of the examples whole, within the model's context. */
export function suggestLength(p99: number | null, contextLength: number | null): number {
  const ceiling = Math.min(contextLength ?? TRAINING_FIELDS.max_seq_length.max, TRAINING_FIELDS.max_seq_length.max);
  if (p99 === null) return Math.min(ceiling, TRAINING_DEFAULTS.max_seq_length);
  return Math.max(TRAINING_FIELDS.max_seq_length.min, Math.min(ceiling, Math.ceil(p99 / LENGTH_STEP) * LENGTH_STEP));
}

export function createReadinessService(deps: { projects: ProjectService; examples: ExampleStore }) {
  const info = (projectId: string) => deps.projects.get(projectId).modelInfo;

  /** Rows imported before prompt tokens were counted get them now (once). */
  function backfill(projectId: string) {
    const count = projectTokenCounter(info(projectId));
    for (;;) {
      const rows = deps.examples.uncountedPrompts(projectId, BACKFILL_BATCH);
      if (rows.length === 0) return;
      deps.examples.setCounts(rows.map((r) => ({ r: r.r, ...count(r) })));
    }
  }

  function suggested(projectId: string): number {
    const [p99] = deps.examples.tokenQuantiles(projectId, [0.99]);
    return suggestLength(p99 ?? null, info(projectId)?.context_length ?? null);
  }

  /** How valid examples fare at a length (whole, cut, dropped), every row counted. */
  function lengthsAt(projectId: string, maxSeq: number, splits?: readonly ("train" | "eval")[]) {
    backfill(projectId);
    return deps.examples.fitAt(projectId, maxSeq, splits);
  }

  function totals(projectId: string, maxSeq: number) {
    const fit = lengthsAt(projectId, maxSeq);
    const [p50, p95] = deps.examples.tokenQuantiles(projectId, [0.5, 0.95]);
    return { examples: fit.n, fit: fit.fit, truncated: fit.truncated, dropped: fit.dropped, p50_tokens: p50 ?? null, p95_tokens: p95 ?? null, max_tokens: fit.n ? fit.maxTokens : null };
  }

  function render(projectId: string, maxSeq: number, n: number): { examples: ReadinessExample[]; templateSource: "model" | "generic"; exact: boolean; templateError: string | null } {
    const model = info(projectId);
    const tokenizer = projectChatTokenizer(model);
    const count = projectTokenCounter(model);
    let templateError: string | null = null;
    const examples = deps.examples.spreadSample(projectId, n).map((row): ReadinessExample => {
      if (tokenizer) {
        try {
          const e = tokenizer.encode(toMessages(row));
          const window = Math.min(maxSeq, e.ids.length);
          const f = fitAt({ length: e.ids.length, promptTokens: e.promptTokens }, maxSeq);
          return { example_id: row.id, segments: segmentsOf(e, window), tokens: e.ids.length, trained_tokens: Math.max(0, window - e.promptTokens), truncated: f.truncated, dropped: f.dropped };
        } catch (err) {
          templateError = err instanceof Error ? err.message : String(err);
        }
      }
      // No tokenizer the app can read: the chat without its template, counts estimated.
      const c = count(row);
      const f = fitAt({ length: c.count, promptTokens: c.prompt }, maxSeq);
      const [user, answer] = toMessages(row);
      return {
        example_id: row.id,
        segments: [
          { text: user!.content, trained: false, special: false },
          { text: answer!.content, trained: true, special: false },
        ],
        tokens: c.count,
        trained_tokens: f.dropped ? 0 : Math.min(maxSeq, c.count) - c.prompt,
        truncated: f.truncated,
        dropped: f.dropped,
      };
    });
    return { examples, templateSource: tokenizer?.templateSource ?? "generic", exact: tokenizer !== null && tokenizer.exactMask && templateError === null, templateError };
  }

  return {
    suggested,
    totals,
    lengthsAt,

    /** The preset of the project's model family (null: unknown family, safe defaults). */
    preset: (projectId: string) => presetFor(info(projectId)),

    /** The Train form's starting values from the preset and the data (before the user's own). */
    formDefaults(projectId: string) {
      const preset = presetFor(info(projectId)) ?? SAFE_DEFAULTS;
      return { learning_rate: preset.learningRate.default, max_seq_length: suggested(projectId) };
    },

    report(projectId: string, opts: { maxSeqLength?: number; n: number }): ReadinessReport {
      const suggestion = suggested(projectId);
      const maxSeq = opts.maxSeqLength ?? deps.projects.get(projectId).config.training?.max_seq_length ?? suggestion;
      const t = totals(projectId, maxSeq);
      const r = render(projectId, maxSeq, opts.n);
      const preset = presetFor(info(projectId));
      return {
        max_seq_length: maxSeq,
        template_source: r.templateSource,
        exact: r.exact,
        template_error: r.templateError,
        preset: preset ? { id: preset.id, label: preset.label } : null,
        examples: r.examples,
        totals: t,
        suggested_max_seq_length: suggestion,
      };
    },

    /** Refuses a run in which no training example fits whole: it would train on nothing, or only on cut answers. */
    assertFits(projectId: string, maxSeq: number) {
      const train = lengthsAt(projectId, maxSeq, ["train"]);
      if (train.n === 0 || train.fit > 0) return;
      const best = suggested(projectId);
      const parts = [train.truncated ? `${train.truncated} would be cut` : "", train.dropped ? `${train.dropped} would lose their whole answer` : ""].filter(Boolean).join(" and ");
      throw new AppError(
        422,
        "dataset_does_not_fit",
        `None of the ${train.n} training examples fits in ${maxSeq} tokens (${parts}; the longest is ${train.maxTokens} tokens). Set Max sequence length to ${best} or more (suggested: ${best}).`,
      );
    },
  };
}

export type ReadinessService = ReturnType<typeof createReadinessService>;
