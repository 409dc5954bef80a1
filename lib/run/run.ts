/**
 * One ECL run from files to a run folder (architecture.md, "Data flow of one
 * run"): load and check the rules and FX table, scan and validate the
 * portfolio, stage, compute ECL, and write `loan_results.parquet`,
 * `carrying_amounts.parquet`, `rejected.parquet`, `data_quality.json`,
 * `summary.json`, `report.html` and `manifest.json` into a partial folder
 * that is renamed to `<out>/<run_id>/` only once everything is written (see
 * `folder.ts`).
 *
 * Configuration is checked before any data is read (methodology §10: a
 * broken rules file "is refused before any data is read"), so such an error
 * leaves no folder at all; so does a portfolio path that cannot be opened.
 * A failure after the folder is opened (rows Polars cannot read, reject rate
 * above `validation.max_reject_rate`, a currency missing from the FX table)
 * moves the folder to `<out>/<run_id>.failed/` with `manifest.json` saying
 * `status: "failed"` and why; a reject-rate failure keeps `rejected.parquet`
 * and `data_quality.json` there for the data owner. Nothing but a complete
 * run is ever found under `<out>/<run_id>/`, so a reader that lists run
 * folders (movement, dashboards) needs no status check.
 *
 * Memory: validation needs the whole `loan_id` column (duplicates) and the
 * whole `reporting_date` column (the portfolio's date), so it sees the
 * whole file and returns the valid rows as one collected frame. Staging,
 * ECL and writing then go chunk by chunk (`chunkSize`, 1M loans by
 * default), so the loan results in memory are bounded by the chunk; the
 * summary is built from additive per-chunk cells, and the chunk files are
 * stream-concatenated into one Parquet file per output. An `add` overlay is
 * shared over everything it selects (methodology §8), so when the rules
 * have one and the run has several chunks, the model ECL of every chunk is
 * written first and one overlay plan (`lib/engine/overlays.ts`) is then
 * applied to each: the same figures as one pass, to rounding.
 *
 * The run warns (manifest `warnings`, console, report) when an overlay's
 * release took an ECL below 0 and the floor at 0 changed it, naming the
 * overlays, and when an `add` selects no facility (`overlayWarnings`).
 *
 * @module
 */
import { join } from "node:path";
import pl from "nodejs-polars";
import { loadRules, type Rules, RulesError } from "../rules.ts";
import { COL } from "../schema.ts";
import {
  fxDateWarning,
  FxError,
  type FxTable,
  loadFx,
  reportingRates,
} from "../fx.ts";
import { PortfolioReadError, scanPortfolio } from "../io/mod.ts";
import {
  type DataQualityReport,
  RejectRateError,
  requireColumns,
  validatePortfolio,
  writeValidationOutputs,
} from "../validation/mod.ts";
import {
  applyOverlayPlan,
  computeEcl,
  mergeOverlayCells,
  METHODOLOGY_VERSION,
  overlayCells,
  overlayPlan,
  overlaysAllocate,
  stageFacilities,
} from "../engine/mod.ts";
import { writeRunReport } from "../report/mod.ts";
import {
  defaultRunId,
  openRunFolder,
  type PendingRunFolder,
  RunIdError,
} from "./folder.ts";
import {
  codeVersion,
  type Manifest,
  sha256File,
  StepTimer,
} from "./manifest.ts";
import {
  attachCarryingAmounts,
  GROSS_CARRYING_AMOUNT,
  mergeSummaryCells,
  overlayWarnings,
  type Summary,
  type SummaryCells,
  summaryCells,
  summaryFromCells,
} from "./summary.ts";

/** The rules file used when none is given. */
export const DEFAULT_RULES = "config/ifrs9_rules.yaml";
/** The FX table used when none is given. */
export const DEFAULT_FX = "config/fx_rates.yaml";

/**
 * Loans staged, computed and written per chunk when none is given: bounds
 * the loan results held in memory (about 250 MB per million loans).
 */
export const DEFAULT_CHUNK_SIZE = 1_000_000;

/** File names inside a run folder. */
export const RUN_FILES = {
  loanResults: "loan_results.parquet",
  carryingAmounts: "carrying_amounts.parquet",
  rejected: "rejected.parquet",
  dataQuality: "data_quality.json",
  summary: "summary.json",
  manifest: "manifest.json",
  report: "report.html",
} as const;

/** Progress of the ECL computation, for a progress line. */
export interface RunProgress {
  loansDone: number;
  loansTotal: number;
  /** Milliseconds since the computation started. */
  elapsedMs: number;
}

/** Options of {@link runPortfolio}. */
export interface RunOptions {
  /** Portfolio file: CSV, Parquet or Arrow IPC. */
  portfolio: string;
  /** Rules file. @default "config/ifrs9_rules.yaml" */
  rules?: string;
  /** FX table. @default "config/fx_rates.yaml" */
  fx?: string;
  /** Directory the run folder is created in. */
  out: string;
  /** Name of the run folder. @default a timestamp id, see `defaultRunId` */
  runId?: string;
  /**
   * Replace a complete run of the same id (on success only).
   * @default false
   */
  replace?: boolean;
  /** Write `report.html`. @default true */
  report?: boolean;
  /** Loans per engine batch; the engine's default when absent. */
  batchSize?: number;
  /**
   * Loans staged, computed and written per chunk (see `computeAndWrite`).
   * @default 1_000_000
   */
  chunkSize?: number;
  /** Called as batches of loans are computed. */
  onProgress?: (p: RunProgress) => void;
  /** Called when a step starts, with the step's name. */
  onStep?: (step: string) => void;
}

/** What a completed run produced. */
export interface RunResult {
  runId: string;
  /** The complete run folder. */
  dir: string;
  manifest: Manifest;
  summary: Summary;
  dataQuality: DataQualityReport;
}

/**
 * Thrown when a run fails after its folder was opened. The message is the
 * cause's, followed by where the failed folder was moved; `cause` holds the
 * original error.
 */
export class RunFailedError extends Error {
  constructor(
    readonly runId: string,
    readonly failedDir: string,
    cause: unknown,
    readonly step?: string,
  ) {
    super(
      `${describeFailure(cause, step)}\n` +
        `Run ${runId} failed; what it wrote is in ${failedDir} (manifest.json has status "failed")`,
      { cause },
    );
    this.name = "RunFailedError";
  }
}

/**
 * The message of a failure. The library's boundary errors already name the
 * file, row or key; anything else (a Polars error, an I/O error) gets the
 * step it happened in, so the message still says where to look.
 */
function describeFailure(cause: unknown, step?: string): string {
  const message = (cause as Error)?.message ?? String(cause);
  const known = [
    PortfolioReadError,
    RejectRateError,
    FxError,
    RulesError,
    RunIdError,
  ];
  if (step === undefined || known.some((k) => cause instanceof k)) {
    return message;
  }
  return `Run step ${step} failed: ${message}`;
}

const writeJson = (path: string, value: unknown) =>
  Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");

/**
 * The carrying amounts of the computed facilities: `loan_id`, `currency`,
 * `gross_carrying_amount` (the balance at the reporting date) and
 * `write_off_amount` (0 when absent). Movement analysis (IFRS 7 §35H, §35I)
 * reads them to reconcile gross carrying amounts and write-offs between two
 * runs.
 */
export function carryingAmounts(valid: pl.LazyDataFrame): pl.LazyDataFrame {
  return valid.select(
    pl.col(COL.loanId),
    pl.col(COL.currency),
    pl.col(COL.balance).cast(pl.Float64).alias(GROSS_CARRYING_AMOUNT),
    pl.col(COL.writeOffAmount).cast(pl.Float64).fillNull(0).alias(
      COL.writeOffAmount,
    ),
  );
}

/**
 * Runs a portfolio end to end and returns the complete run folder.
 *
 * @throws {RulesError | FxError | PortfolioReadError} when the rules file
 *   or FX table is invalid or the portfolio file cannot be opened, before
 *   any data is read and without creating a folder.
 * @throws {RunIdError} when the run id is taken or malformed.
 * @throws {RunFailedError} when the run fails after its folder was opened;
 *   its `cause` is the original error (a `PortfolioReadError` for rows
 *   that cannot be read, a `RejectRateError`, an `FxError` for a currency
 *   the table lacks, …).
 * @example
 * ```ts
 * const run = await runPortfolio({
 *   portfolio: "data/sample/portfolio_2025-12-31.parquet",
 *   out: await Deno.makeTempDir(),
 *   runId: "2025-12-31",
 * });
 * run.summary.totals.ecl;
 * ```
 */
export async function runPortfolio(opts: RunOptions): Promise<RunResult> {
  const startedAt = new Date();
  const timer = new StepTimer();
  let current: string | undefined;
  const step = <T>(name: string, fn: () => Promise<T> | T) => {
    current = name;
    opts.onStep?.(name);
    return timer.time(name, fn);
  };
  const rulesPath = opts.rules ?? DEFAULT_RULES;
  const fxPath = opts.fx ?? DEFAULT_FX;
  const runId = opts.runId ?? defaultRunId(startedAt);

  const { rules, fx } = await step("load_config", async () => ({
    rules: await loadRules(rulesPath),
    fx: await loadFx(fxPath),
  }));
  // The reporting currency itself must be convertible before data is read.
  reportingRates(fx, rules.reporting_currency, []);
  // Opening the file checks that it exists and has a readable header with
  // every required column (cheap, nothing is collected), so a wrong path or
  // a wrong file leaves no folder behind.
  const raw = await step("scan", () => {
    const lf = scanPortfolio(opts.portfolio);
    requireColumns(lf, opts.portfolio, rules);
    return lf;
  });

  const folder = await openRunFolder(opts.out, runId, {
    replace: opts.replace,
  });
  const manifest: Manifest = {
    run_id: runId,
    status: "running",
    reporting_date: null,
    started_at: startedAt.toISOString(),
    finished_at: null,
    code_version: "",
    methodology_version: METHODOLOGY_VERSION,
    inputs: {
      portfolio: { path: opts.portfolio, sha256: "" },
      rules: { path: rulesPath, sha256: "" },
      fx: { path: fxPath, sha256: fx.sha256 },
    },
    rows: { read: 0, valid: 0, rejected: 0, computed: 0 },
    timings_ms: timer.timings,
    warnings: [],
  };
  try {
    const out = await runSteps(opts, raw, rules, fx, folder, manifest, step);
    manifest.status = "complete";
    manifest.finished_at = new Date().toISOString();
    if (opts.report ?? true) {
      // Written into the partial folder, so the report is part of what the
      // final rename publishes; it shows the manifest as complete (a
      // failing report fails the run, and no report is published).
      await step("report", () => writeRunReport(folder.dir, { manifest }));
    }
    await writeJson(join(folder.dir, RUN_FILES.manifest), manifest);
    const dir = await folder.commit();
    return { runId, dir, manifest, ...out };
  } catch (e) {
    manifest.status = "failed";
    manifest.error = describeFailure(e, current);
    manifest.finished_at = new Date().toISOString();
    await writeJson(join(folder.dir, RUN_FILES.manifest), manifest);
    const failedDir = await folder.fail();
    throw new RunFailedError(runId, failedDir, e, current);
  }
}

/** The steps that write into the open folder; fills `manifest` as it goes. */
async function runSteps(
  opts: RunOptions,
  raw: pl.LazyDataFrame,
  rules: Rules,
  fx: FxTable,
  folder: PendingRunFolder,
  manifest: Manifest,
  step: <T>(name: string, fn: () => Promise<T> | T) => Promise<T>,
): Promise<{ summary: Summary; dataQuality: DataQualityReport }> {
  const dir = folder.dir;
  // Hashing reads the files from disk while Polars validates on its own
  // threads, so the two overlap; each step's time is its own wall clock.
  const hashing = step("hash_inputs", async () => {
    const [portfolio, rulesHash, version] = await Promise.all([
      sha256File(opts.portfolio),
      sha256File(manifest.inputs.rules.path),
      codeVersion(),
    ]);
    manifest.inputs.portfolio.sha256 = portfolio;
    manifest.inputs.rules.sha256 = rulesHash;
    manifest.code_version = version;
  });
  const validating = step(
    "validate",
    () => validatePortfolio(raw, rules, { file: opts.portfolio }),
  );
  const [validation] = await Promise.all([validating, hashing]);
  const report = validation.report;
  manifest.reporting_date = report.reporting_date;
  const fxWarning = report.reporting_date === null
    ? null
    : fxDateWarning(fx, report.reporting_date);
  if (fxWarning !== null) manifest.warnings.push(fxWarning);
  manifest.rows.read = report.rows_read;
  manifest.rows.valid = report.rows_valid;
  manifest.rows.rejected = report.rows_rejected;

  // Writes rejected.parquet and data_quality.json, then throws
  // RejectRateError above validation.max_reject_rate: the failed folder
  // keeps both for the data owner. valid.parquet is not kept: the loan
  // results carry every computed facility.
  await step(
    "write_validation",
    () => writeValidationOutputs(validation, dir, { valid: false }),
  );

  const summary = await computeAndWrite(
    validation.valid,
    opts,
    rules,
    fx,
    folder,
    manifest,
    step,
    report.reporting_date ?? "",
  );
  // Methodology §8: the run warns, naming the overlays, when the floor at 0
  // changed an ECL, and when an `add` found no facility to go to.
  manifest.warnings.push(...overlayWarnings(summary));

  return { summary, dataQuality: report };
}

/**
 * Stages, computes and writes the loan results, carrying amounts and
 * summary of the valid rows, one chunk of `opts.chunkSize` loans at a time,
 * so the outputs in memory are bounded by the chunk, not the portfolio.
 * A portfolio of one chunk is written directly; several chunks are written
 * as part files, then stream-concatenated (in chunk order, so the output is
 * the same as in one pass) into the final Parquet files.
 */
async function computeAndWrite(
  valid: pl.DataFrame,
  opts: RunOptions,
  rules: Rules,
  fx: FxTable,
  folder: PendingRunFolder,
  manifest: Manifest,
  step: <T>(name: string, fn: () => Promise<T> | T) => Promise<T>,
  reportingDate: string,
): Promise<Summary> {
  const dir = folder.dir;
  // Every currency must convert before hours of computing, not after.
  await step("check_fx", async () => {
    const currencies = (await valid.lazy().select(pl.col(COL.currency).unique())
      .collect()).getColumn(COL.currency).toArray() as string[];
    reportingRates(fx, rules.reporting_currency, currencies);
  });

  const total = valid.height;
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const chunks = Math.max(1, Math.ceil(total / chunkSize));
  const partsDir = join(dir, ".parts");
  if (chunks > 1) await Deno.mkdir(partsDir);
  const partName = (kind: string, c: number) =>
    join(partsDir, `${kind}_${String(c).padStart(6, "0")}.parquet`);
  const cells: SummaryCells[] = [];
  // An `add` overlay is shared over everything it selects in the book
  // (methodology §8), not chunk by chunk: in several chunks, the model ECL
  // of every chunk comes first, then one overlay plan applies to each.
  const twoPass = chunks > 1 && overlaysAllocate(rules.overlays);
  const overlayParts: pl.DataFrame[] = [];
  const t0 = performance.now();
  for (let c = 0; c < chunks; c++) {
    const offset = c * chunkSize;
    const part = chunks === 1 ? valid : valid.slice(offset, chunkSize);
    const carrying = await step(
      "carrying_amounts",
      () => carryingAmounts(part.lazy()).collect(),
    );
    const results = await step(
      "compute_ecl",
      () =>
        computeEcl(stageFacilities(part.lazy(), rules), rules, {
          batchSize: opts.batchSize,
          fx,
          overlays: !twoPass,
          onProgress: (loansDone) =>
            opts.onProgress?.({
              loansDone: offset + loansDone,
              loansTotal: total,
              elapsedMs: performance.now() - t0,
            }),
        }),
    );
    manifest.rows.computed += results.height;
    if (twoPass) {
      await step("write_results", () => {
        results.writeParquet(partName("model", c));
        carrying.writeParquet(partName("carrying_amounts", c));
      });
      overlayParts.push(
        await step(
          "overlays",
          () => overlayCells(results.lazy(), rules.overlays).collect(),
        ),
      );
      continue;
    }
    await step("write_results", () => {
      results.writeParquet(
        chunks === 1
          ? join(dir, RUN_FILES.loanResults)
          : partName("loan_results", c),
      );
      carrying.writeParquet(
        chunks === 1
          ? join(dir, RUN_FILES.carryingAmounts)
          : partName("carrying_amounts", c),
      );
    });
    cells.push(
      await step(
        "summarize",
        () =>
          summaryCells(attachCarryingAmounts(results, carrying).lazy(), rules),
      ),
    );
  }
  if (twoPass) {
    const plan = await step(
      "overlays",
      () =>
        overlayPlan(rules.overlays, mergeOverlayCells(overlayParts), {
          fx,
          reportingCurrency: rules.reporting_currency,
        }),
    );
    for (let c = 0; c < chunks; c++) {
      const results = await step(
        "overlays",
        () =>
          applyOverlayPlan(pl.scanParquet(partName("model", c)), plan)
            .collect(),
      );
      await step("write_results", async () => {
        results.writeParquet(partName("loan_results", c));
        await Deno.remove(partName("model", c));
      });
      const carrying = pl.readParquet(partName("carrying_amounts", c));
      cells.push(
        await step(
          "summarize",
          () =>
            summaryCells(
              attachCarryingAmounts(results, carrying).lazy(),
              rules,
            ),
        ),
      );
    }
  }
  if (chunks > 1) {
    // A sink streams the parts through in morsels (docs/toolchain.md: it
    // writes on collect()); zero-padded names keep the glob in chunk order.
    await step("write_results", async () => {
      for (
        const [kind, file] of [
          ["loan_results", RUN_FILES.loanResults],
          ["carrying_amounts", RUN_FILES.carryingAmounts],
        ]
      ) {
        await pl.scanParquet(join(partsDir, `${kind}_*.parquet`))
          .sinkParquet(join(dir, file)).collect();
      }
      await Deno.remove(partsDir, { recursive: true });
    });
  }
  return await step("summarize", async () => {
    const summary = summaryFromCells(mergeSummaryCells(cells), {
      runId: folder.runId,
      reportingDate,
      rules,
      fx,
    });
    await writeJson(join(dir, RUN_FILES.summary), summary);
    return summary;
  });
}
