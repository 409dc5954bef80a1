/**
 * Where run folders live. A {@link Location} is a folder: a local directory
 * here, an object-storage prefix (`s3://bucket/prefix`) for an
 * implementation that speaks S3. Readers and writers of run folders only
 * use this interface, so the place does not matter to them.
 *
 * Writing is done in a {@link Staging} folder on this machine (tools such as
 * Polars write files by path) and published in one step: a reader sees the
 * whole folder under its name, or nothing. On a local file system the
 * staging folder is a hidden sibling, `.<name>.partial-<pid>-<random>`,
 * and publishing is a rename, which is atomic within one directory on
 * POSIX file systems; a writer killed at any moment (even by SIGKILL)
 * leaves at most a hidden partial folder, removed by the next writer of the
 * same name once its process is gone, and by the next run in the same
 * folder (any name) once it is also a day old (`stale.ts`). A publish with
 * `replace` that cannot rename the new folder onto the name puts the old
 * one back. Writers of one name racing each other (concurrent movements
 * into one `--out`) each end published or busy (`FolderBusyError`, kind
 * `busy`, exit 4): a staging folder that vanishes while being swept was
 * another writer's to remove or publish, and a publish that loses the
 * name between its renames tries again ({@link PUBLISH_ROUNDS}).
 *
 * @module
 */
import { failureKind, UserError } from "../errors.ts";
import { basename, dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { s3Folder } from "../storage/mod.ts";

/** A folder that files are read from and published to. */
export interface Location {
  /** The folder's path or URL, as messages name it. */
  readonly href: string;
  /** The location of an entry (a file or a folder) inside this one. */
  child(name: string): Location;
  /** Names of the entries directly inside, sorted; none when absent. */
  list(): Promise<string[]>;
  /**
   * Reads a file as UTF-8 text.
   * @throws {Deno.errors.NotFound} when the file does not exist.
   */
  readText(name: string): Promise<string>;
  /** The path or URL of a file, for Polars' lazy scans. */
  scanSource(name: string): string;
  /**
   * Makes the files `names` (those present) readable through
   * {@link scanSource}: a folder in object storage copies them to this
   * machine first (`lib/storage`); a local folder needs nothing.
   */
  prepareScan?(names: readonly string[]): Promise<void>;
  /**
   * Writes a file whole or not at all: a reader sees the old file or the
   * new one, never a part (the folder is created when missing).
   */
  writeText(name: string, text: string): Promise<void>;
  /**
   * Opens a staging folder whose contents {@link Staging.publish} makes
   * appear as the entry `name` of this location.
   * @throws {FolderBusyError} when a live process is writing `name`.
   */
  stage(name: string): Promise<Staging>;
}

/** Options of {@link Staging.publish}. */
export interface PublishOptions {
  /** The name to publish under. @default the name given to `stage` */
  as?: string;
  /**
   * Replace what holds the name already; the old entry stays readable
   * until the new one takes its place. Without it, publishing onto a
   * non-empty folder fails. @default false
   */
  replace?: boolean;
  /**
   * The names a folder of this kind holds (object storage only: other
   * keys under the name refuse the publish and are never deleted; see
   * `lib/storage/s3_folder.ts`). @default the names being published
   */
  names?: readonly string[];
}

/** A folder being written, not yet visible under its name. */
export interface Staging {
  /** The folder on this machine to write into. */
  readonly dir: string;
  /** Makes the folder appear under its name at once; returns it. */
  publish(opts?: PublishOptions): Promise<Location>;
  /** Removes the staging folder and what was written into it. */
  discard(): Promise<void>;
}

/** Thrown by {@link Location.stage} when another live writer has the name. */
export class FolderBusyError extends UserError {
  /** The other writer's staging folder. */
  readonly staging: string;
  /** The other writer's process id. */
  readonly pid: number;

  /**
   * Names the other writer's folder and process.
   *
   * @param staging The other writer's staging folder.
   * @param pid The other writer's process id.
   */
  constructor(staging: string, pid: number) {
    const host = stagingName(basename(staging))?.host;
    super(
      "busy",
      host === undefined || host === HOST_ID
        ? `${staging} is being written by process ${pid}: another process writes the same output; retry once it is done`
        : `${staging} is being written by process ${pid} on another machine (${host}): another process writes the same output; retry once it is done (a folder of another machine untouched for ${FOREIGN_STAGING_STALE_MINUTES} minutes, FOREIGN_STAGING_STALE_MINUTES, is taken as a killed writer's)`,
    );
    this.name = "FolderBusyError";
    this.staging = staging;
    this.pid = pid;
  }
}

/** An entry name: one path segment, so nothing escapes the folder. */
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

/**
 * The random part of a staging name: 6 random bytes as 12 lower-case hex
 * digits, so two writers of one name in one process never collide.
 */
export function randomSuffix(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(6)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The machine a staging name was written on: `h` and 8 hex digits of the
 * SHA-256 of `IFRS9_HOST_ID` when set, else of the host name (in a
 * container, its pod or container name; in a Kubernetes Indexed Job,
 * `<job>-<index>`, the same for every retry of an index), so that a
 * process id in a staging name is only compared with the processes of the
 * machine that wrote it.
 */
export const HOST_ID: string = (() => {
  let host = "";
  try {
    host = Deno.env.get("IFRS9_HOST_ID") || Deno.hostname();
  } catch {
    // No permission to read it: every name then carries the same id.
  }
  return `h${createHash("sha256").update(host).digest("hex").slice(0, 8)}`;
})();

/**
 * Minutes after its last change at which a staging folder written on
 * another machine ({@link HOST_ID}) is taken as stale by a writer of the
 * same name: that machine's processes cannot be seen from here, so a
 * folder untouched for {@link FOREIGN_STAGING_STALE_MINUTES} minutes is
 * taken to be a killed writer's (docs/scale_out.md, "Retries"). A part is
 * a pure function of its inputs, so removing a slow writer's folder at
 * worst fails that writer; it never mixes two writers' files.
 */
export const FOREIGN_STAGING_STALE_MINUTES = 30;

/** The staging names this process created (each writer's own folder). */
const ownStaging = new Set<string>();

/**
 * The hidden name a writer of `name` in this process stages it under:
 * `.<name>.partial-<pid>-<host id>-<12 hex digits>` (a folder being
 * staged, or a file being written whole; {@link HOST_ID}).
 */
export function partialName(name: string): string {
  const staged = `.${name}.partial-${Deno.pid}-${HOST_ID}-${randomSuffix()}`;
  ownStaging.add(staged);
  return staged;
}

/**
 * The hidden name an earlier folder `name` is swapped out to by a publish
 * with `replace`: `.<name>.replaced-<pid>-<12 hex digits>`.
 */
function replacedName(name: string): string {
  return `.${name}.replaced-${Deno.pid}-${randomSuffix()}`;
}

/**
 * Writes the file `path` whole or not at all: `write` fills a hidden
 * temporary file beside it ({@link partialName}, a name the sweep of stale
 * entries knows), renamed to `path` last. On failure the temporary file is
 * removed, so a full disk leaves the earlier file, or nothing, under the
 * name; when it cannot be removed either, the error says so, naming it.
 * The temporary file is flushed to the disk before the rename.
 */
export async function writeWhole(
  path: string,
  write: (temp: string) => Promise<void>,
): Promise<void> {
  const temp = join(dirname(path), partialName(basename(path)));
  try {
    await write(temp);
    // The bytes reach the disk before the name does: after a crash or a
    // power cut the name holds the earlier file or the whole new one,
    // never an empty one (a rename can be journalled before the data).
    const file = await Deno.open(temp, { read: true });
    try {
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (e) {
    try {
      await Deno.remove(temp);
    } catch (r) {
      // NotFound: never created, or already renamed; nothing to take back.
      if (!(r instanceof Deno.errors.NotFound)) {
        throw new UserError(
          failureKind(e),
          `${
            (e as Error).message
          }; the temporary file ${temp} could not be removed either: ${
            (r as Error).message
          }`,
          { cause: e },
        );
      }
    }
    throw e;
  }
}

/**
 * Whether anything (a file, a folder, a link, even a broken one) holds
 * `path`; errors other than "not found" (no permission) are thrown, not
 * taken for absence.
 */
export async function entryExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** What the name of a hidden staging entry says. */
export interface StagingName {
  /** The name the entry was being written for (a run id, `movement`, …). */
  name: string;
  /**
   * `partial`: written by a writer (a run, an output folder, a file
   * written whole); `replaced`: an earlier folder swapped out by a publish
   * with `replace`, removed right after the swap.
   */
  kind: "partial" | "replaced";
  /** The writer's process id, when the name carries one. */
  pid?: number;
  /** The writer's machine ({@link HOST_ID}), when the name carries one. */
  host?: string;
}

/**
 * The names this code gives staging entries, and only those:
 * `.<name>.partial-<pid>-<12 hex>` ({@link partialName}) and
 * `.<name>.replaced-<pid>-<12 hex>`, or `.<name>.replaced-<12 hex>` as
 * versions before the pid was added wrote it. A hidden entry of any other
 * form (`.mydata.partial-backup`) is someone else's and never touched.
 */
const STAGING_NAME =
  /^\.(.+)\.(?:partial-([1-9]\d*)-(h[0-9a-f]{8}-)?|replaced-(?:([1-9]\d*)-)?)[0-9a-f]{12}$/;

/**
 * The staging entry a name in a folder is, or undefined for any other
 * name. Only the names this code writes are staging entries:
 * `.<name>.partial-<pid>-<12 hex>` (a folder being staged, or a file being
 * written whole) and `.<name>.replaced-<pid>-<12 hex>` (an earlier folder
 * swapped out by a publish; written `.<name>.replaced-<12 hex>`, without
 * the pid, by earlier versions).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stagingName } from "./location.ts";
 *
 * assert.deepEqual(stagingName(".q4.partial-4242-0a1b2c3d4e5f"), { name: "q4", kind: "partial", pid: 4242 });
 * assert.deepEqual(stagingName(".q4.partial-4242-h0011aabb-0a1b2c3d4e5f"), { name: "q4", kind: "partial", pid: 4242, host: "h0011aabb" });
 * assert.deepEqual(stagingName(".q4.replaced-4242-0a1b2c3d4e5f"), { name: "q4", kind: "replaced", pid: 4242 });
 * assert.deepEqual(stagingName(".q4.replaced-0a1b2c3d4e5f"), { name: "q4", kind: "replaced" });
 * assert.equal(stagingName(".mydata.partial-backup"), undefined);
 * assert.equal(stagingName("q4"), undefined);
 * ```
 */
export function stagingName(entry: string): StagingName | undefined {
  const m = entry.match(STAGING_NAME);
  if (m === null) return undefined;
  const [, name, partialPid, host, replacedPid] = m;
  if (partialPid !== undefined) {
    return host === undefined
      ? { name, kind: "partial", pid: Number(partialPid) }
      : {
        name,
        kind: "partial",
        pid: Number(partialPid),
        host: host.slice(0, -1),
      };
  }
  return replacedPid === undefined
    ? { name, kind: "replaced" }
    : { name, kind: "replaced", pid: Number(replacedPid) };
}

/**
 * The writer of a staging entry `.<name>.partial-<pid>-<host>-<random>`
 * (or a replaced copy carrying a pid) if that
 * process still runs (Linux `/proc`); undefined when it is gone, so the
 * folder is stale. The pid is in the name, not in a file inside, so there
 * is no moment at which a fresh partial folder looks abandoned.
 *
 * A name of another machine ({@link HOST_ID}) cannot be checked: its
 * writer is taken to run until the entry is
 * {@link FOREIGN_STAGING_STALE_MINUTES} minutes old (`modified`; without
 * it, always). A name of this machine with this process's id that this
 * process did not create is a previous process's of the same id (a
 * container restarted: the same host name, the same pid), so it is gone.
 *
 * @param modified When the entry last changed.
 */
export async function liveWriter(
  partial: string,
  modified?: Date,
): Promise<number | undefined> {
  const staging = stagingName(partial);
  const pid = staging?.pid;
  if (pid === undefined) return undefined;
  if (staging?.host !== undefined && staging.host !== HOST_ID) {
    const minutes = modified === undefined
      ? 0
      : (Date.now() - modified.getTime()) / 60_000;
    return minutes < FOREIGN_STAGING_STALE_MINUTES ? pid : undefined;
  }
  // Another writer of this very process (a server running runs
  // in-process); with this host's id but not this process's own, an
  // earlier process that had the same id.
  if (pid === Deno.pid) {
    return staging?.host === undefined || ownStaging.has(partial)
      ? pid
      : undefined;
  }
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // A zombie ("Z") has exited but not been reaped: it writes no more.
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")
      ? undefined
      : pid;
  } catch (e) {
    // No such process: gone. A process whose state cannot be read (another
    // user's, /proc mounted with hidepid) is taken to run: the safe side.
    return e instanceof Deno.errors.NotFound ? undefined : pid;
  }
}

/**
 * Rounds of {@link publishReplacing} before it gives up: each round is
 * lost only to another writer publishing the same name in between its two
 * renames (microseconds), so five rounds lost in a row means that the name
 * is under constant contention; the writer then reports it busy.
 */
export const PUBLISH_ROUNDS = 5;

/**
 * Whether `e` says that the name is taken: a non-empty folder (ENOTEMPTY,
 * Linux error 39) or an entry that cannot be replaced (EEXIST).
 */
function nameTaken(e: unknown): boolean {
  return e instanceof Deno.errors.AlreadyExists ||
    /Directory not empty|os error 39/.test((e as Error)?.message ?? "");
}

/**
 * Publishes the staged folder `dir` as `target`, replacing the folder
 * there. An earlier folder is swapped out to `old` (a hidden
 * `.<name>.replaced-<pid>-<random>` name) rather than removed first, so it
 * stays whole until the new one is in place and the name is empty only
 * between the two renames; it is removed once the new folder holds the
 * name. If the new folder cannot take the name, the old one gets it back,
 * so a failed publish changes nothing under the name.
 *
 * Writers of the same name in other processes may publish at the same
 * moment: the name may be emptied, or taken again, between this writer's
 * renames. Each such round is retried, last writer winning, as a publish
 * with replace asks (every writer has checked before computing that what it
 * replaces may be replaced); after {@link PUBLISH_ROUNDS} rounds lost in a
 * row the name is reported busy (kind `busy`, exit 4). What the old folder
 * was swapped out for by another writer's output is superseded and removed.
 */
async function publishReplacing(
  dir: string,
  target: string,
  old: string,
): Promise<void> {
  for (let round = 1;; round++) {
    // Nothing under the name (or an empty folder): one rename.
    try {
      await Deno.rename(dir, target);
      return;
    } catch (e) {
      if (!nameTaken(e)) throw e;
    }
    try {
      await Deno.rename(target, old);
    } catch (e) {
      // Swapped out by another writer meanwhile: try again.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      if (round < PUBLISH_ROUNDS) continue;
      throw publishBusy(target, e);
    }
    try {
      await Deno.rename(dir, target);
    } catch (e) {
      try {
        await Deno.rename(old, target);
      } catch (back) {
        // Another writer's output took the name meanwhile: the old folder
        // is superseded by it. Anything else: the old folder stays under
        // its hidden name (swept once this process is gone), and both
        // errors are said.
        if (!nameTaken(back)) {
          throw new UserError(
            failureKind(e),
            `${
              (e as Error).message
            }; the earlier ${target} could not be put back either and is kept as ${old}: ${
              (back as Error).message
            }`,
            { cause: e },
          );
        }
        await Deno.remove(old, { recursive: true }).catch(() => {});
      }
      if (!nameTaken(e)) throw e;
      if (round < PUBLISH_ROUNDS) continue;
      throw publishBusy(target, e);
    }
    // Published. A replaced copy that cannot be removed now is a stale
    // staging entry, swept later (`removeStaleStaging`).
    await Deno.remove(old, { recursive: true }).catch(() => {});
    return;
  }
}

/** The error of a publish that lost every round to other writers. */
function publishBusy(target: string, cause: unknown): UserError {
  return new UserError(
    "busy",
    `${target} was published by other processes ${PUBLISH_ROUNDS} times while this one tried to; retry once they are done`,
    { cause },
  );
}

/** A directory on this machine. */
class LocalFolder implements Location {
  readonly href: string;

  constructor(path: string) {
    this.href = path.length > 1 ? path.replace(/\/+$/, "") : path;
  }

  child(name: string): Location {
    return new LocalFolder(join(this.href, checkName(name)));
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.href)) names.push(entry.name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    return names.sort();
  }

  readText(name: string): Promise<string> {
    return Deno.readTextFile(join(this.href, checkName(name)));
  }

  scanSource(name: string): string {
    return join(this.href, checkName(name));
  }

  async writeText(name: string, text: string): Promise<void> {
    const path = join(this.href, checkName(name));
    await Deno.mkdir(this.href, { recursive: true });
    await writeWhole(path, (temp) => Deno.writeTextFile(temp, text));
  }

  async stage(name: string): Promise<Staging> {
    checkName(name);
    await Deno.mkdir(this.href, { recursive: true });
    // Earlier writers' folders of this name (only names this code gives,
    // so someone's `.<name>.partial-backup` stays): a live writer's makes
    // the name busy, a gone writer's is removed whatever its age.
    for (const entry of await this.list()) {
      const staging = stagingName(entry);
      if (staging?.kind !== "partial" || staging.name !== name) continue;
      const stale = join(this.href, entry);
      const modified = await Deno.lstat(stale).then((i) => i.mtime ?? undefined)
        .catch(() => undefined);
      const pid = await liveWriter(entry, modified);
      if (pid !== undefined) throw new FolderBusyError(stale, pid);
      try {
        await Deno.remove(stale, { recursive: true });
      } catch (e) {
        // Gone meanwhile: another writer of the name removed it first, or
        // its own writer published it just before exiting. Either way,
        // nothing is left to remove.
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    const dir = join(this.href, partialName(name));
    await Deno.mkdir(dir);
    return {
      dir,
      publish: async ({ as = name, replace = false } = {}) => {
        const target = join(this.href, checkName(as));
        if (replace) {
          await publishReplacing(dir, target, replacedName(as));
        } else {
          // Renaming onto a non-empty directory fails (ENOTEMPTY), so a
          // writer that raced this one to the name is never overwritten.
          await Deno.rename(dir, target);
        }
        return this.child(as);
      },
      discard: async () => {
        try {
          await Deno.remove(dir, { recursive: true });
        } catch (e) {
          // Published or discarded already: nothing left to discard.
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      },
    };
  }
}

/**
 * The local directory at `path` (relative to the working directory, like
 * any path a user gives).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localFolder } from "./location.ts";
 * const tmp = await Deno.makeTempDir();
 *
 * const runs = localFolder(tmp);
 * const staging = await runs.stage("q4");
 * await Deno.writeTextFile(`${staging.dir}/summary.json`, "{}");
 * assert.deepEqual(await runs.list(), [staging.dir.split("/").pop()]);
 * const q4 = await staging.publish();
 * assert.deepEqual(await runs.list(), ["q4"]);
 * assert.equal(await q4.readText("summary.json"), "{}");
 * await Deno.remove(tmp, { recursive: true });
 * ```
 */
export function localFolder(path: string): Location {
  return new LocalFolder(path);
}

/**
 * The location a path or URL names; a location is returned as it is.
 * Paths and `file:` URLs are local folders; `s3://bucket/prefix` is a
 * folder in S3 (`lib/storage/s3_folder.ts`).
 *
 * @throws {TypeError} for a URL of a storage this library cannot reach.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { locate } from "./location.ts";
 *
 * assert.equal(locate("data/runs/").href, "data/runs");
 * assert.equal(locate("file:///tmp/runs").href, "/tmp/runs");
 * assert.throws(() => locate("ftp://host/runs"), TypeError);
 * ```
 */
export function locate(where: string | Location): Location {
  if (typeof where !== "string") return where;
  const scheme = where.match(/^([a-z][a-z0-9+.-]*):\/\//i)?.[1].toLowerCase();
  if (scheme === undefined) return localFolder(where);
  if (scheme === "file") return localFolder(fileURLToPath(where));
  if (scheme === "s3") return s3Folder(where);
  throw new TypeError(
    `Cannot open ${where}: no storage for ${scheme}:// URLs is available; give a local path`,
  );
}

/**
 * The folder holding `where` and the name of `where` in it, so that an
 * output can be staged beside the place it is published to.
 */
export function parentAndName(
  where: string,
): { parent: Location; name: string } {
  const href = locate(where).href;
  return { parent: locate(dirname(href)), name: basename(href) };
}
