/**
 * What a path names, before anything is read from it: a regular file (with
 * its size), or something that is not one. A device (`/dev/zero`), a pipe
 * (a FIFO, `/dev/stdin` under a shell pipe) or a socket has no end known in
 * advance: reading `/dev/zero` as a portfolio grew to 9 GB before this
 * check. The readers (`scanPortfolio`, `loadRules`, `loadFx`) refuse them
 * unless their caller asks for a stream on purpose, and read a stream with
 * a byte limit ({@link readBounded}).
 *
 * Symbolic links are followed (`Deno.statSync`), so a link to a file is a
 * file and a link to a device is a device.
 *
 * @module
 */

/** What a path names, as {@link inspectPath} tells it. */
export type PathKind =
  | { kind: "file"; size: number }
  | { kind: "stream"; what: string }
  | { kind: "refused"; what: string };

/**
 * Whether `path` is a regular file (and its size), a stream that can be
 * read on purpose (a character or block device, a pipe), or something that
 * cannot be read as a file at all (a directory, a socket). `what` reads
 * "a character device", "a pipe (FIFO)", ... for the messages.
 *
 * @throws the file system's error (`Deno.errors.NotFound`, ...) for the
 *   caller to word
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectPath } from "./_input.ts";
 * assert.deepEqual(inspectPath("/dev/null"), {
 *   kind: "stream",
 *   what: "a character device",
 * });
 * assert.equal(inspectPath("/").kind, "refused");
 * ```
 */
export function inspectPath(path: string): PathKind {
  const info = Deno.statSync(path);
  if (info.isFile) return { kind: "file", size: info.size };
  if (info.isDirectory) return { kind: "refused", what: "a directory" };
  if (info.isSocket) return { kind: "refused", what: "a socket" };
  if (info.isCharDevice) return { kind: "stream", what: "a character device" };
  if (info.isBlockDevice) return { kind: "stream", what: "a block device" };
  if (info.isFifo) return { kind: "stream", what: "a pipe (FIFO)" };
  return { kind: "refused", what: "not a regular file" };
}

/**
 * Reads `path` to its end, or stops as soon as it has read more than
 * `maxBytes` bytes and returns `undefined`: a stream is never read past the
 * limit, so `/dev/zero` costs `maxBytes` and one chunk, not all memory.
 *
 * @param maxBytes the most bytes accepted; `Infinity` reads to the end
 *   whatever it holds
 */
export function readBounded(
  path: string,
  maxBytes: number,
): Uint8Array | undefined {
  const file = Deno.openSync(path, { read: true });
  try {
    const chunks = new Chunks(maxBytes);
    while (chunks.add(file.readSync(chunks.buffer)));
    return chunks.bytes();
  } finally {
    file.close();
  }
}

/** {@link readBounded} without blocking: for the configuration loaders. */
export async function readBoundedAsync(
  path: string,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const file = await Deno.open(path, { read: true });
  try {
    const chunks = new Chunks(maxBytes);
    while (chunks.add(await file.read(chunks.buffer)));
    return chunks.bytes();
  } finally {
    file.close();
  }
}

/** The chunks read so far, up to a limit. */
class Chunks {
  readonly buffer = new Uint8Array(1024 * 1024);
  private readonly chunks: Uint8Array[] = [];
  private total = 0;
  constructor(private readonly maxBytes: number) {}

  /** Keeps the `n` bytes just read into `buffer`; false at the end or past the limit. */
  add(n: number | null): boolean {
    if (n === null || n === 0) return false;
    this.total += n;
    if (this.total > this.maxBytes) return false;
    this.chunks.push(this.buffer.slice(0, n));
    return true;
  }

  /** Everything read, or `undefined` past the limit. */
  bytes(): Uint8Array | undefined {
    if (this.total > this.maxBytes) return undefined;
    const out = new Uint8Array(this.total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** `n` bytes in words: `1,048,577 bytes`. */
export const bytesText = (n: number): string =>
  `${n.toLocaleString("en-US")} byte${n === 1 ? "" : "s"}`;
