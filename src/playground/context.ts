/**
 * A playground conversation fitted to what the model can read, before it reaches the
 * worker: the oldest turns are left out until the rendered prompt fits (the system
 * message, if any, and the last user message always stay). A chat of 50 long messages
 * would otherwise be prefilled whole, swelling the worker by gigabytes and holding it
 * for minutes.
 */
import { AppError } from "../lib/errors.ts";
import type { ChatMessage } from "../models/chat-encoding.ts";

/** The most tokens the playground reads, whatever the model's context: prefill on a CPU or a small GPU is slow past it. */
export const PLAYGROUND_MAX_CONTEXT = 8192;

/** No real tokenizer packs more than this many characters in a token: a safe lower bound on a text's tokens. */
const MAX_CHARS_PER_TOKEN = 16;

export type FittedConversation = { messages: ChatMessage[]; dropped: number; tokens: number };

/** What the prompt may take: the model's context (at most PLAYGROUND_MAX_CONTEXT) less the reply's room. */
export function promptBudget(contextLength: number | null, maxNewTokens: number): number {
  return Math.min(contextLength ?? 4096, PLAYGROUND_MAX_CONTEXT) - maxNewTokens;
}

/**
 * Drops the fewest oldest turns that make `count(messages) <= budget`. `count` is the
 * rendered prompt's token count (monotone in the turns kept), so the cut is found by
 * bisection after a cheap pass that drops turns no tokenizer could fit.
 */
export function fitConversation(messages: ChatMessage[], budget: number, count: (m: ChatMessage[]) => number): FittedConversation {
  const head = messages[0]?.role === "system" ? [messages[0]] : [];
  const turns = messages.slice(head.length);
  const keep = (drop: number) => {
    let rest = turns.slice(drop);
    // A conversation the template accepts starts with the user.
    while (rest.length > 1 && rest[0]!.role !== "user") rest = rest.slice(1);
    return [...head, ...rest];
  };
  // Cheap pass: from the newest turn back, stop where even the lower bound is past the budget.
  let low = 0;
  let bound = head.reduce((n, m) => n + m.content.length / MAX_CHARS_PER_TOKEN, 0);
  for (let i = turns.length - 1; i >= 0; i--) {
    bound += turns[i]!.content.length / MAX_CHARS_PER_TOKEN;
    if (bound > budget) {
      low = i + 1;
      break;
    }
  }
  let high = turns.length - 1; // only the last user message left
  low = Math.min(low, high);
  const lastAlone = keep(high);
  const lastTokens = count(lastAlone);
  if (lastTokens > budget) {
    throw new AppError(
      422,
      "prompt_too_long",
      `This message is about ${lastTokens.toLocaleString("en")} tokens with the chat's template, but the model reads at most ${budget.toLocaleString("en")} here (its context less the reply's room): shorten it.`,
    );
  }
  // Bisection: the smallest drop count whose prompt fits (dropping all but the last fits).
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (count(keep(mid)) <= budget) high = mid;
    else low = mid + 1;
  }
  const kept = keep(high);
  return { messages: kept, dropped: messages.length - kept.length, tokens: kept.length === lastAlone.length ? lastTokens : count(kept) };
}
