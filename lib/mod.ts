/**
 * The IFRS 9 expected-credit-loss library: what a notebook, a task or a
 * plugin needs, and nothing else. Each name below is documented where it is
 * defined; the area modules (`lib/engine/mod.ts`, `lib/run/mod.ts`, …) hold
 * the internals the library's own areas share.
 *
 * One run, step by step (each step takes and returns lazy frames where it
 * can, so a notebook can stop after any of them and look):
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   computeEcl,
 *   loadRules,
 *   projectPath,
 *   scanPortfolio,
 *   stageFacilities,
 *   validatePortfolio,
 * } from "./mod.ts";
 *
 * const rules = await loadRules(projectPath("config/sample_rules.yaml"));
 * const file = projectPath("data/sample/portfolio_2025-12-31.parquet");
 * const { valid, report } = await validatePortfolio(scanPortfolio(file), rules, { file });
 * const staged = stageFacilities(valid.lazy(), rules); // methodology §2-§3
 * const results = await computeEcl(staged, rules); // methodology §4-§9
 * // Every row read is computed (the sample is clean), one result row each.
 * assert.equal(report.rows_rejected, 0);
 * assert.equal(results.height, report.rows_read);
 * // Methodology §8: the allowance is never negative.
 * assert.equal(results.getColumn("ecl").min(), 0);
 * ```
 *
 * `runPortfolio` does all of it and writes a run folder; `readRunFolder`
 * reads one back; `computeMovement` compares two (IFRS 7 §35H-§35I).
 *
 * @module
 */

// The portfolio and its results (methodology §1, §9).
export {
  COL,
  type ColumnKind,
  type ColumnSpec,
  POLARS_TYPE,
  PORTFOLIO_COLUMNS,
  PORTFOLIO_SCHEMA,
  type PortfolioColumn,
  RESULT_COLUMNS,
  scenarioEclColumn,
  STAGE_REASON,
} from "./schema.ts";

// The rules file (methodology §10) and the FX table.
export {
  type Approach,
  loadRules,
  type Overlay,
  type OverlayFilter,
  parseRules,
  type PdCurve,
  type ProductRules,
  type ProvisionBucket,
  type ProvisionMatrix,
  type ProvisionRates,
  type Repayment,
  REPAYMENTS,
  type Rules,
  RulesError,
  type RulesIssue,
  type Scenario,
  type ScenarioAdjustment,
  type SegmentRules,
  segmentRules,
  type StagingRules,
  type UpperBound,
  type ValidationRules,
} from "./rules.ts";
export { FxError, fxFileFor, type FxTable, loadFx } from "./fx.ts";
export { projectPath } from "./project.ts";

// Reading and validating a portfolio (methodology §1).
export { PortfolioReadError, scanPortfolio } from "./io/mod.ts";
export {
  type DataQualityReport,
  RejectRateError,
  type RuleReport,
  type ValidateOptions,
  validatePortfolio,
  type ValidationOutputs,
  type ValidationResult,
  VALUE_RULES,
  type WriteValidationOptions,
  writeValidationOutputs,
} from "./validation/mod.ts";

// A synthetic book to try things on (docs/generator.md).
export {
  generateBook,
  type GeneratedSnapshot,
  type GenerateOptions,
  generatePortfolio,
  type GenerateProgress,
  type GenerateResult,
  type InjectedRow,
  type InjectedSidecar,
  snapshotFiles,
} from "./generate/mod.ts";

// The engine (methodology §2-§9).
export {
  applyOverlays,
  computeEcl,
  type ComputeEclOptions,
  METHODOLOGY_VERSION,
  type OverlayOptions,
  projectFacility,
  stageFacilities,
  type StagingRule,
  stagingRules,
} from "./engine/mod.ts";
export { allowanceSplit, LOSS_ALLOWANCE, PROVISION } from "./allowance.ts";

// Runs and run folders.
export {
  RunFailedError,
  type RunOptions,
  runPortfolio,
  type RunProgress,
  type RunResult,
  summarize,
  type SummarizeOptions,
} from "./run/mod.ts";
export {
  attachCarryingAmounts,
  type CurrencyGroup,
  type Group,
  type InputRef,
  type Location,
  type Manifest,
  MOVEMENT_FILES,
  type PublishOptions,
  readRunFolder,
  RUN_FILES,
  RUN_STATUS,
  type RunFolder,
  RunFolderReadError,
  type Staging,
  type Summary,
} from "./run_folder/mod.ts";

// Reports, the movement between two dates and charts.
export {
  type RunCharts,
  runCharts,
  type RunReportOptions,
  writeDashboard,
  writeRunReport,
} from "./report/mod.ts";
export {
  exportStarSchema,
  STAR_TABLES,
  type StarSchemaExport,
} from "./report/mod.ts";
export {
  type AllowanceSplitAt,
  type ByColumn,
  type ColumnAmounts,
  COLUMNS as MOVEMENT_COLUMNS,
  computeMovement,
  type MigrationCell,
  migrationHeatmap,
  type MigrationState,
  type Movement,
  type MovementCheck,
  MovementError,
  type MovementFiles,
  movementLines,
  type MovementOptions,
  type MovementRunRef,
  type ProductMovement,
  type Reconciliation,
  RECONCILIATION_LINES,
  type ReconciliationLine,
  type ReconciliationLineKey,
  type SimplifiedByStageAt,
  type StageColumn,
  type StageKey,
  waterfallChart,
  type WaterfallColumn,
  writeMovementOutputs,
} from "./movement/mod.ts";
export {
  type JupyterMimeBundle,
  PlotFigure,
  type PlotOptions,
  renderPlot,
} from "./plot/mod.ts";
export { formatAmount, formatCount, formatPercent } from "./format.ts";
export type { DataFrame, DataType, Expr, LazyFrame, Series } from "./frame.ts";
