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
 *   loadFx,
 *   loadRules,
 *   projectPath,
 *   scanPortfolio,
 *   stageFacilities,
 *   validatePortfolio,
 *   withRules,
 * } from "./mod.ts";
 *
 * const rules = await loadRules(projectPath("config/sample_rules.yaml"));
 * // The closing rates of the reporting date (IAS 21 §23).
 * const fx = await loadFx(projectPath("config/fx_rates.yaml"));
 * const file = projectPath("data/sample/portfolio_2025-12-31.parquet");
 * const { valid, report } = await validatePortfolio(scanPortfolio(file), rules, { file });
 * const staged = stageFacilities(valid.lazy(), rules); // methodology §2-§3
 * const results = await computeEcl(staged, rules, { fx }); // methodology §4-§9
 * // Every row read is computed (the sample is clean), one result row each.
 * assert.equal(report.rows_rejected, 0);
 * assert.equal(results.height, report.rows_read);
 * // Methodology §8: the allowance is never negative.
 * assert.equal(results.getColumn("ecl").min(), 0);
 * // `ecl` is in each facility's currency (EUR, MXN, COP, ...) and does not
 * // add up across them; `ecl_rc` is the same in the reporting currency.
 * // Its sum is the run's total (summary.json, the demo's EUR figure), and
 * // a sub-portfolio's total is the sum over its rows.
 * const total = results.getColumn("ecl_rc").sum() as number;
 * assert.equal(Math.round(total * 100) / 100, 1_028_449.75);
 * // Rules changed in code are checked like a rules file (methodology §10).
 * const heavier = rules.scenarios.map((s) => ({ ...s, weight: 0.5 }));
 * assert.throws(
 *   () => withRules(rules, { scenarios: heavier }),
 *   /key scenarios: weights must sum to 1 \(methodology §8\), got 1\.5/,
 * );
 * ```
 *
 * `runPortfolio` does all of it and writes a run folder; `readRunFolder`
 * reads one back; `computeMovement` compares two (IFRS 7 §35H-§35I).
 *
 * @module
 */

// Failures a user can act on, and each kind's exit code.
export {
  debugRequested,
  EXIT_CODES,
  exitCodeFor,
  type FailureKind,
  failureKind,
  failureMessage,
  UserError,
} from "./errors.ts";

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
  type RulesPatch,
  type Scenario,
  type ScenarioAdjustment,
  type SegmentRules,
  segmentRules,
  type StagingRules,
  type UpperBound,
  type ValidationRules,
  withRules,
} from "./rules.ts";
export { FxError, fxFileFor, type FxTable, loadFx } from "./fx.ts";
export { projectPath } from "./project.ts";

// Reading and validating a portfolio (methodology §1).
export {
  PortfolioReadError,
  scanPortfolio,
  type ScanPortfolioOptions,
} from "./io/mod.ts";
export {
  type DataQualityReport,
  PLAUSIBILITY_LIMITS,
  PLAUSIBILITY_RULES,
  RejectRateError,
  type RuleReport,
  type ValidateOptions,
  validatePortfolio,
  type ValidationResult,
  VALUE_RULES,
} from "./validation/mod.ts";
export {
  type ValidationOutputs,
  type WriteValidationOptions,
  writeValidationOutputs,
} from "./run_folder/mod.ts";

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
  REPORTING_CURRENCY_COLUMNS,
  stageFacilities,
  type StagingRule,
  stagingRules,
  withReportingCurrency,
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
  entryExists,
  type FileWriter,
  type Group,
  type InputRef,
  type Location,
  type Manifest,
  MOVEMENT_FILES,
  OutputLocationError,
  type PublishOptions,
  readRunFolder,
  type ReadRunOptions,
  type RulesParameter,
  type RulesRef,
  RUN_FILES,
  RUN_STATUS,
  type RunFolder,
  RunFolderReadError,
  type Staging,
  type Summary,
} from "./run_folder/mod.ts";

// Reports, the movement between two dates and charts.
export {
  type DashboardOptions,
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
  type StarSchemaOptions,
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
  type WaterfallOptions,
  type WriteMovementOptions,
  writeMovementOutputs,
} from "./movement/mod.ts";
export {
  type JupyterMimeBundle,
  PlotFigure,
  type PlotOptions,
  renderPlot,
} from "./plot/mod.ts";
export {
  type AmountUnit,
  formatAmount,
  formatCount,
  formatPercent,
  type SignOptions,
} from "./format.ts";
export type { DataFrame, DataType, Expr, LazyFrame, Series } from "./frame.ts";

// Plugins (docs/plugins.md): the contract a plugin module implements, and
// loading the plugins a rules file lists.
export type {
  CompletedRunContext,
  FrameHook,
  Plugin,
  PluginContext,
  PluginFactory,
  ReportSection,
} from "./plugin/mod.ts";
export {
  type FrameHookName,
  type LoadedPlugin,
  loadPlugins,
  PLUGIN_HOOKS,
  PluginError,
  type PluginHook,
  runFrameHooks,
} from "./plugin/mod.ts";
export type { PluginRef } from "./rules.ts";
export type { PluginRecord } from "./run_folder/mod.ts";

// The run server (`deno task serve`, docs in README "Run server"): the HTTP
// app and its MCP door, its configuration, logs, tokens, job registry,
// queue and metrics.
export {
  type AppOptions,
  createApp,
  createJobQueue,
  createJobRegistry,
  createJsonLogger,
  createServerMetrics,
  type JobKind,
  type JobQueue,
  type JobQueueOptions,
  type JobRecord,
  JobRefusedError,
  type JobRegistry,
  type JobRegistryOptions,
  type JobStatus,
  type ListenConfig,
  listenConfigFromEnv,
  type LogFields,
  type Logger,
  MIN_JWT_SECRET_BYTES,
  type MintOptions,
  mintToken,
  type MovementRequest,
  type RunRequest,
  type Scope,
  SCOPES,
  type ServerApp,
  type ServerConfig,
  serverConfigFromEnv,
  type ServerDeps,
  type ServerMetrics,
  type ServerMetricsOptions,
} from "./server/mod.ts";
