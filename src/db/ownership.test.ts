/**
 * One writer per table: each table is defined in the folder of the capability that owns
 * it (src/<capability>/table.ts or tables.ts), and only that folder may use its table
 * object or write it in SQL. Any other code reads and writes through the owner's service.
 * Read-only joins in SQL across tables (a page of examples with their file names) are
 * allowed; writes are not.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const SRC = join(import.meta.dir, "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

const files = sourceFiles(SRC).map((path) => ({ path, rel: relative(SRC, path), text: readFileSync(path, "utf8") }));
const capabilityOf = (rel: string) => rel.split("/")[0]!;

/** SQL table name and drizzle object name → the capability folder that defines it. */
const tableFiles = files.filter((f) => /^[^/]+\/tables?\.ts$/.test(f.rel));
const owners = new Map<string, string>();
const objects = new Map<string, string>();
for (const f of tableFiles) {
  for (const m of f.text.matchAll(/export const (\w+) = sqliteTable\(\s*"(\w+)"/g)) {
    owners.set(m[2]!, capabilityOf(f.rel));
    objects.set(m[1]!, capabilityOf(f.rel));
  }
}
// The examples table's companions (FTS index, counts, soft-delete list) are kept by datasets' SQL.
for (const aux of ["examples_fts", "example_counts", "examples_deleted"]) owners.set(aux, "datasets");
owners.set("chunks_fts", "documents");
owners.set("settings", "db");

describe("one writer per table", () => {
  test("every table is defined by one capability", () => {
    expect([...owners.keys()]).toEqual(expect.arrayContaining(["projects", "files", "chunks", "examples", "jobs", "training_runs", "run_metrics", "artifacts", "evaluations", "preferences"]));
  });

  test("a table object is imported only inside the capability that owns it", () => {
    const strays: string[] = [];
    for (const f of files) {
      if (f.rel === "db/schema.ts" || f.rel === "db/client.ts") continue;
      for (const m of f.text.matchAll(/import \{([^}]*)\} from "([^"]*\/tables?\.ts|[^"]*db\/schema\.ts)"/g)) {
        for (const name of m[1]!.split(",").map((n) => n.trim()).filter((n) => n && !n.startsWith("type "))) {
          const owner = objects.get(name) ?? (name === "settings" ? "db" : undefined);
          // Table files reference others' tables for foreign keys only.
          if (owner && owner !== capabilityOf(f.rel) && !tableFiles.includes(f)) strays.push(`${f.rel} uses ${name} (owned by ${owner})`);
        }
      }
    }
    expect(strays).toEqual([]);
  });

  test("SQL that writes a table is in the capability that owns it", () => {
    const strays: string[] = [];
    for (const f of files) {
      for (const m of f.text.matchAll(/\b(insert(?: or \w+)? into|update|delete from)\s+(\w+)/gi)) {
        const table = m[2]!.toLowerCase();
        const owner = owners.get(table);
        if (owner && owner !== capabilityOf(f.rel)) strays.push(`${f.rel}: ${m[0]} (owned by ${owner})`);
      }
    }
    expect(strays).toEqual([]);
  });
});
