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
 *   final name free for the next attempt. The JSON and text files of a
 *   run are each written whole (temporary name, renamed), so a full disk
 *   leaves no truncated `manifest.json`;
 * - opening a run refuses to start when its `--out` is not a folder the
 *   file system lets it write in, or is a run folder or inside one at any
 *   depth (`checkOutputDir`, `output_path.ts`), when a complete folder
 *   already holds the id (unless asked to replace it, which happens only
 *   once the new run is complete) or when a live process is writing the
 *   same id; it removes the stale staging folders of killed writers, of
 *   any id, in the same output folder (`stale.ts`);
 * - a run replaces only folders of its own kind ({@link replaceRefusals}),
 *   checked when it opens (before anything is computed) and again at the
 *   moment of replacing: with `replace`, a complete run folder
 *   (`manifest.json` saying `complete`, a `summary.json`); on failure, a
 *   failed run folder (`manifest.json` saying `failed`); in both cases
 *   holding only the files a run writes and none of the run's inputs
 *   (portfolio, rules, FX table). A file, a link, a folder of notes or the
 *   folder holding the portfolio being run is refused (kind `usage`, exit
 *   2), naming the folder and why, and never removed.
 *
 * Outputs derived from runs or from a portfolio (the validation outputs,
 * a movement, a BI export: {@link writeOutputFolder}; a dashboard page:
 * {@link writeOutputFile}) are written the same way, under a temporary
 * name renamed last, and their location is checked before anything is
 * computed (`checkOutputFolder`, `checkOutputFile` in `output_path.ts`):
 * an output never replaces a file that is not a folder, a symbolic link,
 * a folder holding other files (among them every run folder) or an input
 * of its own, and never goes anywhere inside a run folder (every folder
 * up to the root is looked at). A path the file system refuses (a file
 * among its folders, a place where no folder can be created) is a usage
 * error naming it; once writing has begun, a full disk or a refused write
 * is the machine's (kind `output`).
 *
 * @module
 */
import { failureKind, UserError } from "../errors.ts";
import { basename, dirname, extname, join, resolve } from "node:path";
import type { DataQualityReport } from "../validation/mod.ts";
import {
  FAILED_SUFFIX,
  PART_FILES,
  RUN_FILES,
  type RunFile,
} from "./layout.ts";
import {
  FolderBusyError,
  localFolder,
  locate,
  type Location,
  parentAndName,
  stagingName,
  writeWhole,
} from "./location.ts";
import {
  checkOutputDir,
  checkOutputFile,
  checkOutputFolder,
  entryKind,
  inputsWithin,
  type OutputCheckOptions,
  outputPathRefusal,
} from "./output_path.ts";
import type { Manifest } from "./manifest.ts";
import { readRunFolder, type RunFolder } from "./read.ts";
import {
  removeStaleStaging,
  type StagingEntry,
  staleWarning,
} from "./stale.ts";
import type { Summary } from "./summary.ts";
import type { DataFrame } from "../frame.ts";
import { isS3Url } from "../storage/mod.ts";

/**
 * How an output's files reach the disk. The default writes them; a test
 * passes one that fails part-way (as a full disk does) to check that
 * nothing is left under a final name.
 */
export interface FileWriter {
  /** Writes `text` to `path` (UTF-8). */
  text(path: string, text: string): Promise<void>;
  /** Writes `frame` to `path` as Parquet. */
  parquet(path: string, frame: DataFrame): void | Promise<void>;
  /** Writes `frame` to `path` as CSV (header row). */
  csv(path: string, frame: DataFrame): void | Promise<void>;
}

/** The {@link FileWriter} that writes to the file system. */
export const FILE_WRITER: FileWriter = {
  text: (path, text) => Deno.writeTextFile(path, text),
  parquet: (path, frame) => {
    frame.writeParquet(path);
  },
  csv: (path, frame) => {
    frame.writeCSV(path);
  },
};

/** Options of {@link writeOutputFolder} and {@link writeOutputFile}. */
export interface WriteOutputOptions extends OutputCheckOptions {
  /** How the files are written. @default FILE_WRITER */
  writer?: FileWriter;
}

/**
 * The path an output is staged and published at: as given (so that
 * messages and results name it as the user did), made absolute only when
 * its last segment is `.` or `..`, which cannot be a folder's name.
 */
function outputPath(target: string): string {
  const href = locate(target).href;
  return [".", ".."].includes(basename(href)) ? resolve(href) : href;
}

/**
 * The error for a write that failed for want of space or permission: it
 * names the output, and says that nothing was left under its name. Other
 * errors (bugs) are returned as they are.
 */
function writeFailure(target: string, e: unknown): unknown {
  if (e instanceof UserError) return e;
  const message = (e as Error)?.message ?? String(e);
  if (
    failureKind(e) !== "output" && !/Read-only file system/.test(message)
  ) return e;
  return new UserError(
    "output",
    `Cannot write ${target}: ${message}; nothing was written under that name (an earlier output there is unchanged)`,
    { cause: e },
  );
}

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

/** The refusal of `--replace` for what holds a run's final name. */
function replaceRefused(finalDir: string, reasons: string[]): RunIdError {
  return new RunIdError(
    `Cannot replace ${finalDir} (--replace): ${
      reasons.join("; ")
    }. --replace replaces only a complete run folder (its manifest.json says "complete") holding none of the run's inputs: move ${finalDir} away or choose another --run-id`,
  );
}

/** The refusal of a `<run_id>.failed` entry a failing run would replace. */
function failedRefused(
  runId: string,
  failedDir: string,
  reasons: string[],
): RunIdError {
  return new RunIdError(
    `Cannot run ${runId}: a failing run is set aside as ${failedDir}, replacing a failed run there, but ${
      reasons.join("; ")
    }. Move ${failedDir} away (or remove it) or choose another --run-id`,
  );
}

/** Run ids are file names: letters, digits, `.`, `_`, `-`; no leading dot. */
export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

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
   * Only a complete run folder of this code that holds none of `inputs`
   * is replaced ({@link replaceRefusals}); anything else under the name
   * is refused before the run starts. @default false
   */
  replace?: boolean;
  /**
   * The run's input files (portfolio, rules, FX table): a folder holding
   * one of them is never replaced, neither by `replace` nor by a failing
   * run's `<run_id>.failed`. @default []
   */
  inputs?: readonly string[];
}

/**
 * Entries a run may leave in its folder besides {@link RUN_FILES}: the
 * scratch folder of a run computed in chunks (`.parts`, removed when the
 * run completes, left in a failed run's folder), and hidden files being
 * written whole (`.<file>.partial-<pid>-<12 hex>`, see `writeWhole`).
 */
const RUN_SCRATCH = ".parts";

/** Names of entries listed in a refusal; the others are counted. */
const ENTRIES_LISTED = 5;

/**
 * Why the entry at `path` may not be replaced by a run, one reason per
 * problem, none when it may: what a run replaces (a complete run of the
 * same id, with `replace`; an earlier failed run as `<run_id>.failed`) must
 * be a run folder this code wrote, with the `status` expected in its
 * `manifest.json` (`complete` and a `summary.json` for a complete run,
 * `failed` for a failed one), holding only the files a run writes and none
 * of the run's `inputs`. A file, a link, a folder of notes or a folder
 * holding the portfolio being run are never replaced. Nothing at `path`:
 * no reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceRefusals } from "./write.ts";
 *
 * const out = await Deno.makeTempDir();
 * await Deno.mkdir(`${out}/q4.failed`);
 * await Deno.writeTextFile(`${out}/q4.failed/book.csv`, "loan_id\n");
 * assert.deepEqual(
 *   await replaceRefusals(`${out}/q4.failed`, "failed", [`${out}/q4.failed/book.csv`]),
 *   [
 *     `it holds this run's input ${out}/q4.failed/book.csv`,
 *     "it has no manifest.json, so it is not a run folder",
 *   ],
 * );
 * assert.deepEqual(await replaceRefusals(`${out}/q4`, "complete"), []);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function replaceRefusals(
  path: string,
  status: "complete" | "failed",
  inputs: readonly string[] = [],
): Promise<string[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    return [`it cannot be looked at: ${(e as Error).message}`];
  }
  if (info.isSymlink) {
    return [
      `it is a symbolic link to ${await Deno.readLink(path)}, not a run folder`,
    ];
  }
  if (!info.isDirectory) return [`it is ${entryKind(info)}, not a run folder`];
  const held = await inputsWithin(path, path, inputs);
  const reasons = held.map((i) => `it holds this run's input ${i.input}`);
  let names: string[];
  try {
    names = await localFolder(path).list();
  } catch (e) {
    return [...reasons, `it cannot be listed: ${(e as Error).message}`];
  }
  const noSummary = status === "complete" && !names.includes(RUN_FILES.summary);
  if (!names.includes(RUN_FILES.manifest)) {
    reasons.push(
      noSummary
        ? `it has neither ${RUN_FILES.manifest} nor ${RUN_FILES.summary}, so it is not a run folder`
        : `it has no ${RUN_FILES.manifest}, so it is not a run folder`,
    );
  } else {
    let manifest: Record<string, unknown> | null = null;
    try {
      const value = JSON.parse(
        await Deno.readTextFile(join(path, RUN_FILES.manifest)),
      );
      if (typeof value?.run_id === "string") manifest = value;
    } catch {
      // Unreadable or not JSON: not a run's manifest (below).
    }
    if (manifest === null) {
      reasons.push(
        `its ${RUN_FILES.manifest} is not a run's (not JSON with a run_id)`,
      );
    } else if (manifest.status !== status) {
      reasons.push(
        `its ${RUN_FILES.manifest} says status ${
          JSON.stringify(manifest.status)
        }, not "${status}"`,
      );
    }
  }
  if (noSummary && names.includes(RUN_FILES.manifest)) {
    reasons.push(`it has no ${RUN_FILES.summary}, so it is not a complete run`);
  }
  // Entries a run does not write; the inputs among them are named above.
  const runFiles = new Set<string>(RUN_NAMES);
  const heldNames = new Set(held.map((i) => i.inside.split("/")[0]));
  const foreign = names.filter((n) =>
    !runFiles.has(n) && !heldNames.has(n) && stagingName(n)?.kind !== "partial"
  );
  if (foreign.length > 0) {
    const more = foreign.length - ENTRIES_LISTED;
    reasons.push(
      `it holds ${foreign.slice(0, ENTRIES_LISTED).join(", ")}${
        more > 0 ? ` and ${more} more` : ""
      }, which a run does not write`,
    );
  }
  return reasons;
}

/**
 * {@link replaceRefusals} for a run folder in object storage (`folder`, an
 * S3 prefix): none when it holds nothing. A prefix without `manifest.json`
 * is what a publish cut short leaves (`lib/storage/s3_folder.ts`), which a
 * run may replace, but only when every entry in it is a file a run writes;
 * anything else (a file or "folder" of another name, one of the run's
 * `inputs`, a manifest of another status or not a run's) refuses it,
 * named, and is never deleted.
 */
async function storedReplaceRefusals(
  folder: Location,
  status: "complete" | "failed",
  inputs: readonly string[],
): Promise<string[]> {
  const names = await folder.list();
  if (names.length === 0) return [];
  const prefix = `${folder.href}/`;
  const held = inputs.filter((i) =>
    isS3Url(i) && `s3://${i.slice(5)}`.startsWith(prefix)
  );
  const reasons = held.map((i) => `it holds this run's input ${i}`);
  const heldNames = new Set(
    held.map((i) => `s3://${i.slice(5)}`.slice(prefix.length).split("/")[0]),
  );
  if (names.includes(RUN_FILES.manifest)) {
    let manifest: Record<string, unknown> | null = null;
    try {
      const value = JSON.parse(await folder.readText(RUN_FILES.manifest));
      if (typeof value?.run_id === "string") manifest = value;
    } catch (e) {
      if (e instanceof UserError) throw e;
      // Not JSON, or gone since the listing: not a run's manifest (below).
    }
    if (manifest === null) {
      reasons.push(
        `its ${RUN_FILES.manifest} is not a run's (not JSON with a run_id)`,
      );
    } else if (manifest.status !== status) {
      reasons.push(
        `its ${RUN_FILES.manifest} says status ${
          JSON.stringify(manifest.status)
        }, not "${status}"`,
      );
    } else if (status === "complete" && !names.includes(RUN_FILES.summary)) {
      reasons.push(
        `it has no ${RUN_FILES.summary}, so it is not a complete run`,
      );
    }
  }
  const runFiles = new Set<string>(RUN_NAMES);
  const foreign = names.filter((n) => !runFiles.has(n) && !heldNames.has(n))
    .map((n) => `${prefix}${n}`);
  if (foreign.length > 0) {
    const more = foreign.length - ENTRIES_LISTED;
    reasons.push(
      `it holds ${foreign.slice(0, ENTRIES_LISTED).join(", ")}${
        more > 0 ? ` and ${more} more` : ""
      }, which a run does not write (never deleted)`,
    );
  }
  return reasons;
}

/** The names a run folder holds, for a publish to object storage. */
const RUN_NAMES: readonly string[] = [
  ...Object.values(RUN_FILES),
  ...Object.values(PART_FILES),
  RUN_SCRATCH,
];

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
  /**
   * What opening the folder did about stale staging folders of killed
   * writers in the same output folder (`removeStaleStaging`): one warning
   * per entry removed or that could not be removed.
   */
  staleWarnings: string[];
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
 * the id and `out` (`checkOutputDir`: a folder, or nothing yet, that the
 * file system lets the run write in; not a run folder, nor inside one),
 * removes stale staging folders of the same id (whatever their age, once
 * their writer is gone) and those of any id older than
 * `STALE_AFTER_HOURS` (`stale.ts`), and stages a fresh one.
 *
 * @throws {RunIdError} when the id is malformed, a complete run of that
 *   id exists (and `replace` is off) or another live process writes it;
 *   and when what holds the id (with `replace`) or `<run_id>.failed` is
 *   not a run folder of the kind a run may replace ({@link replaceRefusals}).
 * @throws {OutputLocationError} when `out` cannot take the run, naming it
 *   and what is in the way.
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
  const target = typeof out === "string" ? out : runs.href;
  // Only local folders are looked at, and have killed writers' folders.
  const local = !/^[a-z][a-z0-9+.-]*:\/\//i.test(runs.href);
  // A folder the file system lets the run write in, not a run's own.
  if (local) await checkOutputDir(target);
  /** A refusal of the file system met meanwhile, naming `--out`. */
  const refused = (e: unknown) =>
    local ? outputPathRefusal(target, resolve(runs.href), e) : e;
  const failedId = `${runId}${FAILED_SUFFIX}`;
  const finalDir = runs.child(runId).href;
  let names: string[];
  try {
    names = await runs.list();
  } catch (e) {
    throw await refused(e);
  }
  // In object storage, a folder without manifest.json is what a publish
  // cut short leaves (lib/storage/s3_folder.ts): no run; this one replaces it.
  if (
    !opts.replace && names.includes(runId) &&
    (local || (await runs.child(runId).list()).includes(RUN_FILES.manifest))
  ) {
    throw new RunIdError(
      `Run folder ${finalDir} already exists: pass --replace (option replace: true) to recompute it, replacing the old folder once the new run is complete, or choose another --run-id`,
    );
  }
  const failedDir = runs.child(failedId).href;
  const inputs = opts.inputs ?? [];
  /** Why the entry `name` of `runs` may not be replaced (see above). */
  const refusalsOf = (name: string, status: "complete" | "failed") =>
    local
      ? replaceRefusals(runs.child(name).href, status, inputs)
      : storedReplaceRefusals(runs.child(name), status, inputs);
  // What the run would replace, checked before anything is computed: a
  // complete run of ours with `replace`, a failed run of ours on failure;
  // in object storage also what a cut-short publish left under the id.
  if ((opts.replace || !local) && names.includes(runId)) {
    const reasons = await refusalsOf(runId, "complete");
    if (reasons.length > 0) throw replaceRefused(finalDir, reasons);
  }
  if (names.includes(failedId)) {
    const reasons = await refusalsOf(failedId, "failed");
    if (reasons.length > 0) throw failedRefused(runId, failedDir, reasons);
  }
  // Killed writers' folders of any id.
  const stale: (StagingEntry & { error?: string })[] = [];
  if (local) {
    const sweep = await removeStaleStaging(runs.href);
    stale.push(...sweep.removed, ...sweep.failed);
  }
  let staging;
  try {
    staging = await runs.stage(runId);
  } catch (e) {
    if (!(e instanceof FolderBusyError)) throw await refused(e);
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
    failedDir,
    staleWarnings: stale.map(staleWarning),
    path,
    // Whole or not at all, so a run failing on a full disk leaves no
    // truncated manifest.json in its failed folder.
    writeJson: (file, value) =>
      writeWhole(
        path(file),
        (temp) =>
          Deno.writeTextFile(temp, JSON.stringify(value, null, 2) + "\n"),
      ),
    writeText: (file, text) =>
      writeWhole(path(file), (temp) => Deno.writeTextFile(temp, text)),
    writeParquet: (file, frame) => frame.writeParquet(path(file)),
    // In object storage, the run is named where it will be published, so
    // that its report's comparison looks for earlier runs beside it there.
    read: async () => {
      const run = await readRunFolder(localFolder(dir));
      return local ? run : { ...run, dir: finalDir };
    },
    async commit() {
      if (opts.replace || !local) {
        // Looked at again: the folder may have changed during the run.
        const reasons = await refusalsOf(runId, "complete");
        if (reasons.length > 0) throw replaceRefused(finalDir, reasons);
      }
      try {
        return (await staging.publish({
          replace: opts.replace,
          names: RUN_NAMES,
        })).href;
      } catch (e) {
        if (e instanceof UserError) throw e;
        // A folder that took the name meanwhile (another run of the id)
        // is a usage problem; anything else is the file system's.
        const taken = e instanceof Deno.errors.AlreadyExists ||
          /Directory not empty|os error 39/.test((e as Error).message);
        throw new UserError(
          taken ? "usage" : failureKind(e) === "output" ? "output" : "internal",
          `Cannot publish run ${runId} as ${finalDir}: ${(e as Error).message}${
            taken
              ? " (another run of this id was published meanwhile; choose another --run-id or pass --replace)"
              : ""
          }`,
          { cause: e },
        );
      }
    },
    async fail() {
      // Looked at again: a foreign folder that took the name during the
      // run is never replaced (the failed run stays in its staging
      // folder, which the caller names).
      const reasons = await refusalsOf(failedId, "failed");
      if (reasons.length > 0) throw failedRefused(runId, failedDir, reasons);
      return (await staging.publish({
        as: failedId,
        replace: true,
        names: RUN_NAMES,
      })).href;
    },
  };
}

/** The staging folder of an output, as {@link writeOutputFolder} gives it. */
export interface OutputStaging {
  /** The staging folder on this machine. */
  dir: string;
  /** The path of a file of the output in the staging folder. */
  path(name: string): string;
  /** Writes a text file of the output (through the writer). */
  text(name: string, text: string): Promise<void>;
  /** Writes a Parquet file of the output (through the writer). */
  parquet(name: string, frame: DataFrame): Promise<void>;
  /** Writes a CSV file of the output (through the writer). */
  csv(name: string, frame: DataFrame): Promise<void>;
}

/**
 * Writes a folder of outputs (the validation outputs, a movement, a BI
 * export) whole or not at all: `write` fills a staging folder beside
 * `target`, which then takes the place of `target`. The location is
 * checked first ({@link checkOutputFolder}): a file, a folder holding
 * anything but the files such a folder holds (a run folder among them),
 * an input or a place inside a run folder is refused, so other work is
 * never replaced. A failed write (a full disk) leaves nothing under
 * `target` but what was there before.
 *
 * @param target The folder to write (a path or, later, a URL).
 * @param files The names the folder may hold.
 * @param write Writes the files into the staging folder it is given
 *   (`dir`, and helpers writing through `opts.writer`).
 * @returns The published folder and what `write` returned.
 * @throws {OutputLocationError} when `target` cannot take the output.
 * @throws {UserError} of kind `output` when a file cannot be written for
 *   want of space or permission, naming `target`.
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
 *   /Cannot write .*out: it holds notes\.md/,
 * );
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function writeOutputFolder<T>(
  target: string,
  files: readonly string[],
  write: (dir: string, out: OutputStaging) => Promise<T> | T,
  opts: WriteOutputOptions = {},
): Promise<{ folder: Location; value: T }> {
  await checkOutputFolder(target, files, opts);
  const { parent, name } = parentAndName(outputPath(target));
  const writer = opts.writer ?? FILE_WRITER;
  let staging;
  try {
    staging = await parent.stage(name);
  } catch (e) {
    // The path refused meanwhile (a usage error naming it), or no room for
    // the staging folder (the machine's).
    const refusal = await outputPathRefusal(
      target,
      resolve(outputPath(target)),
      e,
    );
    throw refusal === e ? writeFailure(target, e) : refusal;
  }
  const path = (file: string) => {
    if (!files.includes(file)) {
      throw new RangeError(
        `Cannot write ${file} into ${target}: not one of ${files.join(", ")}`,
      );
    }
    return join(staging.dir, file);
  };
  const out: OutputStaging = {
    dir: staging.dir,
    path,
    text: (file, text) => writer.text(path(file), text),
    parquet: async (file, frame) => {
      await writer.parquet(path(file), frame);
    },
    csv: async (file, frame) => {
      await writer.csv(path(file), frame);
    },
  };
  let value: T;
  try {
    value = await write(staging.dir, out);
  } catch (e) {
    await staging.discard();
    throw writeFailure(target, e);
  }
  try {
    return {
      folder: await staging.publish({ replace: true, names: files }),
      value,
    };
  } catch (e) {
    // Locally the earlier output, if any, kept its name (`publish` puts it
    // back). In object storage it may be half replaced, but its completion
    // marker was deleted first, so no reader takes it (lib/storage).
    await staging.discard();
    throw writeFailure(target, e);
  }
}

/**
 * Writes one output file (a dashboard page) whole or not at all: under a
 * hidden temporary name beside it (`.<name>.partial-<pid>-<random>`),
 * renamed to `target` last, so a failed write (a full disk) leaves the
 * earlier file, or nothing, under the name. Its folder is created when
 * missing; the location is checked first ({@link checkOutputFile}).
 *
 * @returns The path written.
 * @throws {OutputLocationError} when `target` cannot take the file.
 * @throws {UserError} of kind `output` when it cannot be written for want
 *   of space or permission, naming `target`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeOutputFile } from "./write.ts";
 *
 * const root = await Deno.makeTempDir();
 * const full = { text: () => Promise.reject(new Error("No space left on device (os error 28)")),
 *   parquet: () => {}, csv: () => {} };
 * await assert.rejects(
 *   () => writeOutputFile(`${root}/page.html`, "<p>", { writer: full }),
 *   /Cannot write .*page\.html: No space left on device/,
 * );
 * assert.deepEqual([...Deno.readDirSync(root)], []);
 * assert.equal(await writeOutputFile(`${root}/page.html`, "<p>"), `${root}/page.html`);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function writeOutputFile(
  target: string,
  text: string,
  opts: WriteOutputOptions = {},
): Promise<string> {
  await checkOutputFile(target, opts);
  const writer = opts.writer ?? FILE_WRITER;
  const path = outputPath(target);
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
  } catch (e) {
    const refusal = await outputPathRefusal(target, resolve(path), e);
    throw refusal === e ? writeFailure(target, e) : refusal;
  }
  try {
    await writeWhole(path, (temp) => writer.text(temp, text));
  } catch (e) {
    throw writeFailure(target, e);
  }
  return path;
}
