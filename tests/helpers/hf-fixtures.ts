/** Real model configs (copied from shared/fixtures/hf so the suite runs from any checkout). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hfConfigSchema } from "../../src/models/architecture.ts";
import { FIXTURES_DIR } from "../fakes/fake-hub.ts";

export const fixtureConfig = (folder: string) => hfConfigSchema.parse(JSON.parse(readFileSync(join(FIXTURES_DIR, folder, "config.json"), "utf8")));
