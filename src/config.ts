/**
 * Configuration, parsed once from the environment. A bad value stops start-up with
 * a sentence naming the variable; no other module reads process.env.
 */
import { join, resolve } from "node:path";
import { appRoot } from "./lib/app-root.ts";
import { z } from "zod";

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default("127.0.0.1"),
  FTF_DATA_DIR: z.string().min(1).default("./data"),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  HF_ENDPOINT: z.url({ protocol: /^https?$/ }).default("https://huggingface.co"),
  HF_TOKEN: z.string().optional(),
  FTF_HUB_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  OLLAMA_HOST: z.string().default("http://127.0.0.1:11434"),
  FTF_OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  FTF_OPENAI_API_KEY: z.string().optional(),
  FTF_GENERATION_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  FTF_GENERATION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
  FTF_GROUNDING_THRESHOLD: z.coerce.number().min(0).max(1).default(0.5),
  FTF_PYTHON: z.string().optional(),
  FTF_TRAINER_DIR: z.string().optional(),
  FTF_TRAINER_GRACE_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  FTF_AUTH_TOKEN: z.string().min(16).optional(),
  FTF_ALLOWED_HOSTS: z.string().default(""),
  FTF_SESSION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  FTF_MIN_FREE_MB: z.coerce.number().int().min(0).max(10_000_000).default(1024),
});

export type Config = {
  port: number;
  host: string;
  /** Absolute path: the database, uploads and runs all live under it. */
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** Hugging Face Hub base URL (mirrors work), token and per-request timeout. */
  hub: { endpoint: string; token?: string; timeoutMs: number };
  generation: GenerationSettings;
  /** How to run the Python trainer: interpreter, package folder, SIGTERM grace period. */
  trainer: { python: string; dir: string; graceMs: number };
  /** Required when bound to anything but loopback. */
  authToken?: string;
  /** Host names (beyond loopback) the server answers to: DNS-rebinding protection. */
  allowedHosts: string[];
  /** How long a sign-in (and the browser's CSRF id) lasts. */
  sessionDays: number;
  /** Uploads and training are refused below this much free space in the data dir. */
  minFreeMb: number;
};

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
export const isLoopback = (host: string) => LOOPBACK.has(host) || host.startsWith("127.");

export type GenerationSettings = {
  ollamaHosts: string[];
  openaiBaseUrl?: string;
  openaiApiKey?: string;
  concurrency: number;
  timeoutMs: number;
  groundingThreshold: number;
};

/** OLLAMA_HOST as Ollama reads it ("host:port" or a URL), with several hosts comma-separated. */
export function parseOllamaHosts(value: string): string[] {
  return value
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean)
    .map((h) => (/^https?:\/\//.test(h) ? h : `http://${h}`).replace(/\/+$/, ""));
}

export class ConfigError extends Error {}

export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset", as in most shells' `VAR= cmd`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `- ${String(i.path[0])}: ${describeIssue(i)} (got ${JSON.stringify(cleaned[String(i.path[0])])})`);
    throw new ConfigError(`Invalid configuration, fix these environment variables:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (!isLoopback(e.HOST) && !e.FTF_AUTH_TOKEN) {
    throw new ConfigError(
      `Refusing to listen on ${e.HOST} without an access token: anyone on the network could use this machine's GPU and read your documents. Set FTF_AUTH_TOKEN (16+ characters), or keep HOST=127.0.0.1.`,
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.FTF_DATA_DIR),
    logLevel: e.LOG_LEVEL,
    hub: { endpoint: e.HF_ENDPOINT, token: e.HF_TOKEN, timeoutMs: e.FTF_HUB_TIMEOUT_MS },
    generation: {
      ollamaHosts: parseOllamaHosts(e.OLLAMA_HOST),
      openaiBaseUrl: e.FTF_OPENAI_BASE_URL,
      openaiApiKey: e.FTF_OPENAI_API_KEY,
      concurrency: e.FTF_GENERATION_CONCURRENCY,
      timeoutMs: e.FTF_GENERATION_TIMEOUT_MS,
      groundingThreshold: e.FTF_GROUNDING_THRESHOLD,
    },
    trainer: {
      python: e.FTF_PYTHON ?? join(appRoot(), "python", ".venv", "bin", "python"),
      dir: resolve(e.FTF_TRAINER_DIR ?? join(appRoot(), "python")),
      graceMs: e.FTF_TRAINER_GRACE_MS,
    },
    authToken: e.FTF_AUTH_TOKEN,
    allowedHosts: e.FTF_ALLOWED_HOSTS.split(",").map((h) => h.trim().toLowerCase()).filter(Boolean),
    sessionDays: e.FTF_SESSION_DAYS,
    minFreeMb: e.FTF_MIN_FREE_MB,
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_value") return `must be one of ${issue.values.join(", ")}`;
  const name = String(issue.path[0]);
  if (name === "PORT") return "must be a whole number between 0 and 65535";
  if (name === "FTF_HUB_TIMEOUT_MS") return "must be a whole number of milliseconds between 100 and 600000";
  if (name === "HF_ENDPOINT") return "must be an http(s) URL such as https://huggingface.co";
  if (name === "FTF_OPENAI_BASE_URL") return "must be an http(s) URL such as http://127.0.0.1:8000/v1";
  if (name === "FTF_GROUNDING_THRESHOLD") return "must be a number between 0 and 1";
  if (name === "FTF_SESSION_DAYS") return "must be a whole number of days between 1 and 365";
  if (name === "FTF_AUTH_TOKEN") return "must be at least 16 characters (use a long random string)";
  if (name.startsWith("FTF_GENERATION") || name === "FTF_TRAINER_GRACE_MS") return "must be a whole number in range";
  return issue.message;
}
