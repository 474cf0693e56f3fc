/** Starts the real server (source or compiled binary) as a child process on a free port. */
import type { Subprocess } from "bun";
import { join } from "node:path";
import { makeTempDir } from "./test-app.ts";

export type RunningServer = {
  url: string;
  dataDir: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number>;
};

const ROOT = join(import.meta.dir, "../..");

export async function startServer(opts: { cmd?: string[]; env?: Record<string, string>; dataDir?: string; cwd?: string } = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? makeTempDir("ftf-server-");
  const cmd = opts.cmd ?? [process.execPath, join(ROOT, "src/main.ts")];
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", FTF_DATA_DIR: dataDir, LOG_LEVEL: "warn", ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 15 s:\n${output}`)), 15_000);
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        output += decoder.decode(chunk, { stream: true });
        const m = output.match(/running at (http:\/\/[^\s/]+)\//);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      }
    };
    void pump(proc.stdout);
    void pump(proc.stderr);
    void proc.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    dataDir,
    proc,
    output: () => output,
    stop: async (signal = "SIGTERM") => {
      proc.kill(signal);
      return await proc.exited;
    },
  };
}
