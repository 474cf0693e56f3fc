/**
 * Opens the app's one SQLite connection and brings its schema up to date.
 * bun:sqlite is synchronous and the app is one process, so a single connection with
 * WAL serves every request; readers never block the writer.
 */
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { drizzle } from "drizzle-orm/bun-sqlite";
import type { MigrationMeta } from "drizzle-orm/migrator";
import { embeddedMigrations } from "../../drizzle/migrations.ts";
import * as schema from "./schema.ts";

export type Db = ReturnType<typeof openDatabase>;

export function openDatabase(path: string) {
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA foreign_keys = ON");
  sqlite.exec("PRAGMA busy_timeout = 5000");
  // WAL makes NORMAL durable across app crashes; only an OS crash can lose the last commit.
  sqlite.exec("PRAGMA synchronous = NORMAL");
  const db = drizzle({ client: sqlite, schema });
  migrate(db);
  return db;
}

/** Same bookkeeping as drizzle-orm's migrator, fed from the embedded SQL instead of a folder. */
function migrate(db: ReturnType<typeof drizzle<typeof schema>>) {
  const migrations: MigrationMeta[] = embeddedMigrations.map((m) => ({
    sql: m.sql.split("--> statement-breakpoint"),
    bps: m.breakpoints,
    folderMillis: m.when,
    hash: createHash("sha256").update(m.sql).digest("hex"),
  }));
  // @ts-expect-error dialect/session are internal but stable: this is what drizzle-orm/bun-sqlite/migrator calls.
  db.dialect.migrate(migrations, db.session, {});
}
