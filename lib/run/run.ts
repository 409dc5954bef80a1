/**
 * One ECL run from files to a run folder (architecture.md, "Data flow of one
 * run"): load and check the rules and FX table, scan and validate the
 * portfolio, stage, compute ECL, and write `loan_results.parquet`,
 * `carrying_amounts.parquet`, `rejected.parquet`, `data_quality.json`,
 * `summary.json`, `narrative.json` (lib/narrative, with the report),
 * `report.html` and `manifest.json` into a partial folder
 * that is published as `<out>/<run_id>/` only once everything is written
 * (`lib/run_folder`, which owns the folder's layout, reading and writing).
 *
 * Configuration is checked before any data is read (methodology §10: a
 * broken rules file "is refused before any data is read"), so such an error
 * leaves no folder at all; so does a portfolio path that cannot be opened.
 * A failure after the folder is opened (rows Polars cannot read, reject rate
 * above `validation.max_reject_rate`, a currency missing from the FX table)
 * moves the folder to `<out>/<run_id>.failed/` with `manifest.json` saying
 * `status: "failed"` and why; a reject-rate failure keeps `rejected.parquet`
 * and `data_quality.json` there for the data owner. Nothing but a complete
 * run is ever found under `<out>/<run_id>/`; the readers that compare or
 * publish runs (movement, dashboard, BI export, the report's comparison)
 * still read with `{ trusted: true }`, which refuses a folder whose
 * manifest is not complete, a hidden partial, and a run with no facilities
 * or no reporting date (`lib/run_folder/read.ts`). Before the manifest
 * says complete, `check_figures` (`lib/run/finite.ts`) fails the run when
 * any figure of the loan results or the summary is not finite, naming the
 * facility and column or the summary key.
 *
 * Memory: a run streams its book, so what it holds at once is set by
 * `chunkSize` (1M rows by default), not by the book:
 *
 * 1. The book's rows are counted; a book of one chunk is validated in one
 *    query and kept in memory, as it always was. A larger one is validated
 *    in batches of `chunkSize` rows (`PortfolioValidation` of
 *    lib/validation): first one pass over only the `loan_id` and
 *    `reporting_date` columns finds the book's reporting date (rows per
 *    date) and its duplicated ids (a 64-bit hash per id, 8 bytes a row,
 *    the hashes seen twice re-checked exactly against the ids); then each
 *    batch is checked with those results and its valid and rejected rows
 *    written as part files in the scratch folder `.parts`, the frames of
 *    each batch released before the next ({@link collectGarbage}). Batches are slices
 *    of the scan: a Parquet or IPC file skips to its row groups; any other
 *    input (CSV, a partition's filtered rows, rows scored by a PD model)
 *    is first streamed into a scratch Parquet file by a sink, since a
 *    slice of it would read from the start. The rejected rows and the
 *    data-quality report are those of one validation of the whole file,
 *    row for row.
 * 2. The reject rate is checked once every batch is validated, before
 *    anything is computed; the plugins' `afterValidate` sees the valid
 *    rows as one lazy frame (streamed back into a part file).
 * 3. Staging, ECL and writing go chunk by chunk over the valid part files
 *    (the kernel's workers on every core), so the loan results in memory
 *    are bounded by the chunk; the summary is built from additive
 *    per-chunk cells holding exact partial sums (`lib/run/summary.ts`),
 *    and the chunk files are stream-concatenated into one Parquet file per
 *    output. An `add` overlay is shared over everything it selects
 *    (methodology §8), so when the rules have one and the run has several
 *    chunks, the model ECL of every chunk is written first and one overlay
 *    plan (`lib/engine/overlays.ts`) is then applied to each: the same
 *    figures as one pass, to rounding.
 *
 * `onBatch` reports each batch and chunk with its rows.
 *
 * The FX table, when none is given, is the one of the portfolio's reporting
 * date (IAS 21 §23, closing rates): `fx_rates_<date>.yaml` beside the
 * portfolio, else in the project's `config/`, else `config/fx_rates.yaml`
 * ({@link fxDirs}, `fxFileFor` of `lib/fx.ts`), whoever starts the run. The
 * date is read from the first rows of the file ({@link reportingDateHint})
 * so that the table is chosen and checked before the folder is opened,
 * like the rules; validation then confirms it, and in the rare file whose
 * first rows carry another date than most rows the table of the confirmed
 * date replaces it.
 *
 * The run warns (manifest `warnings`, console, report) when its FX table is
 * not as of the reporting date, when an overlay's release took an ECL below
 * 0 and the floor at 0 changed it, naming the overlays, and when an `add`
 * selects no facility (`overlayWarnings`).
 *
 * Plugins (`lib/plugin`, docs/plugins.md) listed in the rules are loaded
 * with them, before any data is read; their hooks run on the valid rows
 * before staging, on each chunk's staged rows and final loan results,
 * while the report renders, and after the folder is published. The
 * manifest records each plugin's name, module, SHA-256 and options.
 *
 * @module
 */
import { dirname, join } from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { failureKind, UserError } from "../errors.ts";
import pl from "nodejs-polars";
import type { DataFrame, DataType, LazyFrame } from "../frame.ts";
import { loadRules, type Rules, rulesSha256 } from "../rules.ts";
import { COL } from "../schema.ts";
import { projectPath } from "../project.ts";
import {
  fxDateWarning,
  fxFileFor,
  type FxTable,
  loadFx,
  reportingRates,
} from "../fx.ts";
import {
  detectPortfolioFormat,
  portfolioReadError,
  scanPortfolio,
} from "../io/mod.ts";
import {
  type DataQualityReport,
  PortfolioValidation,
  requireColumns,
} from "../validation/mod.ts";
import {
  applyOverlayPlan,
  computeEcl,
  KernelPool,
  mergeOverlayCells,
  METHODOLOGY_VERSION,
  overlayCells,
  overlayPlan,
  overlaysAllocate,
  stageFacilities,
  withReportingCurrency,
} from "../engine/mod.ts";
import {
  attachCarryingAmounts,
  carryingAmounts,
  type Manifest,
  MANIFEST_VERSION,
  openRunFolder,
  overlayWarnings,
  type PendingRunFolder,
  readRunSummary,
  rulesParameters,
  RUN_FILES,
  runIdFor,
  type Summary,
} from "../run_folder/mod.ts";
import { renderRunReport } from "../report/mod.ts";
import {
  type ExplainSettings,
  explainSettings,
  narrateRunFolder,
} from "../narrative/mod.ts";
import {
  type LocalCopy,
  localCopy,
  namingInput,
  sha256Of,
} from "../storage/mod.ts";
import { codeVersion, sha256File, StepTimer } from "./manifest.ts";
import {
  mergeSummaryCells,
  summarize,
  type SummaryCells,
  summaryCells,
  summaryFromCells,
  writeSummaryCells,
} from "./summary.ts";
import {
  bookReportingDate,
  fileRowExamples,
  type Partition,
  type PartitionPlan,
  partitionRecord,
  partitionRows,
  partOutputHashes,
  partRunId,
  planPartition,
  rejectRateCheck,
} from "./partition.ts";
import { checkRunFigures } from "./finite.ts";
import {
  type CapitalCells,
  capitalCells,
  capitalSummaryFromCells,
  mergeCapitalCells,
  withCapital,
} from "../capital/mod.ts";
import { sensitivityAnalysis } from "../sensitivity/mod.ts";
import { matrixGradeWarnings } from "../transition_matrix.ts";
import {
  batchFacilities,
  type DisclosureCells,
  disclosureCells,
  disclosuresFromCells,
  mergeDisclosureCells,
  writeCapitalCells,
  writeDisclosureCells,
} from "../disclosure/mod.ts";
import {
  applyPdSources,
  loadPdSources,
  preparePdSourceFrame,
} from "../pd_model/pd_source.ts";
import {
  type LoadedPlugin,
  loadPlugins,
  type PluginContext,
  runCompleteHooks,
  runFrameHooks,
  runReportHooks,
} from "../plugin/mod.ts";

/**
 * The rules file used when none is given: the reference rules of the
 * project (methodology §10), wherever the caller's working directory is.
 */
export const DEFAULT_RULES: string = projectPath("config/ifrs9_rules.yaml");
/**
 * The FX table used when none is given and no table of the reporting date
 * is found ({@link fxDirs}): the project's closing rates.
 */
export const DEFAULT_FX: string = projectPath("config/fx_rates.yaml");

/**
 * Where a run without an FX table looks for `fx_rates_<reporting date>.yaml`,
 * in order: the portfolio's folder (where `deno task generate` writes one
 * per snapshot), then the project's `config/` (whose `fx_rates.yaml`,
 * {@link DEFAULT_FX}, is the last resort).
 */
export function fxDirs(portfolio: string): string[] {
  return [dirname(portfolio), projectPath("config")];
}

/** Rows read from the start of a portfolio to tell its reporting date. */
const DATE_HINT_ROWS = 1000;

/**
 * The reporting date of a portfolio as its first rows tell it, before
 * validation reads the whole file: the most frequent readable date among
 * the first {@link DATE_HINT_ROWS} rows, the latest on a tie (validation's
 * rule over the whole file), or null when none is readable. Only the
 * `reporting_date` column of those rows is read.
 */
export function reportingDateHint(
  raw: LazyFrame,
  schema: Record<string, DataType>,
): Promise<string | null> {
  return bookReportingDate(raw.head(DATE_HINT_ROWS), schema);
}

/**
 * Rows validated, and loans staged, computed and written, per batch when
 * none is given: bounds what a run holds at once (about 0.6 GB per
 * million rows while validating, 0.3 GB per million loan results).
 */
export const DEFAULT_CHUNK_SIZE = 1_000_000;

/** Progress of the ECL computation, for a progress line. */
export interface RunProgress {
  /** Loans computed so far. */
  loansDone: number;
  /** Loans to compute in the run. */
  loansTotal: number;
  /** Milliseconds since the computation started. */
  elapsedMs: number;
}

/** A batch of the book as the run streams it ({@link RunOptions.onBatch}). */
export interface RunBatch {
  /** Validated (rows read) or computed (valid rows staged and computed). */
  phase: "validate" | "compute";
  /** The batch's number in its phase, from 0, in file order. */
  index: number;
  /** Rows in the batch. */
  rows: number;
}

/** Options of {@link runPortfolio}. */
export interface RunOptions {
  /**
   * Portfolio file: CSV, Parquet or Arrow IPC; a path or an
   * `s3://bucket/key` URL (streamed to a temporary file, `lib/storage`).
   */
  portfolio: string;
  /** Rules file. @default {@link DEFAULT_RULES} */
  rules?: string;
  /**
   * FX table.
   * @default `fx_rates_<reporting date>.yaml` beside the portfolio, else in
   *   the project's `config/`, else {@link DEFAULT_FX}
   */
  fx?: string;
  /** Directory the run folder is created in: a path or `s3://bucket/prefix`. */
  out: string;
  /**
   * Name of the run folder. @default `<file stem>-<reporting date>`
   * (`runIdFor`), the date read from the file's first rows
   */
  runId?: string;
  /**
   * Replace a complete run of the same id (on success only).
   * @default false
   */
  replace?: boolean;
  /** Write `report.html` (and `narrative.json`). @default true */
  report?: boolean;
  /**
   * Who writes the narrative, over the rules' `explain` section
   * (docs/narratives.md). @default the rules', else the template
   */
  explain?: Partial<ExplainSettings>;
  /**
   * The run folder the report compares with; by default the latest
   * complete run of the same book beside the new one (`renderRunReport`).
   */
  compare?: string;
  /** Loans per engine batch; the engine's default when absent. */
  batchSize?: number;
  /**
   * Rows validated, and valid loans staged, computed and written, per
   * batch: bounds what the run holds at once (see the module's "Memory").
   * @default {@link DEFAULT_CHUNK_SIZE}
   */
  chunkSize?: number;
  /** Called as batches of loans are computed. */
  onProgress?: (p: RunProgress) => void;
  /** Called when a step starts, with the step's name. */
  onStep?: (step: string) => void;
  /**
   * Called as each batch of the book is validated (`phase` "validate",
   * `rows` read) and as each chunk of valid rows is computed ("compute",
   * `rows` computed): the rows a run holds at once are bounded by
   * `chunkSize` (see the module's "Memory").
   */
  onBatch?: (batch: RunBatch) => void;
  /**
   * Limits for an untrusted portfolio (`--max-bytes`, `--max-rows`): a
   * larger file is refused before the run starts (`scanPortfolio`).
   * @default no limit
   */
  maxBytes?: number;
  /** See `maxBytes`. @default no limit */
  maxRows?: number;
  /**
   * Compute only part `index` of `count` of the book (`--partition K/N`,
   * docs/partitions.md); the folder is `<runId>.part-<K>-of-<N>`, `runId`
   * naming the merged run. @default the whole book
   */
  partition?: Partition;
}

/** What a completed run produced. */
export interface RunResult {
  /** The run's id, the name of its folder. */
  runId: string;
  /** The complete run folder. */
  dir: string;
  /** What was written to `manifest.json`. */
  manifest: Manifest;
  /** What was written to `summary.json`. */
  summary: Summary;
  /** What was written to `data_quality.json`. */
  dataQuality: DataQualityReport;
}

/**
 * Thrown when a run fails after its folder was opened. The message is the
 * cause's, followed by where the failed folder was moved; `cause` holds the
 * original error.
 */
export class RunFailedError extends UserError {
  /** The run that failed. */
  readonly runId: string;
  /** Where its folder was moved (`<run_id>.failed`). */
  readonly failedDir: string;
  /** The step it failed in, when known. */
  readonly step?: string;

  /**
   * The cause's message, then where the failed folder went.
   *
   * @param runId The run that failed.
   * @param failedDir Where its folder was moved (`<run_id>.failed`).
   * @param cause The original error.
   * @param step The step it failed in, when known.
   * @param problems What went wrong while recording the failure (the
   *   manifest could not be written, the folder not moved), appended to
   *   the message after the original error.
   */
  constructor(
    runId: string,
    failedDir: string,
    cause: unknown,
    step?: string,
    problems: readonly string[] = [],
  ) {
    super(
      failureKind(cause),
      `${describeFailure(cause, step)}\n` +
        (problems.length === 0
          ? `Run ${runId} failed; what it wrote is in ${failedDir} (${RUN_FILES.manifest} has status "failed")`
          : `Run ${runId} failed; what it wrote is in ${failedDir}\nWhile recording the failure, also: ${
            problems.join("; ")
          }`),
      { cause },
    );
    this.name = "RunFailedError";
    this.runId = runId;
    this.failedDir = failedDir;
    this.step = step;
  }
}

/**
 * The message of a failure. The library's boundary errors already name the
 * file, row or key; anything else (a Polars error, an I/O error) gets the
 * step it happened in, so the message still says where to look.
 */
function describeFailure(cause: unknown, step?: string): string {
  const message = (cause as Error)?.message ?? String(cause);
  if (step === undefined || cause instanceof UserError) {
    return message;
  }
  return `Run step ${step} failed: ${message}`;
}

/**
 * Runs a portfolio end to end and returns the complete run folder.
 *
 * @throws {RulesError | FxError | PortfolioReadError} when the rules file
 *   or FX table is invalid or the portfolio file cannot be opened, before
 *   more than its header and first rows are read and without creating a
 *   folder.
 * @throws {RunIdError} when the run id is taken or malformed.
 * @throws {RunFailedError} when the run fails after its folder was opened;
 *   its `cause` is the original error (a `PortfolioReadError` for rows
 *   that cannot be read, a `RejectRateError`, an `FxError` for a currency
 *   the table lacks, …).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPortfolio } from "./run.ts";
 *
 * const out = await Deno.makeTempDir();
 * const run = await runPortfolio({
 *   portfolio: "data/sample/portfolio_2025-12-31.parquet",
 *   out,
 *   runId: "2025-12-31",
 * });
 * assert.equal(run.dir, `${out}/2025-12-31`);
 * assert.equal(run.manifest.rows.computed, run.summary.totals.count);
 * // Loss allowance and provision make up the ECL (IFRS 7 B8E).
 * const { ecl, loss_allowance, provision } = run.summary.totals;
 * assert.ok(Math.abs(loss_allowance + provision - ecl) < 1e-6);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function runPortfolio(opts: RunOptions): Promise<RunResult> {
  // A portfolio in object storage is streamed to a temporary file for the
  // scans (lib/storage), removed when the run ends either way.
  const copies: LocalCopy[] = [];
  try {
    // A partitioned input folder: the part's own file (partition.ts).
    const plan = opts.partition === undefined
      ? undefined
      : await planPartition(opts.portfolio, opts.partition);
    return await runFrom(
      plan === undefined ? opts : { ...opts, portfolio: plan.portfolio },
      copies,
      plan,
    );
  } finally {
    for (const copy of copies) await copy.cleanup();
  }
}

/** The SHA-256 of a portfolio copied from object storage, taken on the way. */
const copiedHashes = new WeakMap<RunOptions, string>();

/** {@link runPortfolio}, keeping the local copies it makes in `copies`. */
async function runFrom(
  opts: RunOptions,
  copies: LocalCopy[],
  plan?: PartitionPlan,
): Promise<RunResult> {
  const startedAt = new Date();
  const timer = new StepTimer();
  let current: string | undefined;
  const step: Step = (name, fn) => {
    current = name;
    opts.onStep?.(name);
    return timer.time(name, fn);
  };
  const rulesPath = opts.rules ?? DEFAULT_RULES;
  // The batch size is checked before anything is read or created.
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new UserError(
      "usage",
      `Cannot run portfolio ${opts.portfolio}: chunkSize must be a whole number >= 1, got ${chunkSize}`,
    );
  }

  const config = await step("load_config", async () => {
    if (opts.compare !== undefined) {
      // Checked before any data is read, like the other inputs: a run
      // should not compute for minutes and then fail on its report.
      if (opts.report === false) {
        throw new UserError(
          "usage",
          `--compare ${opts.compare} names the run the report compares with, but --no-report (report: false) skips the report; drop one of them`,
        );
      }
      await readRunSummary(opts.compare, { trusted: true });
    }
    const rules = await loadRules(rulesPath);
    return {
      rules,
      // Imported, built and checked before any data is read
      // (docs/plugins.md): a refused plugin leaves no folder.
      plugins: await loadPlugins(rules, rulesPath),
      // The segments' PD models, read, hashed and checked against their
      // feature contracts before any data is read (docs/pd_models.md).
      pdSources: await loadPdSources(rules, rulesPath),
      fx: opts.fx === undefined ? undefined : await loadFx(opts.fx),
    };
  });
  const rules = config.rules;
  const plugins = config.plugins;
  const pdSources = config.pdSources;
  // Opening the file checks that it exists and has a readable header with
  // every required column (cheap, nothing is collected), so a wrong path or
  // a wrong file leaves no folder behind; without an FX table, its first
  // rows tell the reporting date whose table to load.
  const { raw, dateHint } = await step("scan", async () => {
    const copy = await localCopy(opts.portfolio, { maxBytes: opts.maxBytes });
    copies.push(copy);
    if (copy.sha256 !== undefined) copiedHashes.set(opts, copy.sha256);
    const lf = namingInput(
      copy.path,
      opts.portfolio,
      () =>
        scanPortfolio(copy.path, {
          maxBytes: opts.maxBytes,
          maxRows: opts.maxRows,
        }),
    );
    // A PD model's feature columns must be there; the pd_12m_current it
    // fills is added when the file has none.
    const scanned = preparePdSourceFrame(
      lf,
      pdSources,
      opts.portfolio,
      rules,
    );
    const schema = requireColumns(scanned, opts.portfolio, rules);
    return {
      // Only the part's rows are validated and computed (partition.ts).
      raw: plan === undefined
        ? scanned
        : await partitionRows(scanned, schema, plan, rules),
      dateHint: config.fx === undefined || opts.runId === undefined
        ? await reportingDateHint(scanned, schema)
        : null,
    };
  });
  const mergedRunId = opts.runId ??
    runIdFor(plan?.input ?? opts.portfolio, dateHint, startedAt);
  const runId = plan === undefined ? mergedRunId : partRunId(mergedRunId, plan);
  const fx = config.fx ?? await step(
    "load_config",
    async () =>
      loadFx(
        dateHint === null
          ? DEFAULT_FX
          : await fxFileFor(dateHint, fxDirs(opts.portfolio)),
      ),
  );
  // The reporting currency itself must be convertible before data is read.
  reportingRates(fx, rules.reporting_currency, []);

  const folder = await openRunFolder(opts.out, runId, {
    replace: opts.replace,
    // Never replaced: a folder holding one of them (run_folder/write.ts).
    inputs: [opts.portfolio, rulesPath, fx.file],
  });
  const manifest: Manifest = {
    run_id: runId,
    manifest_version: MANIFEST_VERSION,
    status: "running",
    reporting_date: null,
    started_at: startedAt.toISOString(),
    finished_at: null,
    code_version: "",
    methodology_version: METHODOLOGY_VERSION,
    inputs: {
      portfolio: { path: opts.portfolio, sha256: "" },
      // Its parameters too, so a movement can name what changed.
      rules: {
        path: rulesPath,
        sha256: "",
        parameters: rulesParameters(rules),
      },
      fx: { path: fx.file, sha256: fx.sha256 },
    },
    rows: { read: 0, valid: 0, rejected: 0, computed: 0 },
    timings_ms: timer.timings,
    // Stale staging folders of killed runs removed from `out` (stale.ts).
    warnings: [...folder.staleWarnings],
    ...(plugins.length === 0 ? {} : {
      plugins: plugins.map((p) => ({
        name: p.plugin.name,
        module: p.module,
        sha256: p.sha256,
        options: p.options,
      })),
    }),
  };
  let dir = "";
  let result!: RunResult;
  const run: RunContext = {
    opts,
    plan,
    rules,
    plugins,
    pluginContext: {
      runId,
      reportingDate: "",
      // A deep-frozen copy: a hook that writes to the rules throws (and
      // the run fails naming the plugin) instead of changing the run's.
      rules: deepFrozenCopy(rules),
      portfolio: opts.portfolio,
    },
    fx,
    fxChosen: opts.fx === undefined,
    // A plain Parquet or IPC file is read batch by batch in slices; any
    // other input is first converted (validateBook).
    sliceable: plan === undefined && pdSources.length === 0 &&
      !needsParquet(copies[copies.length - 1].path),
    folder,
    manifest,
    step,
  };
  try {
    // The models score pd_12m_current before validation, so their PDs go
    // through the row checks of given ones; the engine then reads them as
    // it reads the column (docs/pd_models.md, "Scoring in a run").
    const scored = pdSources.length === 0
      ? raw
      : await step("score_pd", async () => {
        const applied = await applyPdSources(raw, pdSources, rules, {
          file: opts.portfolio,
        });
        manifest.pd_models = applied.records;
        manifest.warnings.push(...applied.warnings);
        return applied.frame;
      });
    const out = await runSteps(run, scored);
    if (plan !== undefined) {
      manifest.partition = partitionRecord(plan, mergedRunId, {
        portfolio: manifest.inputs.portfolio.sha256,
        rules: manifest.inputs.rules.sha256,
        fx: manifest.inputs.fx.sha256,
      });
    }
    // No NaN or infinite figure is published; totals too large to be exact
    // to the cent are said (lib/run/finite.ts).
    manifest.warnings.push(
      ...await step(
        "check_figures",
        () => checkRunFigures(folder, out.summary),
      ),
    );
    manifest.status = "complete";
    manifest.finished_at = new Date().toISOString();
    if (opts.report ?? true) {
      // The narrative of the run (lib/narrative), for the report and
      // narrative.json; a model that fails falls back to the template.
      const narrative = await step("narrative", async () => {
        const n = await narrateRunFolder(
          folder,
          manifest,
          explainSettings(rules.explain, opts.explain),
        );
        await folder.writeText("narrative", JSON.stringify(n, null, 2) + "\n");
        return n;
      });
      // Written into the staged folder, so the report is part of what
      // publishing makes visible; it shows the manifest as complete (a
      // failing report fails the run, and no report is published).
      await step("report", async () => {
        const sections = await runReportHooks(plugins, run.pluginContext);
        const html = await renderRunReport(await folder.read(), {
          manifest,
          compare: opts.compare,
          sections,
          narrative,
        });
        await folder.writeText("report", html);
      });
    }
    // A part's files, hashed for the merge to check (partition.ts).
    if (manifest.partition !== undefined) {
      manifest.partition.outputs = await partOutputHashes(folder.dir);
    }
    await folder.writeJson("manifest", manifest);
    dir = await folder.commit();
    result = { runId, dir, manifest, ...out };
  } catch (e) {
    throw await failRun(run, e, current);
  }
  // After publishing (docs/plugins.md): a plugin failing here cannot undo
  // the run, so its error says the folder is published.
  // Not timed: the manifest is written (its timings end with the report).
  try {
    if (plugins.length > 0) opts.onStep?.("plugins");
    await runCompleteHooks(plugins, {
      ...run.pluginContext,
      runDir: dir,
      summary: result.summary,
      manifest: result.manifest,
    });
  } catch (e) {
    if (e instanceof UserError) {
      throw new UserError(
        e.kind,
        `${e.message}\nRun ${runId} is complete and published in ${dir}; only the plugin's own work after it failed`,
        { cause: e },
      );
    }
    throw e;
  }
  return result;
}

/**
 * Records a run that failed after its folder was opened and sets the
 * folder aside as `<run_id>.failed`. The error reported is the original
 * one: whatever goes wrong while failing (a full disk refusing the
 * manifest too) is appended to its message, never put in its place, and
 * the folder is moved whenever the rename can be done (a rename needs no
 * space). A report rendered before a failed publish says "complete", so
 * it is removed: a failed run has no report.html.
 */
async function failRun(
  { folder, manifest }: RunContext,
  cause: unknown,
  step: string | undefined,
): Promise<RunFailedError> {
  // The scratch part files of a streamed run are no output.
  return await failRunFolder(folder, manifest, cause, step, [[
    "the scratch folder .parts could not be removed",
    () => ChunkParts.remove(folder),
  ]]);
}

/**
 * Records a run (or a merge, lib/merge) that failed after its folder was
 * opened and sets the folder aside as `<run_id>.failed` ({@link failRun}:
 * the original error reported, what goes wrong while failing appended).
 *
 * @param cleanups What else to remove first, each with what to say if it
 *   cannot be.
 */
export async function failRunFolder(
  folder: PendingRunFolder,
  manifest: Manifest,
  cause: unknown,
  step: string | undefined,
  cleanups: readonly (readonly [string, () => Promise<unknown>])[] = [],
): Promise<RunFailedError> {
  manifest.status = "failed";
  manifest.error = describeFailure(cause, step);
  manifest.finished_at = new Date().toISOString();
  const problems: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      problems.push(`${what}: ${(e as Error)?.message ?? String(e)}`);
    }
  };
  await attempt(
    `${RUN_FILES.report}, rendered as complete, could not be removed`,
    async () => {
      try {
        await Deno.remove(folder.path("report"));
      } catch (e) {
        // No report was written: nothing to remove.
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    },
  );
  for (const [what, fn] of cleanups) await attempt(what, fn);
  await attempt(
    `${RUN_FILES.manifest} could not be written`,
    () => folder.writeJson("manifest", manifest),
  );
  let failedDir = folder.dir;
  await attempt(
    `the folder could not be moved to ${folder.failedDir}, so it stays in ${folder.dir}`,
    async () => {
      failedDir = await folder.fail();
    },
  );
  return new RunFailedError(folder.runId, failedDir, cause, step, problems);
}

/** Runs `fn` as the named step of a run: timed, and named if it fails. */
type Step = <T>(name: string, fn: () => Promise<T> | T) => Promise<T>;

/** What the steps of one run share. */
interface RunContext {
  opts: RunOptions;
  /** The part computed (`--partition`), resolved against the portfolio. */
  plan?: PartitionPlan;
  /** The rules and FX table, checked before any data was read. */
  rules: Rules;
  fx: FxTable;
  /** The plugins of the rules, in order (docs/plugins.md). */
  plugins: LoadedPlugin[];
  /** What the hooks are told; `reportingDate` once validation knows it. */
  pluginContext: PluginContext;
  /** Whether the run chose `fx` by the reporting date (no `fx` option). */
  fxChosen: boolean;
  /** Whether slices of the scanned portfolio skip to their rows. */
  sliceable: boolean;
  /** The kernel's workers, kept from chunk to chunk. */
  pool?: KernelPool;
  /** The run folder being written. */
  folder: PendingRunFolder;
  /** The manifest, filled in as the steps go. */
  manifest: Manifest;
  step: Step;
}

/** The steps that write into the open folder; fills the manifest as it goes. */
async function runSteps(
  run: RunContext,
  raw: LazyFrame,
): Promise<{ summary: Summary; dataQuality: DataQualityReport }> {
  const { opts, rules, folder, manifest, step } = run;
  // Hashing reads the files from disk while Polars validates on its own
  // threads, so the two overlap; each step's time is its own wall clock.
  const hashing = step("hash_inputs", async () => {
    const [portfolio, rulesHash, version] = await Promise.all([
      copiedHashes.get(opts) ?? sha256File(opts.portfolio),
      // The bytes parsed, hashed when read (no second GET from S3).
      rulesSha256(rules) ?? sha256Of(manifest.inputs.rules.path),
      codeVersion(),
    ]);
    manifest.inputs.portfolio.sha256 = portfolio;
    manifest.inputs.rules.sha256 = rulesHash;
    manifest.code_version = version;
  });
  const [validation] = await Promise.all([validateBook(run, raw), hashing]);
  const report = validation.report;
  // A part's `row N` examples name the file's rows (partition.ts).
  if (run.plan !== undefined) fileRowExamples(report, run.plan);
  manifest.reporting_date = report.reporting_date;
  if (run.fxChosen && report.reporting_date !== null) {
    await confirmFxTable(run, report.reporting_date);
  }
  const fxWarning = report.reporting_date === null
    ? null
    : fxDateWarning(run.fx, report.reporting_date);
  if (fxWarning !== null) manifest.warnings.push(fxWarning);
  manifest.rows.read = report.rows_read;
  manifest.rows.valid = report.rows_valid;
  manifest.rows.rejected = report.rows_rejected;

  // The rejected rows and the data-quality report are written before the
  // reject rate is enforced, so a failed folder keeps both for the data
  // owner. The valid rows are not kept: the loan results carry every
  // computed facility.
  await step("write_validation", async () => {
    await validation.writeRejected();
    await folder.writeJson("dataQuality", report);
    // A part records its share; the merge checks the book's (partition.ts).
    manifest.warnings.push(...rejectRateCheck(report, opts.partition));
  });

  run.pluginContext.reportingDate = report.reporting_date ?? "";
  // The plugins see the valid rows before anything is staged: the whole
  // book as one lazy frame (its batches' part files, when several).
  const valid = run.plugins.length === 0
    ? validation.valid
    : await step("plugins", async () => {
      const lf = await runFrameHooks(
        run.plugins,
        "afterValidate",
        validation.valid.lazy(),
        run.pluginContext,
      );
      return await validation.valid.replacedBy(lf);
    });
  const summary = await computeAndWrite(
    run,
    valid,
    report.reporting_date ?? "",
  );
  // Methodology §8: the run warns, naming the overlays, when the floor at 0
  // changed an ECL, and when an `add` found no facility to go to.
  manifest.warnings.push(...overlayWarnings(summary));

  return { summary, dataQuality: report };
}

/** What validating the book left for the rest of the run. */
interface BookValidation {
  report: DataQualityReport;
  /** The valid rows, batch by batch. */
  valid: ValidRows;
  /** Writes `rejected.parquet` (from the batches' part files, when several). */
  writeRejected(): Promise<void>;
}

/**
 * Validates the book in batches of `chunkSize` rows (`PortfolioValidation`
 * of lib/validation: the whole-book checks first, over two columns), each
 * batch's valid and rejected rows written as part files when there are
 * several, so that no more than one batch is held at once. A CSV of
 * several batches is first converted to a Parquet file in the scratch
 * folder by a streaming sink (a slice of a CSV reads it from its start;
 * one of a Parquet file skips to its row groups). A book of one batch is
 * validated in one query and kept in memory, as it always was.
 */
async function validateBook(
  run: RunContext,
  raw: LazyFrame,
): Promise<BookValidation> {
  const { opts, rules, folder, step } = run;
  const file = opts.portfolio;
  const batchRows = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  return await step("validate", async () => {
    const rows = await portfolioRows(raw, file);
    let source = raw;
    let parts: ChunkParts | undefined;
    if (rows > batchRows) {
      parts = await ChunkParts.open(folder);
      if (!run.sliceable) {
        const path = parts.path("input", 0);
        try {
          await raw.sinkParquet(path, { compression: "lz4" }).collect();
        } catch (e) {
          throw portfolioReadError(file, e);
        }
        source = pl.scanParquet(path);
      }
    }
    const validation = await PortfolioValidation.open(source, rules, {
      file,
      batchRows,
      rows,
      // A part: the whole book's date (partition.ts), not its rows' own.
      ...(run.plan?.bookDate ? { reportingDate: run.plan.bookDate } : {}),
    });
    // The whole-book pass's hashes (8 bytes a row) go before any batch; a
    // book of one batch has no such pass (a full collection costs ~80 ms).
    if (parts !== undefined) collectGarbage();
    if (parts === undefined) {
      const { valid, rejected, rows } = await validation.batch(0);
      opts.onBatch?.({ phase: "validate", index: 0, rows });
      const report = validation.report();
      return {
        report,
        valid: ValidRows.inMemory(valid, batchRows),
        writeRejected: () =>
          Promise.resolve(folder.writeParquet("rejected", rejected)),
      };
    }
    const scratch = parts;
    const count = validation.batchCount;
    const heights: number[] = [];
    // One batch at a time: validating batch i + 1 while batch i is written
    // gained nothing measurable on two cores (Polars uses both) and held
    // two batches.
    for (let i = 0; i < count; i++) {
      const batch = await validation.batch(i);
      opts.onBatch?.({ phase: "validate", index: i, rows: batch.rows });
      batch.valid.writeParquet(scratch.path("valid", i), {
        compression: "lz4",
      });
      batch.rejected.writeParquet(scratch.path("rejected", i));
      heights.push(batch.valid.height);
      collectGarbage();
    }
    if (source !== raw) await Deno.remove(scratch.path("input", 0));
    return {
      report: validation.report(),
      valid: ValidRows.inParts(scratch, heights, batchRows),
      writeRejected: () => scratch.concatenate("rejected", "rejected"),
    };
  });
}

/**
 * A full garbage collection, between batches. A nodejs-polars frame holds
 * native memory V8 does not count, so the frames of a batch no JS value
 * refers to any more are not collected before the next batch allocates its
 * own, and a streamed run would grow by a batch each time (measured: 0.4
 * GB per million rows). Exposed once through `node:v8` (the `gc` of a new
 * context); a no-op where that is refused.
 */
function collectGarbage(): void {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc");
      gc = vm.runInNewContext("gc") as () => void;
    } catch {
      gc = () => {};
    }
  }
  gc();
}
let gc: (() => void) | undefined;

/** Formats whose slices read the file from its start: converted first. */
function needsParquet(path: string): boolean {
  try {
    const format = detectPortfolioFormat(path);
    return format === "csv" || format === "ipc-stream";
  } catch {
    return true;
  }
}

/** Data rows of the (scanned) portfolio; a CSV's records are counted. */
async function portfolioRows(raw: LazyFrame, file: string): Promise<number> {
  try {
    const df = await raw.select(pl.len().alias("n")).collect();
    return Number(df.getColumn("n").get(0));
  } catch (e) {
    throw portfolioReadError(file, e);
  }
}

/**
 * The valid rows of a run, in chunks of at most `chunkSize` rows in file
 * order: one frame in memory for a book of one batch, else the part files
 * validation wrote (one per batch), read back one chunk at a time.
 */
class ValidRows {
  private constructor(
    /** Valid rows in all. */
    readonly height: number,
    /** Chunks, in file order. */
    readonly count: number,
    private readonly read: (c: number) => Promise<DataFrame>,
    /** All the valid rows, lazily. */
    readonly lazy: () => LazyFrame,
    private readonly parts: ChunkParts | undefined,
    private readonly chunkSize: number,
  ) {}

  static inMemory(df: DataFrame, chunkSize: number): ValidRows {
    const count = Math.max(1, Math.ceil(df.height / chunkSize));
    return new ValidRows(
      df.height,
      count,
      (c) =>
        Promise.resolve(
          count === 1 ? df : df.slice(c * chunkSize, chunkSize),
        ),
      () => df.lazy(),
      undefined,
      chunkSize,
    );
  }

  static inParts(
    parts: ChunkParts,
    heights: number[],
    chunkSize: number,
  ): ValidRows {
    const paths = heights.map((_, i) => parts.path("valid", i));
    return new ValidRows(
      heights.reduce((a, b) => a + b, 0),
      heights.length,
      (c) => Promise.resolve(pl.readParquet(paths[c])),
      () => pl.scanParquet(parts.glob("valid")),
      parts,
      chunkSize,
    );
  }

  /** Chunk `c`'s rows. */
  chunk(c: number): Promise<DataFrame> {
    return this.read(c);
  }

  /**
   * The valid rows replaced by `lf` (what the plugins' `afterValidate`
   * made of them): collected for a book in memory, else streamed into a
   * part file of its own and read back in chunks of `chunkSize`.
   */
  async replacedBy(lf: LazyFrame): Promise<ValidRows> {
    if (this.parts === undefined) {
      return ValidRows.inMemory(await lf.collect(), this.chunkSize);
    }
    const path = this.parts.path("plugin_valid", 0);
    await lf.sinkParquet(path, { compression: "lz4" }).collect();
    const height = Number(
      (await pl.scanParquet(path).select(pl.len().alias("n")).collect())
        .getColumn("n").get(0),
    );
    const count = Math.max(1, Math.ceil(height / this.chunkSize));
    const size = this.chunkSize;
    return new ValidRows(
      height,
      count,
      (c) => pl.scanParquet(path).slice(c * size, size).collect(),
      () => pl.scanParquet(path),
      this.parts,
      size,
    );
  }
}

/**
 * Replaces a run's chosen FX table by the one of its validated reporting
 * date when the first rows suggested another date (a file whose first
 * rows are mostly rejected for their date).
 */
async function confirmFxTable(
  run: RunContext,
  reportingDate: string,
): Promise<void> {
  const path = await fxFileFor(reportingDate, fxDirs(run.opts.portfolio));
  if (path === run.fx.file) return;
  run.fx = await run.step("load_config", () => loadFx(path));
  reportingRates(run.fx, run.rules.reporting_currency, []);
  run.manifest.inputs.fx = { path, sha256: run.fx.sha256 };
}

/** A facility chunk's loan results and carrying amounts. */
interface ChunkOutputs {
  results: DataFrame;
  carrying: DataFrame;
  /** The chunk's valid rows: `rating`, `collateral_value` (lib/disclosure). */
  inputs?: DataFrame;
}

/** The chunks of a run of several, and what is done to each. */
interface Chunks {
  count: number;
  /** Chunk `c` computed, with its overlays or leaving them to a plan. */
  compute(c: number, overlays: boolean): Promise<ChunkOutputs>;
  /** The summary cells of a chunk. */
  summarize(outputs: ChunkOutputs): Promise<SummaryCells>;
  /** Where the chunks' files are written until they are concatenated. */
  parts: ChunkParts;
  /** The valid portfolio rows of chunk `c` (IRB capital, lib/capital). */
  inputs(c: number): Promise<DataFrame>;
}

/**
 * Stages, computes and writes the loan results, carrying amounts and
 * summary of the valid rows, one chunk at a time (the batches validation
 * made), so the outputs in memory are bounded by the chunk, not the
 * portfolio. A portfolio of one chunk is written directly; several chunks
 * are written as part files, then stream-concatenated (in chunk order, so
 * the output is the same as in one pass) into the final Parquet files.
 */
async function computeAndWrite(
  run: RunContext,
  valid: ValidRows,
  reportingDate: string,
): Promise<Summary> {
  const { rules, fx, folder, step } = run;
  // Every currency must convert before hours of computing, not after.
  await step("check_fx", async () => {
    const currencies = (await valid.lazy().select(pl.col(COL.currency).unique())
      .collect()).getColumn(COL.currency).toArray() as string[];
    reportingRates(fx, rules.reporting_currency, currencies);
  });
  // What validation worked with (its frame of every check) goes before
  // the computation allocates its own.
  collectGarbage();

  const count = valid.count;
  const t0 = performance.now();
  // Chunk c's first row among the valid rows (for the progress line).
  const offsets: number[] = [];
  const chunk = {
    count,
    compute: async (c: number, overlays: boolean) => {
      const part = await valid.chunk(c);
      offsets[c + 1] = (offsets[c] ?? 0) + part.height;
      run.opts.onBatch?.({ phase: "compute", index: c, rows: part.height });
      return computeChunk(
        run,
        part,
        offsets[c] ?? 0,
        valid.height,
        overlays,
        t0,
      );
    },
    inputs: (c: number) => valid.chunk(c),
    summarize: ({ results, carrying, inputs }: ChunkOutputs) =>
      step("summarize", async () => {
        // The IFRS 7 and capital cells of the chunk (lib/disclosure,
        // lib/capital), from what is in memory: no second pass over the
        // written files.
        disclosureParts.push(
          await disclosureCells(batchFacilities(results, carrying, inputs), {
            simplifiedProducts,
          }),
        );
        if (rules.capital !== undefined) {
          capitalParts.push(await capitalCells(results.lazy(), rules));
        }
        return summaryCells(
          attachCarryingAmounts(results, carrying).lazy(),
          rules,
        );
      }),
  };
  const disclosureParts: DisclosureCells[] = [];
  const capitalParts: CapitalCells[] = [];
  const simplifiedProducts = Object.keys(rules.products).filter((p) =>
    rules.products[p].approach === "simplified"
  );

  let cells: SummaryCells[];
  // The kernel's workers are started once for the run's chunks.
  run.pool = new KernelPool();
  try {
    if (count <= 1) {
      const outputs = await chunk.compute(0, true);
      // Polars writes the files on its threads while it sums the cells.
      const writing = step("write_results", () =>
        Promise.all([
          sinkFrame(outputs.results, folder.path("loanResults")),
          sinkFrame(outputs.carrying, folder.path("carryingAmounts")),
        ]));
      cells = [await chunk.summarize(outputs)];
      await writing;
    } else {
      const chunks = { ...chunk, parts: await ChunkParts.open(folder) };
      // An `add` overlay is shared over everything it selects in the book
      // (methodology §8), not chunk by chunk: the model ECL of every chunk
      // comes first, then one overlay plan applies to each.
      cells = overlaysAllocate(rules.overlays)
        ? await computeTwoPass(run, chunks)
        : await computeOnePass(run, chunks);
      await step("write_results", async () => {
        await chunks.parts.concatenate("loan_results", "loanResults");
        await chunks.parts.concatenate("carrying_amounts", "carryingAmounts");
      });
    }
  } finally {
    run.pool.terminate();
  }
  collectGarbage();
  // Methodology §13: how the facilities of transition-matrix segments were
  // graded (nothing is read when no segment uses a matrix).
  run.manifest.warnings.push(
    ...await matrixGradeWarnings(
      stageFacilities(valid.lazy(), rules),
      rules.segments,
    ),
  );
  // The sensitivity table (lib/sensitivity, docs/sensitivity.md), only when
  // the rules have a `sensitivity:` section: each line an engine pass over
  // the valid rows, summarised like this run.
  const sensitivity = rules.sensitivity === undefined ? undefined : await step(
    "sensitivity",
    () =>
      sensitivityAnalysis(valid.lazy(), rules, fx, {
        reportingDate,
        summarize,
        changingPlugins: run.plugins.filter((p) =>
          p.plugin.afterStaging !== undefined ||
          p.plugin.afterEcl !== undefined
        ).map((p) => p.plugin.name),
        runId: folder.runId,
        batchSize: run.opts.batchSize,
      }),
  );
  const summary = await step("summarize", async () => {
    const merged = mergeSummaryCells(cells);
    // A part keeps its cells for the exact merge (docs/partitions.md).
    if (run.opts.partition !== undefined) {
      writeSummaryCells(folder.dir, merged);
    }
    const summary = summaryFromCells(merged, {
      runId: folder.runId,
      reportingDate,
      rules,
      fx,
    });
    // The IFRS 7 credit-risk tables (lib/disclosure) and the capital
    // summary (lib/capital) from the chunks' cells.
    const disclosureMerged = mergeDisclosureCells(disclosureParts);
    const disclosures = disclosuresFromCells(disclosureMerged, {
      reportingCurrency: summary.reporting_currency,
      rates: summary.fx.rates,
      simplifiedProducts: summary.simplified_products,
    });
    const capital = rules.capital === undefined
      ? undefined
      : mergeCapitalCells(capitalParts);
    if (capital !== undefined) {
      summary.capital = capitalSummaryFromCells(capital, rules);
    }
    // A part keeps them too, for the exact merge (docs/partitions.md).
    if (run.opts.partition !== undefined) {
      writeDisclosureCells(folder.dir, disclosureMerged);
      if (capital !== undefined) writeCapitalCells(folder.dir, capital);
    }
    const written = {
      ...summary,
      disclosures,
      ...(sensitivity === undefined ? {} : { sensitivity }),
    };
    await folder.writeJson("summary", written);
    return written;
  });
  // The scratch folder (the valid rows' part files) goes once nothing
  // reads it.
  await ChunkParts.remove(folder);
  return summary;
}

/**
 * Stages and computes one chunk of the valid rows (`part`, starting at
 * valid row `offset` of `total`), with the overlays or (`overlays` false)
 * leaving them to a plan over the whole book.
 */
async function computeChunk(
  { opts, rules, fx, manifest, step, plugins, pluginContext, pool }: RunContext,
  part: DataFrame,
  offset: number,
  total: number,
  overlays: boolean,
  t0: number,
): Promise<ChunkOutputs> {
  const carrying = await step(
    "carrying_amounts",
    () => carryingAmounts(part.lazy()).collect(),
  );
  // Each chunk's staged rows go through the plugins' afterStaging.
  const staged = plugins.length === 0
    ? stageFacilities(part.lazy(), rules)
    : await step(
      "plugins",
      () =>
        runFrameHooks(
          plugins,
          "afterStaging",
          stageFacilities(part.lazy(), rules),
          pluginContext,
        ),
    );
  const computed = await step(
    "compute_ecl",
    () =>
      computeEcl(staged, rules, {
        batchSize: opts.batchSize,
        fx,
        overlays,
        pool,
        onWarning: (w) => manifest.warnings.push(w),
        onProgress: (loansDone) =>
          opts.onProgress?.({
            loansDone: offset + loansDone,
            loansTotal: total,
            elapsedMs: performance.now() - t0,
          }),
      }),
  );
  // With its overlays, the chunk's results are final: the plugins'
  // afterEcl sees them (else after the overlay plan, computeTwoPass).
  const results = overlays
    ? withCapital(
      await afterEcl({ plugins, pluginContext, step }, computed),
      part,
      rules,
    )
    : computed;
  manifest.rows.computed += results.height;
  return { results, carrying, inputs: part };
}

/** A deep-frozen `structuredClone` of `value` (the plugins' rules). */
function deepFrozenCopy<T>(value: T): T {
  const freeze = (v: unknown) => {
    if (typeof v !== "object" || v === null || Object.isFrozen(v)) return;
    Object.freeze(v);
    for (const x of Object.values(v)) freeze(x);
  };
  const copy = structuredClone(value);
  freeze(copy);
  return copy;
}

/** A chunk's final loan results through the plugins' `afterEcl` hooks. */
async function afterEcl(
  { plugins, pluginContext, step }: Pick<
    RunContext,
    "plugins" | "pluginContext" | "step"
  >,
  results: DataFrame,
): Promise<DataFrame> {
  if (plugins.length === 0) return results;
  return await step("plugins", async () => {
    const lf = await runFrameHooks(
      plugins,
      "afterEcl",
      results.lazy(),
      pluginContext,
    );
    return await lf.collect();
  });
}

/**
 * Each chunk computed with its overlays, written as part files. Chunk
 * c + 1 is staged and computed (the kernel on the workers) while Polars
 * writes chunk c and sums its cells, so at most two chunks are held.
 */
async function computeOnePass(
  { step }: RunContext,
  { count, compute, summarize, parts }: Chunks,
): Promise<SummaryCells[]> {
  const cells: SummaryCells[] = [];
  let pending: Promise<void> = Promise.resolve();
  for (let c = 0; c < count; c++) {
    const outputs = await compute(c, true);
    await pending;
    collectGarbage();
    pending = (async () => {
      await step("write_results", () =>
        Promise.all([
          sinkFrame(outputs.results, parts.path("loan_results", c)),
          sinkFrame(outputs.carrying, parts.path("carrying_amounts", c)),
        ]));
      cells[c] = await summarize(outputs);
    })();
    // A failure shows when awaited; meanwhile it is no unhandled rejection.
    pending.catch(() => {});
  }
  await pending;
  return cells;
}

/**
 * Writes `df` as Parquet (LZ4) on Polars' threads, leaving this one free
 * for the next chunk; the values are those `writeParquet` writes.
 */
async function sinkFrame(df: DataFrame, path: string): Promise<void> {
  await df.lazy().sinkParquet(path, { compression: "lz4" }).collect();
}

/**
 * The model ECL of every chunk first (written as part files, with the
 * overlay cells of each), then one overlay plan over the whole book
 * applied to each chunk: the same figures as one pass, to rounding.
 */
async function computeTwoPass(
  run: RunContext,
  { count, compute, summarize, parts, inputs }: Chunks,
): Promise<SummaryCells[]> {
  const { rules, fx, manifest, step } = run;
  const overlayParts: DataFrame[] = [];
  for (let c = 0; c < count; c++) {
    const { results, carrying } = await compute(c, false);
    await step("write_results", () => {
      results.writeParquet(parts.path("model", c));
      carrying.writeParquet(parts.path("carrying_amounts", c));
    });
    overlayParts.push(
      await step(
        "overlays",
        () => overlayCells(results.lazy(), rules.overlays).collect(),
      ),
    );
    collectGarbage();
  }
  const plan = await step(
    "overlays",
    () =>
      overlayPlan(rules.overlays, mergeOverlayCells(overlayParts), {
        fx,
        reportingCurrency: rules.reporting_currency,
        onWarning: (w) => manifest.warnings.push(w),
      }),
  );
  const cells: SummaryCells[] = [];
  for (let c = 0; c < count; c++) {
    // The overlays change `ecl`, so `ecl_rc` follows them, last as in
    // one pass.
    const results = await afterEcl(
      run,
      await step(
        "overlays",
        () =>
          withReportingCurrency(
            applyOverlayPlan(pl.scanParquet(parts.path("model", c)), plan),
            fx,
            rules.reporting_currency,
          ).collect(),
      ),
    );
    const part = await inputs(c);
    const withK = withCapital(results, part, rules);
    await step("write_results", async () => {
      withK.writeParquet(parts.path("loan_results", c));
      await Deno.remove(parts.path("model", c));
    });
    const carrying = pl.readParquet(parts.path("carrying_amounts", c));
    cells.push(await summarize({ results: withK, carrying, inputs: part }));
    collectGarbage();
  }
  return cells;
}

/**
 * Part files of a run computed in chunks, in a scratch folder inside the
 * staged run folder (the valid and rejected rows of each validation
 * batch, each chunk's loan results and carrying amounts); zero-padded
 * chunk numbers keep a glob in chunk order.
 */
class ChunkParts {
  private constructor(
    private readonly folder: PendingRunFolder,
    private readonly dir: string,
  ) {}

  static async open(folder: PendingRunFolder): Promise<ChunkParts> {
    const dir = join(folder.dir, ".parts");
    await Deno.mkdir(dir, { recursive: true });
    return new ChunkParts(folder, dir);
  }

  /** Removes the scratch folder of `folder`, if any. */
  static async remove(folder: PendingRunFolder): Promise<void> {
    await Deno.remove(join(folder.dir, ".parts"), { recursive: true })
      .catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
  }

  path(kind: string, c: number): string {
    return join(this.dir, `${kind}_${String(c).padStart(6, "0")}.parquet`);
  }

  /** Every part file of `kind`, in chunk order. */
  glob(kind: string): string {
    return join(this.dir, `${kind}_*.parquet`);
  }

  /**
   * Streams the parts of `kind` into the run's `file` (a nodejs-polars
   * sink writes in morsels, and only on collect()), then removes them.
   */
  async concatenate(
    kind: string,
    file: "rejected" | "loanResults" | "carryingAmounts",
  ): Promise<void> {
    await pl.scanParquet(this.glob(kind))
      .sinkParquet(this.folder.path(file), { compression: "lz4" }).collect();
    for await (const e of Deno.readDir(this.dir)) {
      if (e.name.startsWith(`${kind}_`)) {
        await Deno.remove(join(this.dir, e.name));
      }
    }
  }
}
