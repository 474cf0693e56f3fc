/**
 * The judged evaluation's numbers, from the verdicts alone: per model the counts and a
 * score (correct 1, partial ½, wrong 0, over the judged answers) with a 95% Wilson
 * interval; tuned against base per question (win, tie, loss where both were judged);
 * and the same scores per source document, weakest first. Unjudged answers are counted,
 * never dropped, and never scored.
 */
export const VERDICTS = ["correct", "partial", "wrong"] as const;
export type Verdict = (typeof VERDICTS)[number];

const POINTS: Record<Verdict, number> = { correct: 1, partial: 0.5, wrong: 0 };

export type JudgedItem = {
  example_id: string;
  file_id: string | null;
  filename: string | null;
  question: string;
  reference: string;
  base_answer: string;
  tuned_answer: string;
  base_verdict: Verdict | null;
  tuned_verdict: Verdict | null;
  judge_reason: string | null;
};

export type SideSummary = { correct: number; partial: number; wrong: number; unjudged: number; score: number | null; ci: [number, number] | null };
export type DocumentScore = { file_id: string | null; filename: string | null; n: number; base_score: number | null; tuned_score: number | null };
export type Summary = { n: number; base: SideSummary; tuned: SideSummary; wins: number; ties: number; losses: number; win_rate: number | null; per_document: DocumentScore[] };

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The 95% Wilson score interval of a proportion (`points` of `n`; partial credit counts half). */
export function wilson(points: number, n: number, z = 1.96): [number, number] | null {
  if (n === 0) return null;
  const p = points / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return [round3(Math.max(0, centre - half)), round3(Math.min(1, centre + half))];
}

function side(verdicts: (Verdict | null)[]): SideSummary {
  const count = (v: Verdict) => verdicts.filter((x) => x === v).length;
  const judged = verdicts.filter((v): v is Verdict => v !== null);
  const points = judged.reduce((sum, v) => sum + POINTS[v], 0);
  return {
    correct: count("correct"),
    partial: count("partial"),
    wrong: count("wrong"),
    unjudged: verdicts.length - judged.length,
    score: judged.length ? round3(points / judged.length) : null,
    ci: wilson(points, judged.length),
  };
}

export function summarize(items: JudgedItem[]): Summary {
  let wins = 0;
  let ties = 0;
  let losses = 0;
  for (const i of items) {
    if (!i.base_verdict || !i.tuned_verdict) continue;
    const d = POINTS[i.tuned_verdict] - POINTS[i.base_verdict];
    if (d > 0) wins++;
    else if (d < 0) losses++;
    else ties++;
  }
  const compared = wins + ties + losses;
  const byFile = new Map<string | null, JudgedItem[]>();
  for (const i of items) byFile.set(i.file_id, [...(byFile.get(i.file_id) ?? []), i]);
  const per_document = [...byFile.values()]
    .map((group) => ({
      file_id: group[0]!.file_id,
      filename: group[0]!.filename,
      n: group.length,
      base_score: side(group.map((i) => i.base_verdict)).score,
      tuned_score: side(group.map((i) => i.tuned_verdict)).score,
    }))
    // Weakest first: the documents the tuned model knows least, unjudged last.
    .sort((a, b) => (a.tuned_score ?? 2) - (b.tuned_score ?? 2) || (a.filename ?? "").localeCompare(b.filename ?? ""));
  return {
    n: items.length,
    base: side(items.map((i) => i.base_verdict)),
    tuned: side(items.map((i) => i.tuned_verdict)),
    wins,
    ties,
    losses,
    win_rate: compared ? round3(wins / compared) : null,
    per_document,
  };
}

/** "tuned 0.72 vs base 0.31 (n = 40, ±0.10); wins 24, ties 10, losses 6" */
export function headline(s: Summary): string {
  if (s.tuned.score === null || s.base.score === null) return `No answers could be judged (n = ${s.n}).`;
  const margin = s.tuned.ci ? (s.tuned.ci[1] - s.tuned.ci[0]) / 2 : 0;
  return `tuned ${s.tuned.score.toFixed(2)} vs base ${s.base.score.toFixed(2)} (n = ${s.n}, ±${margin.toFixed(2)}); wins ${s.wins}, ties ${s.ties}, losses ${s.losses}`;
}

/**
 * A preference round measured: the same held-out questions, the adapter before the round
 * (its run's scorecard) against after (this one), each answer graded by the judge against
 * the reference. Questions that were themselves turned into feedback are left out: the
 * round saw their reference answers.
 */
export type BeforeAfter = {
  parent_run_id: string;
  n: number;
  excluded_feedback: number;
  before_score: number | null;
  after_score: number | null;
  wins: number;
  ties: number;
  losses: number;
  win_rate: number | null;
  ci: [number, number] | null;
  forgetting_before: number | null;
  forgetting_after: number | null;
};

export function beforeAfter(parentRunId: string, before: JudgedItem[], after: JudgedItem[], feedback: ReadonlySet<string>, forgetting: { before: number | null; after: number | null }): BeforeAfter {
  const earlier = new Map(before.map((i) => [i.example_id, i.tuned_verdict]));
  const shared = after.filter((i) => earlier.has(i.example_id));
  const compared = shared.filter((i) => !feedback.has(i.example_id));
  let wins = 0;
  let ties = 0;
  let losses = 0;
  for (const i of compared) {
    const was = earlier.get(i.example_id);
    if (!was || !i.tuned_verdict) continue;
    const d = POINTS[i.tuned_verdict] - POINTS[was];
    if (d > 0) wins++;
    else if (d < 0) losses++;
    else ties++;
  }
  const decided = wins + ties + losses;
  return {
    parent_run_id: parentRunId,
    n: compared.length,
    excluded_feedback: shared.length - compared.length,
    before_score: side(compared.map((i) => earlier.get(i.example_id) ?? null)).score,
    after_score: side(compared.map((i) => i.tuned_verdict)).score,
    wins,
    ties,
    losses,
    // A tie is half a win, as in the judged win rates of preference papers.
    win_rate: decided ? round3((wins + ties / 2) / decided) : null,
    ci: wilson(wins + ties / 2, decided),
    forgetting_before: forgetting.before,
    forgetting_after: forgetting.after,
  };
}

/** "after the round 0.62 vs before 0.48 on 30 questions: win rate 0.63 (0.46–0.78); 2 questions used as feedback left out" */
export function beforeAfterHeadline(b: BeforeAfter): string {
  if (b.win_rate === null || b.before_score === null || b.after_score === null) return `No question was judged both before and after the round (n = ${b.n}).`;
  const ci = b.ci ? ` (95% interval ${b.ci[0].toFixed(2)}–${b.ci[1].toFixed(2)})` : "";
  const left = b.excluded_feedback ? `; ${b.excluded_feedback} question${b.excluded_feedback === 1 ? "" : "s"} used as feedback left out` : "";
  return `after the round ${b.after_score.toFixed(2)} vs before ${b.before_score.toFixed(2)} on ${b.n} questions: win rate ${b.win_rate.toFixed(2)}${ci}; wins ${b.wins}, ties ${b.ties}, losses ${b.losses}${left}`;
}

/** Scores this far apart count as a difference in the retrieval verdict (partial credit, 0–1). */
const ARM_MARGIN = 0.05;
const pct = (x: number) => `${Math.round(x * 100)}%`;

/**
 * Fine-tune, retrieve, or both? From the closed-book scores (base, tuned) and the same
 * questions asked with retrieved passages (base + retrieval, tuned + retrieval).
 */
export function retrievalVerdict(closedBook: Summary, retrieval: Summary): string {
  const [none, ft, rag, both] = [closedBook.base.score, closedBook.tuned.score, retrieval.base.score, retrieval.tuned.score];
  if (none === null || ft === null || rag === null || both === null) return "Not enough judged answers to compare fine-tuning with retrieval.";
  const facts = `Fine-tuning alone scores ${pct(ft)}, retrieval alone ${pct(rag)}, both ${pct(both)} (the base model alone ${pct(none)})`;
  if (both >= Math.max(ft, rag) + ARM_MARGIN) return `${facts}: use both — the tuned model, with passages retrieved at answer time.`;
  if (rag >= ft + ARM_MARGIN) return `${facts}: retrieval does the most — answer with retrieved passages; fine-tuning adds little here.`;
  if (ft >= rag + ARM_MARGIN) return `${facts}: fine-tuning does the most — the tuned model needs no retrieval for these documents.`;
  return `${facts}: fine-tuning and retrieval do about as well.`;
}

/** The scorecard as a report.md section (export adds it; an evaluation after the export updates it). */
export function scorecardMarkdown(
  s: Summary,
  meta: {
    judgeModel: string;
    mode: string;
    forgetting: { n: number; base_score: number | null; tuned_score: number | null; drop: boolean } | null;
    closedBook?: Summary | null;
    judgeCheck?: { n: number; passed: number; trusted: boolean; advice: string | null } | null;
    retrieval?: { k: number; summary: Summary } | null;
    preferenceRound?: BeforeAfter | null;
  },
): string {
  const score = (x: number | null) => (x === null ? "—" : x.toFixed(2));
  const check = meta.judgeCheck;
  const lines = [
    "## Judged scorecard",
    "",
    ...(check && !check.trusted && check.advice ? [`> **Not reliable:** ${check.advice}`, ""] : []),
    `**${headline(s)}**`,
    ...(meta.closedBook ? ["", `Asked without the passage (closed-book): ${headline(meta.closedBook)}`] : []),
    "",
    `Judge: ${meta.judgeModel}${check && check.n ? ` (graded ${check.passed} of ${check.n} answers of known grade as expected)` : check ? " (not checked: answers of known grade need at least 2 held-out questions)" : ""} · ${meta.mode === "closed_book" ? "closed-book (questions without their passage)" : "with the passage"} · base ${s.base.correct}/${s.base.partial}/${s.base.wrong} and tuned ${s.tuned.correct}/${s.tuned.partial}/${s.tuned.wrong} correct/partial/wrong${s.tuned.unjudged + s.base.unjudged ? `, ${s.tuned.unjudged + s.base.unjudged} answers unjudged` : ""}.`,
    "",
    "| Document (weakest first) | Questions | Base | Tuned |",
    "|---|---|---|---|",
    ...s.per_document.map((d) => `| ${(d.filename ?? "(imported rows)").replace(/\|/g, "\\|")} | ${d.n} | ${score(d.base_score)} | ${score(d.tuned_score)} |`),
  ];
  const closedRef = meta.mode === "closed_book" ? s : (meta.closedBook ?? null);
  if (meta.retrieval && closedRef) {
    const r = meta.retrieval.summary;
    const byFile = new Map(closedRef.per_document.map((d) => [d.file_id, d]));
    lines.push(
      "",
      "### Fine-tune, retrieve, or both?",
      "",
      `**${retrievalVerdict(closedRef, r)}**`,
      "",
      `Retrieval: the ${meta.retrieval.k} passages of the documents that BM25 ranks first for each question, put after it.`,
      "",
      "| Document | Questions | Base | Tuned | Base + retrieval | Tuned + retrieval |",
      "|---|---|---|---|---|---|",
      ...r.per_document.map((d) => `| ${(d.filename ?? "(imported rows)").replace(/\|/g, "\\|")} | ${d.n} | ${score(byFile.get(d.file_id)?.base_score ?? null)} | ${score(byFile.get(d.file_id)?.tuned_score ?? null)} | ${score(d.base_score)} | ${score(d.tuned_score)} |`),
    );
  }
  if (meta.preferenceRound) {
    const b = meta.preferenceRound;
    lines.push(
      "",
      "### The preference round: before and after",
      "",
      `**${beforeAfterHeadline(b)}**`,
      "",
      `The same held-out questions, the adapter of run ${b.parent_run_id} (before) against this round's (after), both graded by the judge against the reference answers.${b.forgetting_before !== null && b.forgetting_after !== null ? ` Forgetting check, tuned score on general questions: ${score(b.forgetting_before)} before, ${score(b.forgetting_after)} after.` : ""}`,
    );
  }
  if (meta.forgetting) {
    lines.push("", `Forgetting check (${meta.forgetting.n} general questions): tuned ${score(meta.forgetting.tuned_score)}, base ${score(meta.forgetting.base_score)}${meta.forgetting.drop ? " — **a clear drop: the model may have forgotten general knowledge; try fewer epochs or a lower learning rate.**" : "."}`);
  }
  return `${lines.join("\n")}\n`;
}

/** report.md with its scorecard section put in, or replaced when there is one. */
export function withScorecard(report: string, section: string): string {
  const at = report.indexOf("## Judged scorecard");
  if (at < 0) return `${report.trimEnd()}\n\n${section}`;
  const next = report.indexOf("\n## ", at + 1);
  return `${report.slice(0, at)}${section}${next < 0 ? "" : report.slice(next + 1)}`;
}
