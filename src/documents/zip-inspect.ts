/**
 * Looks inside a zip (DOCX) before any library unpacks it: reads the central
 * directory, caps the entry count, then inflates every entry with a byte counter so
 * a zip bomb is refused however its headers lie about sizes.
 */
import { Inflate } from "fflate";
import { AppError } from "../lib/errors.ts";

// One part (word/document.xml) past 64 MB of XML takes mammoth tens of seconds and
// gigabytes: that is more than any real document, and more than extraction handles.
export const ZIP_LIMITS = { maxEntries: 2_000, maxTotalBytes: 300 * 1024 * 1024, maxEntryBytes: 64 * 1024 * 1024 };

type Entry = { name: string; method: number; compressedSize: number; localOffset: number };

function centralDirectory(buf: Uint8Array, filename: string): Entry[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw notWord(filename, "it is not a complete zip archive");
  const count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  if (count > ZIP_LIMITS.maxEntries) throw bomb(filename, `it holds ${count} files`);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    if (offset + 46 > buf.length || view.getUint32(offset, true) !== 0x02014b50) throw notWord(filename, "its zip directory is damaged");
    const nameLen = view.getUint16(offset + 28, true);
    const extraLen = view.getUint16(offset + 30, true);
    const commentLen = view.getUint16(offset + 32, true);
    entries.push({
      method: view.getUint16(offset + 10, true),
      compressedSize: view.getUint32(offset + 20, true),
      localOffset: view.getUint32(offset + 42, true),
      name: new TextDecoder().decode(buf.subarray(offset + 46, offset + 46 + nameLen)),
    });
    offset += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Throws unless `buf` is a Word document whose content stays within the limits. */
export function checkDocx(buf: Uint8Array, filename: string): void {
  const entries = centralDirectory(buf, filename);
  if (!entries.some((e) => e.name === "word/document.xml")) {
    throw notWord(filename, "it is a zip archive without word/document.xml");
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let total = 0;
  for (const e of entries) {
    const lo = e.localOffset;
    if (lo + 30 > buf.length || view.getUint32(lo, true) !== 0x04034b50) throw notWord(filename, "its zip entries are damaged");
    const start = lo + 30 + view.getUint16(lo + 26, true) + view.getUint16(lo + 28, true);
    const data = buf.subarray(start, start + e.compressedSize);
    let size = 0;
    if (e.method === 0) size = data.length;
    else if (e.method === 8) {
      const inflater = new Inflate((chunk) => {
        size += chunk.length;
        total += chunk.length;
        if (size > ZIP_LIMITS.maxEntryBytes) throw tooBig(filename, e.name);
        if (total > ZIP_LIMITS.maxTotalBytes) throw bomb(filename, "it unpacks to more than 300 MB");
      });
      try {
        for (let i = 0; i < data.length; i += 64 * 1024) inflater.push(data.subarray(i, i + 64 * 1024), i + 64 * 1024 >= data.length);
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw notWord(filename, `its entry ${e.name} is corrupt`);
      }
      continue;
    } else throw notWord(filename, `it uses an unsupported zip compression (${e.method})`);
    total += size;
    if (total > ZIP_LIMITS.maxTotalBytes) throw bomb(filename, "it unpacks to more than 300 MB");
  }
}

const notWord = (filename: string, why: string) =>
  new AppError(422, "invalid_docx", `${filename} is not a valid Word document: ${why}.`);
const tooBig = (filename: string, part: string) =>
  new AppError(422, "document_too_large", `${filename} was refused: its text (${part}) is larger than ${ZIP_LIMITS.maxEntryBytes / 1024 / 1024} MB once unpacked, more than extraction handles. Split it into smaller documents.`);
const bomb = (filename: string, why: string) =>
  new AppError(422, "zip_bomb", `${filename} was refused: ${why}, more than a real document would (a "zip bomb").`);
