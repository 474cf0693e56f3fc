/**
 * What a preference round (DPO) hands the trainer: the pairs, and a run.json that is the
 * parent run's own, turned into a DPO stage on the parent's adapter. Kept apart from the
 * service so its settings and their reasons read in one place.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TrainingRunRow } from "./tables.ts";
import { runConfigSchema, writeRunConfig } from "./run-config.ts";
import type { RunConfig as RunSettings } from "./schemas.ts";

export type PreferenceRoundRequest = {
  /** TRL's conversational prompt/chosen/rejected JSONL. */
  pairs: string;
  count: number;
  /** Scorecard questions used as feedback: the round's evaluation leaves them out. */
  questionIds: string[];
  beta?: number;
  num_epochs?: number;
  learning_rate?: number;
};

/** Writes the round's pairs and run.json into `dir`; returns the config its run row keeps. */
export function writePreferenceRoundFiles(
  dir: string,
  parent: TrainingRunRow,
  round: PreferenceRoundRequest,
  defaults: { beta: number; epochs: number },
  projectName: string,
): RunSettings {
  const beta = round.beta ?? defaults.beta;
  const numEpochs = round.num_epochs ?? defaults.epochs;
  // DPO moves a model much further per step than SFT at the same rate.
  const learningRate = round.learning_rate ?? parent.config.learning_rate / 10;
  const trained = runConfigSchema.parse(JSON.parse(readFileSync(join(parent.outputDir, "run.json"), "utf8")));
  mkdirSync(dir, { recursive: true });
  const pairsFile = join(dir, "pairs.jsonl");
  writeFileSync(pairsFile, round.pairs);
  writeRunConfig(dir, {
    ...trained,
    output_dir: dir,
    train_file: pairsFile,
    eval_file: null,
    stage: "dpo",
    start_adapter: join(parent.outputDir, "adapter"),
    dpo_beta: beta,
    num_epochs: numEpochs,
    learning_rate: learningRate,
    max_steps: -1,
    save_steps: null,
    eval_steps: null,
    // Chosen and rejected go through the model side by side: one pair per step keeps memory at the SFT run's.
    per_device_batch_size: 1,
    gradient_accumulation_steps: Math.min(8, Math.max(1, Math.floor(round.count / 4))),
    packing: false,
    num_processes: 1,
  });
  writeFileSync(join(dir, "provenance.json"), JSON.stringify({ Project: projectName, "Preference pairs": round.count, "Started from run": parent.id, Beta: beta }));
  return { ...parent.config, num_epochs: numEpochs, learning_rate: learningRate, preference: { parent_run_id: parent.id, pairs: round.count, beta, question_ids: round.questionIds } };
}
