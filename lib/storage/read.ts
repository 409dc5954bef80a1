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
    const sha256 = await streamToFile(
      bodyStream(out),
      path,
      opts.maxBytes,
      pathOrUrl,
    );
    return { path, sha256, cleanup, [Symbol.asyncDispose]: cleanup };
  } catch (e) {
    await cleanup();
    if (e instanceof UserError) throw e;
    if (
      e instanceof Deno.errors.NotFound ||
      /No space|os error 28/.test(String(e))
    ) {
      throw new UserError(
        "output",
        `Cannot copy ${pathOrUrl} to ${path}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    throw storageError(pathOrUrl, e, "read", "input");
  }
}

/**
 * Writes `stream` to the new file `path`, stopping past `maxBytes`;
 * returns the SHA-256 (hex) of what was written.
 */
async function streamToFile(
  stream: ReadableStream<Uint8Array>,
  path: string,
  maxBytes: number | undefined,
  url: string,
): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { write: true, createNew: true });
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (maxBytes !== undefined && total > maxBytes) {
      throw tooLarge(url, total, maxBytes);
    }
    hash.update(chunk);
    let at = 0;
    while (at < chunk.length) at += await file.write(chunk.subarray(at));
  }
  return hash.digest("hex");
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
