import { expect, test } from "bun:test";
import { exactMatch, normalize, tokenF1 } from "./knowledge.bench.ts";

test("SQuAD scoring: normalised exact match and token F1", () => {
  expect(normalize("The  Eiffel Tower, in Paris!")).toBe("eiffel tower in paris");
  expect(exactMatch("the Eiffel tower", "Eiffel Tower.")).toBe(1);
  expect(exactMatch("Eiffel Tower in Paris", "Eiffel Tower")).toBe(0);
  expect(tokenF1("Eiffel Tower in Paris", "Eiffel Tower")).toBeCloseTo((2 * 0.5 * 1) / 1.5, 6);
  expect(tokenF1("nothing alike", "Eiffel Tower")).toBe(0);
  // Repeated words count once per occurrence in the gold answer.
  expect(tokenF1("tower tower tower", "tower")).toBeCloseTo((2 * (1 / 3) * 1) / (1 / 3 + 1), 6);
});
