/**
 * Metric rules shared with the trainer (python/finetuneflow_trainer/metrics.py holds
 * the same rules; both sides test them against tests/fixtures/perplexity.json).
 */

/** exp(50) ≈ 5e21: past it a perplexity says nothing but "diverged". */
export const MAX_PERPLEXITY_LOSS = 50;

/** exp(loss) for a finite loss up to MAX_PERPLEXITY_LOSS, else null (never Infinity or NaN). */
export function perplexity(loss: number | null): number | null {
  if (loss === null || !Number.isFinite(loss) || loss > MAX_PERPLEXITY_LOSS) return null;
  return Math.exp(loss);
}
