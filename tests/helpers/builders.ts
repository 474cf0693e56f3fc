/**
 * Small builders that put a project in a given state by writing rows directly, so
 * wizard tests can reach any step before the features that create those rows exist.
 */
import { TRAINING_DEFAULTS, type ProjectHardware } from "../../src/training/schemas.ts";
import type { Db } from "../../src/db/client.ts";
import { artifacts } from "../../src/exports/table.ts";
import { examples } from "../../src/datasets/tables.ts";
import { files } from "../../src/documents/tables.ts";
import { jobs } from "../../src/jobs/table.ts";
import { projects } from "../../src/projects/table.ts";
import { trainingRuns } from "../../src/training/tables.ts";
import { eq } from "drizzle-orm";
import type { ModelInfo } from "../../src/models/schemas.ts";

let seq = 0;
const nextId = (p: string) => `${p}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

export function insertProject(db: Db, values: Partial<typeof projects.$inferInsert> = {}) {
  const id = values.id ?? nextId("proj");
  db.insert(projects).values({ id, name: `Project ${id}`, ...values }).run();
  return id;
}

/** A resolved model; "local" by default so runs start without a weights download (download tests opt into "hub"). */
export function modelInfoFor(modelId: string, values: Partial<ModelInfo> = {}): ModelInfo {
  return {
    model_id: modelId,
    source: "local",
    model_type: "llama",
    architecture: "LlamaForCausalLM",
    num_parameters: 134_515_008,
    parameter_source: "safetensors",
    estimated_vram_fp16_gb: 0.9,
    estimated_vram_4bit_gb: 0.7,
    vocab_size: 49152,
    context_length: 8192,
    hidden_size: 576,
    num_layers: 30,
    license: "apache-2.0",
    gated: false,
    has_chat_template: true,
    tokenizer_available: false,
    warnings: [],
    dims: { vocabSize: 49152, hidden: 576, intermediate: 1536, layers: 30, heads: 9, kvHeads: 3, headDim: 64, tiedEmbeddings: true, experts: 1, contextLength: 8192 },
    files_dir: "/nonexistent",
    ...values,
  };
}

export function resolveModel(db: Db, projectId: string, modelId = "HuggingFaceTB/SmolLM2-135M-Instruct") {
  db.update(projects).set({ baseModelId: modelId, modelInfo: modelInfoFor(modelId) }).where(eq(projects.id, projectId)).run();
}

export function chooseTask(db: Db, projectId: string, taskType: "instruction" | "qa" = "instruction") {
  db.update(projects).set({ taskType }).where(eq(projects.id, projectId)).run();
}

export function insertFile(db: Db, projectId: string, values: Partial<typeof files.$inferInsert> = {}) {
  const id = values.id ?? nextId("file");
  db.insert(files)
    .values({
      id,
      projectId,
      filename: "manual.pdf",
      storedName: `${id}.pdf`,
      kind: "raw_doc",
      status: "ready",
      mimeType: "application/pdf",
      sizeBytes: 1234,
      sha256: id,
      ...values,
    })
    .run();
  return id;
}

export function insertExamples(db: Db, projectId: string, count: number, values: Partial<typeof examples.$inferInsert> = {}) {
  const rows = Array.from({ length: count }, () => ({
    id: nextId("ex"),
    projectId,
    split: "train" as const,
    instruction: "What is the warranty period?",
    output: "Two years from the date of purchase.",
    isValid: true,
    ...values,
  }));
  if (rows.length) db.insert(examples).values(rows).run();
}

export function checkHardware(db: Db, projectId: string, overrides: Partial<ProjectHardware> = {}) {
  const hardwareInfo: ProjectHardware = {
    event: "hardware", gpu_name: null, gpu_count: 0, vram_total_gb: null, vram_free_gb: null, cuda_available: false, cuda_version: null,
    torch_version: "2.15.0", transformers_version: "5.24.0", peft_version: "0.21.2", bnb_available: false, bnb_error: "bitsandbytes 4-bit needs a CUDA GPU.",
    bf16_supported: false, cpu_count: 2, ram_total_gb: 23.5, recommended_method: "lora", recommendation_reason: "CPU only.", warnings: [], estimate: null,
    checked_at: new Date().toISOString(),
    ...overrides,
  };
  db.update(projects).set({ hardwareInfo }).where(eq(projects.id, projectId)).run();
}

export function insertRun(db: Db, projectId: string, status: "success" | "failed" | "running" = "success") {
  const id = nextId("run");
  db.insert(trainingRuns).values({ id, projectId, status, method: "lora", config: { ...TRAINING_DEFAULTS, method: "lora" }, outputDir: `runs/${id}` }).run();
  return id;
}

export function insertJob(db: Db, projectId: string | null, values: Partial<typeof jobs.$inferInsert> = {}) {
  const id = values.id ?? nextId("job");
  db.insert(jobs).values({ id, projectId, type: "dataset_preview", ...values }).run();
  return id;
}

export function insertArtifact(db: Db, projectId: string, runId: string) {
  db.insert(artifacts)
    .values({ id: nextId("art"), projectId, runId, filename: "report.md", relativePath: "exports/report.md", sizeBytes: 10 })
    .run();
}

/** A project ready to train: a model, a task, 20 train and 3 eval examples, a hardware check. */
export function insertReadyProject(db: Db): string {
  const pid = insertProject(db);
  resolveModel(db, pid);
  chooseTask(db, pid);
  insertExamples(db, pid, 20, { split: "train" });
  insertExamples(db, pid, 3, { split: "eval" });
  checkHardware(db, pid);
  return pid;
}
