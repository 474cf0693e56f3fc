/**
 * Resolving a base model: from the Hub (HF_ENDPOINT) or a local folder, into the
 * ModelInfo the Model step shows and saves. Config and tokenizer files are cached
 * under the data dir for the dataset steps (token counts, chat template).
 */
import { constants, existsSync, statSync } from "node:fs";
import { access, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { consentChange } from "./remote-code.ts";
import { AppError } from "../lib/errors.ts";
import type { ProjectService } from "../projects/service.ts";
import { countParamsFromConfig, hfConfigSchema, readDims, type HfConfig } from "./architecture.ts";
import type { HubClient } from "./hub-client.ts";
import { countSafetensorsParams } from "./safetensors.ts";
import { isValidRepoId, type ModelInfo } from "./schemas.ts";
import { estimateVram } from "./vram.ts";
import { hubFolderName } from "./weights.ts";

/** Model types transformers implements itself: an auto_map in their config is not needed. */
const NATIVE_MODEL_TYPES = new Set([
  "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3", "gemma3_text",
  "phi", "phi3", "phimoe", "starcoder2", "gpt2", "gpt_neox", "falcon", "olmo", "olmo2", "cohere", "cohere2", "granite",
  "stablelm", "smollm3", "deepseek_v3", "glm", "glm4", "exaone4", "ernie4_5", "granitemoe",
]);

const HUB_FILES = ["tokenizer_config.json", "tokenizer.json", "chat_template.jinja", "generation_config.json"] as const;

export const MODEL_CHANGED_WARNING =
  "You changed the model after building a dataset: token counts and the training plan will be recomputed with the new tokenizer.";

type Sources = {
  modelId: string;
  source: "hub" | "local";
  configText: string;
  license: string | null;
  gated: boolean;
  exactParams: number | null;
  filesDir: string;
};

export type ModelService = ReturnType<typeof createModelService>;

export function createModelService(deps: { hub: HubClient; dataDir: string; projects: ProjectService; onModelChanged?: (projectId: string) => void }) {
  async function fromHub(repoId: string): Promise<Sources> {
    if (!isValidRepoId(repoId)) {
      throw new AppError(
        422,
        "invalid_model_id",
        `“${repoId}” is not a model id. Use the Hub's organisation/name form (e.g. meta-llama/Llama-3.1-8B-Instruct) or the absolute path of a local model folder.`,
      );
    }
    const info = await deps.hub.modelInfo(repoId);
    const configText = await deps.hub.file(repoId, "config.json");
    if (configText === null) {
      throw new AppError(422, "missing_config", `${repoId} has no config.json: it is not a transformers model.`);
    }
    // Beside the weights cache, not in it: a folder there would read as a cached model.
    const filesDir = join(deps.dataDir, "models", "files", hubFolderName(repoId));
    await mkdir(filesDir, { recursive: true });
    await writeFile(join(filesDir, "config.json"), configText);
    const extras = await Promise.all(HUB_FILES.map((f) => deps.hub.file(repoId, f)));
    await Promise.all(extras.map((text, i) => (text === null ? null : writeFile(join(filesDir, HUB_FILES[i]!), text))));
    return { modelId: repoId, source: "hub", configText, license: info.license, gated: info.gated, exactParams: info.safetensorsTotal, filesDir };
  }

  async function fromFolder(path: string): Promise<Sources> {
    // One answer whether the path is missing, unreadable or holds no config.json: the
    // form must not tell a visitor which paths exist on this machine.
    const notAModel = () =>
      new AppError(422, "not_a_model_folder", "That path is not a model folder this server can read: enter the absolute path of a folder holding the model's config.json and weights.");
    let names: string[];
    try {
      if (!statSync(path).isDirectory()) throw notAModel();
      names = await readdir(path);
      await access(join(path, "config.json"), constants.R_OK);
    } catch {
      throw notAModel();
    }
    const shards = names.filter((n) => n.endsWith(".safetensors"));
    let exactParams: number | null = null;
    if (shards.length > 0) {
      const counts = await Promise.all(shards.map((s) => countSafetensorsParams(join(path, s))));
      exactParams = counts.reduce((a, b) => a + b, 0);
    }
    const readme = names.includes("README.md") ? await readFile(join(path, "README.md"), "utf8") : "";
    return {
      modelId: path,
      source: "local",
      configText: await readFile(join(path, "config.json"), "utf8"),
      license: readme.match(/^---[\s\S]*?^license:\s*["']?([^\s"']+)/m)?.[1] ?? null,
      gated: false,
      exactParams,
      filesDir: path,
    };
  }

  async function describe(s: Sources): Promise<ModelInfo> {
    let raw: unknown;
    try {
      raw = JSON.parse(s.configText);
    } catch {
      throw new AppError(422, "invalid_config", `The config.json of ${s.modelId} is not valid JSON.`);
    }
    const parsed = hfConfigSchema.safeParse(raw);
    if (!parsed.success) throw new AppError(422, "invalid_config", `The config.json of ${s.modelId} has fields of the wrong type.`);
    // Multimodal wrappers (Gemma 3, Llava…) keep the language model's shape in text_config.
    const config: HfConfig = parsed.data.hidden_size || !parsed.data.text_config ? parsed.data : { ...parsed.data, ...parsed.data.text_config };
    const architecture = config.architectures?.[0] ?? "unknown";
    const modelType = config.model_type ?? "unknown";
    const warnings: string[] = [];

    if (architecture !== "unknown" && !/For(CausalLM|ConditionalGeneration)$/.test(architecture)) {
      throw new AppError(
        422,
        "not_causal_lm",
        `${s.modelId} is a ${architecture}, not a text-generation (causal) language model, so it cannot be fine-tuned to follow instructions or answer questions. Pick a …ForCausalLM model such as Llama, Qwen, Mistral or Gemma.`,
      );
    }
    if (architecture === "unknown") warnings.push("config.json names no architecture; assuming a causal language model.");
    const needsRemoteCode = Boolean(config.auto_map) && !NATIVE_MODEL_TYPES.has(modelType);
    if (config.auto_map) {
      warnings.push(
        NATIVE_MODEL_TYPES.has(modelType)
          ? `This repository ships custom code (auto_map), but transformers implements ${modelType} itself; the built-in code is used.`
          : "This model needs its own Python code (auto_map). Training runs it only once you allow it below. Only allow models whose authors you trust.",
      );
    }
    const dims = readDims(config);
    if (!dims) throw new AppError(422, "invalid_config", `The config.json of ${s.modelId} lacks the sizes needed (hidden_size, num_hidden_layers, num_attention_heads, vocab_size).`);
    const fromConfig = countParamsFromConfig(config)!;
    const numParameters = s.exactParams ?? fromConfig;

    const tokenizerConfig = await readJson(join(s.filesDir, "tokenizer_config.json"));
    const hasChatTemplate = Boolean(tokenizerConfig?.chat_template) || existsSync(join(s.filesDir, "chat_template.jinja"));
    const tokenizerAvailable = existsSync(join(s.filesDir, "tokenizer.json"));
    if (!hasChatTemplate) warnings.push("The tokenizer has no chat template: a generic template will be used for training.");
    if (!tokenizerAvailable) warnings.push("No tokenizer.json was found: token counts will be approximate.");
    if (s.gated) warnings.push(`This model is gated on the Hub; training needs HF_TOKEN with access to ${s.modelId}.`);

    return {
      needs_remote_code: needsRemoteCode,
      model_id: s.modelId,
      source: s.source,
      model_type: modelType,
      architecture,
      num_parameters: numParameters,
      parameter_source: s.exactParams !== null ? "safetensors" : "config",
      estimated_vram_fp16_gb: estimateVram({ dims, numParameters, mode: "load_16bit" }).total_gb,
      estimated_vram_4bit_gb: estimateVram({ dims, numParameters, mode: "load_4bit" }).total_gb,
      vocab_size: dims.vocabSize,
      context_length: dims.contextLength,
      hidden_size: dims.hidden,
      num_layers: dims.layers,
      license: s.license ?? "unknown",
      gated: s.gated,
      has_chat_template: hasChatTemplate,
      tokenizer_available: tokenizerAvailable,
      warnings,
      dims,
      files_dir: s.filesDir,
    };
  }

  async function resolve(modelId: string): Promise<ModelInfo> {
    const id = modelId.trim();
    if (id.startsWith("/") || isAbsolute(id)) return describe(await fromFolder(id));
    if (id.startsWith(".") || id.startsWith("~")) {
      throw new AppError(422, "invalid_model_id", "Local model folders must be given as an absolute path (starting with /).");
    }
    return describe(await fromHub(id));
  }

  return {
    resolve,

    /** Resolves and saves the model on the project; says when a dataset must be re-counted. */
    async resolveForProject(projectId: string, modelId: string): Promise<ModelInfo> {
      const project = deps.projects.get(projectId);
      const info = await resolve(modelId);
      deps.projects.setModel(projectId, info.model_id, info);
      if (project.exampleCount > 0 && project.baseModelId && project.baseModelId !== info.model_id) {
        deps.onModelChanged?.(projectId);
        // Said once, on this answer; not stored with the model.
        return { ...info, warnings: [MODEL_CHANGED_WARNING, ...info.warnings] };
      }
      return info;
    },

    /** The user allows the project's current model to run its own code (trust_remote_code). */
    allowRemoteCode(projectId: string, modelId: string): void {
      const info = deps.projects.get(projectId).modelInfo;
      if (!info || info.model_id !== modelId) throw new AppError(409, "model_not_resolved", `Resolve ${modelId} on the Model step first; consent applies to the project's current model only.`);
      deps.projects.updateConfig(projectId, consentChange(modelId));
    },
  };
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return null;
  }
}
