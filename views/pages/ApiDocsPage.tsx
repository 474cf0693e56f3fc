import type { OpenApiDocument } from "../../src/lib/openapi.ts";
import { Layout } from "../layouts/Layout.tsx";

type Operation = {
  tags: string[];
  summary: string;
  description?: string;
  operationId: string;
  parameters?: { name: string; in: string; required: boolean; schema: unknown }[];
  requestBody?: { required: boolean; content: Record<string, { schema?: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
};

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

/** /api/docs: the OpenAPI document as a readable page, rendered here (no external viewer). */
export function ApiDocsPage({ doc }: { doc: OpenApiDocument }) {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op: op as Operation })));
  return (
    <Layout title="API">
      <div class="page-head">
        <h1>API reference</h1>
        <a class="btn" href="/api/openapi.json">
          OpenAPI 3.1 (JSON)
        </a>
      </div>
      <p class="lead">{doc.info.description}</p>
      <p>
        Every error has the same shape: <code class="mono">{pretty({ detail: "…", error_code: "…" })}</code>, with a fitting status.
      </p>
      <nav aria-label="API sections">
        <ul class="api-toc">
          {doc.tags.map((t) => (
            <li>
              <a href={`#tag-${t.name.toLowerCase()}`}>{t.name}</a>
            </li>
          ))}
        </ul>
      </nav>
      {doc.tags.map((tag) => (
        <section class="api-tag" aria-labelledby={`tag-${tag.name.toLowerCase()}`}>
          <h2 id={`tag-${tag.name.toLowerCase()}`}>{tag.name}</h2>
          <p>{tag.description}</p>
          {ops
            .filter((o) => o.op.tags.includes(tag.name))
            .map(({ path, method, op }) => (
              <article class="card api-op" id={op.operationId} aria-labelledby={`${op.operationId}-title`}>
                <h3 id={`${op.operationId}-title`} class="api-op-title">
                  <span class={`badge api-method api-${method}`}>{method.toUpperCase()}</span> <code class="mono">{path}</code>
                </h3>
                <p>{op.summary}</p>
                {op.parameters?.length ? (
                  <table class="api-params">
                    <caption>Parameters</caption>
                    <thead>
                      <tr>
                        <th scope="col">Name</th>
                        <th scope="col">In</th>
                        <th scope="col">Schema</th>
                      </tr>
                    </thead>
                    <tbody>
                      {op.parameters.map((p) => (
                        <tr>
                          <td class="mono">{p.name}</td>
                          <td>{p.in}</td>
                          <td class="mono">{JSON.stringify(p.schema)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : null}
                {op.requestBody ? (
                  <details>
                    <summary>
                      Request body ({Object.keys(op.requestBody.content).join(", ")}
                      {op.requestBody.required ? "" : ", optional"})
                    </summary>
                    <pre class="api-schema" tabindex={0}>{pretty(Object.values(op.requestBody.content)[0]?.schema ?? {})}</pre>
                  </details>
                ) : null}
                <dl class="api-responses">
                  {Object.entries(op.responses).map(([status, r]) => (
                    <div>
                      <dt class="mono">{status}</dt>
                      <dd>{r.description}</dd>
                    </div>
                  ))}
                </dl>
              </article>
            ))}
        </section>
      ))}
    </Layout>
  );
}
