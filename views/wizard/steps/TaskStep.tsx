import type { StepProps } from "../StepBody.tsx";
import { qaRecipeOf } from "../../../src/projects/schemas.ts";

const TASKS = [
  {
    value: "instruction",
    title: "Instruction tuning",
    description: "Generate diverse instruction / output pairs from your documents: the model learns to follow requests about their content.",
  },
  {
    value: "qa",
    title: "Q&A",
    description: "Generate question–answer pairs from your documents: the model learns to answer questions about them, with their passage or without it.",
  },
] as const;

/** How Q&A examples meet their passage: the spec's default, and closed-book. */
const QA_CONTEXT_CHOICES = [
  {
    value: "with_context",
    title: "With the passage",
    description: "Each question comes with the passage it is about: the model learns to answer from text it is given (documents search, RAG).",
  },
  {
    value: "closed_book",
    title: "Closed-book",
    description: "Questions alone, no passage: the model must learn the facts themselves, to answer when it is asked without the document.",
  },
] as const;

/** How a Q&A dataset is written (projects/schemas.ts QA_RECIPES). */
const QA_RECIPE_CHOICES = [
  {
    value: "questions",
    title: "Questions only",
    description: "Question–answer pairs of varied kinds from each passage: enough when the model will be given the passage.",
  },
  {
    value: "study_notes",
    title: "Study notes + questions",
    description: "Also restatements of each passage (explanations in other words, what to remember, links to the next passage): what makes a model remember your documents and answer without them.",
  },
] as const;

/** Two radio cards (and, for Q&A, how questions meet their passage); choosing saves at once (the form posts on change). */
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
      {project.taskType === "qa" ? (
        <fieldset class="radio-cards">
          <legend>How will the model be asked?</legend>
          {QA_CONTEXT_CHOICES.map((q) => {
            const checked = (project.config.qa_context ?? "with_context") === q.value;
            return (
              <label class="radio-card">
                <input type="radio" id={`qa-${q.value}`} name="qa_context" value={q.value} checked={checked} aria-describedby={`qa-${q.value}-desc`} />
                <span class="radio-card-title">{q.title}</span>
                <span class="radio-card-desc" id={`qa-${q.value}-desc`}>
                  {q.description}
                </span>
                {checked ? <span class="radio-card-selected">✓ Selected</span> : null}
              </label>
            );
          })}
        </fieldset>
      ) : null}
      {project.taskType === "qa" ? (
        <fieldset class="radio-cards">
          <legend>What should the dataset hold?</legend>
          {QA_RECIPE_CHOICES.map((r) => {
            const checked = qaRecipeOf(project.config) === r.value;
            return (
              <label class="radio-card">
                <input type="radio" id={`recipe-${r.value}`} name="qa_recipe" value={r.value} checked={checked} aria-describedby={`recipe-${r.value}-desc`} />
                <span class="radio-card-title">{r.title}</span>
                <span class="radio-card-desc" id={`recipe-${r.value}-desc`}>
                  {r.description}
                </span>
                {checked ? <span class="radio-card-selected">✓ Selected</span> : null}
              </label>
            );
          })}
        </fieldset>
      ) : null}
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
