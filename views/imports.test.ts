/**
 * Views get view models: they import from src/ only what a capability declares for them
 * (schemas.ts, step loaders, the wizard's step data) and pure helpers, never a service, a
 * table, the database or a service's inferred return type. And src/lib never imports views.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dir, "..");
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(n) && !/\.test\.tsx?$/.test(n) ? [p] : [];
  });

/** Pure helpers views may call (formatting, rules with no I/O). */
const HELPERS = new Set([
  "lib/format.ts",
  "lib/errors.ts",
  "lib/http-errors.ts",
  "lib/openapi.ts",
  "assets/static-assets.ts",
  "security/page-token.ts",
  "generation/quality.ts",
  "generation/preview-advice.ts",
  "training/metrics.ts",
  "training/events.ts",
  "evaluation/scorecard.ts",
  "models/remote-code.ts",
]);
const allowed = (target: string) => /(^|\/)([\w-]*schemas|steps?|step-data)\.ts$/.test(target) || HELPERS.has(target);

test("views import view models, schemas and pure helpers from src/, nothing else", () => {
  const strays: string[] = [];
  for (const f of files(join(ROOT, "views"))) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/from "([^"]+)"/g)) {
      if (!m[1]!.startsWith(".")) continue;
      const target = relative(join(ROOT, "src"), resolve(join(f, ".."), m[1]!));
      if (target.startsWith("..")) continue;
      if (!allowed(target)) strays.push(`${relative(ROOT, f)} imports src/${target}`);
    }
    if (/ReturnType</.test(text)) strays.push(`${relative(ROOT, f)} uses ReturnType<…> (declare a view model instead)`);
  }
  expect(strays).toEqual([]);
});

test("src/lib never imports views", () => {
  const strays = files(join(ROOT, "src/lib")).filter((f) => /from "[^"]*views\//.test(readFileSync(f, "utf8")));
  expect(strays.map((f) => relative(ROOT, f))).toEqual([]);
});
