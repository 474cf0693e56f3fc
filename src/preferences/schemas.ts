/** Preference pairs and preference rounds: inputs, what the API answers, what views show. */
import { z } from "zod";

export const PREFERENCE_SOURCES = ["playground_choice", "playground_correction", "scorecard"] as const;
export type PreferenceSource = (typeof PREFERENCE_SOURCES)[number];
export const SOURCE_LABELS: Record<PreferenceSource, string> = {
  playground_choice: "Playground: a side picked",
  playground_correction: "Playground: a reply written",
  scorecard: "Scorecard: a wrong answer",
};
/**
 * Below this many pairs a round mostly memorises the few replies it was shown; DPO
 * recipes start from hundreds, but one person's judgement comes a few pairs at a time.
 */
export const MIN_PREFERENCE_PAIRS = 8;
export const PREFERENCE_PAGE_SIZE = 50;
const REPLY_CHARS = 20_000;

export const chatTurnSchema = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string().max(REPLY_CHARS, `A message holds at most ${REPLY_CHARS} characters.`) });
export type ChatTurn = z.infer<typeof chatTurnSchema>;

const reply = (side: "chosen" | "rejected") =>
  z
    .string({ error: `The ${side} reply must be text.` })
    .trim()
    .min(1, `The ${side} reply is empty.`)
    .max(REPLY_CHARS, `The ${side} reply is longer than ${REPLY_CHARS} characters.`);
const author = z.string().trim().min(1).max(200);

/** A prompt: one user message, or a conversation that ends with the user's turn. */
const promptSchema = z
  .preprocess((v) => (typeof v === "string" ? [{ role: "user", content: v.trim() }] : v), z.array(chatTurnSchema, { error: "The prompt must be text or a list of {role, content} messages." }).max(64, "A prompt holds at most 64 messages."))
  .superRefine((turns, ctx) => {
    const last = turns.at(-1);
    if (!last || (last.role === "user" && last.content.trim() === "")) ctx.addIssue({ code: "custom", message: "The prompt is empty." });
    else if (last.role !== "user") ctx.addIssue({ code: "custom", message: "The prompt must end with a non-empty user message." });
  })
  .meta({ description: "The user's message, or the conversation up to and including it ([{role, content}], last role user)" });

const differ = (pair: { chosen?: string; rejected?: string }) => pair.chosen === undefined || pair.rejected === undefined || pair.chosen !== pair.rejected;
const SAME_REPLY = "The chosen and rejected replies are the same: a pair needs two different replies.";

export const preferenceInputSchema = z
  .object({
    source: z.enum(PREFERENCE_SOURCES, { error: `source must be one of ${PREFERENCE_SOURCES.join(", ")}.` }),
    prompt: promptSchema,
    chosen: reply("chosen"),
    rejected: reply("rejected"),
    chosen_by: author.optional().meta({ description: "Who wrote the chosen reply: tuned, base, ollama:<name>, user, reference (default: user)" }),
    rejected_by: author.optional().meta({ description: "Who wrote the rejected reply (default: tuned)" }),
    run_id: z.string().trim().min(1).max(100).optional().meta({ description: "The run whose model wrote the replies (it must belong to this project)" }),
    question_id: z.string().trim().min(1).max(100).optional().meta({ description: "The scorecard question (an example of this project) the pair comes from" }),
  })
  .strict()
  .refine(differ, { message: SAME_REPLY, path: ["rejected"] });
export type PreferenceInput = z.infer<typeof preferenceInputSchema>;

export const preferenceUpdateSchema = z
  .object({ chosen: reply("chosen").optional(), rejected: reply("rejected").optional() })
  .strict()
  .refine((p) => p.chosen !== undefined || p.rejected !== undefined, "Send chosen, rejected, or both.")
  .refine(differ, { message: SAME_REPLY, path: ["rejected"] });
export type PreferenceUpdate = z.infer<typeof preferenceUpdateSchema>;

export const preferenceListQuery = z.object({
  source: z.enum(PREFERENCE_SOURCES).optional(),
  page: z.coerce.number().int().min(1).default(1),
});

/** "Use as feedback" on the scorecard: the held-out question, by its example id. */
export const scorecardFeedbackSchema = z.object({ question_id: z.string().trim().min(1).max(100) }).strict();

export const preferenceJsonSchema = z.object({
  id: z.string(),
  source: z.enum(PREFERENCE_SOURCES),
  prompt: z.array(chatTurnSchema),
  chosen: z.string(),
  rejected: z.string(),
  chosen_by: z.string(),
  rejected_by: z.string(),
  run_id: z.string().nullable(),
  question_id: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string().nullable(),
});
export type PreferenceView = z.infer<typeof preferenceJsonSchema>;

export const preferenceCountsSchema = z.object({ total: z.number().int(), playground_choice: z.number().int(), playground_correction: z.number().int(), scorecard: z.number().int() });
export type PreferenceCounts = z.infer<typeof preferenceCountsSchema>;

export const preferencePageSchema = z.object({
  items: z.array(preferenceJsonSchema),
  page: z.number().int(),
  page_size: z.number().int(),
  total: z.number().int().meta({ description: "Pairs matching the filter" }),
  counts: preferenceCountsSchema.meta({ description: "All the project's pairs, by source" }),
  min_pairs: z.number().int().meta({ description: "The fewest pairs a preference round starts with" }),
});
export type PreferencePage = z.infer<typeof preferencePageSchema>;

/** "Improve with feedback": the round's settings; left out, the family's preset. */
export const preferenceRoundInputSchema = z
  .object({
    beta: z.number().min(0.01, "beta is at least 0.01.").max(5, "beta is at most 5.").optional().meta({ description: "How far the round may move from the adapter it starts from (higher: less); default per family, 0.1" }),
    num_epochs: z.number().min(0.1).max(20).optional().meta({ description: "Passes over the pairs (default 3)" }),
    learning_rate: z.number().min(1e-7).max(1e-2).optional().meta({ description: "Default: a tenth of the run's rate" }),
  })
  .strict();
export type PreferenceRoundInput = z.infer<typeof preferenceRoundInputSchema>;
