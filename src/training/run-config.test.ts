import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { RUN_CONFIG_SCHEMA_PATH } from "../../scripts/gen-event-schema.ts";
import { runConfigSchema, writeRunConfig } from "./run-config.ts";

const BASE = { base_model: "/m", output_dir: "/o", train_file: "/t.jsonl" };

describe("run.json, written once", () => {
  test("what the app writes has every default filled in, and the trainer's copy of the schema accepts it", () => {
    const dir = mkdtempSync(join(tmpdir(), "ftf-runcfg-"));
    const full = writeRunConfig(dir, { ...BASE, lora_r: 8 });
    const written = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
    expect(written).toEqual(full);
    expect(written).toMatchObject({ lora_r: 8, lora_alpha: 32, method: "lora", checkpointing: "auto", checkpoint_layers: null, eval_file: null, chat_template_kwargs: {} });
    const fromFile = z.fromJSONSchema(JSON.parse(readFileSync(RUN_CONFIG_SCHEMA_PATH, "utf8")));
    expect(fromFile.safeParse(written).success).toBe(true);
  });

  test("a config the trainer would refuse never reaches a run folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "ftf-runcfg-"));
    for (const bad of [{ ...BASE, lora_r: 0 }, { ...BASE, method: "full" }, { ...BASE, surprise: 1 }, { ...BASE, base_model: " " }, { ...BASE, target_modules: [] }]) {
      expect(() => writeRunConfig(dir, bad as never)).toThrow();
      expect(runConfigSchema.safeParse(bad).success).toBe(false);
    }
    expect(() => readFileSync(join(dir, "run.json"))).toThrow();
  });
});
