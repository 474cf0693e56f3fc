import { Layout } from "../layouts/Layout.tsx";
import { pageCsrfToken } from "../../src/security/page-token.ts";

export type NewProjectForm = { name: string; description: string };

export function NewProjectPage(props: { values?: NewProjectForm; errors?: Record<string, string> }) {
  const values = props.values ?? { name: "", description: "" };
  const errors = props.errors ?? {};
  return (
    <Layout title="New project">
      <div class="page-head">
        <h1>New project</h1>
      </div>
      <form method="post" action="/projects" class="form card" novalidate>
        <input type="hidden" name="_csrf" value={pageCsrfToken()} />
        {Object.keys(errors).length > 0 ? (
          <div class="form-error" role="alert">
            Please fix the highlighted field{Object.keys(errors).length > 1 ? "s" : ""}.
          </div>
        ) : null}
        <div class="field">
          <label for="name">Name</label>
          <input
            id="name"
            name="name"
            type="text"
            required
            maxlength={120}
            value={values.name}
            autofocus
            aria-invalid={errors.name ? "true" : undefined}
            aria-describedby={errors.name ? "name-error" : "name-hint"}
          />
          {errors.name ? (
            <p id="name-error" class="field-error">
              {errors.name}
            </p>
          ) : (
            <p id="name-hint" class="field-hint">
              Up to 120 characters, e.g. “Support manuals assistant”.
            </p>
          )}
        </div>
        <div class="field">
          <label for="description">
            Description <span class="optional">(optional)</span>
          </label>
          <textarea
            id="description"
            name="description"
            rows={3}
            maxlength={2000}
            aria-invalid={errors.description ? "true" : undefined}
            aria-describedby={errors.description ? "description-error" : undefined}
          >
            {values.description}
          </textarea>
          {errors.description ? (
            <p id="description-error" class="field-error">
              {errors.description}
            </p>
          ) : null}
        </div>
        <div class="form-actions">
          <a class="btn" href="/">
            Cancel
          </a>
          <button type="submit" class="btn btn-primary">
            Create project
          </button>
        </div>
      </form>
    </Layout>
  );
}
