/**
 * Streams a multipart upload to disk: each file goes to a temp file while its SHA-256
 * is computed; nothing holds a whole file in memory. A file over the limit is cut
 * off, drained and reported; the other files of the request are unaffected.
 */
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import busboy from "busboy";
import { AppError } from "../lib/errors.ts";
import { displayName, MAX_FILE_BYTES, MAX_FILES_PER_REQUEST } from "./schemas.ts";

export type ReceivedFile = { filename: string; tempPath: string; size: number; sha256: string; tooLarge: boolean; head: Uint8Array };
export type ReceivedUpload = { fields: Record<string, string>; files: ReceivedFile[] };

export async function receiveMultipart(request: Request, tempDir: string, maxFileBytes = MAX_FILE_BYTES): Promise<ReceivedUpload> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    throw new AppError(415, "not_multipart", "Send the files as multipart/form-data (fields: files, kind).");
  }
  if (!request.body) throw new AppError(400, "empty_body", "The upload is empty: no files were sent.");
  await mkdir(tempDir, { recursive: true });
  const fields: Record<string, string> = {};
  const files: ReceivedFile[] = [];
  const writes: Promise<void>[] = [];
  const outs: ReturnType<typeof createWriteStream>[] = [];
  let source: Readable | undefined;
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": contentType },
      // busboy reports the limit when a file *reaches* it: one byte more lets a file of
      // exactly maxFileBytes through and still catches anything larger.
      limits: { fileSize: maxFileBytes + 1, files: MAX_FILES_PER_REQUEST, fields: 20, fieldSize: 64 * 1024 },
      defParamCharset: "utf8",
    });
  } catch {
    throw new AppError(400, "invalid_multipart", "The upload is not valid multipart/form-data (no boundary).");
  }
  let tooManyFiles = false;

  const done = new Promise<void>((resolve, reject) => {
    parser.on("field", (name, value) => (fields[name] = value));
    parser.on("file", (_name, stream, info) => {
      const tempPath = join(tempDir, `${crypto.randomUUID()}.part`);
      const hasher = new Bun.CryptoHasher("sha256");
      const out = createWriteStream(tempPath);
      outs.push(out);
      const record: ReceivedFile = { filename: displayName(info.filename), tempPath, size: 0, sha256: "", tooLarge: false, head: new Uint8Array(0) };
      files.push(record);
      const headParts: Buffer[] = [];
      let headLen = 0;
      stream.on("data", (chunk: Buffer) => {
        record.size += chunk.length;
        hasher.update(chunk);
        if (headLen < 4096) {
          headParts.push(chunk.subarray(0, 4096 - headLen));
          headLen += Math.min(chunk.length, 4096 - headLen);
        }
      });
      stream.on("limit", () => (record.tooLarge = true));
      const written = new Promise<void>((res, rej) => {
          out.on("finish", () => {
            record.sha256 = hasher.digest("hex");
            record.head = new Uint8Array(Buffer.concat(headParts));
            res();
          });
          out.on("error", rej);
          stream.on("error", rej);
        });
      // Observed by Promise.all below; an interrupted upload may never get there.
      written.catch(() => {});
      writes.push(written);
      stream.pipe(out);
    });
    parser.on("filesLimit", () => (tooManyFiles = true));
    parser.on("error", (e) => reject(e));
    parser.on("close", () => resolve());
  });

  try {
    source = Readable.fromWeb(request.body as never);
    // A client that goes away mid-upload must end the request, not leave it (and its
    // .part files) waiting forever: pipe() does not forward the source's errors.
    const interrupted = new Promise<never>((_, reject) => {
      source!.on("error", reject);
      request.signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
    });
    interrupted.catch(() => {});
    source.pipe(parser);
    await Promise.race([done, interrupted]);
    await Promise.race([Promise.all(writes), interrupted]);
  } catch (err) {
    source?.destroy();
    parser.destroy();
    await Promise.all(outs.map((o) => new Promise<void>((res) => (o.closed ? res() : (o.once("close", () => res()), o.destroy())))));
    await Promise.all(files.map((f) => rm(f.tempPath, { force: true })));
    if (err instanceof AppError) throw err;
    throw new AppError(400, "invalid_multipart", "The upload was interrupted or is not valid multipart/form-data.");
  }
  if (tooManyFiles) {
    await Promise.all(files.map((f) => rm(f.tempPath, { force: true })));
    throw new AppError(413, "too_many_files", `Send at most ${MAX_FILES_PER_REQUEST} files per upload.`);
  }
  return { fields, files };
}
