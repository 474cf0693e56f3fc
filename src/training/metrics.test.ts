import { describe, expect, test } from "bun:test";
import vectors from "../../tests/fixtures/perplexity.json";
import { perplexity } from "./metrics.ts";

const asNumber = (v: number | string | null) => (v === null ? null : typeof v === "string" ? Number(v) : v);

describe("perplexity", () => {
  test("follows the rule shared with the trainer, case for case", () => {
    for (const c of vectors.cases) {
      const got = perplexity(asNumber(c.loss));
      if (c.perplexity === null) expect(got).toBeNull();
      else expect(got!).toBeCloseTo(c.perplexity, 6 - Math.round(Math.log10(c.perplexity)));
    }
  });
});
