/**
 * The Export step: runs the trainer's `export` on the latest successful run (adapter,
 * adapter_config, metrics, report, loss curve, Modelfile, one zip), registers each
 * file, and serves only registered files — no path from a request reaches the disk.
 */
import { readRunFile } from "../training/run-files.ts";
import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { artifacts } from "./table.ts";
import { withRunSections } from "./report.ts";
import type { ExportSummaryView } from "./schemas.ts";
import { projectDir } from "../lib/data-dir.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { JobError, type JobQueue } from "../jobs/queue.ts";
import type { ProjectService } from "../projects/service.ts";
import type { TrainerClient } from "../training/trainer-client.ts";
import type { TrainingService } from "../training/service.ts";

export const EXPORT_JOB = "export";
export const ZIP_NAME = "finetuneflow_export.zip";

export function createExportService(deps: { db: Db; queue: JobQueue; projects: ProjectService; training: TrainingService; dataDir: string; trainer: TrainerClient; logger: Logger; now?: () => number }) {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  deps.queue.register(EXPORT_JOB, {
    payload: z.object({ runId: z.string() }),
    group: "cpu",
    maxAttempts: 1,
    run: async ({ payload, progress, signal }) => {
      const run = deps.training.getRun(payload.runId);
      if (!run) return { skipped: "run deleted" };
      // The base model from the cache, offline, as training read it (the client adds the weights env).
      const result = await deps.trainer.export(run.projectId, run.outputDir, { provenance: join(run.outputDir, "provenance.json") }, { signal, onProgress: progress });
      if (result.failure) throw new JobError(result.failure);
      const files = result.complete?.files ?? [];
      const base = projectDir(deps.dataDir, run.projectId);
      db.transaction((tx) => {
        tx.delete(artifacts).where(eq(artifacts.runId, run.id)).run();
        for (const f of files) {
          const rel = relative(base, f.path);
          if (rel.startsWith("..")) continue;
          tx.insert(artifacts).values({ id: crypto.randomUUID(), projectId: run.projectId, runId: run.id, filename: f.name, relativePath: rel, sizeBytes: f.size_bytes, createdAt: now() }).run();
        }
      });
      return { files: files.length };
    },
  });

  return {
    start(projectId: string) {
      const run = deps.training.latestSuccess(projectId);
      return deps.queue.enqueue(EXPORT_JOB, projectId, { runId: run.id });
    },

    /**
     * Puts the sections written beside a run (scorecard, parity) into the report already
     * exported for it, if any: evaluation and publish call this after writing theirs.
     */
    refreshReport(runId: string): void {
      const run = deps.training.getRun(runId);
      if (!run) return;
      for (const a of db.select().from(artifacts).where(and(eq(artifacts.runId, runId), eq(artifacts.filename, "report.md"))).all()) {
        const path = join(projectDir(deps.dataDir, run.projectId), a.relativePath);
        if (existsSync(path)) writeFileSync(path, withRunSections(readFileSync(path, "utf8"), run.outputDir));
      }
    },

    files(projectId: string) {
      deps.projects.get(projectId);
      return db.select().from(artifacts).where(eq(artifacts.projectId, projectId)).all();
    },

    /** A registered artifact's path; anything else is a 404, whatever the name holds. */
    pathOf(projectId: string, filename: string): { path: string; filename: string } {
      const row = db.select().from(artifacts).where(and(eq(artifacts.projectId, projectId), eq(artifacts.filename, filename))).get();
      const path = row ? join(projectDir(deps.dataDir, projectId), row.relativePath) : null;
      // A symlink planted in the export folder must not lead outside the data dir.
      const real = path && existsSync(path) ? realpathSync(path) : null;
      if (!row || !real || !real.startsWith(realpathSync(deps.dataDir) + sep)) {
        throw new AppError(404, "artifact_not_found", `No exported file named “${filename}”. Export the artifacts first.`);
      }
      return { path: real, filename: row.filename };
    },

    /** What the Export step shows: the run, its metrics and the before/after samples. */
    summary(projectId: string): ExportSummaryView {
      const run = deps.training.latestSuccessful(projectId);
      if (!run) return null;
      return { run, summary: readRunFile(run.outputDir, "run_summary.json"), evaluation: readRunFile(run.outputDir, "evaluation.json") };
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;
