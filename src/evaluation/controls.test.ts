import { describe, expect, test } from "bun:test";
import { parameterCount } from "../models/parameter-count.ts";
import { controlPairs, judgeCheck, strongerThan, strongestModel, TRUSTED_ACCURACY } from "./controls.ts";

const q = (k: number) => ({ id: `e${k}`, question: `Question ${k}?`, reference: `Answer ${k}.`, passage: null });

describe("judge controls", () => {
  test("each control question gives its own reference and an empty answer, then another question's reference and its own", () => {
    const pairs = controlPairs(Array.from({ length: 10 }, (_, k) => q(k)));
    expect(pairs).toHaveLength(8);
    expect(pairs[0]).toMatchObject({ question: "Question 0?", base: "Answer 0.", tuned: "", kinds: { base: "reference", tuned: "empty" } });
    expect(pairs[1]).toMatchObject({ question: "Question 0?", base: "Answer 1.", tuned: "Answer 0.", kinds: { base: "other_reference", tuned: "reference" } });
    // Spread over the list, not the first four.
    expect(new Set(pairs.map((p) => p.question))).toEqual(new Set(["Question 0?", "Question 2?", "Question 5?", "Question 7?"]));
    expect(controlPairs([q(0)])).toEqual([]);
    // Another reference that says the same thing is not "another" answer.
    expect(controlPairs([q(0), { ...q(1), reference: "Answer 0." }]).filter((p) => p.kinds.base === "other_reference")).toEqual([]);
  });

  test("a judge that grades the controls as expected is trusted; one that calls everything correct is not, and is told what to pick", () => {
    const pairs = controlPairs(Array.from({ length: 4 }, (_, k) => q(k)));
    const honest = judgeCheck("big", pairs.map((pair) => ({ pair, base: pair.kinds.base === "reference" ? "correct" : "wrong", tuned: pair.kinds.tuned === "reference" ? "correct" : "wrong" })), null);
    expect(honest).toMatchObject({ n: 16, passed: 16, accuracy: 1, trusted: true, misses: [], advice: null });
    const yesman = judgeCheck("smollm2:135m", pairs.map((pair) => ({ pair, base: "correct", tuned: "correct" })), "llama3.1:8b");
    expect(yesman).toMatchObject({ n: 16, passed: 8, accuracy: 0.5, trusted: false });
    expect(yesman.misses.map((m) => m.kind).sort()).toEqual([...Array(4).fill("empty"), ...Array(4).fill("other_reference")]);
    expect(yesman.advice).toContain("smollm2:135m graded 8 of 16 answers of known grade as expected");
    expect(yesman.advice).toContain("such as llama3.1:8b (installed)");
    expect(judgeCheck("x", pairs.map((pair) => ({ pair, base: "correct", tuned: "correct" })), null).advice).toContain("ollama pull");
    // Unjudged controls are no evidence: all unjudged is not trusted.
    expect(judgeCheck("x", pairs.map((pair) => ({ pair, base: null, tuned: null })), null)).toMatchObject({ trusted: false, accuracy: null, unjudged: 16 });
    expect(TRUSTED_ACCURACY).toBe(0.8);
  });

  test("the default judge is the installed model with the most parameters; the suggestion is a bigger one", () => {
    expect(parameterCount("8.0B")).toBe(8e9);
    expect(parameterCount("135M")).toBe(1.35e8);
    expect(parameterCount("")).toBeNull();
    const params = { "smollm2:135m": 1.35e8, "llama3.1:8b": 8e9, "qwen2.5:7b": 7.6e9, "mystery:latest": null };
    const models = Object.keys(params);
    expect(strongestModel(models, params)).toBe("llama3.1:8b");
    expect(strongestModel(["a", "b"], {})).toBe("a");
    expect(strongestModel([], {})).toBeNull();
    expect(strongerThan("smollm2:135m", models, params)).toBe("llama3.1:8b");
    expect(strongerThan("llama3.1:8b", models, params)).toBeNull();
  });
});
