/**
 * A run folder's `Location` (`lib/run_folder/location.ts`) in S3: the
 * prefix `s3://bucket/prefix/`, whose "entries" are the next path segments
 * of the keys under it (ListObjectsV2 with the delimiter `/`).
 *
 * Writing: S3 has no rename, so a folder cannot appear at once. A writer
 * stages the folder on this machine as today (Polars writes by path) and
 * publishes it in this order (docs/storage.md):
 *
 * 0. the keys under the target are listed: one whose first path segment is
 *    not among the names the folder's kind holds (`names` of
 *    {@link S3PublishOptions}) refuses the publish, named, and is never
 *    deleted; a marker there (`manifest.json`) refuses it without `replace`;
 * 1. every file but the marker is hashed (SHA-256) and uploaded under a
 *    hidden temporary prefix beside the target,
 *    `.<name>.partial-<pid>-<12 hex>/` (files from
 *    {@link MULTIPART_THRESHOLD} up as multipart uploads through
 *    `@aws-sdk/lib-storage`'s `Upload`, in parts of {@link DEFAULT_PART_SIZE},
 *    4 at a time), so the long part of the work touches nothing under the
 *    final name;
 * 2. the marker is looked at again (HeadObject): one that appeared, changed
 *    or vanished since step 0 (another writer of the name) stops the
 *    publish before it touches the target;
 * 3. the earlier folder's markers (`manifest.json`, {@link COMPLETE_MARKER})
 *    are deleted: from that moment it is no longer complete to any reader;
 * 4. each object is copied server-side (CopyObject) from the temporary
 *    prefix to the target, and keys of the earlier folder (of the kind's
 *    names only) that the new one does not have are deleted;
 * 5. the marker is written last (one PutObject, atomic in S3, conditional
 *    on no marker being there: `If-None-Match: *`, which Amazon S3 and
 *    MinIO honour and s3rver ignores), listing every file with its size and
 *    SHA-256: the run's `manifest.json` gains {@link PUBLISHED_FILES_KEY};
 *    a folder without a manifest (a movement, validation outputs) gets
 *    {@link COMPLETE_MARKER};
 * 6. the temporary prefix and the local staging folder are removed.
 *
 * A failure (or a kill) at any step leaves either the earlier folder
 * untouched (steps 0-2) or a folder without its marker (steps 3-5): never
 * anything a reader trusts. The next publish of the name replaces such a
 * folder, `replace` or not, when it holds only names of its kind. A
 * temporary prefix left behind by a killed writer is hidden and refused by
 * every reader; remove it with `aws s3 rm --recursive` or a lifecycle rule
 * (abort incomplete multipart uploads too).
 *
 * Reading: the folder's marker is read before any other file, and every
 * file read after it is checked against the sizes and SHA-256 it lists,
 * so a folder whose files two writers mixed is refused naming a file; a
 * folder with no marker serves only `summary.json` and `manifest.json`
 * (for the run readers to say it is not a complete run).
 *
 * `readText` is a GetObject; Parquet files are copied to a
 * per-process cache folder ({@link S3Folder.prepareScan}) for Polars' lazy
 * scans, removed when the process exits.
 *
 * @module
 */
import { join, relative } from "node:path";
import { createHash } from "node:crypto";
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { UserError } from "../errors.ts";
import { s3Client } from "./config.ts";
import { isMissing, storageError } from "./errors.ts";
import { downloadToFile } from "./read.ts";
import { parseS3Url, s3Url } from "./url.ts";

/** Files from this size up are uploaded in parts (multipart upload). */
export const MULTIPART_THRESHOLD = 8 * 1024 * 1024;

/** The size of each part of a multipart upload (S3's minimum is 5 MiB). */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** S3's smallest part (but the last): 5 MiB. */
const MIN_PART_SIZE = 5 * 1024 * 1024;

/** CopyObject copies at most 5 GiB; larger files are uploaded again. */
const MAX_COPY_BYTES = 5 * 1024 * 1024 * 1024;

/** The file written last, whose presence makes a folder a run. */
const MANIFEST = "manifest.json";

/**
 * The completion marker of a folder published without a `manifest.json`
 * (a movement, validation outputs): written last, listing every file.
 */
export const COMPLETE_MARKER = "_complete.json";

/** The key of `manifest.json` listing the files published with it. */
export const PUBLISHED_FILES_KEY = "published_files";

/**
 * Files a reader may read from a folder with no marker at all: a run's
 * `summary.json` and `manifest.json`, so that the run readers can say
 * themselves that the run is not complete (`lib/run_folder/read.ts`).
 */
const READABLE_UNSEALED = new Set(["summary.json", MANIFEST]);

/** Size and SHA-256 of each published file, by its name in the folder. */
export type PublishedFiles = Record<string, { bytes: number; sha256: string }>;

/** What a folder's marker says of its files, as a reader found it. */
interface Seal {
  /** The marker's name, or null for a folder with neither. */
  marker: string | null;
  /** The files it lists; null when it lists none (an older manifest). */
  files: Map<string, { bytes: number; sha256: string }> | null;
  /** The marker's text as read (a `manifest.json` is served from it). */
  text?: string;
  /** Whether the folder held nothing at all (reads find no file). */
  empty?: boolean;
}

/** SHA-256 (hex) of `bytes`. */
function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The files a marker's JSON lists, or null when it lists none. */
function listedFiles(
  value: unknown,
): Map<string, { bytes: number; sha256: string }> | null {
  if (typeof value !== "object" || value === null) return null;
  const files = value as Record<string, unknown>;
  const out = new Map<string, { bytes: number; sha256: string }>();
  for (const [name, f] of Object.entries(files)) {
    const entry = f as { bytes?: unknown; sha256?: unknown };
    if (
      typeof entry?.bytes !== "number" || typeof entry?.sha256 !== "string"
    ) {
      return null;
    }
    out.set(name, { bytes: entry.bytes, sha256: entry.sha256 });
  }
  return out;
}

/** Options of {@link s3Folder}. */
export interface S3FolderOptions {
  /**
   * Part size of multipart uploads, at least 5 MiB; files of at least this
   * size (and of {@link MULTIPART_THRESHOLD}) go in parts.
   * @default DEFAULT_PART_SIZE
   */
  partSize?: number;
  /** Told of each object uploaded: its key and how many parts it took (1: one PutObject). */
  onUpload?: (key: string, parts: number) => void;
  /**
   * Called before each step of a publish (`upload`, `copy`, `manifest`)
   * with the key concerned: a test throws from it, or stops the server
   * in it, to fail a publish in the middle.
   */
  beforeStep?: (
    step: "upload" | "copy" | "manifest",
    key: string,
  ) => void | Promise<void>;
}

/** Options of a publish (as `PublishOptions` of `location.ts`). */
export interface S3PublishOptions {
  /** The name to publish under. @default the name given to `stage` */
  as?: string;
  /** Replace a folder with a manifest there already. @default false */
  replace?: boolean;
  /**
   * The names (first path segments) a folder of this kind holds: keys
   * under the target with another name are foreign, and the publish is
   * refused naming one (never deleted); keys with one of these names that
   * the new folder lacks are deleted. @default the names being published
   */
  names?: readonly string[];
}

/** A folder being written on this machine, for an S3 prefix (a `Staging`). */
export interface S3Staging {
  /** The local folder to write into. */
  readonly dir: string;
  /** Uploads the folder as described in the module's documentation. */
  publish(opts?: S3PublishOptions): Promise<S3Folder>;
  /** Removes the local folder and any objects uploaded so far. */
  discard(): Promise<void>;
}

/** An entry name: one path segment. */
function checkName(name: string): string {
  if (name === "" || name === "." || name === ".." || name.includes("/")) {
    throw new UserError(
      "usage",
      `Cannot use ${
        JSON.stringify(name)
      } as a name in a folder: give one path segment`,
    );
  }
  return name;
}

/** 12 random hex digits. */
function randomSuffix(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(6)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

let cacheDir: string | undefined;

/** The per-process folder of local copies for scans, removed at exit. */
function scanCache(): string {
  if (cacheDir === undefined) {
    const dir = Deno.makeTempDirSync({ prefix: "ifrs9-s3-cache-" });
    cacheDir = dir;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Removed already, or the temporary folder is gone.
      }
    });
  }
  return cacheDir;
}

/** Files under `dir`, recursively, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile) out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

/** A folder (key prefix) in an S3 bucket. */
export class S3Folder {
  /** `s3://bucket/prefix`, without a trailing slash. */
  readonly href: string;
  private readonly bucket: string;
  /** The key prefix, without a trailing slash; `""` for the bucket. */
  private readonly prefix: string;
  private readonly opts: S3FolderOptions;
  /** Local copies made by {@link prepareScan}, by entry name. */
  private readonly copies = new Map<string, string>();
  /** The folder's marker, read once, before any other file. */
  private seal?: Promise<Seal>;

  /** The folder `url` (`s3://bucket/prefix`). */
  constructor(url: string, opts: S3FolderOptions = {}) {
    const { bucket, key } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = key.replace(/\/+$/, "");
    this.href = s3Url(bucket, this.prefix);
    this.opts = opts;
    const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
    if (partSize < MIN_PART_SIZE) {
      throw new RangeError(`partSize must be at least ${MIN_PART_SIZE}`);
    }
  }

  /** The key of `name` inside this folder. */
  private keyOf(name: string): string {
    return this.prefix === "" ? name : `${this.prefix}/${name}`;
  }

  /** The location of an entry inside this folder. */
  child(name: string): S3Folder {
    return new S3Folder(
      s3Url(this.bucket, this.keyOf(checkName(name))),
      this.opts,
    );
  }

  /** Every key under `prefix/` (recursive), with its size. */
  private async keysUnder(
    prefix: string,
    delimiter?: string,
  ): Promise<{
    keys: { key: string; size: number; etag: string }[];
    folders: string[];
  }> {
    const keys: { key: string; size: number; etag: string }[] = [];
    const folders: string[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await s3Client().send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            Delimiter: delimiter,
            ContinuationToken: token,
          }),
        );
      } catch (e) {
        throw storageError(s3Url(this.bucket, prefix), e, "list", "input");
      }
      for (const o of page.Contents ?? []) {
        keys.push({ key: o.Key!, size: o.Size ?? 0, etag: o.ETag ?? "" });
      }
      for (const p of page.CommonPrefixes ?? []) folders.push(p.Prefix!);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return { keys, folders };
  }

  /** The folder's key prefix with its trailing slash (`""` for the bucket). */
  private get dirPrefix(): string {
    return this.prefix === "" ? "" : `${this.prefix}/`;
  }

  /** Names of the entries directly inside, sorted; none when absent. */
  async list(): Promise<string[]> {
    const { keys, folders } = await this.keysUnder(this.dirPrefix, "/");
    const at = this.dirPrefix.length;
    const names = new Set<string>();
    for (const f of folders) names.add(f.slice(at).replace(/\/$/, ""));
    for (const k of keys) names.add(k.key.slice(at));
    names.delete("");
    return [...names].sort();
  }

  /**
   * The folder's marker, read first: `_complete.json`, else `manifest.json`
   * (with its `published_files`), else none.
   */
  private readSeal(): Promise<Seal> {
    this.seal ??= (async (): Promise<Seal> => {
      const names = await this.list();
      for (const marker of [COMPLETE_MARKER, MANIFEST]) {
        if (!names.includes(marker)) continue;
        let text: string;
        try {
          text = await this.getText(marker);
        } catch (e) {
          // Deleted since the listing (a replace under way): no marker.
          if (e instanceof Deno.errors.NotFound) continue;
          throw e;
        }
        let value: Record<string, unknown> | null = null;
        try {
          value = JSON.parse(text);
        } catch {
          // Not JSON: the run readers say so about a manifest.
        }
        const files = listedFiles(
          marker === COMPLETE_MARKER
            ? value?.files
            : value?.[PUBLISHED_FILES_KEY],
        );
        if (marker === COMPLETE_MARKER && files === null) {
          throw new UserError(
            "input",
            `Cannot read ${this.href}: its ${COMPLETE_MARKER} lists no files (not written by this code)`,
          );
        }
        return { marker, files, text };
      }
      return { marker: null, files: null, empty: names.length === 0 };
    })();
    return this.seal;
  }

  /** A GetObject of `name` as text. */
  private async getText(name: string): Promise<string> {
    const key = this.keyOf(checkName(name));
    try {
      const out = await s3Client().send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key }),
      );
      return await out.Body!.transformToString("utf-8");
    } catch (e) {
      if (isMissing(e)) {
        throw new Deno.errors.NotFound(
          `${s3Url(this.bucket, key)}: no such object`,
        );
      }
      throw storageError(s3Url(this.bucket, key), e, "read", "input");
    }
  }

  /**
   * Checks the file `name` read from this folder (`bytes` long, with hash
   * `sha256`) against the folder's marker: a folder whose marker lists
   * its files serves only those files, byte for byte; a folder with no
   * marker serves only what lets a run reader say it is not complete.
   */
  private async checkSealed(
    name: string,
    got?: { bytes: number; sha256: string },
  ): Promise<void> {
    const seal = await this.readSeal();
    const url = s3Url(this.bucket, this.keyOf(name));
    if (seal.marker === null) {
      // Nothing there: the read finds no file, as for any missing one.
      if (seal.empty || READABLE_UNSEALED.has(name)) return;
      throw new UserError(
        "input",
        `Cannot read ${url}: ${this.href} has neither ${COMPLETE_MARKER} nor ${MANIFEST}, so it was not published whole (cut short, being written, or not written by this code); write it again`,
      );
    }
    if (seal.files === null || got === undefined) return;
    const want = seal.files.get(name);
    if (want === undefined) {
      throw new UserError(
        "input",
        `Cannot read ${url}: it is not among the files the folder's ${seal.marker} lists`,
      );
    }
    if (want.sha256 !== got.sha256 || want.bytes !== got.bytes) {
      throw new UserError(
        "input",
        `Cannot read ${url}: it is not the file the folder's ${seal.marker} lists (${got.bytes} bytes, SHA-256 ${
          got.sha256.slice(0, 12)
        }…; listed: ${want.bytes} bytes, ${
          want.sha256.slice(0, 12)
        }…): another writer changed the folder; read it again once it is published whole`,
      );
    }
  }

  /**
   * Reads a file as UTF-8 text, checked against the folder's marker
   * (read first): see {@link checkSealed}.
   * @throws {Deno.errors.NotFound} when the object does not exist.
   */
  async readText(name: string): Promise<string> {
    checkName(name);
    const seal = await this.readSeal();
    if (name === seal.marker && seal.text !== undefined) return seal.text;
    await this.checkSealed(name);
    const text = await this.getText(name);
    const bytes = new TextEncoder().encode(text);
    await this.checkSealed(name, {
      bytes: bytes.length,
      sha256: sha256Hex(bytes),
    });
    return text;
  }

  /**
   * The local copy of a file for Polars' lazy scans, made by
   * {@link prepareScan}.
   * @throws {Error} when it was not prepared (a bug of the caller).
   */
  scanSource(name: string): string {
    const path = this.copies.get(checkName(name));
    if (path === undefined) {
      throw new Error(
        `${
          this.keyOf(name)
        } of ${this.href} was not copied for scanning: call prepareScan() first`,
      );
    }
    return path;
  }

  /**
   * Copies the files `names` (those that exist) to this process's cache
   * folder, streamed (`downloadToFile`: a cut body is resumed), so that
   * {@link scanSource} can name them, each checked against the folder's
   * marker; removed when the process exits.
   */
  async prepareScan(names: readonly string[]): Promise<void> {
    await this.readSeal();
    const present = new Set(await this.list());
    const dir = await Deno.makeTempDir({ dir: scanCache() });
    for (const name of names) {
      if (!present.has(name) || this.copies.has(name)) continue;
      await this.checkSealed(name);
      const url = s3Url(this.bucket, this.keyOf(checkName(name)));
      const path = join(dir, name);
      const got = await downloadToFile(url, path);
      await this.checkSealed(name, got);
      this.copies.set(name, path);
    }
  }

  /** Writes a file whole (one PutObject: S3 shows the old object or the new). */
  async writeText(name: string, text: string): Promise<void> {
    const key = this.keyOf(checkName(name));
    try {
      await s3Client().send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: text }),
      );
    } catch (e) {
      throw storageError(s3Url(this.bucket, key), e, "write", "output");
    }
  }

  /**
   * Opens a staging folder on this machine whose contents `publish()`
   * uploads as the entry `name` (see the module's documentation).
   */
  async stage(name: string): Promise<S3Staging> {
    checkName(name);
    const dir = await Deno.makeTempDir({ prefix: `ifrs9-stage-${name}-` });
    const temp = this.keyOf(`.${name}.partial-${Deno.pid}-${randomSuffix()}`);
    let published = false;
    return {
      dir,
      publish: async (
        { as = name, replace = false, names }: S3PublishOptions = {},
      ): Promise<S3Folder> => {
        const target = this.child(as);
        try {
          await this.publish(dir, temp, target, replace, names);
        } catch (e) {
          // Best effort: a server that is gone keeps them (hidden, untrusted).
          await this.deleteUnder(`${temp}/`).catch(() => {});
          throw e;
        }
        published = true;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        return target;
      },
      discard: async () => {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        if (!published) await this.deleteUnder(`${temp}/`).catch(() => {});
      },
    };
  }

  /** Deletes every object under `prefix` (1,000 per request). */
  private async deleteUnder(prefix: string, keep = new Set<string>()) {
    const { keys } = await this.keysUnder(prefix);
    await this.deleteKeys(keys.map((k) => k.key).filter((k) => !keep.has(k)));
  }

  /** Deletes `keys` (1,000 per request, S3's most). */
  private async deleteKeys(keys: string[]) {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      try {
        const out = await s3Client().send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = out.Errors ?? [];
        if (failed.length > 0) {
          throw new UserError(
            "output",
            `Cannot delete ${s3Url(this.bucket, failed[0].Key ?? "")}: ${
              failed[0].Code ?? ""
            } ${failed[0].Message ?? ""}`.trim(),
          );
        }
      } catch (e) {
        throw storageError(s3Url(this.bucket, batch[0]), e, "delete", "output");
      }
    }
  }

  /** Uploads the local file `path` as `key` (in parts when large). */
  private async upload(path: string, key: string): Promise<void> {
    await this.opts.beforeStep?.("upload", key);
    const size = (await Deno.stat(path)).size;
    const partSize = this.opts.partSize ?? DEFAULT_PART_SIZE;
    const url = s3Url(this.bucket, key);
    try {
      if (size < Math.max(partSize, MULTIPART_THRESHOLD) || size === 0) {
        await s3Client().send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: await Deno.readFile(path),
          }),
        );
        this.opts.onUpload?.(key, 1);
        return;
      }
      const file = await Deno.open(path, { read: true });
      let parts = 0;
      const upload = new Upload({
        client: s3Client(),
        params: { Bucket: this.bucket, Key: key, Body: file.readable },
        partSize,
        queueSize: 4,
        // An upload that fails aborts itself: no orphaned parts are billed.
        leavePartsOnError: false,
      });
      upload.on("httpUploadProgress", (p) => {
        parts = Math.max(parts, p.part ?? 0);
      });
      try {
        await upload.done();
      } finally {
        // The stream closes the file at its end; not when it failed.
        try {
          file.close();
        } catch {
          // Closed already by the stream.
        }
      }
      this.opts.onUpload?.(key, parts);
    } catch (e) {
      throw storageError(url, e, "write", "output");
    }
  }

  /** The ETag of `key`, or null when there is no such object (HeadObject). */
  private async etagOf(key: string): Promise<string | null> {
    try {
      const out = await s3Client().send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key }),
      );
      return out.ETag ?? "";
    } catch (e) {
      if (isMissing(e)) return null;
      throw storageError(s3Url(this.bucket, key), e, "read", "output");
    }
  }

  /** Steps 1-6 of the module's documentation. */
  private async publish(
    dir: string,
    temp: string,
    target: S3Folder,
    replace: boolean,
    names?: readonly string[],
  ): Promise<void> {
    const files = await filesUnder(dir);
    const targetPrefix = `${target.prefix}/`;
    const top = (f: string) => f.split("/")[0];
    // The marker: the run's manifest, else a completion marker.
    const marker = files.includes(MANIFEST) ? MANIFEST : COMPLETE_MARKER;
    const markerKey = `${targetPrefix}${marker}`;
    const body = files.filter((f) => f !== MANIFEST && f !== COMPLETE_MARKER);
    const owned = new Set([
      ...(names ?? []),
      ...files.map(top),
      MANIFEST,
      COMPLETE_MARKER,
    ]);
    // What holds the name. Keys of another name are never deleted: the
    // publish is refused. A folder of ours without a marker is what a
    // cut-short publish leaves (no run), which this one replaces.
    const listing = (await this.keysUnder(targetPrefix)).keys;
    const existing = listing.map((k) => k.key);
    const foreign = existing.filter((k) =>
      !owned.has(top(k.slice(targetPrefix.length)))
    );
    if (foreign.length > 0) {
      const more = foreign.length - 1;
      throw new UserError(
        "usage",
        `Cannot publish ${target.href}: it holds ${
          s3Url(this.bucket, foreign[0])
        }${
          more > 0 ? ` and ${more} more key${more === 1 ? "" : "s"}` : ""
        }, which this folder does not write; it is never replaced: move it, or choose another name`,
      );
    }
    const seenTag = listing.find((k) => k.key === markerKey)?.etag;
    const seen = seenTag === undefined ? null : seenTag.replaceAll('"', "");
    const otherMarker = existing.filter((k) =>
      k === `${targetPrefix}${MANIFEST}` ||
      k === `${targetPrefix}${COMPLETE_MARKER}`
    );
    if (seen !== null && !replace) {
      throw new UserError(
        "usage",
        `Cannot publish ${target.href}: a folder with a ${marker} is there already (pass --replace to replace it)`,
      );
    }
    // 1. Upload under the hidden temporary prefix, hashing each file.
    const published: PublishedFiles = {};
    for (const f of body) {
      const path = join(dir, f);
      published[f] = await hashFile(path);
      await this.upload(path, `${temp}/${f}`);
    }
    // 2. Looked at again right before the target is touched: another
    // writer of the name may have published while this one uploaded.
    const now = (await this.etagOf(markerKey))?.replaceAll('"', "") ?? null;
    if (now !== seen) {
      throw new UserError(
        "usage",
        `Cannot publish ${target.href}: another writer ${
          seen === null ? "published" : "replaced"
        } a folder there while this one was being uploaded (its ${marker} ${
          seen === null ? "appeared" : now === null ? "vanished" : "changed"
        }); nothing of this one was written there: choose another name, or publish again with --replace`,
      );
    }
    // 3. The old folder stops being complete to any reader.
    if (otherMarker.length > 0) await this.deleteKeys(otherMarker);
    // 4. Server-side copies; leftovers of an earlier folder of ours removed.
    for (const f of body) {
      const key = `${targetPrefix}${f}`;
      if (published[f].bytes > MAX_COPY_BYTES) {
        await this.upload(join(dir, f), key);
        continue;
      }
      await this.opts.beforeStep?.("copy", key);
      try {
        await s3Client().send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: key,
            CopySource: encodeURIComponent(`${this.bucket}/${temp}/${f}`)
              .replace(/%2F/g, "/"),
          }),
        );
      } catch (e) {
        throw storageError(s3Url(this.bucket, key), e, "write", "output");
      }
    }
    const fresh = new Set(files.map((f) => `${targetPrefix}${f}`));
    await this.deleteKeys(
      existing.filter((k) => !fresh.has(k) && !otherMarker.includes(k)),
    );
    // 5. The marker, last, listing every file with its size and SHA-256;
    // a conditional write, so that on a server that honours it, a marker
    // another writer put there meanwhile is not overwritten.
    await this.opts.beforeStep?.("manifest", markerKey);
    const text = marker === MANIFEST
      ? sealManifest(await Deno.readTextFile(join(dir, MANIFEST)), published)
      : JSON.stringify({ files: published }, null, 2) + "\n";
    try {
      await s3Client().send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: markerKey,
          Body: text,
          IfNoneMatch: "*",
        }),
      );
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } })
        ?.$metadata?.httpStatusCode;
      if (status === 412 || status === 409) {
        throw new UserError(
          "usage",
          `Cannot publish ${target.href}: another writer published its ${marker} while this one was copying; the folder may mix both, and its readers refuse the files that are not the ones its ${marker} lists: publish again with --replace`,
          { cause: e },
        );
      }
      throw storageError(s3Url(this.bucket, markerKey), e, "write", "output");
    }
    this.opts.onUpload?.(markerKey, 1);
    // 6. The temporary prefix; a failure here leaves only hidden objects.
    await this.deleteUnder(`${temp}/`).catch(() => {});
  }
}

/** Size and SHA-256 (hex) of a local file, streamed. */
async function hashFile(
  path: string,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  const file = await Deno.open(path, { read: true });
  // The stream closes the file at its end or on an error.
  for await (const chunk of file.readable) {
    bytes += chunk.length;
    hash.update(chunk);
  }
  return { bytes, sha256: hash.digest("hex") };
}

/**
 * The manifest `text` with the published files listed under
 * {@link PUBLISHED_FILES_KEY}; a manifest that is not a JSON object is
 * published as it is (the run readers refuse it).
 */
function sealManifest(text: string, files: PublishedFiles): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return text;
  }
  return JSON.stringify({ ...value, [PUBLISHED_FILES_KEY]: files }, null, 2) +
    "\n";
}

/**
 * The S3 folder `url` (`s3://bucket/prefix`), a `Location` of
 * `lib/run_folder/location.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { s3Folder } from "./s3_folder.ts";
 * const runs = s3Folder("s3://ifrs9-runs/2025/");
 * assert.equal(runs.href, "s3://ifrs9-runs/2025");
 * assert.equal(runs.child("q4").href, "s3://ifrs9-runs/2025/q4");
 * ```
 */
export function s3Folder(url: string, opts: S3FolderOptions = {}): S3Folder {
  return new S3Folder(url, opts);
}
