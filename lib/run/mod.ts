/**
 * Runs: one portfolio from files to a run folder (architecture.md, "A run's
 * outputs"), and the pieces a notebook or another door can use alone. The
 * folder itself (layout, reading, atomic writing) is `lib/run_folder`'s.
 *
 * ```
 * rules + FX table (checked before any data is read)
 *   -> scan, validate (lib/io, lib/validation)   rejected.parquet, data_quality.json
 *   -> stage, compute ECL (lib/engine)           loan_results.parquet, carrying_amounts.parquet
 *   -> summarize (FX to reporting currency)      summary.json
 *   -> report (lib/report)                       report.html
 *   -> manifest, publish (lib/run_folder)        manifest.json, <out>/<run_id>/
 * ```
 *
 * | what | file |
 * |---|---|
 * | `runPortfolio`: the steps, in chunks of the portfolio | `run.ts` |
 * | computing `summary.json`: totals by stage, product, segment, region, currency | `summary.ts` |
 * | what the manifest measures: hashes, code version, timings | `manifest.ts` |
 * | progress line and tables the tasks print | `console.ts` |
 * | the final check before publishing: no NaN or infinite figure | `finite.ts` |
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPortfolio } from "./mod.ts";
 * const tmp = await Deno.makeTempDir();
 *
 * const run = await runPortfolio({
 *   portfolio: "data/sample/portfolio_2025-12-31.parquet",
 *   out: tmp,
 *   runId: "2025-12-31",
 * });
 * assert.equal(run.manifest.status, "complete");
 * assert.deepEqual(run.summary.by_stage.map((g) => g.key), ["1", "2", "3"]);
 * assert.equal(run.summary.totals.count, run.manifest.rows.computed);
 * await Deno.remove(tmp, { recursive: true });
 * ```
 *
 * @module
 */
export {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_FX,
  DEFAULT_RULES,
  failRunFolder,
  type RunBatch,
  RunFailedError,
  type RunOptions,
  runPortfolio,
  type RunProgress,
  type RunResult,
} from "./run.ts";
export {
  mergeSummaryCells,
  readSummaryCells,
  summarize,
  type SummarizeOptions,
  type SummaryCells,
  summaryCells,
  summaryFromCells,
  writeSummaryCells,
} from "./summary.ts";
export {
  byFilePortfolioSha256,
  fnv1a32,
  FNV1A32_OFFSET_BASIS,
  FNV1A32_PRIME,
  loanIdParts,
  MAX_HASHED_BYTES,
  MAX_PARTITIONS,
  parsePartition,
  type Partition,
  PARTITION_ENV_VARS,
  type PartitionPlan,
  partitionRecord,
  partitionRows,
  partRunId,
  planPartition,
  refuseAllocatingOverlays,
  rejectRateCheck,
} from "./partition.ts";
export { codeVersion, sha256File, StepTimer } from "./manifest.ts";
export {
  dataQualityTable,
  type ProgressLine,
  progressLine,
  stageTable,
  table,
  warningLine,
} from "./console.ts";
export {
  checkFiniteColumns,
  checkFiniteFrame,
  checkFiniteSummary,
  checkRunFigures,
  type CheckRunFiguresOptions,
} from "./finite.ts";
