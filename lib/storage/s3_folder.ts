/**
 * A run folder's `Location` (`lib/run_folder/location.ts`) in S3: the
 * prefix `s3://bucket/prefix/`, whose "entries" are the next path segments
 * of the keys under it (ListObjectsV2 with the delimiter `/`).
 *
 * Writing: S3 has no rename, so a folder cannot appear at once. A writer
 * stages the folder on this machine as today (Polars writes by path) and
 * publishes it in this order:
 *
 * 1. every file but `manifest.json` is uploaded under a hidden temporary
 *    prefix beside the target, `.<name>.partial-<pid>-<12 hex>/` (files
 *    from {@link MULTIPART_THRESHOLD} up as multipart uploads through
 *    `@aws-sdk/lib-storage`'s `Upload`, in parts of
 *    {@link DEFAULT_PART_SIZE}, 4 at a time), so the long part of the
 *    work touches nothing under the final name;
 * 2. when the target holds a `manifest.json` (an earlier run, published
 *    only with `replace`), it is deleted first: from that moment the old
 *    folder is no longer a complete run to any reader;
 * 3. each object is copied server-side (CopyObject) from the temporary
 *    prefix to the target, and objects of an earlier folder there that the
 *    new one does not have are deleted;
 * 4. `manifest.json` is written last (one PutObject, atomic in S3): only
 *    now do readers, which trust only a folder whose manifest says
 *    `complete` (`lib/run_folder/read.ts`), read the run;
 * 5. the temporary prefix and the local staging folder are removed.
 *
 * A failure (or a kill) at any step leaves either the earlier folder
 * untouched (steps 1-2) or a folder without `manifest.json` (steps 2-4):
 * never anything a reader trusts. The next publish of the name replaces
 * such a folder, `replace` or not (a folder without a manifest is no run
 * to keep). A temporary prefix left behind by a killed writer is hidden
 * and refused by every reader; remove it with `aws s3 rm --recursive` or a
 * lifecycle rule (abort incomplete multipart uploads too). Two writers of
 * one name at once are not detected on S3 (no process to ask): give runs
 * distinct ids.
 *
 * Reading: `readText` is a GetObject; Parquet files are copied to a
 * per-process cache folder ({@link S3Folder.prepareScan}) for Polars' lazy
 * scans, removed when the process exits.
 *
 * @module
 */
import { join, relative } from "node:path";
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { UserError } from "../errors.ts";
import { s3Client } from "./config.ts";
import { isMissing, storageError } from "./errors.ts";
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
  ): Promise<{ keys: { key: string; size: number }[]; folders: string[] }> {
    const keys: { key: string; size: number }[] = [];
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
        keys.push({ key: o.Key!, size: o.Size ?? 0 });
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
   * Reads a file as UTF-8 text.
   * @throws {Deno.errors.NotFound} when the object does not exist.
   */
  async readText(name: string): Promise<string> {
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
   * folder, streamed, so that {@link scanSource} can name them; removed
   * when the process exits.
   */
  async prepareScan(names: readonly string[]): Promise<void> {
    const present = new Set(await this.list());
    const dir = await Deno.makeTempDir({ dir: scanCache() });
    for (const name of names) {
      if (!present.has(name) || this.copies.has(name)) continue;
      const key = this.keyOf(checkName(name));
      const url = s3Url(this.bucket, key);
      const path = join(dir, name);
      try {
        const out = await s3Client().send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key }),
        );
        using file = await Deno.open(path, { write: true, createNew: true });
        for await (const chunk of out.Body!.transformToWebStream()) {
          const bytes = chunk as Uint8Array;
          let at = 0;
          while (at < bytes.length) at += await file.write(bytes.subarray(at));
        }
      } catch (e) {
        throw storageError(url, e, "read", "input");
      }
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
        { as = name, replace = false }: S3PublishOptions = {},
      ): Promise<S3Folder> => {
        const target = this.child(as);
        try {
          await this.publish(dir, temp, target, replace);
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

  /** Steps 1-5 of the module's documentation. */
  private async publish(
    dir: string,
    temp: string,
    target: S3Folder,
    replace: boolean,
  ): Promise<void> {
    const files = await filesUnder(dir);
    const targetPrefix = `${target.prefix}/`;
    // What holds the name: refused without replace, unless it is no run
    // (no manifest), which a failed publish leaves and a rerun replaces.
    const existing = (await this.keysUnder(targetPrefix)).keys.map((k) =>
      k.key
    );
    const hasManifest = existing.includes(`${targetPrefix}${MANIFEST}`);
    if (hasManifest && !replace) {
      throw new UserError(
        "usage",
        `Cannot publish ${target.href}: a folder with a ${MANIFEST} is there already (pass --replace to replace it)`,
      );
    }
    const body = files.filter((f) => f !== MANIFEST);
    // 1. Upload under the hidden temporary prefix.
    const sizes = new Map<string, number>();
    for (const f of body) {
      const path = join(dir, f);
      sizes.set(f, (await Deno.stat(path)).size);
      await this.upload(path, `${temp}/${f}`);
    }
    // 2. The old folder stops being a run.
    if (hasManifest) await this.deleteKeys([`${targetPrefix}${MANIFEST}`]);
    // 3. Server-side copies; leftovers of an earlier folder removed.
    for (const f of body) {
      const key = `${targetPrefix}${f}`;
      if (sizes.get(f)! > MAX_COPY_BYTES) {
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
      existing.filter((k) =>
        !fresh.has(k) && k !== `${targetPrefix}${MANIFEST}`
      ),
    );
    // 4. The manifest, last.
    if (files.includes(MANIFEST)) {
      const key = `${targetPrefix}${MANIFEST}`;
      await this.opts.beforeStep?.("manifest", key);
      await this.upload(join(dir, MANIFEST), key);
    }
    // 5. The temporary prefix; a failure here leaves only hidden objects.
    await this.deleteUnder(`${temp}/`).catch(() => {});
  }
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
