/**
 * Where the app's own files live: the repository when run from source, the folder of
 * the executable when compiled (its embedded files are under /$bunfs, not on disk).
 */
import { dirname, join } from "node:path";

export function appRoot(): string {
  const here = import.meta.dir;
  return here.startsWith("/$bunfs") || here.startsWith("B:\\~BUN") ? dirname(process.execPath) : join(here, "../..");
}
