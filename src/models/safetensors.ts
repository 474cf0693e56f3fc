/**
 * Exact parameter counts from safetensors headers, without loading weights: each
 * file starts with an 8-byte little-endian header length, then a JSON header
 * listing every tensor's dtype and shape.
 */
import { open } from "node:fs/promises";
import { AppError } from "../lib/errors.ts";

/** Headers above this are not a real model's (Llama-70B's largest shard header is ~50 KB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export async function countSafetensorsParams(path: string): Promise<number> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const lenBuf = Buffer.alloc(8);
    await handle.read(lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (size < 8 || headerLen <= 1 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
      throw badFile(path, "its header length is not plausible");
    }
    const headerBuf = Buffer.alloc(headerLen);
    await handle.read(headerBuf, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBuf.toString("utf8"));
    } catch {
      throw badFile(path, "its header is not valid JSON");
    }
    let total = 0;
    for (const [name, entry] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      const shape = (entry as { shape?: unknown }).shape;
      if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
        throw badFile(path, `tensor ${name} has no valid shape`);
      }
      total += shape.reduce((a: number, b: number) => a * b, 1);
    }
    return total;
  } finally {
    await handle.close();
  }
}

const badFile = (path: string, why: string) =>
  new AppError(422, "invalid_safetensors", `${path.split("/").pop()} is not a readable safetensors file: ${why}.`);
