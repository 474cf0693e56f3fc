/**
 * The whole product's schema, for drizzle-kit and the connection. Each table lives with
 * the capability that owns it, the only code that writes it (db/ownership.test.ts checks),
 * and is re-exported here; db/ keeps the machine-wide `settings`. Statuses are readable
 * TEXT; timestamps are integer milliseconds since the epoch (ISO strings at the API
 * boundary). Every row that belongs to a project cascades on project delete.
 */
import { sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export * from "../projects/table.ts";
export * from "../documents/tables.ts";
export * from "../datasets/tables.ts";
export * from "../jobs/table.ts";
export * from "../training/tables.ts";
export * from "../exports/table.ts";
export * from "../evaluation/table.ts";
export * from "../preferences/table.ts";

/** Machine-wide state that belongs to no project (the last hardware check, secrets). */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value", { mode: "json" }).$type<unknown>().notNull(),
  updatedAt: integer("updated_at").notNull().default(sql`(unixepoch('subsec') * 1000)`),
});
