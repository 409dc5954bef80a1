/**
 * Stale staging entries: the hidden `.<name>.partial-<pid>-<random>`
 * folders (and files) of writers that were killed (runs, output folders,
 * files written whole, the generator's `.generate.partial-…`), and the
 * `.<name>.replaced-<pid>-<random>` copies a publish could not remove
 * (`<random>`: 12 hex digits). A killed
 * run of a million loans leaves about 139 MB behind; the next writer of
 * the same name removes it, but nothing else did.
 *
 * The rule, applied at the start of every run to the run's output folder
 * (`openRunFolder`) and on request by `deno task clean`: an entry is stale
 * when
 *
 * - its name is one this code gives staging entries ({@link stagingName}:
 *   `.<name>.partial-<pid>-<12 hex>`, `.<name>.replaced-<pid>-<12 hex>`),
 *   of any name or run id; a hidden entry of another form
 *   (`.mydata.partial-backup`, `.cache.replaced-old`) is someone else's;
 * - the process whose id its name carries is not running (Linux `/proc`).
 *   A name without a pid (`.<name>.replaced-<12 hex>`, written by versions
 *   before the pid was added) is never stale: whether its writer is gone
 *   cannot be told, so it is listed as kept, to be removed by hand; and
 * - it was last modified more than {@link STALE_AFTER_HOURS} hours ago (a
 *   run writes its files into it as it goes, so a live run's folder is
 *   fresh).
 *
 * The age is the second guard: a process id can be reused, and on a
 * shared or non-Linux file system the writer may run on another machine.
 * Nothing else in the folder is touched.
 *
 * @module
 */
import { join } from "node:path";
import { liveWriter, stagingName } from "./location.ts";

/**
 * Hours after which a staging entry whose writer is gone is removed at the
 * start of a run (and the default of `deno task clean --older-than`): a
 * day, longer than any run takes (10 million loans run in under a
 * minute), so a run in progress elsewhere is never touched, while a
 * killed run's space comes back the next day.
 */
export const STALE_AFTER_HOURS = 24;

/** A staging entry, with what decides whether it is stale. */
export interface StagingEntry {
  /** Its path. */
  path: string;
  /** Whether it is a folder (a staged folder) or a file (a file written whole). */
  folder: boolean;
  /** Bytes it holds (files counted once, links not followed). */
  bytes: number;
  /** When it was last modified. */
  modified: Date;
  /** The process id its name carries, when it carries one. */
  pid?: number;
}

/** What {@link removeStaleStaging} found. */
export interface StaleSweep {
  /** Entries removed (or, with `dryRun`, that would be). */
  removed: StagingEntry[];
  /** Entries kept, each with why. */
  kept: (StagingEntry & { reason: string })[];
  /** Stale entries that could not be removed, each with the error. */
  failed: (StagingEntry & { error: string })[];
}

/** Options of {@link removeStaleStaging}. */
export interface StaleOptions {
  /**
   * Remove only entries last modified more than this many hours ago
   * (0: whatever their age, as long as their writer is gone).
   * @default STALE_AFTER_HOURS
   */
  olderThanHours?: number;
  /** List what would be removed, remove nothing. @default false */
  dryRun?: boolean;
  /** The time ages are measured at. @default now */
  now?: Date;
}

/** Bytes under `path` (a file or a folder), links not followed. */
async function sizeOf(path: string): Promise<number> {
  const info = await Deno.lstat(path);
  if (!info.isDirectory) return info.size;
  let bytes = 0;
  for await (const entry of Deno.readDir(path)) {
    bytes += await sizeOf(join(path, entry.name));
  }
  return bytes;
}

/**
 * Removes the stale staging entries directly inside the local folder `dir`
 * (see the module doc for the rule) and says what it removed, what it
 * kept and why, and what it could not remove. A missing folder has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeStaleStaging } from "./stale.ts";
 *
 * const out = await Deno.makeTempDir();
 * // A killed run's folder (no process 999999999 runs), two days old.
 * const partial = `${out}/.q4.partial-999999999-0a1b2c3d4e5f`;
 * await Deno.mkdir(partial);
 * await Deno.writeTextFile(`${partial}/loan_results.parquet`, "x".repeat(1000));
 * const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
 * await Deno.utime(partial, twoDaysAgo, twoDaysAgo);
 * const sweep = await removeStaleStaging(out);
 * assert.deepEqual(sweep.removed.map((e) => [e.path, e.bytes]), [[partial, 1000]]);
 * assert.deepEqual([...Deno.readDirSync(out)], []);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function removeStaleStaging(
  dir: string,
  opts: StaleOptions = {},
): Promise<StaleSweep> {
  const olderThan = opts.olderThanHours ?? STALE_AFTER_HOURS;
  const now = (opts.now ?? new Date()).getTime();
  const sweep: StaleSweep = { removed: [], kept: [], failed: [] };
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return sweep;
    throw e;
  }
  for (const name of names.sort()) {
    const staging = stagingName(name);
    if (staging === undefined) continue;
    const path = join(dir, name);
    let entry: StagingEntry;
    try {
      const info = await Deno.lstat(path);
      entry = {
        path,
        folder: info.isDirectory,
        bytes: await sizeOf(path),
        modified: info.mtime ?? new Date(now),
        ...(staging.pid === undefined ? {} : { pid: staging.pid }),
      };
    } catch (e) {
      // Removed meanwhile by its own writer (published or discarded).
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    const hours = (now - entry.modified.getTime()) / 3_600_000;
    const live = await liveWriter(name, entry.modified);
    if (staging.pid === undefined) {
      sweep.kept.push({
        ...entry,
        reason:
          "its name carries no writer process id (a copy an earlier version set aside), so whether it is still in use cannot be told; remove it by hand once no run publishes into this folder",
      });
    } else if (live !== undefined) {
      sweep.kept.push({ ...entry, reason: `process ${live} is writing it` });
    } else if (hours < olderThan) {
      sweep.kept.push({
        ...entry,
        reason: `modified ${
          hours.toFixed(1)
        } hours ago, less than ${olderThan}`,
      });
    } else if (opts.dryRun) {
      sweep.removed.push(entry);
    } else {
      try {
        await Deno.remove(path, { recursive: true });
        sweep.removed.push(entry);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        sweep.failed.push({ ...entry, error: (e as Error).message });
      }
    }
  }
  return sweep;
}

/**
 * A size for people: `139.2 MB`, `512 B` (decimal units, as `df -H`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./stale.ts";
 *
 * assert.equal(formatBytes(139_200_000), "139.2 MB");
 * assert.equal(formatBytes(512), "512 B");
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = bytes;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/**
 * The warning a run gives for a stale entry it removed (or could not).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { staleWarning } from "./stale.ts";
 *
 * assert.equal(
 *   staleWarning({ path: "runs/.q3.partial-7-0a1b2c3d4e5f", folder: true, bytes: 2_500_000,
 *     modified: new Date("2026-01-01T00:00:00Z"), pid: 7 }),
 *   "Removed stale staging folder runs/.q3.partial-7-0a1b2c3d4e5f (2.5 MB, last modified 2026-01-01T00:00:00.000Z, its writer process 7 is gone)",
 * );
 * ```
 */
export function staleWarning(
  entry: StagingEntry & { error?: string },
): string {
  const what = `stale staging ${
    entry.folder ? "folder" : "file"
  } ${entry.path} (${
    formatBytes(entry.bytes)
  }, last modified ${entry.modified.toISOString()}${
    entry.pid === undefined ? "" : `, its writer process ${entry.pid} is gone`
  })`;
  return entry.error === undefined
    ? `Removed ${what}`
    : `Could not remove ${what}: ${entry.error}; remove it by hand or with deno task clean`;
}
