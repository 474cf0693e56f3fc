/**
 * The parity check: does the Ollama model run what was trained? The same held-out
 * prompts go through the tuned model in Python (PEFT, greedy) and through Ollama at
 * temperature 0 with the same token limit, twice: as a chat (Ollama applies its
 * template) and raw with the Jinja rendering (no template). The job makes both calls
 * compute alike (same cached prefix, see job.ts), so equal raw and chat answers mean both
 * sides render the prompt alike, and any difference, even at a near-tie, means they do not.
 *
 * Ollama runs float16 weights and a float16 KV cache where PyTorch ran float32: where the
 * tuned model itself was nearly undecided between two tokens (its top two logits under
 * 1 apart, `near_ties`), either runtime may take the other branch. An answer that parts
 * from the tuned one exactly at such a token is counted as agreeing, and said so; one
 * that parts anywhere else is not. A reply undecided on most of its tokens (a model
 * barely trained, or random weights) gets no such allowance: it could excuse anything.
 *
 * Unquantized merged weights must say the whole tuned answer, not only its first words:
 * a converter that misread the model's RoPE base (transformers 5's `rope_parameters`)
 * gave answers that opened alike and parted a few dozen tokens in. Quantized weights may
 * rightly change a word late in an answer, so there the first words decide.
 */
export type PreparedPrompt = { id: string; rendered: string; answer: string; stopped: boolean; near_ties?: [number, number][]; tokens?: number };
export type OllamaAnswer = { text: string; doneReason: string };
export type ParityInput = { prompts: PreparedPrompt[]; chat: OllamaAnswer[]; raw: OllamaAnswer[]; specialTokens: string[]; stops: string[]; quantize: string | null };
export type Verdict = { check: "template" | "stopping" | "special_tokens" | "answers"; ok: boolean; summary: string; advice: string | null };

/** First words, lower-cased: quantization may change a word late in an answer, not the start. */
const AGREE_WORDS = 4;
const opening = (text: string) => (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, AGREE_WORDS).join(" ");

/** Where two texts first differ (their common prefix's length). */
const partsAt = (a: string, b: string) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

/**
 * "same": Ollama said the whole answer (unquantized) or its first words (quantized);
 * "tie": it parts at a token the tuned model nearly did not choose; "differs".
 */
function agreement(q: PreparedPrompt, ollama: string, exact: boolean): "same" | "tie" | "differs" {
  const same = exact ? q.answer !== "" && ollama.trim().startsWith(q.answer) : opening(q.answer) !== "" && opening(q.answer) === opening(ollama);
  if (same) return "same";
  const ties = q.near_ties ?? [];
  if (q.tokens !== undefined && ties.length > q.tokens / 2) return "differs";
  const at = partsAt(q.answer, ollama.trim());
  return ties.some(([start, end]) => start <= at && at < Math.max(end, start + 1)) ? "tie" : "differs";
}

export function parityVerdicts(p: ParityInput): Verdict[] {
  const n = p.prompts.length;
  const rendered = p.prompts.filter((_, i) => (p.chat[i]?.text ?? "") === (p.raw[i]?.text ?? "")).length;
  const agreements = p.prompts.map((q, i) => agreement(q, p.chat[i]?.text ?? "", p.quantize === "none"));
  // Stopping is judged where both said the same thing: a reply that took another branch may rightly run on.
  // A reply whose very ending was a near-tie for the tuned model may rightly run on in Ollama.
  const endedByTie = (q: PreparedPrompt) => (q.near_ties ?? []).some(([start]) => start === q.answer.length);
  const shouldStop = p.prompts.map((q, i) => (q.stopped && !endedByTie(q) && (p.chat[i]?.text.trim() ?? "").startsWith(q.answer) ? i : -1)).filter((i) => i >= 0);
  const stopped = shouldStop.filter((i) => p.chat[i]?.doneReason === "stop").length;
  const leaks = [...new Set(p.chat.flatMap((c) => p.specialTokens.filter((t) => t.length > 1 && c.text.includes(t)).concat(/<think>|<\/think>/.test(c.text) ? ["<think>"] : [])))];
  const leaking = p.chat.filter((c) => leaks.some((t) => c.text.includes(t))).length;
  const ties = agreements.filter((a) => a === "tie").length;
  const agree = agreements.filter((a) => a !== "differs").length;
  const agreeNeeded = Math.ceil(n * 0.6);
  const tieNote = ties ? ` (${ties} parting at a near-tie the tuned model itself barely decided)` : "";
  return [
    rendered === n
      ? { check: "template", ok: true, summary: `template matches (${n}/${n} prompts render alike)`, advice: null }
      : { check: "template", ok: false, summary: `template differs on ${n - rendered}/${n} prompts`, advice: "Ollama formats the chat differently from training, so the model sees prompts it never learned. Publish with the merged lane, or check the base's template against the model's chat_template." },
    stopped === shouldStop.length
      ? { check: "stopping", ok: true, summary: shouldStop.length ? `stops correctly (${stopped}/${shouldStop.length})` : "stops: no prompt where both ended the same reply to compare", advice: null }
      : { check: "stopping", ok: false, summary: `runs to the token limit on ${shouldStop.length - stopped}/${shouldStop.length} prompts the tuned model ends`, advice: `Ollama does not recognise the end of a turn: the model needs PARAMETER stop for ${p.stops.map((s) => `"${s}"`).join(", ") || "its end-of-turn token"}.` },
    leaks.length === 0
      ? { check: "special_tokens", ok: true, summary: "no special or thinking tokens in the answers", advice: null }
      : { check: "special_tokens", ok: false, summary: `${leaks.join(", ")} leak into ${leaking}/${n} answers`, advice: "Add them as stop parameters, or the template's thinking switch; the answers show raw control tokens as they are." },
    agree >= agreeNeeded
      ? { check: "answers", ok: true, summary: `answers agree on ${agree}/${n}${tieNote}`, advice: null }
      : { check: "answers", ok: false, summary: `answers agree on ${agree}/${n} only${tieNote}`, advice: p.quantize && p.quantize !== "none" ? `Quantization (${p.quantize}) changes the answers: publish again with q8_0 or none.` : "The Ollama model does not answer like the tuned one: check the base model and the template." },
  ];
}

export function parityMarkdown(model: string, lane: string, quantize: string | null, verdicts: Verdict[]): string {
  const rows = verdicts.map((v) => `| ${v.check.replace("_", " ")} | ${v.ok ? "✓" : "✗"} ${v.summary} |${v.advice ? ` ${v.advice}` : ""} |`);
  return [
    "## Running in Ollama",
    "",
    `\`ollama run ${model}\` — ${lane === "adapter" ? "the adapter over the Ollama base" : `merged weights${quantize && quantize !== "none" ? `, quantized ${quantize}` : ""}`}.`,
    "",
    "| check | verdict | what to do |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}
