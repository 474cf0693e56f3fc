/** Where each kind of file lives under the data dir. The one place that builds these paths. */
import { join } from "node:path";

export const databasePath = (dataDir: string) => join(dataDir, "finetuneflow.db");
export const projectDir = (dataDir: string, projectId: string) => join(dataDir, "projects", projectId);
