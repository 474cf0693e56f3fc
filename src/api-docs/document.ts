/** The API's OpenAPI document, assembled from each capability's operation list. */
import { buildOpenApi, type ApiTag } from "../lib/openapi.ts";
import { PROJECTS_API } from "../projects/api-routes.ts";
import { JOBS_API } from "../jobs/routes.tsx";
import { MODELS_API } from "../models/routes.tsx";
import { FILES_API } from "../documents/routes.tsx";
import { MAPPING_OPERATIONS } from "../datasets/mapping-routes.tsx";
import { GENERATION_API } from "../generation/routes.tsx";
import { DATASET_API } from "../datasets/review-routes.tsx";
import { READINESS_OPERATIONS } from "../readiness/routes.tsx";
import { TRAINING_API } from "../training/routes.tsx";
import { EVALUATION_API } from "../evaluation/routes.tsx";
import { EXPORT_API } from "../exports/routes.tsx";
import { PUBLISH_API } from "../publish/routes.tsx";
import { PLAYGROUND_API } from "../playground/routes.tsx";
import { VERSION_API } from "../ops/health.ts";
import pkg from "../../package.json" with { type: "json" };

/** In wizard order; the column mapping joins the other file operations, the readiness check the dataset ones. */
export const API_TAGS: ApiTag[] = [
  PROJECTS_API,
  MODELS_API,
  { ...FILES_API, operations: [...FILES_API.operations, ...MAPPING_OPERATIONS] },
  GENERATION_API,
  { ...DATASET_API, operations: [...DATASET_API.operations, ...READINESS_OPERATIONS] },
  TRAINING_API,
  EXPORT_API,
  PUBLISH_API,
  PLAYGROUND_API,
  EVALUATION_API,
  JOBS_API,
  VERSION_API,
];

let cached: ReturnType<typeof buildOpenApi> | null = null;
export const openApiDocument = () => (cached ??= buildOpenApi(API_TAGS, { version: pkg.version }));
