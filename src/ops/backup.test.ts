import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { openDatabase } from "../db/client.ts";
import { insertExamples, insertProject } from "../../tests/helpers/builders.ts";
import { makeTempDir } from "../../tests/helpers/test-app.ts";
import { backupDatabase } from "./backup.ts";

test("backups taken while another connection writes are consistent and searchable", async () => {
  const dir = makeTempDir("ftf-backup-");
  const path = join(dir, "finetuneflow.db");
  const db = openDatabase(path);
  const pid = insertProject(db);
  let writing = true;
  const writer = (async () => {
    while (writing) {
      db.$client.transaction(() => insertExamples(db, pid, 50, { instruction: "How do I reset the router?", output: "Hold the button." }))();
      await Bun.sleep(1);
    }
  })();
  for (let i = 0; i < 5; i++) {
    await Bun.sleep(15);
    const target = join(dir, `backup-${i}.db`);
    backupDatabase(path, target);
    const copy = new Database(target, { readonly: true });
    const { n } = copy.query("select count(*) as n from examples").get() as { n: number };
    const { s } = copy.query("select coalesce(sum(n), 0) as s from example_counts").get() as { s: number };
    const { m } = copy.query("select count(*) as m from examples_fts where examples_fts match 'router'").get() as { m: number };
    copy.close();
    expect(n % 50).toBe(0);
    expect(s).toBe(n);
    expect(m).toBe(n);
  }
  writing = false;
  await writer;
  db.$client.close();
});
