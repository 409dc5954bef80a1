/**
 * The run folder and its life cycle. Anything under `<out>/<run_id>/` is a
 * complete run; nothing else ever carries that name:
 *
 * - a run writes into `<out>/.<run_id>.partial-<pid>-<random>/` (hidden) and
 *   renames it to `<out>/<run_id>/` as its very last step, so a run killed at
 *   any moment (even by SIGKILL) leaves at most a hidden partial folder;
 * - a run that fails after its folder was opened moves what it wrote to
 *   `<out>/<run_id>.failed/`, with `manifest.json` saying `status: "failed"`
 *   and why (a reject-rate failure keeps `rejected.parquet` and
 *   `data_quality.json` there for the data owner). It replaces an older
 *   failed folder of the same id, and leaves the final name free for the
 *   next attempt;
 * - opening a run removes stale partial folders of the same id, those whose
 *   writer process is gone, and refuses to start when a complete folder
 *   already holds the id (unless asked to replace it) or when a live process
 *   is writing the same id (the writer's pid is part of the partial name).
 *
 * A rename within one directory is atomic on POSIX file systems, which is
 * what makes the final name trustworthy.
 *
 * @module
 */
import { join } from "node:path";

/** Thrown when a run id cannot be used: taken, in use, or malformed. */
export class RunIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunIdError";
  }
}

/** Run ids are file names: letters, digits, `.`, `_`, `-`; no leading dot. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Options of {@link openRunFolder}. */
export interface OpenRunFolderOptions {
  /**
   * Replace a complete run of the same id. The old folder is swapped out
   * only once the new run is complete, so it stays readable until then.
   * @default false
   */
  replace?: boolean;
}

/** An open run: write into `dir`, then `commit()` or `fail()`. */
export interface PendingRunFolder {
  runId: string;
  /** The partial folder being written. */
  dir: string;
  /** Where the folder appears on `commit()`. */
  finalDir: string;
  /** Where the folder appears on `fail()`. */
  failedDir: string;
  /** Renames the partial folder to its final name; returns that path. */
  commit(): Promise<string>;
  /** Moves the partial folder to `<run_id>.failed`; returns that path. */
  fail(): Promise<string>;
}

/** The path of the complete run folder of `runId` under `out`. */
export function runFolderPath(out: string, runId: string): string {
  return join(out, runId);
}

/** A run id from the clock: `run-YYYYMMDDTHHMMSSmmmZ`, sortable by time. */
export function defaultRunId(now = new Date()): string {
  return `run-${now.toISOString().replace(/[-:.]/g, "")}`;
}

const exists = async (path: string) => {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
};

const randomSuffix = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(6)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");

/**
 * The writer of a partial folder `.<run_id>.partial-<pid>-<random>` if that
 * process still runs (Linux `/proc`); undefined when it is gone, so the
 * folder is stale. The pid is in the name, not in a file inside, so there
 * is no moment at which a fresh partial folder looks abandoned.
 */
async function liveWriter(name: string): Promise<number | undefined> {
  const pid = Number(name.match(/\.partial-(\d+)-[0-9a-f]+$/)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  // Another run of this very process (a server running runs in-process).
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

/**
 * Opens a run folder for `runId` under `out` (created if missing): checks
 * the id, removes stale partial folders of the same id and creates a fresh
 * hidden partial folder.
 *
 * @throws {RunIdError} when the id is malformed, a complete run of that
 *   id exists (and `replace` is off) or another live process writes it.
 * @example
 * ```ts
 * const out = await Deno.makeTempDir();
 * const folder = await openRunFolder(out, "2025-12-31");
 * await Deno.writeTextFile(`${folder.dir}/summary.json`, "{}");
 * await folder.commit(); // `${out}/2025-12-31`
 * ```
 */
export async function openRunFolder(
  out: string,
  runId: string,
  opts: OpenRunFolderOptions = {},
): Promise<PendingRunFolder> {
  if (!RUN_ID.test(runId)) {
    throw new RunIdError(
      `Cannot use run id ${
        JSON.stringify(runId)
      }: use letters, digits, '.', '_' and '-', not starting with '.'`,
    );
  }
  if (runId.endsWith(".failed")) {
    throw new RunIdError(
      `Cannot use run id ${runId}: the suffix .failed marks failed runs`,
    );
  }
  const finalDir = runFolderPath(out, runId);
  const failedDir = join(out, `${runId}.failed`);
  await Deno.mkdir(out, { recursive: true });
  if (!opts.replace && await exists(finalDir)) {
    throw new RunIdError(
      `Run folder ${finalDir} already exists: choose another --run-id, or remove that folder to recompute it`,
    );
  }
  const prefix = `.${runId}.partial-`;
  for await (const entry of Deno.readDir(out)) {
    if (!entry.name.startsWith(prefix)) continue;
    const stale = join(out, entry.name);
    const pid = await liveWriter(entry.name);
    if (pid !== undefined) {
      throw new RunIdError(
        `Run ${runId} is already being written to ${stale} by process ${pid}`,
      );
    }
    await Deno.remove(stale, { recursive: true });
  }
  const dir = join(out, `${prefix}${Deno.pid}-${randomSuffix()}`);
  await Deno.mkdir(dir);

  return {
    runId,
    dir,
    finalDir,
    failedDir,
    async commit() {
      if (opts.replace && await exists(finalDir)) {
        const old = join(out, `.${runId}.replaced-${randomSuffix()}`);
        await Deno.rename(finalDir, old);
        await Deno.rename(dir, finalDir);
        await Deno.remove(old, { recursive: true });
      } else {
        // Renaming onto a non-empty directory fails (ENOTEMPTY), so a run
        // that raced this one to the same id is never overwritten.
        try {
          await Deno.rename(dir, finalDir);
        } catch (e) {
          throw new RunIdError(
            `Cannot publish run ${runId} as ${finalDir}: ${
              (e as Error).message
            }; its outputs stay in ${dir}`,
          );
        }
      }
      return finalDir;
    },
    async fail() {
      if (await exists(failedDir)) {
        await Deno.remove(failedDir, { recursive: true });
      }
      await Deno.rename(dir, failedDir);
      return failedDir;
    },
  };
}
