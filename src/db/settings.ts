/**
 * Machine-wide key/value state that belongs to no project. Each value is parsed with
 * the caller's zod schema on the way out, so a stale or hand-edited row reads as absent.
 */
import { eq } from "drizzle-orm";
import type { z } from "zod";
import type { Db } from "./client.ts";
import { settings } from "./schema.ts";

export function createSettingsStore(db: Db) {
  return {
    get<T extends z.ZodType>(key: string, schema: T): z.infer<T> | null {
      const row = db.select({ value: settings.value }).from(settings).where(eq(settings.key, key)).get();
      if (!row) return null;
      const parsed = schema.safeParse(row.value);
      return parsed.success ? parsed.data : null;
    },
    set(key: string, value: unknown): void {
      db.insert(settings)
        .values({ key, value, updatedAt: Date.now() })
        .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: Date.now() } })
        .run();
    },
  };
}

export type SettingsStore = ReturnType<typeof createSettingsStore>;
