/**
 * The app factory: every dependency comes in, nothing is read from the environment.
 * main.ts and every test build the app through here.
 */
import { Hono } from "hono";
import type { Config } from "./config.ts";
import type { Db } from "./db/client.ts";
import { createSettingsStore } from "./db/settings.ts";
import { STATIC_ASSETS } from "./assets/static-assets.ts";
import { AppError } from "./lib/errors.ts";
import type { AppEnv } from "./lib/app-env.ts";
import { routeNotFound, toAppError } from "./lib/http-errors.ts";
import { renderError } from "../views/render-error.tsx";
import type { Logger } from "./lib/logger.ts";
import { jobApiRoutes, jobPageRoutes } from "./jobs/routes.tsx";
import type { JobQueue } from "./jobs/queue.ts";
import { createImportService } from "./datasets/import-service.ts";
import { reviewApiRoutes, reviewPageRoutes } from "./datasets/review-routes.tsx";
import { createReviewService } from "./datasets/review-service.ts";
import { reviewStepLoader } from "./datasets/step.ts";
import { createExampleStore } from "./datasets/example-store.ts";
import { createReadinessService } from "./readiness/service.ts";
import { createWeightsStore } from "./models/weights.ts";
import { createDownloader } from "./models/download.ts";
import { createWeightsService } from "./models/weights-service.ts";
import { modelStepLoader } from "./models/step.ts";
import { readinessApiRoutes, readinessPageRoutes } from "./readiness/routes.tsx";
import { documentApiRoutes, documentPageRoutes, fileListRenderer } from "./documents/routes.tsx";
import { mappingApiRoutes, mappingPageRoutes } from "./datasets/mapping-routes.tsx";
import { createDocumentService } from "./documents/service.ts";
import { dataStepLoader } from "./documents/step.ts";
import { createBackends } from "./generation/backends.ts";
import { generationApiRoutes, generationPageRoutes } from "./generation/routes.tsx";
import { createGenerationService } from "./generation/service.ts";
import { previewStepLoader } from "./generation/step.ts";
import { createRunHub } from "./training/hub.ts";
import { createTrainingService } from "./training/service.ts";
import { createTrainerClient } from "./training/trainer-client.ts";
import { createHardwareService } from "./training/hardware-service.ts";
import { hardwareStepLoader, trainStepLoader } from "./training/step.ts";
import { trainingApiRoutes, trainingPageRoutes } from "./training/routes.tsx";
import { createProbeService, type ProbeService } from "./training/probe.ts";
import { createExportService } from "./exports/service.ts";
import { exportStepLoader } from "./exports/step.ts";
import { exportApiRoutes, exportPageRoutes } from "./exports/routes.tsx";
import { createPublishService } from "./publish/service.ts";
import { publishApiRoutes, publishPageRoutes } from "./publish/routes.tsx";
import { createPlaygroundService } from "./playground/service.ts";
import { playgroundApiRoutes, playgroundPageRoutes } from "./playground/routes.tsx";
import { evaluationApiRoutes, evaluationPageRoutes } from "./evaluation/routes.tsx";
import { createEvaluationService } from "./evaluation/service.ts";
import { createJobService } from "./jobs/service.ts";
import { projectApiRoutes } from "./projects/api-routes.ts";
import { projectPageRoutes } from "./projects/page-routes.tsx";
import { createProjectService } from "./projects/service.ts";
import { healthRoutes, versionApiRoutes } from "./ops/health.ts";
import { apiDocsRoutes } from "./api-docs/routes.tsx";
import { createDiskGuard } from "./ops/disk.ts";
import { requireAuth } from "./security/auth.ts";
import { browserSession, csrfProtection } from "./security/csrf.ts";
import { csrfSecret } from "./security/secret.ts";
import { securityHeaders } from "./security/headers.ts";
import { bodyGuard, hostGuard } from "./security/request-guard.ts";
import { createFailureLimiter } from "./security/rate-limit.ts";
import { contextStorage } from "hono/context-storage";
import { loginRoutes } from "./security/routes.tsx";
import { createHubClient } from "./models/hub-client.ts";
import { modelApiRoutes, modelPageRoutes } from "./models/routes.tsx";
import { createModelService } from "./models/service.ts";
import { registerPurgeJob } from "./datasets/purge.ts";
import { RECOUNT_JOB, registerRecountJob } from "./datasets/recount.ts";
import { createProgressQuery } from "./wizard/progress-queries.ts";
import { createWizardRenderer } from "./wizard/render.tsx";
import { wizardRoutes } from "./wizard/routes.tsx";
import { raftSource } from "./training/raft.ts";
import { createPreferenceService } from "./preferences/service.ts";
import { preferenceApiRoutes, preferencePageRoutes } from "./preferences/routes.tsx";

export type AppDeps = {
  db: Db;
  /** The job queue; main starts it, tests drain it with runUntilEmpty(). */
  queue: JobQueue;
  config: Pick<Config, "dataDir" | "hub" | "generation"> &
    Partial<Pick<Config, "authToken" | "minFreeMb" | "host" | "allowedHosts" | "sessionDays">> & { trainer: Config["trainer"] & { command?: string[]; env?: Record<string, string> } };
  /** The client's address, for rate limits (from Bun.serve's requestIP). */
  clientAddress?: (req: Request) => string;
  logger: Logger;
  now?: () => number;
  /** How a wrong token's back-off is waited out (tests pass a recorder instead of a timer). */
  sleep?: (ms: number) => Promise<unknown>;
};


export function createApp(deps: AppDeps) {
  const now = deps.now ?? Date.now;
  const settings = createSettingsStore(deps.db);
  const clientAddress = deps.clientAddress ?? (() => "local");
  // One limiter for wrong tokens, whether typed on /login or sent as a bearer.
  const guesses = createFailureLimiter({ now, sleep: deps.sleep });
  const sessionDays = deps.config.sessionDays ?? 30;
  const projects = createProjectService({ db: deps.db, dataDir: deps.config.dataDir, now });
  const jobs = createJobService({ db: deps.db });
  const examples = createExampleStore(deps.db);
  registerRecountJob({ db: deps.db, queue: deps.queue, projects, examples });
  const purge = registerPurgeJob({ db: deps.db, queue: deps.queue });
  const readiness = createReadinessService({ projects, examples });
  const hubClient = createHubClient(deps.config.hub);
  const models = createModelService({
    hub: hubClient,
    dataDir: deps.config.dataDir,
    projects,
    onModelChanged: (projectId) => deps.queue.enqueue(RECOUNT_JOB, projectId, { projectId }),
  });
  const weightsStore = createWeightsStore(deps.config.dataDir);
  const weights = createWeightsService({ queue: deps.queue, projects, weights: weightsStore, downloader: createDownloader({ hub: hubClient, weights: weightsStore }) });
  const diskGuard = createDiskGuard(deps.config.dataDir, deps.config.minFreeMb ?? 0);
  const documents = createDocumentService({ db: deps.db, dataDir: deps.config.dataDir, queue: deps.queue, projects, examples, now, diskGuard });
  const imports = createImportService({ db: deps.db, queue: deps.queue, documents, examples, projects });
  const backends = createBackends(deps.config.generation);
  const generation = createGenerationService({
    db: deps.db,
    queue: deps.queue,
    examples,
    readyChunks: documents.readyChunks,
    backends,
    config: deps.config.generation,
    projects,
    logger: deps.logger,
    now,
  });
  const review = createReviewService({ db: deps.db, projects, duplicatesRemoved: generation.duplicatesRemoved, duplicatesByKind: generation.duplicatesByKind, purge: purge.request, now });
  const hub = createRunHub();
  const trainer = createTrainerClient({
    settings: {
      command: deps.config.trainer.command ?? [deps.config.trainer.python, "-m", "finetuneflow_trainer"],
      cwd: deps.config.trainer.dir,
      graceMs: deps.config.trainer.graceMs,
      env: deps.config.trainer.env,
    },
    envFor: weights.trainerEnv,
    logger: deps.logger,
  });
  // The probe needs training's file writer and the hardware estimate; the plan reads the probe back.
  let probe: ProbeService | null = null;
  const hardware = createHardwareService({ examples, readiness, queue: deps.queue, projects, settings, trainer, logger: deps.logger, probeFor: (id) => probe?.latest(id) ?? null });
  const training = createTrainingService({ db: deps.db, queue: deps.queue, hub, projects, review, dataDir: deps.config.dataDir, trainer, logger: deps.logger, now, diskGuard, readiness, prepareWeights: weights.prepareRun, hardwareFor: hardware.forProject, checkpointLayers: hardware.checkpointLayers, onRunSucceeded: (projectId) => evaluation.afterTraining(projectId), raftSource: (projectId) => raftSource(documents, projectId) });
  probe = createProbeService({ queue: deps.queue, dataDir: deps.config.dataDir, trainer, logger: deps.logger, writeTrainerFiles: training.writeTrainerFiles, estimateAllocated: hardware.estimateAllocated, prepareWeights: weights.prepareRun });
  const probes = probe;
  const playground = createPlaygroundService({ projects, training, examples, trainer, ollamaHost: deps.config.generation.ollamaHosts[0] ?? null, gpu: deps.queue.gpu, logger: deps.logger });
  const exportsService = createExportService({ db: deps.db, queue: deps.queue, projects, training, dataDir: deps.config.dataDir, trainer, logger: deps.logger, now });
  const evaluation = createEvaluationService({
    db: deps.db,
    queue: deps.queue,
    projects,
    training,
    examples,
    backends,
    trainer,
    reports: exportsService,
    logger: deps.logger,
    chatModels: generation.chatModels,
    modelParameters: generation.modelParameters,
    retrieve: documents.retrieve,
    now,
  });
  const preferences = createPreferenceService({ db: deps.db, projects, training, latestEvaluation: (projectId) => evaluation.latest(projectId), now });
  const publish = createPublishService({ queue: deps.queue, projects, training, review, reports: exportsService, ollamaHost: deps.config.generation.ollamaHosts[0] ?? null, trainer });

  const previewStep = previewStepLoader(generation);
  const wizard = createWizardRenderer({
    projects,
    progress: createProgressQuery(deps.db),
    loaders: {
      model: modelStepLoader(projects, weights, jobs),
      data: dataStepLoader(documents),
      preview: previewStep,
      review: reviewStepLoader(review, examples),
      hardware: hardwareStepLoader(hardware, jobs, probes),
      train: trainStepLoader(projects, hardware, training, readiness, jobs, probes),
      export: exportStepLoader(exportsService, jobs, evaluation, publish, projects, preferences.counts),
    },
  });

  const renderFileList = fileListRenderer(documents, wizard);

  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const requestId = c.req.header("X-Request-Id")?.slice(0, 64) || crypto.randomUUID();
    c.set("requestId", requestId);
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    if (!c.req.path.startsWith("/static/")) {
      deps.logger.debug("request", {
        request_id: requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  });

  app.use(securityHeaders);
  app.use(contextStorage());
  // Name, origin, type and size before anything reads the body or the database.
  app.use(hostGuard({ host: deps.config.host ?? "127.0.0.1", allowedHosts: deps.config.allowedHosts ?? [], authToken: deps.config.authToken }));
  app.use(bodyGuard);
  app.use(browserSession(csrfSecret(settings), sessionDays * 24 * 3600));
  app.use(requireAuth(deps.config.authToken, guesses, clientAddress));
  app.use(csrfProtection);

  app.route("/", healthRoutes(deps.db, deps.config.trainer.python));
  app.route("/api", versionApiRoutes());

  app.get("/static/:name", (c) => {
    const name = c.req.param("name");
    const asset = Object.hasOwn(STATIC_ASSETS, name) ? STATIC_ASSETS[name] : undefined;
    if (!asset) throw new AppError(404, "asset_not_found", "No such file.");
    return new Response(Bun.file(asset.path), {
      headers: {
        "Content-Type": asset.contentType,
        // URLs carry ?v=<release>, so a cached copy is never stale.
        "Cache-Control": "public, max-age=31536000, immutable",
      },
    });
  });

  app.route("/", loginRoutes({ token: deps.config.authToken, limiter: guesses, clientAddress, sessionDays }));
  app.route("/", apiDocsRoutes());
  app.route("/api", projectApiRoutes(projects));
  app.route("/api", jobApiRoutes(jobs, projects, deps.queue));
  app.route("/api", modelApiRoutes(models, weights));
  app.route("/api", documentApiRoutes(documents));
  app.route("/api", mappingApiRoutes(imports));
  app.route("/api", generationApiRoutes(generation));
  app.route("/api", reviewApiRoutes(review, projects));
  app.route("/api", readinessApiRoutes(readiness));
  app.route("/api", trainingApiRoutes(training, hardware, hub, probes));
  app.route("/api", exportApiRoutes(exportsService));
  app.route("/api", publishApiRoutes(publish));
  app.route("/api", playgroundApiRoutes(playground));
  app.route("/api", evaluationApiRoutes(evaluation));
  app.route("/api", preferenceApiRoutes(preferences));
  app.route("/", projectPageRoutes(projects, now));
  app.route("/", wizardRoutes({ projects, wizard }));
  app.route("/", readinessPageRoutes(readiness));
  app.route("/", modelPageRoutes(models, weights, wizard));
  app.route("/", documentPageRoutes(documents, renderFileList));
  app.route("/", mappingPageRoutes(imports, renderFileList));
  app.route("/", generationPageRoutes(generation, wizard, previewStep));
  app.route("/", reviewPageRoutes(review, wizard));
  app.route("/", trainingPageRoutes(training, hardware, wizard, probes, jobs));
  app.route("/", exportPageRoutes(exportsService, wizard));
  app.route("/", publishPageRoutes(publish, wizard));
  app.route("/", playgroundPageRoutes(projects, generation.chatModels));
  app.route("/", evaluationPageRoutes(evaluation, wizard, generation));
  app.route("/", preferencePageRoutes(preferences, projects));
  app.route("/", jobPageRoutes(jobs, deps.queue));

  app.notFound((c) => renderError(c, routeNotFound(c)));
  app.onError((err, c) => renderError(c, toAppError(err, deps.logger, c)));

  return app;
}
