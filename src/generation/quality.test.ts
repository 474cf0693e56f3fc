import { describe, expect, test } from "bun:test";
import { groundingScore, NearDuplicateIndex, refusalReason } from "./quality.ts";
import { extractJson, parseExamples } from "./repair.ts";
import { planQuotas } from "./plan.ts";

const ex = (instruction: string, output: string) => ({ instruction, input: "", output });

describe("refusal and meta-text gate", () => {
  const bad = [
    "As an AI language model, I cannot give legal advice.",
    "Based on the text provided, the warranty lasts two years.",
    "I'm sorry, but I cannot help with that.",
    "The passage does not mention the return policy.",
    "According to the provided document, returns take 30 days.",
  ];
  const good = [
    "The warranty lasts two years from the date of purchase.",
    "Hold the power button for ten seconds to reset the device.",
    "Returns are accepted within 30 days with a receipt.",
    "Based in Lyon, the company ships across Europe.",
  ];
  test.each(bad)("flags %j", (output) => expect(refusalReason(ex("Q?", output))).not.toBeNull());
  test.each(good)("passes %j", (output) => expect(refusalReason(ex("Q?", output))).toBeNull());
});

describe("grounding gate", () => {
  const chunk = "The X200 warranty covers parts and labour for two years from the date of purchase. Batteries are covered for six months.";
  test("an answer built from the chunk's words is grounded", () => {
    expect(groundingScore("Parts and labour are covered for two years from purchase.", chunk)).toBeGreaterThan(0.8);
  });
  test("an invented answer is not", () => {
    expect(groundingScore("Customers receive a lifetime replacement guarantee with free shipping worldwide.", chunk)).toBeLessThan(0.3);
  });
  test("CJK answers are compared character by character", () => {
    expect(groundingScore("保証期間は二年", "保証期間は二年間です")).toBe(1);
    expect(groundingScore("無料配送", "保証期間は二年間です")).toBe(0);
  });
});

describe("near-duplicate removal (MinHash, Jaccard ≥ 0.85)", () => {
  const base = ex("How long does the X200 warranty last for parts and labour?", "The X200 warranty covers parts and labour for two full years from the date of purchase.");
  const variants = [
    ex("how long does the x200 warranty last for parts and labour", "the x200 warranty covers parts and labour for two full years from the date of purchase"),
    ex("How long does the X200 warranty last, for parts and labour??", "The X200 warranty covers parts, and labour, for two full years from the date of purchase!"),
    ex("HOW LONG DOES THE X200 WARRANTY LAST FOR PARTS AND LABOUR?", "The X200 warranty covers parts and labour for two full years from the date of purchase."),
  ];
  const different = [
    ex("How long are batteries covered?", "Batteries are covered for six months from the date of purchase."),
    ex("What does the X200 warranty exclude?", "It excludes damage from drops, water and unauthorised repairs."),
    ex("Does the X200 warranty last two years for parts and labour?", "Yes: parts and labour are covered for two full years after you buy it."),
  ];
  test("flags variants that differ by punctuation or casing", () => {
    for (const v of variants) {
      const index = new NearDuplicateIndex();
      index.check(base);
      expect(index.check(v)).toBe(0);
    }
  });
  test("keeps examples that say something else (precision)", () => {
    const index = new NearDuplicateIndex();
    index.check(base);
    for (const d of different) expect(index.check(d)).toBe(-1);
  });
  test("a word-order variant of a short example is caught", () => {
    const index = new NearDuplicateIndex();
    index.check(ex("Reset", "Hold power"));
    expect(index.check(ex("reset", "power hold"))).toBe(0);
  });
});

describe("repairing model answers", () => {
  test("strips code fences and surrounding prose", () => {
    expect(extractJson('```json\n{"examples": []}\n```')).toEqual({ examples: [] });
    expect(extractJson('Sure! Here you go: {"examples": [1]} Hope it helps.')).toEqual({ examples: [1] });
    expect(extractJson("not json at all")).toBeUndefined();
  });
  test("maps Q&A items to question / context / answer and says why nothing could be read", () => {
    expect(parseExamples('{"examples":[{"question":"Q?","answer":"A."}]}', "qa", "the chunk")).toEqual([{ instruction: "Q?", input: "the chunk", output: "A." }]);
    expect(parseExamples("{oops", "instruction", "")).toBe("the model's answer is not valid JSON");
    expect(parseExamples('{"examples":[{"foo":1}]}', "instruction", "")).toBe("the model's answer does not have the expected fields");
  });
});

describe("planning examples per chunk", () => {
  test("spreads the target in proportion to content and sums to it", () => {
    const q = planQuotas([{ id: "a", tokenCount: 100 }, { id: "b", tokenCount: 300 }], 40);
    expect(q.get("a")).toBe(10);
    expect(q.get("b")).toBe(30);
  });
  test("a preview picks chunks evenly through the documents", () => {
    const chunks = Array.from({ length: 100 }, (_, i) => ({ id: `c${i}`, tokenCount: 500 }));
    const q = planQuotas(chunks, 10);
    expect([...q.keys()]).toEqual(["c0", "c10", "c20", "c30", "c40", "c50", "c60", "c70", "c80", "c90"]);
  });
});

test("plans whole calls of three so no request asks for a leftover", () => {
  const chunks = Array.from({ length: 7 }, (_, i) => ({ id: `c${i}`, tokenCount: 400 + i * 50 }));
  const q = planQuotas(chunks, 100, 3);
  expect([...q.values()].reduce((a, b) => a + b, 0)).toBe(100);
  expect([...q.values()].filter((n) => n % 3 !== 0).length).toBeLessThanOrEqual(1);
});
