/**
 * When most of a preview is refused, a sentence saying so plainly, with the likely cause
 * and what to try: a list of reasons alone leaves a new user guessing. With a small
 * generation model (SmolLM2-135M wrote 3 valid of 10 on real Wikipedia paragraphs), most
 * answers are ungrounded or run on; a long passage does the same to a model with a short
 * context.
 */
export type PreviewAdvice = { headline: string; cause: string; tryThis: string };

/**
 * `examples`: the preview's rows (valid or not); `filtered`: the job's refusals by reason
 * (refused examples, and requests that produced none: not JSON, cut off).
 */
export function previewAdvice(examples: { isValid: boolean }[], filtered: Record<string, number>, model: string | null): PreviewAdvice | null {
  const valid = examples.filter((e) => e.isValid).length;
  const invalid = examples.length - valid;
  const refusals = Object.values(filtered).reduce((a, b) => a + b, 0);
  if (examples.length ? invalid <= valid : refusals === 0) return null;
  const refusedByReason = new Map(Object.entries(filtered));
  const count = (test: (reason: string) => boolean) => [...refusedByReason].filter(([r]) => test(r)).reduce((n, [, k]) => n + k, 0);
  const ungrounded = count((r) => r.startsWith("not grounded"));
  const ranOn = count((r) => r.includes("cut off") || r.includes("not valid JSON") || r.includes("expected fields") || r.includes("no examples"));
  const who = model ? `“${model}”` : "The generation model";
  const headline = examples.length ? `Most of this preview was refused: ${valid} valid of ${examples.length}.` : "Nothing in this preview could be kept.";
  if (ranOn >= ungrounded) {
    return {
      headline,
      cause: `${who} often ran on or did not write the JSON asked for. A model this small, or a passage too long for its context, does that.`,
      tryThis: "Pick a larger generation model (7–8B, such as llama3.1:8b or qwen2.5:7b) and preview again.",
    };
  }
  return {
    headline,
    cause: `${who} wrote answers the passages do not support. Small models (under about 1B parameters) often do; the check keeps them out of your training set, which is why they were refused.`,
    tryThis: "Pick a larger generation model (7–8B, such as llama3.1:8b or qwen2.5:7b) and preview again; shorter, focused documents help too.",
  };
}
