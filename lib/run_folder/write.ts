/**
 * Writing a run folder, and the folders derived from runs, whole or not at
 * all. Anything under `<out>/<run_id>/` is a complete run; nothing else
 * ever carries that name:
 *
 * - a run writes into a staging folder ({@link Location.stage}; locally the
 *   hidden `<out>/.<run_id>.partial-<pid>-<random>/`) that is published as
 *   `<out>/<run_id>/` as its very last step;
 * - a run that fails after its folder was opened publishes what it wrote
 *   as `<out>/<run_id>.failed/`, with `manifest.json` saying
 *   `status: "failed"` and why (a reject-rate failure keeps
 *   `rejected.parquet` and `data_quality.json` there for the data owner).
 *   It replaces an older failed folder of the same id, and leaves the
 *   final name free for the next attempt;
 * - opening a run refuses to start when a complete folder already holds
 *   the id (unless asked to replace it, which happens only once the new run
 *   is complete) or when a live process is writing the same id.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { basename, extname } from "node:path";
import type { DataQualityReport } from "../validation/mod.ts";
import { FAILED_SUFFIX, RUN_FILES, type RunFile } from "./layout.ts";
import {
  FolderBusyError,
  localFolder,
  locate,
  type Location,
  parentAndName,
} from "./location.ts";
import type { Manifest } from "./manifest.ts";
import { readRunFolder, type RunFolder } from "./read.ts";
import type { Summary } from "./summary.ts";
import type { DataFrame } from "../frame.ts";

/** Thrown when a run id cannot be used: taken, in use, or malformed. */
export class RunIdError extends UserError {
  /**
   * A refused run id.
   *
   * @param message What is wrong with the id, and what to do.
   * @param kind `busy` when a live process writes the id, else `usage`.
   */
  constructor(message: string, kind: "usage" | "busy" = "usage") {
    super(kind, message);
    this.name = "RunIdError";
  }
}

/** Run ids are file names: letters, digits, `.`, `_`, `-`; no leading dot. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A run id from the clock: `run-YYYYMMDDTHHMMSSmmmZ`, sortable by time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultRunId } from "./write.ts";
 *
 * assert.equal(
 *   defaultRunId(new Date("2026-01-02T03:04:05.678Z")),
 *   "run-20260102T030405678Z",
 * );
 * ```
 */
export function defaultRunId(now: Date = new Date()): string {
  return `run-${now.toISOString().replace(/[-:.]/g, "")}`;
}

/**
 * The run id of a portfolio at a reporting date: `<file stem>-<date>`, or
 * the stem alone when it already names the date
 * (`portfolio_2025-12-31.parquet` gives `portfolio_2025-12-31`), so rerunning
 * a file finds its earlier run under the same name. Characters a run id
 * cannot hold become `_`; without a date it is {@link defaultRunId}'s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runIdFor } from "./write.ts";
 *
 * assert.equal(runIdFor("data/book q4.csv", "2025-12-31"), "book_q4-2025-12-31");
 * assert.equal(
 *   runIdFor("data/sample/portfolio_2025-12-31.parquet", "2025-12-31"),
 *   "portfolio_2025-12-31",
 * );
 * assert.match(runIdFor("book.csv", null), /^run-\d{8}T/);
 * ```
 */
export function runIdFor(
  portfolio: string,
  reportingDate: string | null,
  now: Date = new Date(),
): string {
  if (reportingDate === null) return defaultRunId(now);
  const stem = basename(portfolio, extname(portfolio))
    .replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[._-]+/, "");
  if (stem === "") return reportingDate;
  return stem.includes(reportingDate) ? stem : `${stem}-${reportingDate}`;
}

/** Options of {@link openRunFolder}. */
export interface OpenRunFolderOptions {
  /**
   * Replace a complete run of the same id. The old folder is swapped out
   * only once the new run is complete, so it stays readable until then.
   * @default false
   */
  replace?: boolean;
}

/** The JSON files of a run folder, by their key in `RUN_FILES`, and what each holds. */
export interface RunJson {
  /** `summary.json`. */
  summary: Summary;
  /** `manifest.json`. */
  manifest: Manifest;
  /** `data_quality.json`. */
  dataQuality: DataQualityReport;
}

/** An open run: write its files, then `commit()` or `fail()`. */
export interface PendingRunFolder {
  /** The run's id, the name it is published under. */
  runId: string;
  /**
   * The staging folder on this machine: for scratch files of the writer
   * and for tools that write by path.
   */
  dir: string;
  /** Where the folder appears on `commit()`. */
  finalDir: string;
  /** Where the folder appears on `fail()`. */
  failedDir: string;
  /** The path of a file of the run in the staging folder. */
  path(file: RunFile): string;
  /** Writes a JSON file of the run (2-space indented). */
  writeJson<K extends keyof RunJson>(file: K, value: RunJson[K]): Promise<void>;
  /** Writes a text file of the run. */
  writeText(file: RunFile, text: string): Promise<void>;
  /** Writes a Parquet file of the run. */
  writeParquet(file: RunFile, frame: DataFrame): void;
  /** Reads what has been written so far, with the reader's checks. */
  read(): Promise<RunFolder>;
  /** Publishes the run under its final name; returns that path or URL. */
  commit(): Promise<string>;
  /** Publishes the run as `<run_id>.failed`; returns that path or URL. */
  fail(): Promise<string>;
}

/**
 * Opens a run folder for `runId` under `out` (created if missing): checks
 * the id, removes stale staging folders of the same id and stages a fresh
 * one.
 *
 * @throws {RunIdError} when the id is malformed, a complete run of that
 *   id exists (and `replace` is off) or another live process writes it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRunFolder } from "./write.ts";
 *
 * const out = await Deno.makeTempDir();
 * const folder = await openRunFolder(out, "2025-12-31");
 * await folder.writeText("report", "<!doctype html>");
 * assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name.startsWith(".")), [true]);
 * assert.equal(await folder.commit(), `${out}/2025-12-31`);
 * assert.equal(await Deno.readTextFile(`${out}/2025-12-31/report.html`), "<!doctype html>");
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function openRunFolder(
  out: string | Location,
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
  if (runId.endsWith(FAILED_SUFFIX)) {
    throw new RunIdError(
      `Cannot use run id ${runId}: the suffix ${FAILED_SUFFIX} marks failed runs`,
    );
  }
  const runs = locate(out);
  const failedId = `${runId}${FAILED_SUFFIX}`;
  const finalDir = runs.child(runId).href;
  if (!opts.replace && (await runs.list()).includes(runId)) {
    throw new RunIdError(
      `Run folder ${finalDir} already exists: pass --replace (option replace: true) to recompute it, replacing the old folder once the new run is complete, or choose another --run-id`,
    );
  }
  let staging;
  try {
    staging = await runs.stage(runId);
  } catch (e) {
    if (!(e instanceof FolderBusyError)) throw e;
    throw new RunIdError(
      `Run ${runId} is already being written to ${e.staging} by process ${e.pid}`,
      "busy",
    );
  }
  const dir = staging.dir;
  const path = (file: RunFile) => `${dir}/${RUN_FILES[file]}`;
  return {
    runId,
    dir,
    finalDir,
    failedDir: runs.child(failedId).href,
    path,
    writeJson: (file, value) =>
      Deno.writeTextFile(path(file), JSON.stringify(value, null, 2) + "\n"),
    writeText: (file, text) => Deno.writeTextFile(path(file), text),
    writeParquet: (file, frame) => frame.writeParquet(path(file)),
    read: () => readRunFolder(localFolder(dir)),
    async commit() {
      try {
        return (await staging.publish({ replace: opts.replace })).href;
      } catch (e) {
        throw new RunIdError(
          `Cannot publish run ${runId} as ${finalDir}: ${
            (e as Error).message
          }; its outputs stay in ${dir}`,
        );
      }
    },
    async fail() {
      return (await staging.publish({ as: failedId, replace: true })).href;
    },
  };
}

/**
 * Writes a folder of outputs derived from runs (a movement, a BI export)
 * whole or not at all: `write` fills a staging folder beside `target`,
 * which then takes the place of `target`. A `target` holding anything but
 * the files such a folder holds is refused, so a folder of other work is
 * never replaced.
 *
 * @param target The folder to write (a path or, later, a URL).
 * @param files The names the folder may hold.
 * @param write Writes the files into the staging folder it is given.
 * @returns The published folder and what `write` returned.
 * @throws {RangeError} when `target` holds other files.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeOutputFolder } from "./write.ts";
 *
 * const root = await Deno.makeTempDir();
 * const { folder } = await writeOutputFolder(`${root}/out`, ["a.txt"], (dir) =>
 *   Deno.writeTextFile(`${dir}/a.txt`, "new"),
 * );
 * assert.equal(await folder.readText("a.txt"), "new");
 * await Deno.writeTextFile(`${root}/out/notes.md`, "mine");
 * await assert.rejects(
 *   () => writeOutputFolder(`${root}/out`, ["a.txt"], () => {}),
 *   RangeError,
 * );
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function writeOutputFolder<T>(
  target: string,
  files: readonly string[],
  write: (dir: string) => Promise<T> | T,
): Promise<{ folder: Location; value: T }> {
  const { parent, name } = parentAndName(target);
  const foreign = (await parent.child(name).list()).filter((f) =>
    !files.includes(f)
  );
  if (foreign.length > 0) {
    throw new RangeError(
      `Cannot write ${target}: it holds ${
        foreign.join(", ")
      }, which this output would replace; give a new or empty folder`,
    );
  }
  const staging = await parent.stage(name);
  try {
    const value = await write(staging.dir);
    return { folder: await staging.publish({ replace: true }), value };
  } catch (e) {
    await staging.discard();
    throw e;
  }
}
