// No Docker engine runs here and hadolint is not packaged: check what matters in the
// Dockerfile directly — stages, non-root user, volume, health check, locked Python deps.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const text = readFileSync(join(import.meta.dir, "../Dockerfile"), "utf8");
const instructions = text
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const of = (kw: string) => instructions.filter((l) => l.toUpperCase().startsWith(`${kw} `));

test("is multi-stage: a build stage compiles the binary, the runtime copies it from there", () => {
  const froms = of("FROM");
  expect(froms.length).toBe(2);
  expect(froms[0]).toMatch(/ AS build$/);
  expect(froms[1]).toMatch(/nvidia\/cuda:[\d.]+-\S+ AS runtime$/);
  expect(instructions.some((l) => l.startsWith("COPY --from=build"))).toBe(true);
  for (const f of froms) expect(f).not.toMatch(/:latest\b/);
});

test("runs as a non-root user, with a volume for the data dir and a health check", () => {
  const users = of("USER");
  expect(users.length).toBe(1);
  expect(users[0]).not.toMatch(/USER (root|0)\b/);
  expect(of("VOLUME").join()).toContain("/data");
  expect(of("HEALTHCHECK")[0]).toContain("healthcheck");
  expect(of("EXPOSE")[0]).toBe("EXPOSE 8000");
  expect(text).toContain("OLLAMA_HOST=http://host.docker.internal:11434");
});

test("installs the Python env from the same lock as python/, never unpinned", () => {
  expect(text).toContain("COPY python/pyproject.toml python/uv.lock");
  expect(text).toMatch(/uv sync --frozen/);
  expect(text).not.toMatch(/pip install (?!--no-cache-dir uv==)/);
  expect(text).not.toMatch(/curl[^\n]*\|\s*(sh|bash)/);
});

test("apt lists are cleaned in the same layer they are made", () => {
  for (const run of of("RUN").filter((r) => r.includes("apt-get update"))) expect(run).toContain("rm -rf /var/lib/apt/lists/*");
});
