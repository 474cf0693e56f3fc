/** Refuses work that writes a lot (uploads, training) when the data dir's disk is nearly full. */
import { statfsSync } from "node:fs";
import { AppError } from "../lib/errors.ts";

export type DiskGuard = () => void;

export function createDiskGuard(dir: string, minFreeMb: number): DiskGuard {
  return () => {
    if (minFreeMb <= 0) return;
    const s = statfsSync(dir);
    const freeMb = (Number(s.bavail) * Number(s.bsize)) / 1024 / 1024;
    if (freeMb < minFreeMb) {
      throw new AppError(
        507,
        "insufficient_storage",
        `Only ${Math.round(freeMb)} MB are free where FineTuneFlow keeps its data (FTF_DATA_DIR); at least ${minFreeMb} MB are needed. Free some space and try again.`,
      );
    }
  };
}
