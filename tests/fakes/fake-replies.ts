/** What the loopback Ollama says when a test gives it no words of its own: grounded examples, a lenient judge, hashed-word embeddings. */
import type { Responder } from "./fake-ollama.ts";

const WORDS = (text: string) => text.match(/[\p{L}\p{N}]+/gu) ?? [];

/** Grounded, distinct examples: each answer is a different window of the chunk's own words. */
export const groundedResponder = (kind: "instruction" | "qa" = "instruction"): Responder => (call, n) => {
  // Asked to judge (src/evaluation/judge.ts): a non-empty answer is partly right, an empty one wrong.
  if (call.prompt.startsWith("You grade answers")) {
    const grade = (label: string) => (/^Answer [AB]: \(empty\)$/m.test(call.prompt.split("\n").find((l) => l.startsWith(`Answer ${label}:`)) ?? "") ? "wrong" : "partial");
    return { content: JSON.stringify({ A: { verdict: grade("A"), reason: "loopback judge" }, B: { verdict: grade("B"), reason: "loopback judge" } }) };
  }
  const words = WORDS(call.chunk);
  const examples = Array.from({ length: call.count }, (_, i) => {
    const k = n * call.count + i;
    const start = words.length > 14 ? (k * 7) % (words.length - 12) : 0;
    const window = words.slice(start, start + 12).join(" ");
    const topic = words[(start + 3) % Math.max(1, words.length)] ?? "it";
    return kind === "qa"
      ? { question: `What is said about ${topic} in part ${k}?`, answer: `${window}.` }
      : { instruction: `Explain point ${k} about ${topic}.`, input: "", output: `${window}.` };
  });
  return { content: JSON.stringify({ examples }) };
};

/** A deterministic unit vector per text (hashed words), as an embedding model would give. */
export function embedding(text: string): number[] {
  const v = new Array<number>(64).fill(0);
  for (const w of WORDS(text.toLowerCase())) {
    const h = new Bun.CryptoHasher("sha256").update(w).digest();
    for (let i = 0; i < 64; i++) v[i]! += (h[i % 32]! - 127.5) / 127.5;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}
