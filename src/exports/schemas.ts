/** What the Export step shows, declared by the export capability. */
import type { Evaluation, RunSummary } from "../training/run-files.ts";
import type { TrainingRunRow } from "../training/tables.ts";
import type { ArtifactRow } from "./table.ts";

/** An exported file as the step lists it (downloads go by name through pathOf). */
export type ArtifactView = Pick<ArtifactRow, "filename" | "sizeBytes">;

/** The latest successful run, its metrics and its before/after samples; null before any. */
export type ExportSummaryView = { run: Pick<TrainingRunRow, "id" | "method">; summary: RunSummary | null; evaluation: Evaluation | null } | null;
