"""Metric rules shared with the server (src/training/metrics.ts holds the same rules;
both sides test them against tests/fixtures/perplexity.json)."""

from __future__ import annotations

import math

# exp(50) ≈ 5e21: past it a perplexity says nothing but "diverged".
MAX_PERPLEXITY_LOSS = 50.0


def perplexity(loss: float | None) -> float | None:
    """exp(loss) for a finite loss up to MAX_PERPLEXITY_LOSS, else None (never inf or NaN)."""
    if loss is None or not math.isfinite(loss) or loss > MAX_PERPLEXITY_LOSS:
        return None
    return math.exp(loss)
