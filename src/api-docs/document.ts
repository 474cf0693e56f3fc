/** The API's OpenAPI document, assembled from each capability's operation list. */
import { buildOpenApi, type ApiTag } from "../lib/openapi.ts";
import { asTag } from "../lib/api-operations.ts";
import { PROJECTS_API } from "../projects/api-routes.ts";
import { JOBS_API } from "../jobs/routes.tsx";
import { MODELS_API } from "../models/routes.tsx";
import { FILES_API } from "../documents/routes.tsx";
import { MAPPING_API } from "../datasets/mapping-routes.tsx";
import { GENERATION_API } from "../generation/routes.tsx";
import { DATASET_API } from "../datasets/review-routes.tsx";
import { READINESS_API } from "../readiness/routes.tsx";
import { TRAINING_API } from "../training/routes.tsx";
import { EVALUATION_API } from "../evaluation/routes.tsx";
import { EXPORT_API } from "../exports/routes.tsx";
import { PUBLISH_API } from "../publish/routes.tsx";
import { PLAYGROUND_API } from "../playground/routes.tsx";
import { PREFERENCES_API } from "../preferences/routes.tsx";
import { VERSION_API } from "../ops/health.ts";
import pkg from "../../package.json" with { type: "json" };

/** In wizard order; the column mapping joins the other file operations, the readiness check the dataset ones. */
export const API_TAGS: ApiTag[] = [
  asTag(PROJECTS_API),
  asTag(MODELS_API),
  { ...asTag(FILES_API), operations: [...asTag(FILES_API).operations, ...asTag(MAPPING_API).operations] },
  asTag(GENERATION_API),
  { ...asTag(DATASET_API), operations: [...asTag(DATASET_API).operations, ...asTag(READINESS_API).operations] },
  asTag(TRAINING_API),
  asTag(EXPORT_API),
  asTag(PUBLISH_API),
  asTag(PLAYGROUND_API),
  asTag(EVALUATION_API),
  asTag(PREFERENCES_API),
  asTag(JOBS_API),
  asTag(VERSION_API),
];

let cached: ReturnType<typeof buildOpenApi> | null = null;
export const openApiDocument = () => (cached ??= buildOpenApi(API_TAGS, { version: pkg.version }));
