/** The judged evaluation on the Export step: the headline, per-document coverage (weakest first), the forgetting check. */
import type { EvaluationView } from "../../src/evaluation/schemas.ts";
import { beforeAfterHeadline, headline, retrievalVerdict } from "../../src/evaluation/scorecard.ts";
import { isActiveJob, type JobView } from "../../src/jobs/schemas.ts";
import { JobProgress } from "./JobProgress.tsx";

const score = (s: number | null) => (s === null ? "—" : s.toFixed(2));

export function Scorecard(props: { projectId: string; evaluation: EvaluationView | null; closedBook?: EvaluationView | null; job?: JobView }) {
  const { evaluation: e, job, projectId } = props;
  const running = job && isActiveJob(job.status);
  return (
    <section class="scorecard" aria-labelledby="scorecard-title">
      <h3 id="scorecard-title">Did it learn? Judged scorecard</h3>
      <p class="muted">
        Held-out questions (documents kept out of training) answered by the base and the tuned model, graded by an LLM judge against the reference answers. Closed-book asks
        without the passage.
      </p>
      {e ? (
        <>
          {e.judge_check && !e.judge_check.trusted && e.judge_check.advice ? (
            <div class="panel panel-warning" role="alert" data-testid="judge-untrusted">
              <strong>This scorecard cannot be trusted</strong>
              <p>{e.judge_check.advice}</p>
            </div>
          ) : null}
          <p class="scorecard-headline" data-testid="scorecard-headline">
            <strong>{headline(e.summary)}</strong>
          </p>
          {props.closedBook ? (
            <p data-testid="scorecard-closed-book">
              Asked without the passage (closed-book): <strong>{headline(props.closedBook.summary)}</strong>
            </p>
          ) : null}
          <p class="muted">
            Judge {e.judge_model} · {e.mode === "closed_book" ? "closed-book" : "with the passage"} · tuned {e.summary.tuned.correct} correct, {e.summary.tuned.partial} partial,{" "}
            {e.summary.tuned.wrong} wrong{e.summary.tuned.unjudged ? `, ${e.summary.tuned.unjudged} unjudged` : ""}
            {e.judge_check && e.judge_check.n ? ` · the judge graded ${e.judge_check.passed} of ${e.judge_check.n} answers of known grade as expected` : ""}
            {e.judge_check && !e.judge_check.n ? " · the judge was not checked: answers of known grade need at least 2 held-out questions, so read these grades with care" : ""}
          </p>
          {e.preference_round ? <BeforeAfterPanel round={e.preference_round} /> : null}
          {e.forgetting?.drop ? (
            <div class="panel panel-warning" role="alert">
              <strong>It may have forgotten general knowledge</strong>
              <p>
                On {e.forgetting.n} general questions the tuned model scores {score(e.forgetting.tuned_score)} against the base's {score(e.forgetting.base_score)}. Try fewer epochs
                or a lower learning rate.
              </p>
            </div>
          ) : e.forgetting ? (
            <p class="muted">
              Forgetting check ({e.forgetting.n} general questions): tuned {score(e.forgetting.tuned_score)}, base {score(e.forgetting.base_score)}.
            </p>
          ) : null}
          <table class="table scorecard-table">
            <caption>Per document, weakest first</caption>
            <thead>
              <tr>
                <th scope="col">Document</th>
                <th scope="col">Questions</th>
                <th scope="col">Base</th>
                <th scope="col">Tuned</th>
                <th scope="col">
                  <span class="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {e.summary.per_document.map((d) => (
                <tr>
                  <td>{d.filename ?? "(imported rows)"}</td>
                  <td>{d.n}</td>
                  <td>{score(d.base_score)}</td>
                  <td>{score(d.tuned_score)}</td>
                  <td>
                    {d.file_id ? (
                      <form
                        method="post"
                        action={`/projects/${projectId}/evaluation/generate-more`}
                        hx-post={`/projects/${projectId}/evaluation/generate-more`}
                        hx-target="#wizard"
                        hx-swap="outerHTML"
                        hx-push-url={`/projects/${projectId}/wizard?step=preview`}
                        hx-disinherit="*"
                      >
                        <input type="hidden" name="file_id" value={d.file_id} />
                        <button type="submit" class="btn btn-small" aria-label={`Generate more from this document: ${d.filename ?? "unnamed"}`}>
                          Generate more from this document
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <RetrievalArm evaluation={e} closedBook={props.closedBook ?? null} />
          <WrongAnswers projectId={projectId} evaluation={e} />
        </>
      ) : null}
      <form hx-post={`/projects/${projectId}/evaluate`} hx-target="#wizard" hx-swap="outerHTML" hx-disinherit="*">
        <button type="submit" class="btn" disabled={running}>
          {e ? "Evaluate again" : "Evaluate (judged)"}
        </button>
      </form>
      {running ? <JobProgress job={job} label="Evaluating" poll={false} cancellable={false} /> : null}
      {job?.status === "failed" ? (
        <div class="panel panel-error" role="alert">
          <strong>The evaluation failed</strong>
          <p>{job.error_message}</p>
        </div>
      ) : null}
    </section>
  );
}

/** Fine-tune, retrieve, or both? The closed-book scores beside the same questions asked with retrieved passages. */
function RetrievalArm({ evaluation: e, closedBook }: { evaluation: EvaluationView; closedBook: EvaluationView | null }) {
  const closed = e.mode === "closed_book" ? e.summary : closedBook?.summary;
  if (!e.retrieval || !closed) return null;
  const byFile = new Map(closed.per_document.map((d) => [d.file_id, d]));
  return (
    <section class="retrieval-arm" aria-labelledby="retrieval-title">
      <h4 id="retrieval-title">Fine-tune, retrieve, or both?</h4>
      <p data-testid="retrieval-verdict">
        <strong>{retrievalVerdict(closed, e.retrieval.summary)}</strong>
      </p>
      <p class="muted">Retrieval puts the {e.retrieval.k} passages of your documents that BM25 ranks first after each question.</p>
      <table class="table">
        <caption>Scores per document, closed-book and with retrieval</caption>
        <thead>
          <tr>
            <th scope="col">Document</th>
            <th scope="col">Questions</th>
            <th scope="col">Base</th>
            <th scope="col">Tuned</th>
            <th scope="col">Base + retrieval</th>
            <th scope="col">Tuned + retrieval</th>
          </tr>
        </thead>
        <tbody>
          {e.retrieval.summary.per_document.map((d) => (
            <tr>
              <td>{d.filename ?? "(imported rows)"}</td>
              <td>{d.n}</td>
              <td>{score(byFile.get(d.file_id)?.base_score ?? null)}</td>
              <td>{score(byFile.get(d.file_id)?.tuned_score ?? null)}</td>
              <td>{score(d.base_score)}</td>
              <td>{score(d.tuned_score)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** A preference round's effect: its adapter against the one it started from, on the same held-out questions. */
function BeforeAfterPanel({ round: b }: { round: NonNullable<EvaluationView["preference_round"]> }) {
  return (
    <div class="panel" data-testid="before-after">
      <strong>The preference round: before and after</strong>
      <p>{beforeAfterHeadline(b)}</p>
      <p class="muted">
        The same questions answered by the adapter before the round and after it, each graded against the reference answer; a tie counts half.
        {b.forgetting_before !== null && b.forgetting_after !== null ? ` General questions (forgetting check): ${score(b.forgetting_before)} before, ${score(b.forgetting_after)} after.` : ""}
      </p>
    </div>
  );
}

/** The questions the tuned model got wrong or partly right, each of which can become a preference pair. */
function WrongAnswers({ projectId, evaluation: e }: { projectId: string; evaluation: EvaluationView }) {
  const wrong = e.items.filter((i) => i.tuned_verdict === "wrong" || i.tuned_verdict === "partial");
  if (!wrong.length) return null;
  return (
    <details class="wrong-answers" data-testid="wrong-answers">
      <summary>
        Answers the tuned model got wrong or partly right ({wrong.length}): use them as feedback
      </summary>
      <p class="muted">
        "Use as feedback" keeps the reference answer as the preferred reply and the tuned answer as the rejected one, for a preference round. <a href={`/projects/${projectId}/feedback`}>See the feedback</a>.
      </p>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Question</th>
            <th scope="col">Reference</th>
            <th scope="col">Tuned answer</th>
            <th scope="col">
              <span class="visually-hidden">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {wrong.map((i) => (
            <tr>
              <td>{i.question}</td>
              <td>{i.reference}</td>
              <td>
                {i.tuned_answer} <span class="muted">({i.tuned_verdict})</span>
              </td>
              <td>
                <button
                  type="button"
                  class="btn btn-small"
                  hx-post={`/projects/${projectId}/feedback/scorecard`}
                  hx-vals={JSON.stringify({ question_id: i.example_id })}
                  hx-swap="outerHTML"
                  aria-label={`Use as feedback: ${i.question.slice(0, 80)}`}
                >
                  Use as feedback
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
