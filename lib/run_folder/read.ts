/**
 * Reading a run folder with its checks: the JSON files as typed objects
 * (upgraded from earlier versions), the Parquet tables as lazy frames
 * whose files were checked to be whole and to have the columns of the
 * contract. Every problem is reported naming the folder, the file and
 * what is wrong.
 *
 * A run folder is read from the location given, never resolved from its
 * run id: the report is rendered while the folder is still being staged.
 * Readers of other runs (the movement, the dashboard, the report's
 * comparison, the BI export) read with `trusted`, which refuses anything
 * but a complete run with facilities and a reporting date
 * ({@link untrustedReasons}), and then what no run writes, naming the file
 * and key: a date that is not one, a count that is not a whole number
 * >= 0, a negative or implausibly large amount, a stage listed twice
 * (`summaryTrustProblems`), a manifest of another date or run
 * (`manifestTrustProblems`), a `data_quality.json` not shaped as the
 * validator's report (`dataQualityProblems`), and Parquet files with
 * another number of rows than `totals.count` (another run's file copied
 * in; the count is read from the files' footers). A run reading its own
 * staging folder reads without it.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import pl from "nodejs-polars";
import type { DataFrame, LazyFrame } from "../frame.ts";
import { RESULT_COLUMNS } from "../schema.ts";
import type { DataQualityReport } from "../validation/mod.ts";
import { CARRYING_AMOUNT_COLUMNS } from "./carrying_amounts.ts";
import { basename } from "node:path";
import { FAILED_SUFFIX, RUN_FILES, type RunFile } from "./layout.ts";
import { locate, type Location } from "./location.ts";
import {
  type Manifest,
  manifestProblems,
  manifestTrustProblems,
  upgradeManifest,
} from "./manifest.ts";
import {
  type Summary,
  summaryProblems,
  summaryTrustProblems,
  upgradeSummary,
} from "./summary.ts";
import { dataQualityProblems } from "./data_quality.ts";

/** The files of one run folder, read. */
export interface RunFolder {
  /** The folder's path or URL. */
  dir: string;
  /** Where the folder was read from. */
  location: Location;
  /** `summary.json`, checked and upgraded to the current version. */
  summary: Summary;
  /** Absent when the folder has no `manifest.json` yet (mid-run). */
  manifest: Manifest | null;
  /** Absent when the folder has no `data_quality.json`. */
  dataQuality: DataQualityReport | null;
  /** `loan_results.parquet`: methodology §9, amounts in facility currency. */
  results: LazyFrame;
  /** `carrying_amounts.parquet`: loan_id, currency, gross, write-off. */
  carrying: LazyFrame;
}

/** Thrown when a run folder is missing a file or a file breaks the contract. */
export class RunFolderReadError extends UserError {
  /** The run folder's path or URL. */
  readonly dir: string;
  /** The file inside it, or `""` for the folder itself. */
  readonly file: string;

  /**
   * Reads `Cannot read run folder <dir>: <file>: <detail>`.
   *
   * @param dir The run folder.
   * @param file The file inside it, or `""` for the folder itself.
   * @param detail What is wrong.
   */
  constructor(dir: string, file: string, detail: string) {
    super(
      "input",
      `Cannot read run folder ${dir}${file ? `: ${file}` : ""}: ${detail}`,
    );
    this.name = "RunFolderReadError";
    this.dir = dir;
    this.file = file;
  }
}

/**
 * A Parquet file of a run folder (a part's cells), or null when the folder
 * has none of that name; fetched first from object storage.
 *
 * @throws {RunFolderReadError} when it is not a readable Parquet file,
 *   naming the folder and the file.
 */
export async function readFolderParquet(
  location: Location,
  name: string,
): Promise<DataFrame | null> {
  if (!(await location.list()).includes(name)) return null;
  await location.prepareScan?.([name]);
  try {
    return pl.readParquet(location.scanSource(name));
  } catch (e) {
    throw new RunFolderReadError(
      location.href,
      name,
      `not a readable Parquet file (${(e as Error).message})`,
    );
  }
}

/** The columns each Parquet file of a run folder must have. */
const PARQUET_COLUMNS: Partial<Record<RunFile, readonly string[]>> = {
  loanResults: RESULT_COLUMNS,
  carryingAmounts: CARRYING_AMOUNT_COLUMNS,
};

/** One folder being read: its listing, taken once, and its checks. */
class Reader {
  private constructor(
    readonly location: Location,
    private readonly names: Set<string>,
  ) {}

  static async open(location: Location): Promise<Reader> {
    try {
      return new Reader(location, new Set(await location.list()));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotADirectory)) throw e;
      throw new RunFolderReadError(
        location.href,
        "",
        "it is a file, not a run folder (give the folder deno task run printed)",
      );
    }
  }

  fail(file: RunFile, detail: string): never {
    throw new RunFolderReadError(this.location.href, RUN_FILES[file], detail);
  }

  has(file: RunFile): boolean {
    return this.names.has(RUN_FILES[file]);
  }

  /** Fails for a required file that is not there. */
  require(file: RunFile): void {
    if (this.has(file)) return;
    this.fail(
      file,
      this.names.size === 0
        ? "file is missing: the folder does not exist or is empty"
        : "file is missing",
    );
  }

  /** Parsed JSON, checked; null when the file is absent and optional. */
  async json<T>(
    file: RunFile,
    problems: (value: unknown) => string[],
    required: boolean,
  ): Promise<T | null> {
    if (required) this.require(file);
    else if (!this.has(file)) return null;
    const text = await this.location.readText(RUN_FILES[file]);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.fail(file, `not valid JSON: ${(e as Error).message}`);
    }
    const found = problems(value);
    if (found.length > 0) this.fail(file, found.join("; "));
    return value as T;
  }

  /** Fails naming `file` when `problems` lists any. */
  check(file: RunFile, problems: string[]): void {
    if (problems.length > 0) this.fail(file, problems.join("; "));
  }

  /**
   * Fails when the Parquet file `scan` reads has other than `count` rows:
   * the file of another run copied in. The count comes from the file's
   * footer (Polars answers a row count of a Parquet scan from its
   * metadata), so this takes milliseconds whatever the book size.
   */
  async rowCount(file: RunFile, scan: LazyFrame, count: number): Promise<void> {
    let rows: number;
    try {
      rows = Number(
        (await scan.select(pl.len().alias("rows")).collect()).getColumn("rows")
          .get(0),
      );
    } catch (e) {
      this.fail(file, `not a readable Parquet file (${(e as Error).message})`);
    }
    if (rows === count) return;
    this.fail(
      file,
      `it holds ${rows} rows, but in ${RUN_FILES.summary} totals.count is ${count}: the file is not this run's (copied from another run?); rerun the run or restore its own file`,
    );
  }

  /**
   * A lazy scan of a Parquet file whose footer was read: a truncated file
   * or one without the contract's columns fails here, naming the file,
   * not later inside a computation.
   */
  parquet(file: RunFile): LazyFrame {
    this.require(file);
    const scan = pl.scanParquet(this.location.scanSource(RUN_FILES[file]));
    let columns: string[];
    try {
      columns = scan.columns;
    } catch (e) {
      this.fail(file, `not a readable Parquet file (${(e as Error).message})`);
    }
    const missing = (PARQUET_COLUMNS[file] ?? []).filter((c) =>
      !columns.includes(c)
    );
    if (missing.length > 0) {
      this.fail(
        file,
        `missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
      );
    }
    return scan;
  }
}

const noProblems = () => [];

/** Options of {@link readRunFolder} and {@link readRunSummary}. */
export interface ReadRunOptions {
  /**
   * Read the folder only if it is a run that can be relied on
   * ({@link untrustedReasons}): what the movement, the dashboard, the
   * report's comparison and the BI export read. Off for a run reading its
   * own folder while it is being staged (its report).
   * @default false
   */
  trusted?: boolean;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A hidden name of the staging pattern, `.<id>.partial-…` or
 * `.<id>.replaced-…`, whoever wrote it. Wider than `stagingName` (the
 * names this code writes, the only ones the stale sweep removes) on
 * purpose: a reader refusing a folder that merely looks staged is on the
 * safe side, a sweep removing it is not.
 */
const STAGING_LIKE = /^\..+\.(?:partial|replaced)-/;

/**
 * Why a run folder cannot be relied on, one reason per problem, none for a
 * run that can: a hidden staging folder (`.<id>.partial-…`,
 * `.<id>.replaced-…`) or a `<id>.failed` folder, no `manifest.json`, a
 * manifest whose status is not `complete`, a run without facilities
 * (`totals.count` 0) or without a reporting date. Such a folder compared
 * with another would book a whole book as new or derecognised, or show
 * figures of a run that did not finish.
 *
 * @param dir The folder's path or URL.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Manifest, type Summary, untrustedReasons } from "./mod.ts";
 *
 * const manifest = { status: "failed", reporting_date: "2025-12-31" } as Manifest;
 * const summary = { reporting_date: "2025-12-31", totals: { count: 0 } } as Summary;
 * assert.deepEqual(untrustedReasons("runs/q4.failed", manifest, summary), [
 *   "the folder is a failed run's (its name ends with .failed)",
 *   'manifest.json: status is "failed", not "complete"',
 *   "summary.json: the run has no facilities (totals.count is 0)",
 * ]);
 * ```
 */
export function untrustedReasons(
  dir: string,
  manifest: Manifest | null,
  summary: Summary,
): string[] {
  const reasons: string[] = [];
  const name = basename(dir);
  if (STAGING_LIKE.test(name)) {
    reasons.push(
      "the folder is a hidden staging folder of a run being written or killed, not a published run",
    );
  } else if (name.endsWith(FAILED_SUFFIX)) {
    reasons.push(
      `the folder is a failed run's (its name ends with ${FAILED_SUFFIX})`,
    );
  }
  if (manifest === null) {
    reasons.push(
      `${RUN_FILES.manifest}: file is missing, so nothing says the run completed`,
    );
  } else {
    if (manifest.status !== "complete") {
      reasons.push(
        `${RUN_FILES.manifest}: status is "${manifest.status}", not "complete"${
          manifest.error ? ` (${manifest.error.split("\n")[0]})` : ""
        }`,
      );
    }
    if (manifest.reporting_date === null) {
      reasons.push(`${RUN_FILES.manifest}: reporting_date is null`);
    }
  }
  if (!ISO_DATE.test(summary.reporting_date ?? "")) {
    reasons.push(
      `${RUN_FILES.summary}: the run has no reporting date (reporting_date is ${
        JSON.stringify(summary.reporting_date)
      })`,
    );
  }
  if (summary.totals?.count === 0) {
    reasons.push(
      `${RUN_FILES.summary}: the run has no facilities (totals.count is 0)`,
    );
  }
  return reasons;
}

/**
 * Throws when the run folder read cannot be relied on: not a complete run
 * ({@link untrustedReasons}), or its JSON files say what no run writes
 * (`summaryTrustProblems`, `manifestTrustProblems`, `dataQualityProblems`:
 * a date that is not one, a count that is not whole, a negative or
 * implausible amount, a stage listed twice, a manifest of another date or
 * run, a data-quality file of another shape), naming the file and key.
 */
async function requireTrusted(
  reader: Reader,
  manifest: Manifest | null,
  summary: Summary,
): Promise<void> {
  const dir = reader.location.href;
  const reasons = untrustedReasons(dir, manifest, summary);
  if (reasons.length > 0) {
    throw new RunFolderReadError(
      dir,
      "",
      `not a complete run: ${
        reasons.join("; ")
      }. Only complete runs with facilities are read for movements, dashboards, comparisons and exports: give the folder <out>/<run_id> of a run that completed`,
    );
  }
  reader.check("summary", summaryTrustProblems(summary));
  if (manifest !== null) {
    reader.check("manifest", manifestTrustProblems(manifest, summary));
  }
  await reader.json("dataQuality", dataQualityProblems, false);
}

/**
 * Reads a run folder: `summary.json` (required), `manifest.json` and
 * `data_quality.json` (optional), and lazy scans of `loan_results.parquet`
 * and `carrying_amounts.parquet` (required, checked to be whole Parquet
 * files with the contract's columns).
 *
 * @param folder The run folder (a path or a location), possibly still
 *   being staged.
 * @param opts.trusted Refuse a folder that is not a complete run
 *   ({@link untrustedReasons}), for readers of other runs.
 * @throws {RunFolderReadError} Naming the folder, the file and the problem.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { openRunFolder, readRunFolder, type Summary } from "./mod.ts";
 * const tmp = await Deno.makeTempDir();
 *
 * // One facility, written in the contract's columns (methodology §9).
 * const folder = await openRunFolder(tmp, "q4");
 * folder.writeParquet("loanResults", pl.DataFrame([{
 *   loan_id: "L1", reporting_date: new Date("2025-12-31"), product: "mortgage",
 *   segment: "retail", region: "north", currency: "EUR", stage: 1,
 *   stage_reason: "PERFORMING", stage_triggers: ["PERFORMING"],
 *   remaining_term_months: 120, ead: 1000, pd_12m: 0.01, pd_lifetime: 0.1,
 *   lgd: 0.2, ecl_12m: 2, ecl_lifetime: 20, ecl_model: 2, ecl: 2,
 * }]));
 * folder.writeParquet("carryingAmounts", pl.DataFrame([{
 *   loan_id: "L1", currency: "EUR", gross_carrying_amount: 1000, write_off_amount: 0,
 * }]));
 * await folder.writeJson("summary", {
 *   run_id: "q4", reporting_date: "2025-12-31", reporting_currency: "EUR",
 *   fx: { file: "fx.yaml", sha256: "", base: "EUR", as_of: "2025-12-31", rates: { EUR: 1 } },
 *   scenarios: [],
 *   totals: { count: 1, gross_carrying_amount: 1000, ead: 1000, ecl_model: 2, ecl: 2,
 *     loss_allowance: 2, provision: 0, coverage: 0.002 },
 *   by_stage: [],
 * } as unknown as Summary);
 *
 * const run = await readRunFolder(await folder.commit());
 * assert.equal(run.summary.totals.ecl, 2);
 * assert.equal(run.manifest, null); // written last by a run; absent here
 * assert.deepEqual((await run.results.select("ecl").collect()).toRecords(), [{ ecl: 2 }]);
 * await Deno.remove(tmp, { recursive: true });
 * ```
 */
export async function readRunFolder(
  folder: string | Location,
  opts: ReadRunOptions = {},
): Promise<RunFolder> {
  // In object storage the folder's manifest is read before any other file
  // and every file read is checked against the sizes and SHA-256 it lists
  // (lib/storage/s3_folder.ts), so files of two writers are never mixed.
  const reader = await Reader.open(locate(folder));
  const summary = await reader.json<Summary>("summary", summaryProblems, true);
  const manifest = await reader.json<Manifest>(
    "manifest",
    manifestProblems,
    false,
  );
  if (opts.trusted) await requireTrusted(reader, manifest, summary!);
  const dataQuality = await reader.json<DataQualityReport>(
    "dataQuality",
    opts.trusted ? dataQualityProblems : noProblems,
    false,
  );
  // Object storage: the Parquet files are copied here for the scans.
  await reader.location.prepareScan?.([
    RUN_FILES.loanResults,
    RUN_FILES.carryingAmounts,
  ]);
  const results = reader.parquet("loanResults");
  const carrying = reader.parquet("carryingAmounts");
  if (opts.trusted) {
    // One row per computed facility in each (methodology §9).
    await reader.rowCount("loanResults", results, summary!.totals.count);
    await reader.rowCount("carryingAmounts", carrying, summary!.totals.count);
  }
  return {
    dir: reader.location.href,
    location: reader.location,
    summary: upgradeSummary(summary!),
    manifest: manifest && upgradeManifest(manifest),
    dataQuality,
    results,
    carrying,
  };
}

/**
 * Reads only the `summary.json` of a run folder, checked and upgraded like
 * {@link readRunFolder} does: what a trend over many runs needs, in
 * milliseconds whatever the book size. With `trusted`, its manifest is read
 * too and anything but a complete run is refused.
 *
 * @throws {RunFolderReadError} Naming the folder, the file and the problem.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRunSummary } from "./read.ts";
 *
 * const empty = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${empty}/summary.json`, "{}");
 * await assert.rejects(() => readRunSummary(empty), {
 *   name: "RunFolderReadError",
 *   message: `Cannot read run folder ${empty}: summary.json: missing keys ` +
 *     "run_id, reporting_date, reporting_currency, fx, scenarios, totals, by_stage",
 * });
 * await Deno.remove(empty, { recursive: true });
 * ```
 */
export async function readRunSummary(
  folder: string | Location,
  opts: ReadRunOptions = {},
): Promise<Summary> {
  const reader = await Reader.open(locate(folder));
  const summary = await reader.json<Summary>("summary", summaryProblems, true);
  if (opts.trusted) {
    const manifest = await reader.json<Manifest>(
      "manifest",
      manifestProblems,
      false,
    );
    await requireTrusted(reader, manifest, summary!);
  }
  return upgradeSummary(summary!);
}
