import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../lib/logger.ts";
import { createTrainerClient } from "./trainer-client.ts";

// A trainer that reports what it was started with: its argv and the env layers, as a progress message.
const dir = mkdtempSync(join(tmpdir(), "ftf-client-"));
const echo = join(dir, "echo-trainer.ts");
writeFileSync(
  echo,
  `const out = (e) => process.stdout.write(JSON.stringify(e) + "\\n");
const [command, ...rest] = process.argv.slice(2);
out({ event: "progress", progress_pct: 50, message: JSON.stringify({ command, rest, layer: process.env.LAYER, server: process.env.SERVER_ONLY, project: process.env.PROJECT_ONLY }) });
if (process.env.ECHO_MODE === "fail") { out({ event: "error", error_code: "model_load_failed", message: "Could not load the base model.", advice: "Check the path." }); process.exit(2); }
if (process.env.ECHO_MODE === "misfit") { out({ event: "complete", adapter_path: null, metrics: { answers_file: "a", answered: 1 } }); process.exit(0); }
out({ event: "complete", adapter_path: "x", metrics: { files: [{ name: "report.md", path: "/r/report.md", size_bytes: 3 }], modelfile: null, modelfile_note: "no" } });
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const warnings: string[] = [];
const logger = createLogger("warn", (line) => void warnings.push(line));
const client = (env: Record<string, string> = {}) =>
  createTrainerClient({
    settings: { command: [process.execPath, echo], cwd: dir, graceMs: 1000, env: { LAYER: "server", SERVER_ONLY: "s", ...env } },
    envFor: (projectId) => ({ LAYER: "project", PROJECT_ONLY: projectId }),
    logger,
  });

describe("the trainer client: one typed function per trainer command", () => {
  test("export: its argv, the env layers in order (server, project, call) and its own typed complete payload", async () => {
    const seen: { pct: number; message?: string }[] = [];
    const result = await client().export("p1", "/runs/r1", { out: "/runs/r1/ollama/export", merge: true }, { env: { LAYER: "call" }, onProgress: (pct, message) => seen.push({ pct, message }) });
    expect(result.failure).toBeNull();
    expect(result.complete?.files).toEqual([{ name: "report.md", path: "/r/report.md", size_bytes: 3 }]);
    expect(JSON.parse(seen[0]!.message!)).toEqual({ command: "export", rest: ["--run", "/runs/r1", "--out", "/runs/r1/ollama/export", "--merge"], layer: "call", server: "s", project: "p1" });
  });

  test("each command names its own flags", async () => {
    const argv = async (run: (c: ReturnType<typeof client>, call: { onProgress: (p: number, m?: string) => void }) => Promise<unknown>) => {
      let said = "";
      await run(client(), { onProgress: (_p, m) => void (said = m ?? "") });
      const { command, rest } = JSON.parse(said) as { command: string; rest: string[] };
      return [command, ...rest];
    };
    expect(await argv((c, call) => c.train("p", "/r", true, call))).toEqual(["train", "--config", "/r/run.json", "--resume"]);
    expect(await argv((c, call) => c.probe("p", "/p/probe", 6, call))).toEqual(["probe", "--config", "/p/probe/run.json", "--steps", "6"]);
    expect(await argv((c, call) => c.evaluate("p", "/r", { samples: 5, maxNewTokens: 64 }, call))).toEqual(["evaluate", "--run", "/r", "--samples", "5", "--max-new-tokens", "64"]);
    expect(await argv((c, call) => c.answers("p", "/r", { questions: "/q", out: "/a", maxNewTokens: 48 }, call))).toEqual(["answers", "--run", "/r", "--questions", "/q", "--out", "/a", "--max-new-tokens", "48"]);
    expect(await argv((c, call) => c.ollamaPrepare("p", "/r", { prompts: "/q", out: "/o", maxNewTokens: 64 }, call))).toEqual(["ollama-prepare", "--run", "/r", "--prompts", "/q", "--out", "/o", "--max-new-tokens", "64"]);
    expect(await argv((c, call) => c.export("p", "/r", { provenance: "/r/provenance.json" }, call))).toEqual(["export", "--run", "/r", "--provenance", "/r/provenance.json"]);
    expect(client().serveArgs("/r", 600).slice(-5)).toEqual(["serve", "--run", "/r", "--idle-seconds", "600"]);
  });

  test("a complete payload of another command is not taken for this one's", async () => {
    const result = await client({ ECHO_MODE: "misfit" }).export("p", "/r", {});
    expect(result).toMatchObject({ exitCode: 0, complete: null, failure: null });
    expect(warnings.at(-1)).toContain("trainer complete payload does not fit its command");
  });

  test("a failure is one sentence: the trainer's error and advice, else why it did not start", async () => {
    expect((await client({ ECHO_MODE: "fail" }).export("p", "/r", {})).failure).toBe("Could not load the base model. Check the path.");
    const missing = createTrainerClient({ settings: { command: [join(dir, "no-such-python")], cwd: dir, graceMs: 1000 }, logger });
    const result = await missing.export("p", "/r", {});
    expect(result.complete).toBeNull();
    expect(result.failure).toStartWith("The trainer could not start:");
  });
});
