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
 * - opening a run refuses to start when a complete folder already holds
 *   the id (unless asked to replace it, which happens only once the new run
 *   is complete) or when a live process is writing the same id; it removes
 *   the stale staging folders of killed writers, of any id, in the same
 *   output folder (`stale.ts`).
 *
 * Outputs derived from runs or from a portfolio (the validation outputs,
 * a movement, a BI export: {@link writeOutputFolder}; a dashboard page:
 * {@link writeOutputFile}) are written the same way, under a temporary
 * name renamed last, and their location is checked before anything is
 * computed ({@link checkOutputFolder}, {@link checkOutputFile}): an output
 * never replaces a file that is not a folder, a folder holding other
 * files (among them every run folder), an input of its own, or anything
 * inside a run folder.
 *
 * @module
 */
import { failureKind, UserError } from "../errors.ts";
import { basename, dirname, extname, join, resolve } from "node:path";
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
import {
  removeStaleStaging,
  type StagingEntry,
  staleWarning,
} from "./stale.ts";
import type { Summary } from "./summary.ts";
import type { DataFrame } from "../frame.ts";

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

/**
 * Thrown when an output would go where it must not (a file where a folder
 * is wanted, a folder of other files, a run folder, an input): a usage
 * error, raised before anything is computed.
 */
export class OutputLocationError extends UserError {
  /** The output path refused. */
  readonly path: string;

  /**
   * Reads `Cannot write <path>: <detail>`.
   *
   * @param path The output path refused.
   * @param detail Why, and what to give instead.
   */
  constructor(path: string, detail: string) {
    super("usage", `Cannot write ${path}: ${detail}`);
    this.name = "OutputLocationError";
    this.path = path;
  }
}

/** What an output is checked against: the files or folders it reads. */
export interface OutputCheckOptions {
  /**
   * The inputs (files or folders) the output is made from: an output that
   * would replace one of them, or a folder holding one, is refused.
   */
  inputs?: readonly string[];
}

/** Options of {@link writeOutputFolder} and {@link writeOutputFile}. */
export interface WriteOutputOptions extends OutputCheckOptions {
  /** How the files are written. @default FILE_WRITER */
  writer?: FileWriter;
}

/** The real path of `path` when it exists, else its absolute path. */
async function realPath(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    // Not there (yet): compared by its absolute path.
    return resolve(path);
  }
}

/** `lstat` of a path, or null when nothing is there. */
async function statOf(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * The run id of a run folder, or null for any other folder: one whose
 * `manifest.json` or `summary.json` is a JSON object with a `run_id`
 * (another folder that happens to hold a `summary.json` is not one).
 */
async function runFolderAt(dir: string): Promise<string | null> {
  for (const file of [RUN_FILES.manifest, RUN_FILES.summary]) {
    let text: string;
    try {
      text = await Deno.readTextFile(join(dir, file));
    } catch (e) {
      if (
        e instanceof Deno.errors.NotFound ||
        e instanceof Deno.errors.NotADirectory ||
        e instanceof Deno.errors.IsADirectory
      ) continue;
      throw e;
    }
    try {
      const value = JSON.parse(text);
      if (typeof value?.run_id === "string") return value.run_id;
    } catch {
      // Not JSON: not a run's file.
    }
  }
  return null;
}

/** Refuses an output path inside a run folder. */
async function checkParent(target: string, parent: string): Promise<void> {
  const runId = await runFolderAt(parent);
  if (runId !== null) {
    throw new OutputLocationError(
      target,
      `${parent} is the folder of run ${runId}, which holds only the run's own files; write beside it instead`,
    );
  }
}

/** The inputs that are `target` or inside it, as given. */
async function inputsWithin(
  target: string,
  inputs: readonly string[],
): Promise<{ input: string; same: boolean }[]> {
  const real = await realPath(target);
  const found = [];
  for (const input of inputs) {
    const inputReal = await realPath(input);
    if (inputReal === real || inputReal.startsWith(`${real}/`)) {
      found.push({ input, same: inputReal === real });
    }
  }
  return found;
}

/** Refuses an output path that is an input or holds one. */
async function checkInputs(
  target: string,
  inputs: readonly string[],
): Promise<void> {
  const [first] = await inputsWithin(target, inputs);
  if (first === undefined) return;
  throw new OutputLocationError(
    target,
    `it ${
      first.same ? "is" : "holds"
    } the input ${first.input}, which this output would replace; give another output path`,
  );
}

/**
 * Checks, before anything is computed, that an output folder may be
 * written at `target`: it is a folder or nothing yet, it holds only the
 * `files` of such an output (a folder holding anything else, a run folder
 * among them, is not replaced), it is not and does not hold an input, and
 * it is not inside a run folder.
 *
 * @throws {OutputLocationError} naming the path and what to give instead.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOutputFolder, OutputLocationError } from "./write.ts";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/book.csv`, "loan_id\n");
 * await checkOutputFolder(`${root}/out`, ["valid.parquet"]); // new: fine
 * await assert.rejects(
 *   () => checkOutputFolder(`${root}/book.csv`, ["valid.parquet"]),
 *   OutputLocationError,
 * );
 * await assert.rejects(
 *   () => checkOutputFolder(root, ["valid.parquet"], { inputs: [`${root}/book.csv`] }),
 *   /it holds book\.csv, which this output would replace/,
 * );
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function checkOutputFolder(
  target: string,
  files: readonly string[],
  opts: OutputCheckOptions = {},
): Promise<void> {
  const path = resolve(locate(target).href);
  if (path === "/") {
    throw new OutputLocationError(target, "give a folder below the root");
  }
  const info = await statOf(path);
  if (info !== null && !info.isDirectory) {
    throw new OutputLocationError(
      target,
      "it is a file, not a folder; give a folder (new or holding an earlier output of this kind)",
    );
  }
  await checkParent(target, dirname(path));
  if (info !== null) {
    const runId = files.includes(RUN_FILES.summary)
      ? null // the output is a run folder itself (a test's hand-made run)
      : await runFolderAt(path);
    if (runId !== null) {
      throw new OutputLocationError(
        target,
        `it is the folder of run ${runId}, which this output would replace; give a new or empty folder`,
      );
    }
    const foreign = (await locate(path).list()).filter((f) =>
      !files.includes(f)
    );
    if (foreign.length > 0) {
      const held = (await inputsWithin(target, opts.inputs ?? [])).map((i) =>
        i.input
      );
      throw new OutputLocationError(
        target,
        `it holds ${foreign.join(", ")}, which this output would replace${
          held.length === 0
            ? ""
            : `, and this output's input${held.length > 1 ? "s" : ""} ${
              held.join(", ")
            }`
        }; give a new or empty folder`,
      );
    }
  }
  // An earlier output's own file given as an input (`valid.parquet`
  // validated again into its folder).
  await checkInputs(target, opts.inputs ?? []);
}

/**
 * Checks, before anything is computed, that an output file may be written
 * at `target`: it is a file or nothing yet (not a folder), not an input,
 * and not inside a run folder.
 *
 * @throws {OutputLocationError} naming the path and what to give instead.
 */
export async function checkOutputFile(
  target: string,
  opts: OutputCheckOptions = {},
): Promise<void> {
  const path = resolve(locate(target).href);
  const info = await statOf(path);
  if (info !== null && !info.isFile) {
    throw new OutputLocationError(
      target,
      "it is a folder, not a file; give the path of a file",
    );
  }
  await checkParent(target, dirname(path));
  await checkInputs(target, opts.inputs ?? []);
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
 * Writes the file `path` whole or not at all: `write` fills a hidden
 * temporary file beside it (`.<name>.partial-<pid>-<random>`, a staging
 * name `removeStaleStaging` knows), renamed to `path` last; on failure the
 * temporary file is removed, so a full disk leaves the earlier file, or
 * nothing, under the name.
 */
async function writeWhole(
  path: string,
  write: (temp: string) => Promise<void>,
): Promise<void> {
  const temp = join(
    dirname(path),
    `.${basename(path)}.partial-${Deno.pid}-${
      Array.from(crypto.getRandomValues(new Uint8Array(6)))
        .map((b) => b.toString(16).padStart(2, "0")).join("")
    }`,
  );
  try {
    await write(temp);
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
 * the id, removes stale staging folders of the same id (whatever their
 * age, once their writer is gone) and those of any id older than
 * `STALE_AFTER_HOURS` (`stale.ts`), and stages a fresh one.
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
  // Killed writers' folders of any id: only local folders have them.
  const stale: (StagingEntry & { error?: string })[] = [];
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(runs.href)) {
    const sweep = await removeStaleStaging(runs.href);
    stale.push(...sweep.removed, ...sweep.failed);
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
    read: () => readRunFolder(localFolder(dir)),
    async commit() {
      try {
        return (await staging.publish({ replace: opts.replace })).href;
      } catch (e) {
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
      return (await staging.publish({ as: failedId, replace: true })).href;
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
  const staging = await parent.stage(name);
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
    return { folder: await staging.publish({ replace: true }), value };
  } catch (e) {
    // The earlier output, if any, kept its name (`publish` puts it back).
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
    await writeWhole(path, (temp) => writer.text(temp, text));
  } catch (e) {
    throw writeFailure(target, e);
  }
  return path;
}
