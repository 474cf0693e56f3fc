/** Hardware check, training (start, status, cancel, resume, SSE stream) and their page fragments. */
import { apiRoutes, defineApi } from "../lib/api-operations.ts";
import { jobStartedSchema } from "../jobs/schemas.ts";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { AppError } from "../lib/errors.ts";
import { parseJsonBody, parseOptionalJsonBody, readFormFields } from "../lib/validation.ts";
import type { AppEnv } from "../lib/app-env.ts";
import type { WizardRenderer } from "../wizard/render.tsx";
import type { RunHub } from "./hub.ts";
import type { HardwareService } from "./hardware-service.ts";
import type { ProbeService } from "./probe.ts";
import type { JobService } from "../jobs/service.ts";
import { probeView } from "./step.ts";
import { ProbePanel } from "../../views/components/ProbePanel.tsx";
import { lossCurvesSchema, probeRecordSchema, projectHardwareSchema, runJsonSchema, runStartedSchema, toRunJson, trainingConfigSchema, trainingStatusSchema } from "./schemas.ts";
import type { TrainingService } from "./service.ts";
import { streamRunEvents } from "./stream.ts";
import { isFinishedRun } from "./schemas.ts";
import { TrainPlan } from "../../views/wizard/steps/TrainStep.tsx";
import { z } from "zod";

const hardwareQuery = z.object({ project_id: z.string().optional().meta({ description: "Add this project's VRAM estimate" }) });
const resumeInput = z.object({ run_id: z.string().optional() }).strict();
const streamQuery = z.object({
  run_id: z.string().optional().meta({ description: "A run of the project (default: the latest)" }),
  last_event_id: z.coerce.number().int().nonnegative().optional().meta({ description: "Resume after this event (or send Last-Event-ID)" }),
});

/** A training config whose missing fields take the model family's preset (learning rate, a length from the data). */
const withPresetDefaults = (defaults: Record<string, unknown>) =>
  z.preprocess((body) => (body && typeof body === "object" && !Array.isArray(body) ? { ...defaults, ...body } : body), trainingConfigSchema);

export const TRAINING_API = defineApi({
  name: "Training",
  description: "Hardware check, LoRA/QLoRA runs, live metrics.",
  operations: {
    hardware: { method: "get", path: "/hardware/check", summary: "GPU, VRAM, CUDA, PyTorch, bitsandbytes and a LoRA/QLoRA recommendation", query: hardwareQuery, response: { status: 200, description: "HardwareInfo (with the project's VRAM estimate when project_id is given)", schema: projectHardwareSchema }, errors: [404, 502, 503] },
    // The handlers parse these bodies: their defaults are the project's model-family preset.
    probe: { method: "post", path: "/projects/:id/hardware/probe", summary: "Measure on this GPU: a few real steps at these settings (longest batches first), backing off on out-of-memory", body: trainingConfigSchema, bodyOptional: true, parsesOwnBody: true, response: { status: 202, description: "The measuring job", schema: jobStartedSchema }, errors: [400, 404, 409, 415, 422] },
    probeResult: { method: "get", path: "/projects/:id/hardware/probe", summary: "The last measurement: peak VRAM, tokens/s, the settings that fit, what was lowered", response: { status: 200, description: "ProbeRecord", schema: probeRecordSchema }, errors: [404] },
    start: { method: "post", path: "/projects/:id/train/start", summary: "Start a training run", body: trainingConfigSchema, parsesOwnBody: true, response: { status: 202, description: "The run and its job", schema: runStartedSchema }, errors: [400, 404, 409, 415, 422, 507] },
    status: { method: "get", path: "/projects/:id/train/status", summary: "The latest run: status, progress, metrics, queue position", response: { status: 200, description: "TrainingStatus", schema: trainingStatusSchema }, errors: [404] },
    runs: { method: "get", path: "/projects/:id/train/runs", summary: "Every run of the project", response: { status: 200, description: "The runs", schema: z.object({ runs: z.array(runJsonSchema) }) }, errors: [404] },
    curves: { method: "get", path: "/projects/:id/train/curves", summary: "Train-loss points of every run, to compare them", response: { status: 200, description: "Each run's [step, loss] points", schema: lossCurvesSchema }, errors: [404] },
    cancel: { method: "post", path: "/projects/:id/train/cancel", summary: "Cancel the running run (its last checkpoint is kept)", response: { status: 200, description: "The run", schema: runJsonSchema }, errors: [404, 409] },
    resume: { method: "post", path: "/projects/:id/train/resume", summary: "Resume an interrupted or cancelled run from its checkpoint", body: resumeInput, bodyOptional: true, response: { status: 202, description: "The run and its job", schema: runStartedSchema }, errors: [400, 404, 409, 415, 422] },
    stream: {
      method: "get",
      path: "/projects/:id/train/logs/stream",
      summary: "Live run events (Server-Sent Events); resumes after Last-Event-ID",
      query: streamQuery,
      response: { status: 200, description: "Events: started, log, eval, progress, checkpoint, stderr, complete, error, cancelled", contentType: "text/event-stream" },
      errors: [404],
    },
  },
});

export function trainingApiRoutes(training: TrainingService, hardware: HardwareService, hub: RunHub, probe: ProbeService) {
  return apiRoutes(TRAINING_API, {
    hardware: (_c, { query }) => hardware.check(query.project_id || undefined),
    probe: async (c, { params }) => {
      const id = params.id;
      const config = await parseOptionalJsonBody(c, withPresetDefaults(training.presetDefaults(id)));
      return { job_id: probe.start(id, config).id };
    },
    probeResult: (_c, { params }) => probe.require(params.id),
    start: async (c, { params }) => {
      const id = params.id;
      const config = await parseJsonBody(c, withPresetDefaults(training.presetDefaults(id)));
      const { run, jobId } = training.start(id, config);
      return { job_id: jobId, run_id: run.id };
    },
    status: (_c, { params }) => {
      const status = training.status(params.id);
      if (!status) throw new AppError(404, "no_training_run", "This project has no training run yet.");
      return status;
    },
    runs: (_c, { params }) => ({ runs: training.runs(params.id).map(toRunJson) }),
    curves: (_c, { params }) => ({ runs: training.curves(params.id) }),
    cancel: (_c, { params }) => toRunJson(training.cancel(params.id)),
    resume: (_c, { body, params }) => {
      const { run, jobId } = training.resume(params.id, body.run_id);
      return { job_id: jobId, run_id: run.id };
    },
    stream: (c, { query, params }) => {
      const projectId = params.id;
      const run = query.run_id ? training.getRun(query.run_id) : training.latestRun(projectId);
      if (!run || run.projectId !== projectId) throw new AppError(404, "no_training_run", "This project has no training run yet.");
      // EventSource sends Last-Event-ID itself when it reconnects.
      const after = Number(c.req.header("Last-Event-ID") ?? query.last_event_id ?? 0) || 0;
      return streamSSE(c, (stream) =>
        streamRunEvents(
          run.id,
          after,
          { subscribe: hub.subscribe, eventsAfter: training.eventsAfter, isFinished: (id) => isFinishedRun(training.getRun(id)?.status ?? "success") },
          { write: (e) => stream.writeSSE({ id: String(e.seq), event: e.event, data: JSON.stringify(e.data) }), heartbeat: () => stream.write(": keep-alive\n\n").then(() => {}), onAbort: (fn) => stream.onAbort(fn) },
        ),
      );
    },
  });
}

export function trainingPageRoutes(training: TrainingService, hardware: HardwareService, wizard: WizardRenderer, probe: ProbeService, jobs: JobService) {
  return new Hono<AppEnv>()
    .get("/projects/:id/hardware/probe/panel", (c) => {
      const id = c.req.param("id");
      const step = c.req.query("step") === "train" ? "train" : "hardware";
      return c.html(<ProbePanel projectId={id} step={step} data={probeView(jobs, probe, id)} gpu={hardware.forProject(id)?.cuda_available === true} />);
    })
    // "Measure on this GPU", from the Hardware step (the saved settings) or the Train form (its fields).
    .post("/projects/:id/hardware/probe", async (c) => {
      const id = c.req.param("id");
      const form = await readFormFields(c);
      const step = form.step === "train" ? "train" : "hardware";
      const fields = Object.fromEntries(Object.entries(form).filter(([k, v]) => v !== "" && k !== "step" && k !== "max_steps"));
      const parsed = withPresetDefaults({ ...training.presetDefaults(id), ...training.savedConfig(id) }).safeParse(fields);
      // The Train form comes back as the user left it (the measurement does not save it).
      const kept = step === "train" ? { trainValues: fields as Record<string, string> } : {};
      if (!parsed.success) return wizard.render(c, id, step, { status: 422, extras: { ...kept, probeError: parsed.error.issues[0]?.message ?? "Invalid settings." } });
      try {
        probe.start(id, parsed.data);
      } catch (err) {
        if (!(err instanceof AppError) || err.status === 404) throw err;
        return wizard.render(c, id, step, { status: err.status, extras: { ...kept, probeError: err.message } });
      }
      return wizard.render(c, id, step, { extras: kept });
    })
    .post("/projects/:id/hardware", (c) => {
      hardware.start(c.req.param("id"));
      return wizard.render(c, c.req.param("id"), "hardware");
    })
    .post("/projects/:id/train", async (c) => {
      const id = c.req.param("id");
      const form = await readFormFields(c);
      const parsed = trainingConfigSchema.safeParse(Object.fromEntries(Object.entries(form).filter(([k, v]) => v !== "" && k !== "max_steps")));
      if (!parsed.success) {
        return wizard.render(c, id, "train", { status: 422, extras: { trainErrors: Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message])), trainValues: form } });
      }
      try {
        training.start(id, parsed.data);
      } catch (err) {
        if (!(err instanceof AppError) || err.status === 404) throw err;
        return wizard.render(c, id, "train", { status: err.status, extras: { trainErrors: { _: err.message }, trainValues: form } });
      }
      return wizard.render(c, id, "train");
    })
    .post("/projects/:id/train/plan", async (c) => {
      const id = c.req.param("id");
      const form = await readFormFields(c);
      const parsed = trainingConfigSchema.safeParse(Object.fromEntries(Object.entries(form).filter(([, v]) => v !== "")));
      const { project } = wizard.load(id);
      return c.html(<TrainPlan project={project} plan={parsed.success ? hardware.plan(id, parsed.data) : null} error={parsed.success ? undefined : parsed.error.issues[0]?.message} />);
    })
    .post("/projects/:id/train/cancel", (c) => {
      training.cancel(c.req.param("id"));
      return wizard.render(c, c.req.param("id"), "train");
    })
    .post("/projects/:id/train/resume", (c) => {
      training.resume(c.req.param("id"));
      return wizard.render(c, c.req.param("id"), "train");
    });
}

