/** Writes the JSON Schemas of the trainer's events, run files, run.json and serve protocol from their zod source (src/training). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventJsonSchema } from "../src/training/events.ts";
import { runFilesJsonSchema } from "../src/training/run-files.ts";
import { runConfigJsonSchema } from "../src/training/run-config.ts";
import { serveProtocolJsonSchema } from "../src/training/serve-protocol.ts";

export const EVENT_SCHEMA_PATH = join(import.meta.dir, "../python/finetuneflow_trainer/events.schema.json");
export const renderEventSchema = () => `${JSON.stringify(eventJsonSchema(), null, 2)}\n`;
export const RUN_FILES_SCHEMA_PATH = join(import.meta.dir, "../python/finetuneflow_trainer/run-files.schema.json");
export const renderRunFilesSchema = () => `${JSON.stringify(runFilesJsonSchema(), null, 2)}\n`;
export const RUN_CONFIG_SCHEMA_PATH = join(import.meta.dir, "../python/finetuneflow_trainer/run-config.schema.json");
export const renderRunConfigSchema = () => `${JSON.stringify(runConfigJsonSchema(), null, 2)}\n`;
export const SERVE_PROTOCOL_SCHEMA_PATH = join(import.meta.dir, "../python/finetuneflow_trainer/serve-protocol.schema.json");
export const renderServeProtocolSchema = () => `${JSON.stringify(serveProtocolJsonSchema(), null, 2)}\n`;

if (import.meta.main) {
  writeFileSync(EVENT_SCHEMA_PATH, renderEventSchema());
  writeFileSync(RUN_FILES_SCHEMA_PATH, renderRunFilesSchema());
  writeFileSync(RUN_CONFIG_SCHEMA_PATH, renderRunConfigSchema());
  writeFileSync(SERVE_PROTOCOL_SCHEMA_PATH, renderServeProtocolSchema());
  console.log(`wrote ${EVENT_SCHEMA_PATH}, ${RUN_FILES_SCHEMA_PATH}, ${RUN_CONFIG_SCHEMA_PATH} and ${SERVE_PROTOCOL_SCHEMA_PATH}`);
}
