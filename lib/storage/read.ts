/**
 * The one reader of inputs that may live in object storage: a portfolio,
 * a rules file, an FX table, a PD model. Each function takes a local path
 * or an `s3://bucket/key` URL and reads either the same way, so the
 * callers (`scanPortfolio`'s door in `lib/run`, `readConfigFile`,
 * `readModelBytes`) need no branch of their own:
 *
 * - {@link readInputBytes} / {@link readInputText}: a small input whole
 *   (a rules file, an FX table, a model), with a byte limit checked
 *   against the object's size before its body is read;
 * - {@link localCopy}: a large input (a portfolio) streamed to a temporary
 *   file in chunks, hashed on the way (SHA-256), for Polars' lazy scans by
 *   path: the object is never held in memory whole, and read once;
 * - {@link sha256Of}: the SHA-256 of an input, streamed;
 * - {@link inputExists}: whether an input is there (an FX table beside a
 *   portfolio).
 *
 * Failures are one line naming the URL (`errors.ts`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
} from "@aws-sdk/client-s3";
import { UserError } from "../errors.ts";
import { s3Client } from "./config.ts";
import { isMissing, storageError } from "./errors.ts";
import { isS3Url, parseS3Url } from "./url.ts";

/** Options of {@link readInputBytes} and {@link localCopy}. */
export interface ReadInputOptions {
  /**
   * The most bytes the input may hold; a larger one is refused before its
   * body is read, naming it and both sizes. @default no limit
   */
  maxBytes?: number;
}

/** `n` bytes in words. */
const bytesText = (n: number) =>
  `${n.toLocaleString("en-US")} byte${n === 1 ? "" : "s"}`;

/** The refusal of an input above `maxBytes`. */
function tooLarge(where: string, size: number, maxBytes: number): UserError {
  return new UserError(
    "input",
    `Cannot read ${where}: it holds ${
      bytesText(size)
    }, more than the limit of ${bytesText(maxBytes)}`,
  );
}

/** GetObject on `url`, with the size checked against `maxBytes`. */
async function getObject(
  url: string,
  maxBytes?: number,
): Promise<GetObjectCommandOutput> {
  const { bucket, key } = parseS3Url(url);
  if (key === "" || key.endsWith("/")) {
    throw new UserError(
      "usage",
      `Cannot read ${url}: it names a folder, not an object; give s3://bucket/key of a file`,
    );
  }
  let out: GetObjectCommandOutput;
  try {
    out = await s3Client().send(
      new GetObjectCommand({ Bucket: bucket, Key: key }),
    );
  } catch (e) {
    throw storageError(url, e, "read", "input");
  }
  const size = out.ContentLength;
  if (maxBytes !== undefined && size !== undefined && size > maxBytes) {
    await out.Body?.transformToWebStream().cancel().catch(() => {});
    throw tooLarge(url, size, maxBytes);
  }
  return out;
}

/** The body of a GetObject answer as a stream of chunks. */
function bodyStream(out: GetObjectCommandOutput): ReadableStream<Uint8Array> {
  if (out.Body === undefined) {
    return new ReadableStream({ start: (c) => c.close() });
  }
  return out.Body.transformToWebStream() as ReadableStream<Uint8Array>;
}

/**
 * The bytes of a local file or an S3 object, whole.
 *
 * @throws {UserError} naming the path or URL: missing, refused, above
 *   `maxBytes`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInputBytes } from "./read.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "abc");
 * assert.deepEqual(await readInputBytes(`${dir}/a.txt`), new TextEncoder().encode("abc"));
 * await assert.rejects(() => readInputBytes(`${dir}/a.txt`, { maxBytes: 2 }), /holds 3 bytes, more than the limit of 2 bytes/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readInputBytes(
  pathOrUrl: string,
  opts: ReadInputOptions = {},
): Promise<Uint8Array> {
  if (!isS3Url(pathOrUrl)) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(pathOrUrl);
    } catch (e) {
      throw new UserError(
        "input",
        `Cannot read ${pathOrUrl}: ${
          e instanceof Deno.errors.NotFound
            ? "no such file"
            : (e as Error).message
        }`,
        { cause: e },
      );
    }
    if (!info.isFile) {
      throw new UserError(
        "input",
        `Cannot read ${pathOrUrl}: it is not a file`,
      );
    }
    if (opts.maxBytes !== undefined && info.size > opts.maxBytes) {
      throw tooLarge(pathOrUrl, info.size, opts.maxBytes);
    }
    return await Deno.readFile(pathOrUrl);
  }
  const out = await getObject(pathOrUrl, opts.maxBytes);
  try {
    const bytes = await out.Body!.transformToByteArray();
    if (opts.maxBytes !== undefined && bytes.length > opts.maxBytes) {
      throw tooLarge(pathOrUrl, bytes.length, opts.maxBytes);
    }
    return bytes;
  } catch (e) {
    throw storageError(pathOrUrl, e, "read", "input");
  }
}

/** {@link readInputBytes} decoded as UTF-8. */
export async function readInputText(
  pathOrUrl: string,
  opts: ReadInputOptions = {},
): Promise<string> {
  return new TextDecoder().decode(await readInputBytes(pathOrUrl, opts));
}

/** A local file holding an input, from {@link localCopy}. */
export interface LocalCopy {
  /** The file on this machine: the path given, or a temporary copy of the object. */
  path: string;
  /** The SHA-256 of the object's bytes (hex), for a copy; undefined for a local path. */
  sha256?: string;
  /** Removes the temporary copy; nothing for a local path. */
  cleanup(): Promise<void>;
  /** {@link LocalCopy.cleanup}, for `await using copy = await localCopy(…)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A local file holding the input `pathOrUrl`: a local path as it is, an S3
 * object streamed (1 MiB-sized chunks, never held whole) into a temporary
 * folder under the object's own file name (so its extension still tells
 * its format), hashed on the way. `cleanup()` removes the copy.
 *
 * @throws {UserError} naming the URL: missing, refused, above `maxBytes`,
 *   or the local disk full (kind `output`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localCopy } from "./read.ts";
 * const copy = await localCopy("data/sample/portfolio_2025-12-31.parquet");
 * assert.equal(copy.path, "data/sample/portfolio_2025-12-31.parquet");
 * assert.equal(copy.sha256, undefined);
 * await copy.cleanup();
 * ```
 */
export async function localCopy(
  pathOrUrl: string,
  opts: ReadInputOptions = {},
): Promise<LocalCopy> {
  if (!isS3Url(pathOrUrl)) {
    const cleanup = () => Promise.resolve();
    return { path: pathOrUrl, cleanup, [Symbol.asyncDispose]: cleanup };
  }
  const { key } = parseS3Url(pathOrUrl);
  const out = await getObject(pathOrUrl, opts.maxBytes);
  const dir = await Deno.makeTempDir({ prefix: "ifrs9-s3-" });
  const cleanup = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  const path = `${dir}/${basename(key)}`;
  try {
    const { sha256 } = await downloadToFile(pathOrUrl, path, {
      maxBytes: opts.maxBytes,
      first: out,
    });
    return { path, sha256, cleanup, [Symbol.asyncDispose]: cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * Times a download cut short in the middle of its body is resumed (a
 * Range GET from the first missing byte) before the read fails.
 */
export const DOWNLOAD_RESUMES = 4;

/** The wait before resume `n` (1, 2, …): 200 ms doubling, capped at 3 s, with jitter. */
function resumeDelay(n: number): number {
  const cap = Math.min(3_000, 200 * 2 ** (n - 1));
  return cap / 2 + Math.random() * cap / 2;
}

/** A failure of this machine's disk while a download is written. */
class LocalWriteError extends Error {}

/** What {@link downloadToFile} wrote. */
export interface Download {
  /** SHA-256 (hex) of the bytes written. */
  sha256: string;
  /** How many bytes were written. */
  bytes: number;
}

/**
 * Streams the S3 object `url` into the new file `path` (never held in
 * memory whole), hashing it (SHA-256) on the way: the one download loop
 * of this module and of `S3Folder.prepareScan`. A body cut short (a reset
 * connection, a server that stops sending) is resumed from the first
 * missing byte with a Range GET carrying `If-Match` with the object's ETag
 * (and the answer's ETag and `Content-Range` are checked as well, as some
 * servers ignore `If-Match`; a server that ignores Range and sends the
 * whole object again is read from the start), up to {@link DOWNLOAD_RESUMES} times with
 * backoff; the length written is checked against the object's. An object
 * replaced during the download is refused, never stitched.
 *
 * @param opts.first The answer of a GetObject already sent (its body unread).
 * @param opts.maxBytes Refuse an object larger than this.
 * @throws {UserError} naming the URL: missing, refused, changed, cut short
 *   too often (kind `input`), or this machine's disk full (kind `output`).
 */
export async function downloadToFile(
  url: string,
  path: string,
  opts: { first?: GetObjectCommandOutput; maxBytes?: number } = {},
): Promise<Download> {
  const { bucket, key } = parseS3Url(url);
  let out = opts.first ?? await getObject(url, opts.maxBytes);
  const etag = out.ETag;
  const total = out.ContentLength;
  let hash = createHash("sha256");
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, createNew: true });
  } catch (e) {
    await out.Body?.transformToWebStream().cancel().catch(() => {});
    throw new UserError(
      "output",
      `Cannot copy ${url} to ${path}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  let at = 0;
  let resumes = 0;
  try {
    for (;;) {
      try {
        for await (const chunk of bodyStream(out)) {
          at += chunk.length;
          if (opts.maxBytes !== undefined && at > opts.maxBytes) {
            throw tooLarge(url, at, opts.maxBytes);
          }
          hash.update(chunk);
          try {
            let done = 0;
            while (done < chunk.length) {
              done += await file.write(chunk.subarray(done));
            }
          } catch (e) {
            throw new LocalWriteError((e as Error).message, { cause: e });
          }
        }
        if (total === undefined || at >= total) break;
        throw new Error(`the body ended after ${at} of ${total} bytes`);
      } catch (e) {
        if (e instanceof UserError) throw e;
        if (e instanceof LocalWriteError) {
          throw new UserError(
            "output",
            `Cannot copy ${url} to ${path}: ${e.message}`,
            { cause: e.cause },
          );
        }
        if (resumes >= DOWNLOAD_RESUMES) {
          throw new UserError(
            "input",
            `Cannot read ${url}: the download was cut short ${
              resumes + 1
            } times, the last after ${at}${
              total === undefined ? "" : ` of ${total}`
            } bytes (${String((e as Error)?.message ?? e).split("\n")[0]})`,
            { cause: e },
          );
        }
        resumes += 1;
        await new Promise((r) => setTimeout(r, resumeDelay(resumes)));
        try {
          out = await s3Client().send(
            new GetObjectCommand({
              Bucket: bucket,
              Key: key,
              // Nothing kept yet: the whole object again (no Range).
              Range: at === 0 ? undefined : `bytes=${at}-`,
              IfMatch: etag,
            }),
          );
        } catch (e) {
          const status = (e as { $metadata?: { httpStatusCode?: number } })
            ?.$metadata?.httpStatusCode;
          if (status === 412) throw changed(url);
          throw storageError(url, e, "read", "input");
        }
        const from = /^bytes (\d+)-/.exec(out.ContentRange ?? "")?.[1];
        if (etag !== undefined && out.ETag !== etag) {
          await out.Body?.transformToWebStream().cancel().catch(() => {});
          throw changed(url);
        }
        if (at > 0 && from === undefined && out.ContentLength === total) {
          // A server that ignores Range sends the whole object again:
          // start the file and the hash over.
          await file.truncate(0);
          await file.seek(0, Deno.SeekMode.Start);
          hash = createHash("sha256");
          at = 0;
        } else if (at > 0 && (from === undefined || Number(from) !== at)) {
          await out.Body?.transformToWebStream().cancel().catch(() => {});
          throw new UserError(
            "input",
            `Cannot read ${url}: the server answered a resumed download from byte ${at} with ${
              out.ContentRange ? `range ${out.ContentRange}` : "no range"
            }`,
          );
        }
      }
    }
  } finally {
    file.close();
  }
  if (total !== undefined && at !== total) {
    throw new UserError(
      "input",
      `Cannot read ${url}: ${at} bytes arrived, the object holds ${total}`,
    );
  }
  return { sha256: hash.digest("hex"), bytes: at };
}

/** The refusal of an object replaced while it was downloaded. */
function changed(url: string): UserError {
  return new UserError(
    "input",
    `Cannot read ${url}: the object was replaced while it was being read (its ETag changed); read it again`,
  );
}

/**
 * The SHA-256 (hex) of a local file or an S3 object, read as a stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Of } from "./read.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "abc");
 * // FIPS 180-2, appendix B.1: SHA-256("abc").
 * assert.equal(await sha256Of(`${dir}/a.txt`), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function sha256Of(pathOrUrl: string): Promise<string> {
  const hash = createHash("sha256");
  if (!isS3Url(pathOrUrl)) {
    const file = await Deno.open(pathOrUrl, { read: true });
    // The stream closes the file at its end or on an error.
    for await (const chunk of file.readable) hash.update(chunk);
    return hash.digest("hex");
  }
  const out = await getObject(pathOrUrl);
  try {
    for await (const chunk of bodyStream(out)) hash.update(chunk);
  } catch (e) {
    throw storageError(pathOrUrl, e, "read", "input");
  }
  return hash.digest("hex");
}

/**
 * Whether a local file or an S3 object exists (HeadObject). A missing
 * bucket or refused credentials are errors, not absence.
 */
export async function inputExists(pathOrUrl: string): Promise<boolean> {
  if (!isS3Url(pathOrUrl)) {
    try {
      await Deno.stat(pathOrUrl);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }
  const { bucket, key } = parseS3Url(pathOrUrl);
  try {
    await s3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    // HeadObject has no body: a missing bucket is a bare 404 too, so it
    // is told apart by the listing the caller does next, if any.
    if (isMissing(e)) return false;
    throw storageError(pathOrUrl, e, "read", "input");
  }
}

/**
 * Runs `fn`, which reads the local copy `local` of the input `shown`;
 * an error it throws names `shown` (the URL the user gave) wherever its
 * message named the copy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { namingInput } from "./read.ts";
 * assert.throws(
 *   () => namingInput("/tmp/x/q4.csv", "s3://book/q4.csv", () => { throw new Error("Cannot read /tmp/x/q4.csv: line 3"); }),
 *   { message: "Cannot read s3://book/q4.csv: line 3" },
 * );
 * ```
 */
export function namingInput<T>(local: string, shown: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (local !== shown && e instanceof Error) {
      e.message = e.message.replaceAll(local, shown);
      const named = e as Error & { path?: unknown };
      if (named.path === local) {
        try {
          named.path = shown;
        } catch {
          // A read-only field: the message names the URL already.
        }
      }
    }
    throw e;
  }
}
