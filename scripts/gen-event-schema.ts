/** Writes the JSON Schemas of the trainer's events and run files from their zod source (src/training). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventJsonSchema } from "../src/training/events.ts";
import { runFilesJsonSchema } from "../src/training/run-files.ts";

export const EVENT_SCHEMA_PATH = join(import.meta.dir, "../python/finetuneflow_trainer/events.schema.json");
export const renderEventSchema = () => `${JSON.stringify(eventJsonSchema(), null, 2)}\n`;
export const RUN_FILES_SCHEMA_PATH = join(import.meta.dir, "../python/finetuneflow_trainer/run-files.schema.json");
export const renderRunFilesSchema = () => `${JSON.stringify(runFilesJsonSchema(), null, 2)}\n`;

if (import.meta.main) {
  writeFileSync(EVENT_SCHEMA_PATH, renderEventSchema());
  writeFileSync(RUN_FILES_SCHEMA_PATH, renderRunFilesSchema());
  console.log(`wrote ${EVENT_SCHEMA_PATH} and ${RUN_FILES_SCHEMA_PATH}`);
}
