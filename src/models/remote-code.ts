/**
 * Consent to run a model's own code (trust_remote_code): given per model, stored on the
 * project, and asked for again when the project switches to another model.
 */
import { AppError } from "../lib/errors.ts";
import type { ProjectConfig } from "../projects/schemas.ts";
import type { ModelInfo } from "./schemas.ts";

export function remoteCodeConsented(config: ProjectConfig, modelId: string): boolean {
  return config.remote_code_consent === modelId;
}

export const consentChange = (modelId: string): Partial<ProjectConfig> => ({ remote_code_consent: modelId });

/** trust_remote_code for a run: only for a model that needs it and that the user allowed. */
export function trustRemoteCode(info: ModelInfo, config: ProjectConfig): boolean {
  if (!info.needs_remote_code) return false;
  if (!remoteCodeConsented(config, info.model_id)) {
    throw new AppError(
      409,
      "remote_code_not_allowed",
      `${info.model_id} runs its own Python code when it loads. Allow it on the Model step (or POST /api/projects/:id/model/remote-code with {"model_id": "${info.model_id}"}) before training.`,
    );
  }
  return true;
}
