import { pageCsrfToken } from "../../../src/security/page-token.ts";
import type { RunMetrics } from "../../../src/training/events.ts";
import { isActiveJob } from "../../../src/jobs/schemas.ts";
import { formatBytes } from "../../../src/lib/format.ts";
import { perplexity } from "../../../src/training/metrics.ts";

const toNumber = (v: unknown) => (typeof v === "number" ? v : null);
import { OllamaPanel } from "../../components/OllamaPanel.tsx";
import type { ExportData } from "../../../src/exports/step.ts";
import type { ProjectSummary } from "../../../src/projects/schemas.ts";
import { JobProgress } from "../../components/JobProgress.tsx";
import { Scorecard } from "../../components/Scorecard.tsx";

const num = (v: unknown, digits = 4) => (typeof v === "number" ? v.toFixed(digits) : "—");

export function ExportStep(props: { project: ProjectSummary; data: ExportData }) {
  const { summary, files, job } = props.data;
  const id = props.project.id;
  const evaluating = props.data.evaluationJob && isActiveJob(props.data.evaluationJob.status);
  const publishing = props.data.ollama.job && isActiveJob(props.data.ollama.job.status);
  const active = (job && isActiveJob(job.status)) || evaluating || publishing;
  if (!summary) return <p>No successful training run yet.</p>;
  const m: Partial<RunMetrics> = summary.summary?.metrics ?? {};
  const ev = summary.evaluation;
  const duration = typeof m.duration_seconds === "number" ? `${Math.round(m.duration_seconds)} s` : "—";
  return (
    <div class="export-step" {...(active ? { "hx-get": `/projects/${id}/step/export`, "hx-trigger": "every 2s", "hx-target": "#wizard", "hx-swap": "outerHTML" } : {})}>
      <dl class="facts-grid">
        <div>
          <dt>Base model</dt>
          <dd class="mono">{props.project.baseModelId}</dd>
        </div>
        <div>
          <dt>Method</dt>
          <dd>{summary.run.method.toUpperCase()}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration}</dd>
        </div>
        <div>
          <dt>Final train loss</dt>
          <dd>{num(m.final_train_loss)}</dd>
        </div>
        <div>
          <dt>Eval loss</dt>
          <dd>{num(ev?.eval_loss ?? m.eval_loss)}</dd>
        </div>
        <div>
          <dt>Perplexity</dt>
          {/* From the loss shown beside it, by the rule the trainer uses too. */}
          <dd>{num(perplexity(toNumber(ev?.eval_loss ?? m.eval_loss)), 2)}</dd>
        </div>
      </dl>
      <OllamaPanel projectId={id} data={props.data.ollama} />
      {ev?.samples?.length ? (
        <section aria-labelledby="samples-title">
          <h3 id="samples-title">Sample outputs</h3>
          <table class="table samples-table">
            <thead>
              <tr>
                <th scope="col">Question</th>
                <th scope="col">Expected</th>
                <th scope="col">Fine-tuned</th>
                <th scope="col">Base model</th>
              </tr>
            </thead>
            <tbody>
              {ev.samples.map((s) => (
                <tr>
                  <td>{s.question}</td>
                  <td>{s.expected}</td>
                  <td>{s.fine_tuned}</td>
                  <td>{s.base}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      <Scorecard projectId={id} evaluation={props.data.evaluation} closedBook={props.data.closedBook} job={props.data.evaluationJob} />
      <FeedbackPanel projectId={id} feedback={props.data.feedback} />
      <form hx-post={`/projects/${id}/export`} hx-target="#wizard" hx-swap="outerHTML" hx-disinherit="*">
        <button type="submit" class="btn btn-primary" disabled={job && isActiveJob(job.status)}>
          {files.length ? "Export again" : "Export Artifacts"}
        </button>
      </form>
      {job && isActiveJob(job.status) ? <JobProgress job={job} label="Exporting" poll={false} cancellable={false} /> : null}
      {job?.status === "failed" ? (
        <div class="panel panel-error" role="alert">
          <strong>The export failed</strong>
          <p>{job.error_message}</p>
        </div>
      ) : null}
      {files.length ? (
        <section aria-labelledby="files-title">
          <h3 id="files-title">Files</h3>
          <ul class="artifact-list">
            {files.map((f) => (
              <li>
                <a href={`/api/projects/${id}/export/download?file=${encodeURIComponent(f.filename)}`} download>
                  {f.filename}
                </a>{" "}
                <span class="muted">{formatBytes(f.sizeBytes)}</span>
              </li>
            ))}
          </ul>
          <p class="muted">Run it in Ollama: unzip, then <code>ollama create my-model -f Modelfile</code> in that folder (Llama, Mistral and Gemma families). In Python: <code>PeftModel.from_pretrained(base, folder)</code>.</p>
        </section>
      ) : null}
      <p>
        <a class="btn" href="/">
          Home
        </a>
      </p>
    </div>
  );
}

/** "Improve with feedback": the pairs collected so far and the round they allow. */
function FeedbackPanel(props: { projectId: string; feedback: ExportData["feedback"] }) {
  const { counts, minPairs } = props.feedback;
  const short = minPairs - counts.total;
  return (
    <section class="panel" aria-labelledby="feedback-title" data-testid="feedback-panel">
      <h3 id="feedback-title">Improve with feedback</h3>
      <p>
        {counts.total} preference pair{counts.total === 1 ? "" : "s"}: {counts.playground_choice} picked in the playground, {counts.playground_correction} written there, {counts.scorecard} from the
        scorecard.{" "}
        {short > 0 ? `A preference round needs ${short} more.` : "Enough for a preference round (DPO) on this adapter; the scorecard then compares before and after."}
      </p>
      <p>
        <a href={`/projects/${props.projectId}/feedback`}>See and edit the feedback</a> · <a href={`/projects/${props.projectId}/playground`}>Judge replies in the playground</a>
      </p>
      {short > 0 ? null : (
        <form method="post" action={`/projects/${props.projectId}/feedback/round`}>
          <input type="hidden" name="_csrf" value={pageCsrfToken()} />
          <button type="submit" class="btn btn-primary">
            Improve with feedback
          </button>
        </form>
      )}
    </section>
  );
}
