/**
 * Bytes → text for TXT/MD and dataset files: BOMs first (UTF-8, UTF-16 LE/BE), then
 * strict UTF-8, then Windows-1252 (what "plain text" from older Windows tools is).
 * Newlines are normalised to \n. Binary content (NUL bytes) is refused.
 */
import { AppError } from "../lib/errors.ts";

export type DecodedText = { text: string; encoding: "utf-8" | "utf-8-bom" | "utf-16le" | "utf-16be" | "windows-1252" };

export function decodeText(bytes: Uint8Array, filename: string): DecodedText {
  let encoding: DecodedText["encoding"];
  let text: string;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    encoding = "utf-8-bom";
    text = new TextDecoder("utf-8").decode(bytes.subarray(3));
  } else if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    encoding = "utf-16le";
    text = new TextDecoder("utf-16le").decode(bytes.subarray(2));
  } else if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    encoding = "utf-16be";
    text = new TextDecoder("utf-16be").decode(bytes.subarray(2));
  } else {
    if (bytes.includes(0)) {
      throw new AppError(415, "not_text", `${filename} is not a text file (it contains binary data).`);
    }
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      encoding = "utf-8";
    } catch {
      text = new TextDecoder("windows-1252").decode(bytes);
      encoding = "windows-1252";
    }
  }
  return { text: text.replace(/\r\n?/g, "\n"), encoding };
}
