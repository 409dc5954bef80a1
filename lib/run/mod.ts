/**
 * Runs: one portfolio from files to a run folder (architecture.md, "A run's
 * outputs"), and the pieces a notebook or another door can use alone.
 *
 * ```
 * rules + FX table (checked before any data is read)
 *   -> scan, validate (lib/io, lib/validation)   rejected.parquet, data_quality.json
 *   -> stage, compute ECL (lib/engine)           loan_results.parquet, carrying_amounts.parquet
 *   -> summarize (FX to reporting currency)      summary.json
 *   -> report (lib/report)                       report.html
 *   -> manifest, rename                          manifest.json, <out>/<run_id>/
 * ```
 *
 * | what | file |
 * |---|---|
 * | `runPortfolio`, run-folder contents | `run.ts` |
 * | the partial / final / failed folder life cycle | `folder.ts` |
 * | `summary.json`: totals by stage, product, segment, region, currency | `summary.ts` |
 * | `manifest.json`: hashes, code version, rows, timings | `manifest.ts` |
 * | progress line and tables the tasks print | `console.ts` |
 *
 * @example
 * ```ts
 * import { runPortfolio } from "./mod.ts";
 * const run = await runPortfolio({
 *   portfolio: "data/sample/portfolio_2025-12-31.parquet",
 *   out: await Deno.makeTempDir(),
 *   runId: "2025-12-31",
 * });
 * run.summary.by_stage;
 * ```
 *
 * @module
 */
export {
  carryingAmounts,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_FX,
  DEFAULT_RULES,
  RUN_FILES,
  RunFailedError,
  type RunOptions,
  runPortfolio,
  type RunProgress,
  type RunResult,
} from "./run.ts";
export {
  defaultRunId,
  openRunFolder,
  type OpenRunFolderOptions,
  type PendingRunFolder,
  runFolderPath,
  RunIdError,
} from "./folder.ts";
export {
  attachCarryingAmounts,
  coverageRatio,
  type CurrencyGroup,
  GROSS_CARRYING_AMOUNT,
  type Group,
  mergeSummaryCells,
  NULL_KEY,
  overlayWarnings,
  summarize,
  type SummarizeOptions,
  type Summary,
  type SummaryCells,
  summaryCells,
  summaryFromCells,
} from "./summary.ts";
export {
  codeVersion,
  type InputRef,
  type Manifest,
  sha256File,
  StepTimer,
} from "./manifest.ts";
export {
  dataQualityTable,
  errorMessage,
  type ProgressLine,
  progressLine,
  stageTable,
} from "./console.ts";
