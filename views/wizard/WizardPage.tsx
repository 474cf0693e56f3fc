import type { Child } from "hono/jsx";
import type { ProjectSummary } from "../../src/projects/schemas.ts";
import type { StepId, StepState } from "../../src/wizard/steps.ts";
import { Layout } from "../layouts/Layout.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";

export type WizardProps = {
  project: ProjectSummary;
  steps: StepState[];
  current: StepId;
  /** Why the user landed here instead of the step they asked for. */
  notice?: string;
  body: Child;
};

export const stepUrl = (projectId: string, step: StepId) => `/projects/${projectId}/wizard?step=${step}`;

export function WizardPage(props: WizardProps) {
  const step = props.steps.find((s) => s.id === props.current)!;
  return (
    <Layout title={`${step.title} · ${props.project.name}`}>
      <div class="page-head">
        <div>
          <p class="breadcrumb">
            <a href="/">Projects</a> /
          </p>
          <h1>{props.project.name}</h1>
        </div>
      </div>
      <Wizard {...props} />
    </Layout>
  );
}

/** The part htmx swaps on a step change: progress bar, step content and Prev / Next. */
export function Wizard(props: WizardProps) {
  const step = props.steps.find((s) => s.id === props.current)!;
  return (
    <div id="wizard" class="wizard" data-step={step.id}>
      <p class="wizard-status">
        Project status: <StatusBadge status={props.project.status} />
      </p>
      <Stepper projectId={props.project.id} steps={props.steps} current={props.current} />
      {props.notice ? (
        <div class="notice" role="status">
          {props.notice}
        </div>
      ) : null}
      <section class="step-body card" aria-labelledby="step-title">
        <h2 id="step-title" tabindex={-1}>
          Step {step.number} · {step.title}
        </h2>
        {props.body}
      </section>
      <StepNav projectId={props.project.id} steps={props.steps} current={props.current} />
    </div>
  );
}

type ChromeProps = { projectId: string; steps: StepState[]; current: StepId; oob?: boolean };

/**
 * The progress bar. `oob` renders it for an out-of-band swap, so a fragment that
 * changes what is complete (a file finished extracting) refreshes it too.
 */
export function Stepper(props: ChromeProps) {
  return (
    <nav id="wizard-steps" aria-label="Wizard steps" {...(props.oob ? { "hx-swap-oob": "true" } : {})}>
      <ol class="stepper">
        {props.steps.map((s) => (
          <StepLink projectId={props.projectId} step={s} current={s.id === props.current} />
        ))}
      </ol>
    </nav>
  );
}

/** Progress bar and Prev/Next, out of band: for fragments that change what is complete. */
export function WizardChromeOob(props: Omit<ChromeProps, "oob">) {
  return (
    <>
      <Stepper {...props} oob />
      <StepNav {...props} oob />
    </>
  );
}

export function StepNav(props: ChromeProps) {
  const index = props.steps.findIndex((s) => s.id === props.current);
  const prev = props.steps[index - 1];
  const next = props.steps[index + 1];
  return (
    <nav id="wizard-nav" class="wizard-nav" aria-label="Previous and next step" {...(props.oob ? { "hx-swap-oob": "true" } : {})}>
      {prev ? <NavButton projectId={props.projectId} step={prev} label={`← Prev: ${prev.title}`} rel="prev" /> : <span />}
      {next ? <NavButton projectId={props.projectId} step={next} label={`Next: ${next.title} →`} rel="next" /> : <span />}
    </nav>
  );
}

const swapAttrs = (url: string) => ({
  href: url,
  "hx-get": url,
  "hx-target": "#wizard",
  "hx-swap": "outerHTML show:window:top",
  "hx-push-url": "true",
});

function StepLink(props: { projectId: string; step: StepState; current: boolean }) {
  const { step } = props;
  const state = props.current ? "current" : step.lockedReason ? "locked" : step.complete ? "complete" : "open";
  const inner = (
    <>
      <span class="step-num" aria-hidden="true">
        {step.complete && !props.current ? "✓" : step.number}
      </span>
      <span class="step-title">{step.title}</span>
      <span class="visually-hidden">
        {step.complete ? " (complete)" : ""}
        {step.lockedReason ? ` (locked: ${step.lockedReason})` : ""}
      </span>
    </>
  );
  return (
    <li class={`step step-${state}${props.current && step.complete ? " is-complete" : ""}`} data-step={step.id}>
      {step.lockedReason && !props.current ? (
        <span class="step-link" aria-disabled="true" title={step.lockedReason}>
          {inner}
        </span>
      ) : (
        <a class="step-link" {...swapAttrs(stepUrl(props.projectId, step.id))} aria-current={props.current ? "step" : undefined}>
          {inner}
        </a>
      )}
    </li>
  );
}

function NavButton(props: { projectId: string; step: StepState; label: string; rel: "prev" | "next" }) {
  const cls = `btn ${props.rel === "next" ? "btn-primary" : ""}`;
  if (props.step.lockedReason) {
    return (
      <span class={`${cls} disabled`} aria-disabled="true" title={props.step.lockedReason} data-nav={props.rel}>
        {props.label}
        <span class="visually-hidden"> (locked: {props.step.lockedReason})</span>
      </span>
    );
  }
  return (
    <a class={cls} rel={props.rel} data-nav={props.rel} {...swapAttrs(stepUrl(props.projectId, props.step.id))}>
      {props.label}
    </a>
  );
}
