/**
 * The parity check: does the Ollama model run what was trained? The same held-out
 * prompts go through the tuned model in Python (PEFT, greedy) and through Ollama at
 * temperature 0 with the same token limit, twice: as a chat (Ollama applies its
 * template) and raw with the Jinja rendering (no template). Equal raw and chat answers
 * mean both sides render the prompt alike.
 */
export type PreparedPrompt = { id: string; rendered: string; answer: string; stopped: boolean };
export type OllamaAnswer = { text: string; doneReason: string };
export type ParityInput = { prompts: PreparedPrompt[]; chat: OllamaAnswer[]; raw: OllamaAnswer[]; specialTokens: string[]; stops: string[]; quantize: string | null };
export type Verdict = { check: "template" | "stopping" | "special_tokens" | "answers"; ok: boolean; summary: string; advice: string | null };

/** First words, lower-cased: quantization may change a word late in an answer, not the start. */
const AGREE_WORDS = 4;
const opening = (text: string) => (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, AGREE_WORDS).join(" ");

export function parityVerdicts(p: ParityInput): Verdict[] {
  const n = p.prompts.length;
  const rendered = p.chat.filter((c, i) => c.text === p.raw[i]?.text).length;
  const shouldStop = p.prompts.map((q, i) => (q.stopped ? i : -1)).filter((i) => i >= 0);
  const stopped = shouldStop.filter((i) => p.chat[i]?.doneReason === "stop").length;
  const leaks = [...new Set(p.chat.flatMap((c) => p.specialTokens.filter((t) => t.length > 1 && c.text.includes(t)).concat(/<think>|<\/think>/.test(c.text) ? ["<think>"] : [])))];
  const leaking = p.chat.filter((c) => leaks.some((t) => c.text.includes(t))).length;
  const agree = p.prompts.filter((q, i) => opening(q.answer) !== "" && opening(q.answer) === opening(p.chat[i]?.text ?? "")).length;
  const agreeNeeded = Math.ceil(n * 0.6);
  return [
    rendered === n
      ? { check: "template", ok: true, summary: `template matches (${n}/${n} prompts render alike)`, advice: null }
      : { check: "template", ok: false, summary: `template differs on ${n - rendered}/${n} prompts`, advice: "Ollama formats the chat differently from training, so the model sees prompts it never learned. Publish with the merged lane, or check the base's template against the model's chat_template." },
    stopped === shouldStop.length
      ? { check: "stopping", ok: true, summary: shouldStop.length ? `stops correctly (${stopped}/${shouldStop.length})` : "stops: the tuned model ran to the limit on every prompt too", advice: null }
      : { check: "stopping", ok: false, summary: `runs to the token limit on ${shouldStop.length - stopped}/${shouldStop.length} prompts the tuned model ends`, advice: `Ollama does not recognise the end of a turn: the model needs PARAMETER stop for ${p.stops.map((s) => `"${s}"`).join(", ") || "its end-of-turn token"}.` },
    leaks.length === 0
      ? { check: "special_tokens", ok: true, summary: "no special or thinking tokens in the answers", advice: null }
      : { check: "special_tokens", ok: false, summary: `${leaks.join(", ")} leak into ${leaking}/${n} answers`, advice: "Add them as stop parameters, or the template's thinking switch; the answers show raw control tokens as they are." },
    agree >= agreeNeeded
      ? { check: "answers", ok: true, summary: `answers agree on ${agree}/${n}`, advice: null }
      : { check: "answers", ok: false, summary: `answers agree on ${agree}/${n} only`, advice: p.quantize && p.quantize !== "none" ? `Quantization (${p.quantize}) changes the answers: publish again with q8_0 or none.` : "The Ollama model does not answer like the tuned one: check the base model and the template." },
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
