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
      <RadioCards legend="What should the model learn?" name="task_type" idPrefix="task" choices={TASKS} selected={project.taskType} />
      {project.taskType === "qa" ? (
        <>
          <RadioCards legend="How will the model be asked?" name="qa_context" idPrefix="qa" choices={QA_CONTEXT_CHOICES} selected={project.config.qa_context ?? "with_context"} />
          <RadioCards legend="What should the dataset hold?" name="qa_recipe" idPrefix="recipe" choices={QA_RECIPE_CHOICES} selected={qaRecipeOf(project.config)} />
        </>
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

/** One choice among cards: a radio, a title, a sentence, and a mark on the selected one. */
function RadioCards(props: { legend: string; name: string; idPrefix: string; choices: readonly { value: string; title: string; description: string }[]; selected: string | null }) {
  return (
    <fieldset class="radio-cards">
      <legend>{props.legend}</legend>
      {props.choices.map((c) => {
        const checked = props.selected === c.value;
        const id = `${props.idPrefix}-${c.value}`;
        return (
          <label class="radio-card">
            <input type="radio" id={id} name={props.name} value={c.value} checked={checked} aria-describedby={`${id}-desc`} />
            <span class="radio-card-title">{c.title}</span>
            <span class="radio-card-desc" id={`${id}-desc`}>
              {c.description}
            </span>
            {checked ? <span class="radio-card-selected">✓ Selected</span> : null}
          </label>
        );
      })}
    </fieldset>
  );
}
