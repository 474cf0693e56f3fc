import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderMigrationsModule } from "../../scripts/embed-migrations.ts";
import { openDatabase } from "./client.ts";
import { embeddedMigrations } from "../../drizzle/migrations.ts";
import { makeTempDir } from "../../tests/helpers/test-app.ts";

const drizzleDir = join(import.meta.dir, "../../drizzle");

test("the embedded migrations match drizzle-kit's folder (run `npm run db:generate`)", () => {
  expect(readFileSync(join(drizzleDir, "migrations.ts"), "utf8")).toBe(renderMigrationsModule(drizzleDir));
});

test("opening a database applies the migrations once, with WAL and foreign keys on", () => {
  const path = join(makeTempDir(), "t.db");
  const db = openDatabase(path);
  const tables = db.$client.query("select name from sqlite_master where type = 'table'").all() as { name: string }[];
  expect(tables.map((t) => t.name)).toEqual(
    expect.arrayContaining(["projects", "files", "chunks", "examples", "jobs", "training_runs", "run_metrics", "artifacts"]),
  );
  expect((db.$client.query("pragma journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
  expect((db.$client.query("pragma foreign_keys").get() as { foreign_keys: number }).foreign_keys).toBe(1);
  db.$client.close();
  const again = openDatabase(path);
  const applied = again.$client.query("select count(*) as n from __drizzle_migrations").get() as { n: number };
  expect(applied.n).toBe(embeddedMigrations.length);
  again.$client.close();
});
