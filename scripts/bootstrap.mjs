#!/usr/bin/env node
// The two README commands land here: `npm start` and `npm test` (plus bench/build).
// Runs with plain Node so a fresh machine needs nothing but Node/npm and Python 3:
// it installs what is missing (JS deps incl. Bun, the browser for e2e tests), then
// hands over to Bun.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bun = join(root, "node_modules", ".bin", process.platform === "win32" ? "bun.exe" : "bun");
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

/** npm ci when node_modules is missing or was installed from another lock file. */
function ensureJsDeps() {
  const lock = join(root, "package-lock.json");
  const stamp = join(root, "node_modules", ".ftf-lock-hash");
  const want = createHash("sha256").update(readFileSync(lock)).digest("hex");
  const have = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "";
  if (have === want && existsSync(bun)) return;
  say("installing JavaScript dependencies (npm ci)…");
  must("npm", ["ci", "--no-audit", "--no-fund"], "npm ci");
  writeFileSync(stamp, want);
}

/** Debian's Chromium for the end-to-end tests; installed when missing and we may. */
function ensureChromium() {
  if (existsSync("/usr/bin/chromium") || process.env.FTF_SKIP_BROWSER_INSTALL) return;
  if (process.getuid?.() !== 0) {
    say("Chromium is missing: install it with `sudo apt-get install -y chromium` to run the browser tests.");
    return;
  }
  say("installing Chromium for the browser tests (apt-get)…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  must("apt-get", ["update", "-qq"], "apt-get update", { env });
  must("apt-get", ["install", "-y", "-qq", "chromium"], "apt-get install chromium", { env });
}

/** Runs Bun with our signals passed through, so Ctrl-C stops the server cleanly. */
function handOver(args, env = process.env) {
  const child = spawn(bun, args, { cwd: root, stdio: "inherit", env });
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const command = process.argv[2];
ensureJsDeps();
switch (command) {
  case "start":
    handOver(["src/main.ts"]);
    break;
  case "test": {
    ensureChromium();
    must(join(root, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", "."], "type check");
    handOver(["test", ...process.argv.slice(3)]);
    break;
  }
  case "bench":
    handOver(["bench/run.ts", ...process.argv.slice(3)]);
    break;
  case "build":
    handOver(["scripts/build.ts", ...process.argv.slice(3)]);
    break;
  default:
    console.error("usage: node scripts/bootstrap.mjs start|test|bench|build");
    process.exit(2);
}
