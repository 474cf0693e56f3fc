import type { StepProps } from "../StepBody.tsx";

const TASKS = [
  {
    value: "instruction",
    title: "Instruction tuning",
    description: "Generate diverse instruction / output pairs from your documents: the model learns to follow requests about their content.",
  },
  {
    value: "qa",
    title: "Q&A",
    description: "Generate question–answer pairs from your documents, with the passage as context: the model learns to answer questions about them.",
  },
] as const;

/** Two radio cards; choosing one saves it at once (the form posts on change). */
export function TaskStep({ project, extras }: StepProps) {
  return (
    <form
      class="task-step"
      method="post"
      action={`/projects/${project.id}/task`}
      hx-post={`/projects/${project.id}/task`}
      hx-trigger="change"
      hx-target="#wizard"
      hx-swap="outerHTML"
    >
      <fieldset class="radio-cards">
        <legend>What should the model learn?</legend>
        {TASKS.map((t) => (
          <label class="radio-card">
            <input type="radio" id={`task-${t.value}`} name="task_type" value={t.value} checked={project.taskType === t.value} aria-describedby={`task-${t.value}-desc`} />
            <span class="radio-card-title">{t.title}</span>
            <span class="radio-card-desc" id={`task-${t.value}-desc`}>
              {t.description}
            </span>
            {project.taskType === t.value ? <span class="radio-card-selected">✓ Selected</span> : null}
          </label>
        ))}
      </fieldset>
      <noscript>
        <button type="submit" class="btn btn-primary">
          Save
        </button>
      </noscript>
      {extras.taskSaved ? (
        <p class="visually-hidden" role="status">
          Task saved.
        </p>
      ) : null}
    </form>
  );
}
