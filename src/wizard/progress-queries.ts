/**
 * The wizard's read model: one query counting what a project has across the
 * capabilities' tables (examples through their trigger-kept counts). Read-only; each
 * capability still owns its writes.
 */
import type { Database } from "bun:sqlite";
import type { Db } from "../db/client.ts";
import type { ProgressFacts } from "./steps.ts";

type Row = {
  model_resolved: number;
  task_chosen: number;
  ready_documents: number;
  ready_datasets: number;
  preview_examples: number;
  preview_jobs: number;
  valid_examples: number;
  hardware_checked: number;
  successful_runs: number;
  artifacts: number;
};

export function createProgressQuery(db: Db) {
  const sqlite: Database = db.$client;
  const stmt = sqlite.query<Row, { id: string }>(`
    select
      (p.base_model_id is not null and p.model_info is not null) as model_resolved,
      (p.task_type is not null) as task_chosen,
      (select count(*) from files where project_id = p.id and kind = 'raw_doc' and status = 'ready') as ready_documents,
      (select count(*) from files where project_id = p.id and kind = 'dataset_upload' and status = 'ready') as ready_datasets,
      (select coalesce(sum(n), 0) from example_counts where project_id = p.id and split = 'preview') as preview_examples,
      (select count(*) from jobs where project_id = p.id and type = 'dataset_preview' and status = 'success') as preview_jobs,
      (select coalesce(sum(n), 0) from example_counts where project_id = p.id and split in ('train', 'eval') and is_valid = 1) as valid_examples,
      (p.hardware_info is not null or exists (select 1 from settings where key = 'machine_hardware')) as hardware_checked,
      (select count(*) from training_runs where project_id = p.id and status = 'success') as successful_runs,
      (select count(*) from artifacts where project_id = p.id) as artifacts
    from projects p where p.id = $id`);

  return (projectId: string): ProgressFacts | null => {
    const r = stmt.get({ id: projectId });
    if (!r) return null;
    return {
      modelResolved: r.model_resolved === 1,
      taskChosen: r.task_chosen === 1,
      readyDocuments: r.ready_documents,
      readyDatasets: r.ready_datasets,
      previewDone: r.preview_examples > 0 || r.preview_jobs > 0,
      validExamples: r.valid_examples,
      hardwareChecked: r.hardware_checked === 1,
      successfulRuns: r.successful_runs,
      exported: r.artifacts > 0,
    };
  };
}
