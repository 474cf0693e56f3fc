import { JobProgress } from "../../components/JobProgress.tsx";
import type { ModelData } from "../../../src/models/step.ts";
import { formatBytes } from "../../../src/lib/format.ts";


/** Whether the base model's weights are here, the download (with its progress), and the cache. */
export function WeightsPanel(props: { projectId: string; data: ModelData }) {
  const { weights, job, cached } = props.data;
  const id = props.projectId;
  const download = (label: string) => (
    <form hx-post={`/projects/${id}/model/download`} hx-target="#wizard" hx-swap="outerHTML" method="post" action={`/projects/${id}/model/download`} class="inline-form">
      <button type="submit" class="btn btn-primary">
        {label}
      </button>
    </form>
  );
  return (
    <section class="panel weights" aria-labelledby="weights-title">
      <h3 id="weights-title">Weights</h3>
      {weights.state === "local" ? <p>A local folder: nothing to download, training reads it in place.</p> : null}
      {weights.state === "complete" ? (
        <p data-weights="complete">
          ✓ Downloaded: {formatBytes(weights.bytes)} at commit <span class="mono">{weights.commit.slice(0, 12)}</span>. Training reads them offline.
        </p>
      ) : null}
      {weights.state === "none" ? (
        <>
          <p>Not downloaded yet. Training downloads them first; do it now to see the progress and check the disk before the first run.</p>
          {download("Download now")}
        </>
      ) : null}
      {weights.state === "partial" ? (
        <>
          <p>{formatBytes(weights.bytes)} downloaded so far: the download continues where it stopped.</p>
          {download("Continue the download")}
        </>
      ) : null}
      {job && (weights.state === "downloading" || job.status === "failed") ? <JobProgress job={job} label="Download" cancellable /> : null}
      {cached.length ? (
        <details class="model-cache">
          <summary>Models on this machine ({formatBytes(cached.reduce((n, c) => n + c.bytes, 0))})</summary>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Size</th>
                <th scope="col">Used by</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {cached.map((c) => (
                <tr>
                  <td class="mono">
                    {c.repo_id}
                    {c.complete ? "" : " (partial)"}
                  </td>
                  <td>{formatBytes(c.bytes)}</td>
                  <td>{c.used_by.length ? c.used_by.join(", ") : "no project"}</td>
                  <td>
                    {c.used_by.length ? null : (
                      <form hx-post={`/projects/${id}/model/cache/remove`} hx-target="#wizard" hx-swap="outerHTML" hx-confirm={`Remove ${c.repo_id} (${formatBytes(c.bytes)}) from this machine?`} data-confirm-label="Remove" method="post" action={`/projects/${id}/model/cache/remove`}>
                        <input type="hidden" name="repo_id" value={c.repo_id} />
                        <button type="submit" class="btn btn-small">
                          Remove
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </section>
  );
}
