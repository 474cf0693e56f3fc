import type { ProjectSummary } from "../../src/projects/schemas.ts";
import { Layout } from "../layouts/Layout.tsx";
import { assetUrl } from "../../src/assets/static-assets.ts";

/**
 * Two chats side by side, one question sent to both. public/playground.js streams each
 * reply from POST /api/projects/:id/playground; any reply can be corrected and saved as
 * a training example.
 */
export function PlaygroundPage(props: { project: ProjectSummary; ollamaModels: string[] }) {
  const id = props.project.id;
  const targets = [
    { value: "tuned", label: "Fine-tuned (this project)" },
    { value: "base", label: "Base model" },
    ...props.ollamaModels.map((m) => ({ value: `ollama:${m}`, label: `Ollama: ${m}` })),
  ];
  const pane = (n: 1 | 2, selected: string) => (
    <section class="play-pane panel" data-pane aria-labelledby={`pane-${n}-title`}>
      <h2 id={`pane-${n}-title`} class="visually-hidden">
        Chat {n}
      </h2>
      <label>
        Model
        <select data-target>
          {targets.map((t) => (
            <option value={t.value} selected={t.value === selected}>
              {t.label}
            </option>
          ))}
        </select>
      </label>
      <ol class="play-log" data-log aria-live="polite"></ol>
      <p class="muted" data-stats></p>
    </section>
  );
  return (
    <Layout title={`Playground · ${props.project.name}`} extraHead={<script src={assetUrl("playground.js")} defer></script>}>
      <div class="playground" data-playground data-url={`/api/projects/${id}/playground`}>
        <h1>Playground: {props.project.name}</h1>
        <p>
          <a href={`/projects/${id}/step/export`}>Back to Export</a> · <a href={`/projects/${id}/feedback`}>Feedback</a> · Greedy when the temperature is 0. A reply you correct can be saved as a training example; after both reply, say which is better.
        </p>
        <div class="play-panes">
          {pane(1, "tuned")}
          {pane(2, "base")}
        </div>
        <div class="play-judgements" data-judgements aria-live="polite"></div>
        <form class="play-form" data-ask>
          <label for="play-input">Your message</label>
          <textarea id="play-input" name="message" rows={3} required maxlength={20000}></textarea>
          <label>
            Temperature
            <input type="number" name="temperature" value="0" min="0" max="2" step="0.1" />
          </label>
          <label>
            Max new tokens
            <input type="number" name="max_new_tokens" value="256" min="1" max="2048" />
          </label>
          <button type="submit" class="btn btn-primary">
            Send to both
          </button>
          <button type="button" class="btn" data-clear>
            New chat
          </button>
        </form>
        <template data-judge-template>
          <section class="play-judge panel" aria-label="Your judgement of the two replies">
            <p>
              Which reply to “<span data-judge-question></span>” is better? Your choice is kept as feedback for a preference round.
            </p>
            <div class="play-judge-actions">
              <button type="button" class="btn" data-left-better>
                Left is better
              </button>
              <button type="button" class="btn" data-right-better>
                Right is better
              </button>
            </div>
            <details>
              <summary>Both wrong — write the right answer</summary>
              <label>
                The right answer
                <textarea rows={3} maxlength={20000} data-right-answer></textarea>
              </label>
              <button type="button" class="btn" data-save-right>
                Save as feedback
              </button>
            </details>
            <p class="muted" role="status" data-judge-status></p>
          </section>
        </template>
        <template data-reply-template>
          <li class="play-reply">
            <div class="play-text" data-text></div>
            <details class="play-correct">
              <summary>Correct and save as an example</summary>
              <label>
                Corrected reply
                <textarea rows={4} data-correction></textarea>
              </label>
              <button type="button" class="btn" data-save>
                Save as training example
              </button>
              <span class="muted" data-saved role="status"></span>
            </details>
          </li>
        </template>
      </div>
    </Layout>
  );
}
