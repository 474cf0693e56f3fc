/**
 * `finetuneflow backup <file>`: a consistent copy of the database taken while the
 * server runs. sqlite3_serialize reads every page inside one read transaction (WAL
 * lets the server keep writing meanwhile) and keeps rowids as they are, which the
 * external-content full-text index relies on (VACUUM INTO would renumber them).
 */
import { Database } from "bun:sqlite";
import { renameSync, writeFileSync } from "node:fs";

export function backupDatabase(source: string, target: string): { bytes: number } {
  const db = new Database(source, { readonly: true });
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    const bytes = db.serialize();
    const tmp = `${target}.partial`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, target);
    // A serialized WAL database keeps WAL mode in its header; verify it opens and is whole.
    const check = new Database(target);
    const ok = (check.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
    check.close();
    if (ok !== "ok") throw new Error(`the backup failed its integrity check: ${ok}`);
    return { bytes: bytes.length };
  } finally {
    db.close();
  }
}
