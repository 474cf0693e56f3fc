/** Writes the trainer event JSON Schema from the zod source (src/training/events.ts). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventJsonSchema } from "../src/training/events.ts";

export const EVENT_SCHEMA_PATH = join(import.meta.dir, "../python/finetuneflow_trainer/events.schema.json");
export const renderEventSchema = () => `${JSON.stringify(eventJsonSchema(), null, 2)}\n`;

if (import.meta.main) {
  writeFileSync(EVENT_SCHEMA_PATH, renderEventSchema());
  console.log(`wrote ${EVENT_SCHEMA_PATH}`);
}
