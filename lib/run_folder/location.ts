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
 * one back.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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
    super("busy", `${staging} is being written by process ${pid}`);
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

const randomSuffix = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(6)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");

const exists = async (path: string) => {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
};

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
}

/**
 * The staging entry a name in a folder is, or undefined for any other
 * name: `.<name>.partial-<pid>-<random>` (a folder being staged, or a file
 * being written whole by {@link Location.writeText}) or
 * `.<name>.replaced-<pid>-<random>` (an earlier folder swapped out by a
 * publish; written `.<name>.replaced-<random>` before the pid was added).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stagingName } from "./location.ts";
 *
 * assert.deepEqual(stagingName(".q4.partial-4242-0a1b2c"), { name: "q4", kind: "partial", pid: 4242 });
 * assert.deepEqual(stagingName(".q4.replaced-4242-0a1b2c"), { name: "q4", kind: "replaced", pid: 4242 });
 * assert.deepEqual(stagingName(".q4.replaced-0a1b2c"), { name: "q4", kind: "replaced" });
 * assert.equal(stagingName("q4"), undefined);
 * ```
 */
export function stagingName(entry: string): StagingName | undefined {
  const m = entry.match(/^\.(.+)\.(partial|replaced)-(.*)$/);
  if (m === null) return undefined;
  const kind = m[2] as StagingName["kind"];
  const pid = Number(m[3].match(/^(\d+)-[0-9a-f]+$/)?.[1]);
  return Number.isInteger(pid) && pid > 0
    ? { name: m[1], kind, pid }
    : { name: m[1], kind };
}

/**
 * The writer of a partial folder `.<name>.partial-<pid>-<random>` if that
 * process still runs (Linux `/proc`); undefined when it is gone, so the
 * folder is stale. The pid is in the name, not in a file inside, so there
 * is no moment at which a fresh partial folder looks abandoned.
 */
export async function liveWriter(
  partial: string,
): Promise<number | undefined> {
  const pid = stagingName(partial)?.pid;
  if (pid === undefined) return undefined;
  // Another writer of this very process (a server running runs in-process).
  if (pid === Deno.pid) return pid;
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // A zombie ("Z") has exited but not been reaped: it writes no more.
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")
      ? undefined
      : pid;
  } catch {
    return undefined;
  }
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
    const partial = join(
      this.href,
      `.${name}.partial-${Deno.pid}-${randomSuffix()}`,
    );
    try {
      await Deno.writeTextFile(partial, text);
      await Deno.rename(partial, path);
    } catch (e) {
      await Deno.remove(partial).catch(() => {});
      throw e;
    }
  }

  async stage(name: string): Promise<Staging> {
    checkName(name);
    await Deno.mkdir(this.href, { recursive: true });
    const prefix = `.${name}.partial-`;
    for (const entry of await this.list()) {
      if (!entry.startsWith(prefix)) continue;
      const stale = join(this.href, entry);
      const pid = await liveWriter(entry);
      if (pid !== undefined) throw new FolderBusyError(stale, pid);
      await Deno.remove(stale, { recursive: true });
    }
    const dir = join(this.href, `${prefix}${Deno.pid}-${randomSuffix()}`);
    await Deno.mkdir(dir);
    return {
      dir,
      publish: async ({ as = name, replace = false } = {}) => {
        const target = join(this.href, checkName(as));
        if (replace && await exists(target)) {
          // Swapped out, not removed first: the old folder stays whole
          // (under a hidden name) until the new one is in place, and the
          // name is empty only between the two renames.
          // The writer's pid in the name, as for a partial folder: a sweep
          // of stale folders leaves it alone while this process runs.
          const old = join(
            this.href,
            `.${as}.replaced-${Deno.pid}-${randomSuffix()}`,
          );
          await Deno.rename(target, old);
          try {
            await Deno.rename(dir, target);
          } catch (e) {
            // The new folder did not take the name: the old one gets it
            // back, so a failed publish changes nothing under the name.
            await Deno.rename(old, target);
            throw e;
          }
          // Published. A replaced copy that cannot be removed now is a
          // stale staging entry, swept later (`removeStaleStaging`).
          await Deno.remove(old, { recursive: true }).catch(() => {});
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
 * Paths and `file:` URLs are local folders.
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
