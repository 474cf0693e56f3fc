/** The Project domain as zod schemas: the truth for forms, API bodies and responses. */
import { z } from "zod";
import { modelInfoSchema, type ModelInfo } from "../models/schemas.ts";
import type { ProjectHardware, RunConfig } from "../training/schemas.ts";

export const TASK_TYPES = ["instruction", "qa"] as const;
/**
 * How Q&A examples carry their passage: as the input (the spec's default: the model
 * learns to answer from a passage it is given) or not at all (closed-book: the model
 * must learn the facts, to answer without the passage).
 */
export const QA_CONTEXTS = ["with_context", "closed_book"] as const;
export type QaContext = (typeof QA_CONTEXTS)[number];
export const PROJECT_STATUSES = [
  "draft", "uploading", "chunking", "generating", "ready_to_train", "training", "evaluating", "completed", "failed",
] as const;

export type TaskType = (typeof TASK_TYPES)[number];
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

/**
 * The only ways a project's status moves, named by what happened (the projects service is
 * the status's one writer). `from`: the statuses the move applies to (others stay as they
 * are: an upload marks a draft, never a trained project); null, any.
 */
export const STATUS_TRANSITIONS = {
  upload_started: { from: ["draft"], to: "uploading" },
  upload_abandoned: { from: ["uploading"], to: "draft" },
  extraction_queued: { from: ["draft", "uploading"], to: "chunking" },
  extraction_done: { from: ["chunking"], to: "draft" },
  generation_started: { from: null, to: "generating" },
  dataset_ready: { from: null, to: "ready_to_train" },
  dataset_too_small: { from: null, to: "draft" },
  training_started: { from: null, to: "training" },
  training_evaluating: { from: null, to: "evaluating" },
  training_stopped: { from: null, to: "ready_to_train" },
  training_succeeded: { from: null, to: "completed" },
  training_failed: { from: null, to: "failed" },
} as const satisfies Record<string, { from: readonly ProjectStatus[] | null; to: ProjectStatus }>;
export type StatusTransition = keyof typeof STATUS_TRANSITIONS;

const name = z
  .string({ error: "Name is required." })
  .trim()
  .min(1, "Name is required.")
  .max(120, "Name must be 120 characters or fewer.");
const description = z
  .string()
  .trim()
  .max(2000, "Description must be 2,000 characters or fewer.")
  .transform((d) => (d === "" ? null : d));

export const createProjectInput = z.object({
  name,
  description: description.nullish().transform((d) => d ?? null),
});

/**
 * How a Q&A dataset is written: "questions" (varied question–answer pairs) or
 * "study_notes" (the same, plus restatements of each passage meant for learning: what a
 * model needs to answer closed-book, decision 0012).
 */
export const QA_RECIPES = ["questions", "study_notes"] as const;
export type QaRecipe = (typeof QA_RECIPES)[number];
/** The recipe a project uses: its choice, else study notes for closed-book Q&A and questions with the passage. */
export const qaRecipeOf = (config: { qa_context?: string; qa_recipe?: QaRecipe }): QaRecipe => config.qa_recipe ?? (config.qa_context === "closed_book" ? "study_notes" : "questions");

export const updateProjectInput = z
  .object({
    name: name.optional(),
    description: description.nullable().optional(),
    task_type: z.enum(TASK_TYPES, { error: "Task type must be instruction or qa." }).optional(),
    qa_context: z.enum(QA_CONTEXTS, { error: "Q&A context must be with_context or closed_book." }).optional(),
    qa_recipe: z.enum(QA_RECIPES, { error: "Q&A recipe must be questions or study_notes." }).optional(),
  })
  .strict();

/** Dashboard and GET /api/projects: search by name, filter by status, one page at a time. */
export const DASHBOARD_PAGE_SIZE = 24;
export const projectListQuery = z.object({
  q: z.string().trim().max(120, "Search at most 120 characters.").catch(""),
  status: z.enum(["all", ...PROJECT_STATUSES]).catch("all"),
  page: z.coerce.number().int().min(1).catch(1),
  page_size: z.coerce.number().int().min(1).max(500).catch(DASHBOARD_PAGE_SIZE),
});
export type ProjectListQuery = z.infer<typeof projectListQuery>;

export type CreateProjectInput = z.infer<typeof createProjectInput>;
export type UpdateProjectInput = z.infer<typeof updateProjectInput>;

/**
 * Per-project settings (projects.config). Each key belongs to one capability, which
 * validates its value before saving it here.
 */
export const projectConfigSchema = z
  .object({
    /** Task: Q&A with the passage as input (default) or closed-book. */
    qa_context: z.enum(QA_CONTEXTS).optional(),
    /** Task: Q&A data recipe (qaRecipeOf gives the default). */
    qa_recipe: z.enum(QA_RECIPES).optional(),
    /** Generation: the Ollama model last used. */
    generation_model: z.string().optional(),
    /** Generation: the embedding model of the near-duplicate check by meaning ("none": word overlap only). */
    embedding_model: z.string().optional(),
    /** Generation: a second look at each example (answerability.ts). */
    answerability_check: z.boolean().optional(),
    /** Models: the model id whose own code the user allowed to run (trust_remote_code). */
    remote_code_consent: z.string().optional(),
    /** Training: the Train form's last values. */
    training: z.custom<RunConfig>((v) => typeof v === "object" && v !== null && !Array.isArray(v), "training must be an object").optional(),
  })
  .strict();
export type ProjectConfig = z.infer<typeof projectConfigSchema>;

/** A project as the dashboard and the API see it. */
export type ProjectSummary = {
  id: string;
  name: string;
  description: string | null;
  taskType: TaskType | null;
  baseModelId: string | null;
  modelInfo: ModelInfo | null;
  hardwareInfo: ProjectHardware | null;
  status: ProjectStatus;
  config: ProjectConfig;
  createdAt: number;
  updatedAt: number;
  fileCount: number;
  exampleCount: number;
};

/** The spec's Project, as the API answers it. */
export const projectJsonSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  task_type: z.enum(TASK_TYPES).nullable(),
  base_model_id: z.string().nullable(),
  model_info: modelInfoSchema.nullable(),
  status: z.enum(PROJECT_STATUSES),
  config: projectConfigSchema,
  created_at: z.string(),
  updated_at: z.string(),
  file_count: z.number().int(),
  example_count: z.number().int(),
});
export const projectPageSchema = z.object({ items: z.array(projectJsonSchema), total: z.number().int(), page: z.number().int(), pages: z.number().int() });

export const toProjectJson = (p: ProjectSummary) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  task_type: p.taskType,
  base_model_id: p.baseModelId,
  model_info: p.modelInfo ?? null,
  status: p.status,
  config: p.config,
  created_at: new Date(p.createdAt).toISOString(),
  updated_at: new Date(p.updatedAt).toISOString(),
  file_count: p.fileCount,
  example_count: p.exampleCount,
});
