// Types of scripts/real-parts.mjs for the TypeScript tests that start the real parts.
import type { ChildProcess } from "node:child_process";

export const OLLAMA_VERSION: string;
export const SMOLLM2_PACKAGE: string;
export const SMOLLM2_GGUF: string;
export function realDir(): string;
export type SmolLM2 = { dir: string; gguf: string; hf: string; models: string };
export type MiniLM = { dir: string; hf: string; models: string };
export type RealParts = { ollama: string; smollm2: SmolLM2; minilm: MiniLM };
export type RunningOllama = { url: string; child: ChildProcess; stop: () => void; log: () => string };
export function ensureOllama(): string;
export function ensureSmolLM2(ollamaBin: string): Promise<SmolLM2>;
export function ensureMiniLM(ollamaBin: string): Promise<MiniLM>;
export const MINILM_PACKAGE: string;
export function ensureRealParts(): Promise<RealParts>;
export function startOllama(bin: string, modelsDir: string, extraEnv?: Record<string, string>): Promise<RunningOllama>;
export function freePort(): Promise<number>;
