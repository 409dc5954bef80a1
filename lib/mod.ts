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

// PD models: development sample (lib/pd_model/sample.ts): a generated (or
// any multi-period) book to a modelling table, characteristics at t and
// default within 12 months; the generator's borrower characteristics and
// the true coefficients of its structural model (docs/generator.md).
export {
  type BookInput,
  type BookSnapshot,
  buildDevelopmentSample,
  type DevelopmentSample,
  type DevelopmentSampleOptions,
  type DevelopmentSampleReport,
  EXCLUSION_REASONS,
  type ExclusionReason,
  type ObservationCount,
  writeDevelopmentSample,
  type WriteDevelopmentSampleOptions,
} from "./pd_model/sample.ts";
export {
  CHARACTERISTICS,
  EMPLOYMENT_TYPES,
  linearPredictor,
  RATING_SCALE,
} from "./generate/mod.ts";
export { CHARACTERISTIC_COLUMNS, type CharacteristicSpec } from "./schema.ts";

// The engine (methodology §2-§9).
export {
  applyOverlays,
  computeEcl,
  type ComputeEclOptions,
  KernelPool,
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
  type RunBatch,
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

// Partitioned runs and the exact merge (docs/partitions.md): which part of
// a book a run computes (`--partition K/N`, the FNV-1a 32 hash of loan_id
// or one file of a folder), and merging the parts' folders into one run.
export {
  fnv1a32,
  MAX_PARTITIONS,
  parsePartition,
  type Partition,
  PARTITION_ENV_VARS,
  partRunId,
} from "./run/mod.ts";
export type {
  MergedPart,
  PartitionBy,
  PartitionRecord,
} from "./run_folder/mod.ts";
export {
  mergeDataQuality,
  type MergeOptions,
  type MergeResult,
  mergeRuns,
} from "./merge/mod.ts";

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
  movementNarrative,
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

// ECL walk (lib/walk, docs/movement.md "ECL walk"): the change in the
// allowance attributed to its drivers by sequential substitution, re-running
// the engine from the opening run's inputs to the closing run's.
export {
  checkSteps,
  computeWalk,
  DRIVER_LABELS,
  readWalkInputs,
  type Walk,
  WALK_DRIVERS,
  walkBetween,
  type WalkByStage,
  walkChart,
  type WalkDriver,
  type WalkFacility,
  type WalkInputs,
  WalkInputsError,
  walkLines,
  type WalkOptions,
  type WalkOutcome,
  type WalkStep,
  walkTable,
} from "./walk/mod.ts";
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

// PD models: validation statistics (lib/pd_model/metrics.ts): discriminatory
// power, population stability, calibration by grade and traffic lights; the
// master scale that grades PDs.
export {
  auc,
  type BinomialInput,
  binomialInterval,
  binomialTest,
  type CalibrationInput,
  type CalibrationRow,
  calibrationTable,
  categoryShares,
  chiSquareSurvival,
  gini,
  type GradeFigures,
  hosmerLemeshow,
  type HosmerLemeshowOptions,
  type HosmerLemeshowResult,
  ksStatistic,
  type Labels,
  numericShares,
  psi,
  PSI_MODERATE,
  PSI_SHARE_FLOOR,
  PSI_SIGNIFICANT,
  psiFromSamples,
  type PsiOptions,
  type PsiReading,
  psiReading,
  psiTerms,
  quantileEdges,
  type RocCurve,
  rocCurve,
  type SamplePsi,
  type Scores,
  trafficLight,
  type TrafficLightBoundary,
  type TrafficLightLevels,
  type TrafficLightRow,
  type TrafficLightZone,
} from "./pd_model/metrics.ts";
export {
  checkMasterScale,
  DEFAULT_MASTER_SCALE,
  gradeIndex,
} from "./pd_model/master_scale.ts";
export type { BinnedShares, MasterScaleGrade } from "./pd_model/types.ts";

// PD models: monitoring (lib/pd_model/monitor.ts, monitor_page.ts): the
// development reference, population stability and the backtest by grade,
// and the monitor.html page (`deno task monitor-pd`).
export {
  type Backtest,
  type BacktestGrade,
  checkMonitorOutput,
  developmentReference,
  MONITOR_FILES,
  MONITOR_MODEL_FILES,
  type MonitorFilesInput,
  type MonitorInput,
  type MonitorOptions,
  monitorPd,
  monitorPdFiles,
  type PdMonitoring,
  readPdModelJson,
  REFERENCE_BINS,
  type StabilityBin,
  type StabilityRow,
  writeMonitorOutputs,
} from "./pd_model/monitor.ts";
export { renderMonitorPage } from "./pd_model/monitor_page.ts";

// PD models: gradient-boosted trees (lib/pd_model/gbt.ts), the challenger:
// training, scoring, TreeSHAP contributions, importance, JSON form and ONNX.
export {
  type FeatureImportance,
  type GbtContributions,
  gbtContributions,
  gbtFromJson,
  gbtImportance,
  type GbtModel,
  type GbtOptions,
  type GbtParams,
  type GbtPrediction,
  gbtToOnnx,
  type GbtTree,
  gbtValidationSplit,
  MARGIN_OUTPUT,
  predictGbt,
  trainGbt,
} from "./pd_model/gbt.ts";
export type { FlatTree } from "./pd_model/tree_shap.ts";
export type { EncodedData, FeatureSpec } from "./pd_model/types.ts";

// PD models: scorecard (lib/pd_model/binning.ts, logistic.ts, scorecard.ts),
// the champion: weight-of-evidence binning and information value, logistic
// regression by Newton-Raphson, points scaling, calibration, reason codes,
// the scorecard table, JSON form and ONNX export.
export {
  assignBins,
  binCharacteristics,
  BINNING_DEFAULTS,
  type BinningOptions,
  type CharacteristicBinning,
  type WoeBin,
  woeTable,
  ZERO_CELL_CORRECTION,
} from "./pd_model/binning.ts";
export {
  fitLogistic,
  INTERCEPT,
  type LogisticFit,
  type LogisticOptions,
} from "./pd_model/logistic.ts";
export {
  calibrationShift,
  fitScorecard,
  type PointsScaling,
  pointsScaling,
  reasonCodes,
  SCALING_DEFAULTS,
  type Scorecard,
  type ScorecardCalibration,
  type ScorecardCharacteristic,
  scorecardCsv,
  scorecardFromJson,
  type ScorecardOptions,
  type ScorecardScores,
  scorecardTable,
  type ScorecardTableRow,
  scorecardToJson,
  scorecardToOnnx,
  scoreScorecard,
} from "./pd_model/scorecard.ts";

// PD models: training (lib/pd_model/train.ts, `deno task train-pd`): data in,
// a model folder out (model.onnx, model.json, metrics.json, validation.html,
// scorecard.csv), with the feature rule and the splits it uses (split.ts:
// whole facilities held out, or the last observation date).
export {
  ONNX_TOLERANCE,
  type PartMetrics,
  PD_MODEL_FILES,
  type PdMetricsFile,
  type SplitRecord,
  subsetRows,
  type TrainedPdModel,
  trainPdModel,
  type TrainPdOptions,
  writePdModelFolder,
  type WritePdModelOptions,
} from "./pd_model/train.ts";
export {
  facilitySplit,
  groupCodes,
  HOLD_OUTS,
  type HoldOut,
  latestDateSplit,
  type RowSplit,
} from "./pd_model/split.ts";
export {
  checkHeldOutPart,
  checkSeed,
  type DataFile,
  type FeatureSelection,
  MAX_AUTO_CATEGORIES,
  MIN_HELD_OUT_CLASS,
  MISSING_WORDS,
  numberCell,
  NUMERIC_SHARE,
  parseNumberText,
  readDataFile,
  selectFeatures,
  type SkippedColumn,
  type Split,
  stratifiedSplit,
} from "./pd_model/train_data.ts";
export type {
  DevelopmentReference,
  PdModelFile,
  PdModelKind,
  TrainingRecord,
} from "./pd_model/types.ts";

// PD models: scoring (lib/pd_model/contract.ts, onnx_score.ts, pd_source.ts,
// score_data.ts; docs/pd_models.md "Scoring in a run"): the feature contract
// and its check against an ONNX model, scoring through ONNX Runtime, a
// segment's PD source in the rules, and `deno task score-pd`.
export {
  checkModelContract,
  contractDifferences,
  embeddedContract,
  type EncodedFeatures,
  encodeFeatures,
  missingFeatureColumns,
  missingShareWarnings,
  normalizeContract,
  type OnnxPdSource,
  parseFeatureContract,
  type PdSource,
  requireFeatureColumns,
  type RowName,
  type SessionSignature,
  type ValueMetadata,
} from "./pd_model/contract.ts";
export {
  DEFAULT_SCORE_BATCH,
  loadPdModel,
  type LoadPdModelOptions,
  MAX_MODEL_BYTES,
  type ModelBytes,
  type PdModel,
  pdModelFromBytes,
  type PdScores,
  readModelBytes,
  releasePdModel,
  scorePd,
  type ScorePdOptions,
  sha256Hex,
} from "./pd_model/onnx_score.ts";
export {
  type AppliedPdSources,
  applyPdSources,
  type LoadedPdSource,
  loadPdSources,
  modelPath,
  PD_COLUMN,
  type PdSourceRecord,
  type PdSourceRules,
  preparePdSourceFrame,
} from "./pd_model/pd_source.ts";
export {
  checkNewOutputFile,
  type ModelFolder,
  type NewOutputFileOptions,
  openModelFolder,
  type PdData,
  readPdData,
  SCORE_REASONS,
  SCORED_COLUMNS,
  type ScoreDataInput,
  type ScoredData,
  scorePdData,
  withModelFolder,
  writeNewOutputFile,
} from "./pd_model/score_data.ts";
export type { PdModelRecord } from "./run_folder/mod.ts";
export type { ContractFeature } from "./pd_source_rules.ts";
export type { FeatureKind, FeatureTransform } from "./pd_model/types.ts";
export {
  type AttributeValue,
  buildPdModel,
  type GraphSpec,
  type NodeSpec,
  type OutputSpec,
  RESERVED_FEATURE_NAMES,
  RESERVED_FEATURE_PREFIXES,
  reservedFeatureName,
  type TensorSpec,
} from "./pd_model/onnx_build.ts";

// Narratives (lib/narrative, docs/narratives.md): the fact sheet of a run
// and its movement, the template narrative (the default, offline), the
// Vertex AI provider with its figure check and fallback, narrative.json.
export {
  buildFactSheet,
  checkNarrative,
  type Contributor,
  type ExplainSettings,
  explainSettings,
  type Fact,
  type FactKind,
  type FactSheet,
  type FactSources,
  type MovementFacts,
  type Narrative,
  type NarrativeCheck,
  narrativeParagraphs,
  type NarrativeProvider,
  type Paragraph,
  type QuotedFigure,
  quotedFigures,
  readFactSheet,
  readMovementFacts,
  recordedExplain,
  templateNarrative,
  type VertexConnection,
  vertexNarrative,
  VertexNarrativeError,
  type VertexOptions,
  writeNarrative,
} from "./narrative/mod.ts";
export { type ExplainRules, MAX_EXPLAIN_TIMEOUT_SECONDS } from "./rules.ts";

// Object storage (lib/storage, docs/storage.md): s3://bucket/key inputs
// (portfolio, rules, FX table, model) and run folders in S3.
export {
  isS3Url,
  type LocalCopy,
  localCopy,
  namingInput,
  parseS3Url,
  readInputBytes,
  type ReadInputOptions,
  readInputText,
  type S3Url,
  sha256Of,
} from "./storage/mod.ts";

// IRB capital (lib/capital, docs/capital.md): the Basel risk-weight
// functions (BCBS CRE31), RWA, capital and regulatory EL per facility from
// the allowance's PD and EAD, and EL against the allowance (CRE35).
export {
  ASSET_CLASSES,
  type AssetClass,
  assetClassOf,
  assetCorrelation,
  CAPITAL_COLUMNS,
  type CapitalGroup,
  type CapitalRules,
  type CapitalSummary,
  capitalSummary,
  type ElComparison,
  type IrbInput,
  type IrbResult,
  irbRiskWeight,
  lgdScenario,
  type MaturityRule,
  MAX_LGD_ADD_ON,
  withCapital,
} from "./capital/mod.ts";

// General-ledger journal (lib/journal, docs/journal.md): balanced postings
// of a movement's allowance lines by entity, product, stage and currency,
// each naming its paragraph (IFRS 9 §5.5.8, §5.4.4, IAS 21 §28), the
// accounts file and the trial-balance check.
export {
  buildJournal,
  type FacilityEntities,
  type GlAccount,
  type GlAccounts,
  type Journal,
  JOURNAL_COLUMNS,
  JOURNAL_FILES,
  JOURNAL_LINES,
  JOURNAL_REFERENCES,
  type JournalLine,
  type JournalLineKey,
  type JournalOptions,
  movementEntities,
  type MovementFolder,
  parseGlAccounts,
  readGlAccounts,
  readMovementFolder,
  type TrialBalance,
  type TrialBalanceCheck,
  trialBalanceText,
  writeJournal,
} from "./journal/mod.ts";

// IFRS 7 disclosures (lib/disclosure, docs/disclosures.md): gross carrying
// amount and loss allowance by credit-risk grade and stage (§35M), the
// credit-impaired loans and their collateral (§35K(c)), §35L write-offs
// where the data has them; each figure tagged with its IFRS Accounting
// Taxonomy element, in summary.json, report.html and the BI export's CSV.
export {
  disclosuresOf,
  IFRS7_COLUMN_LABELS,
  IFRS7_COLUMNS,
  IFRS7_CSV_COLUMNS,
  type Ifrs7Amounts,
  type Ifrs7Cell,
  type Ifrs7Column,
  ifrs7Csv,
  type Ifrs7Disclosures,
  type Ifrs7Options,
  ifrs7Tables,
  runFacilities,
  TAXONOMY,
  type TaxonomyTag,
  UNGRADED,
} from "./disclosure/mod.ts";

// Mergeable IFRS 7 tables and capital summary (issue 17, docs/partitions.md):
// additive cells per batch or part with the precise sums' parts unreduced,
// merged exactly, then turned into summary.json's `disclosures` and
// `capital` sections; the cells files a part of a partitioned run keeps.
export {
  batchFacilities,
  DISCLOSURE_CELL_KEYS,
  DISCLOSURE_CELLS_FILE,
  type DisclosureCellOptions,
  type DisclosureCells,
  disclosureCells,
  disclosureCellsOf,
  disclosureCellsProblem,
  disclosuresFromCells,
  mergeDisclosureCells,
  readCapitalCells,
  readDisclosureCells,
  writeCapitalCells,
  writeDisclosureCells,
} from "./disclosure/mod.ts";
export {
  CAPITAL_CELL_KEYS,
  CAPITAL_CELLS_FILE,
  type CapitalCells,
  capitalCells,
  capitalCellsOf,
  capitalCellsProblem,
  capitalSummaryFromCells,
  mergeCapitalCells,
} from "./capital/mod.ts";

// Sensitivity and stress (lib/sensitivity, docs/sensitivity.md): the
// allowance under each scenario alone, the weighted result and user-defined
// stresses (PD shock, collateral shock, shifted z path, shifted macro path
// through the satellite model), each line a new engine pass; the rules'
// `sensitivity:` section, the report section and `deno task sensitivity`.
export {
  runSensitivity,
  type RunSensitivityOptions,
  SENSITIVITY_CHUNK_SIZE,
  SENSITIVITY_CSV_COLUMNS,
  SENSITIVITY_FILES,
  sensitivityAnalysis,
  sensitivityCsv,
  type SensitivityFile,
  type SensitivityOptions,
  STAGING_RULE,
  type Summarizer,
} from "./sensitivity/mod.ts";
export {
  MACRO_MATCH_TOLERANCE,
  macroShiftWarnings,
  macroStressScenarios,
} from "./sensitivity/mod.ts";
export {
  type MacroStressShift,
  MAX_MACRO_DELTA,
  MAX_MACRO_SHIFTS,
  MAX_STRESS_NAME,
  MAX_STRESS_PD_FACTOR,
  MAX_STRESSES,
  PD_SHOCK_CAP,
  type SensitivityRules,
  type Stress,
} from "./sensitivity_rules.ts";
export {
  SENSITIVITY_SECTION_ID,
  sensitivityChart,
  sensitivityLabel,
  sensitivityPage,
  type SensitivityPageInfo,
  sensitivityUnit,
} from "./report/sensitivity_section.ts";
export type { SensitivityLine, SensitivitySummary } from "./run_folder/mod.ts";

// Rating migration (lib/migration, lib/transition_matrix.ts,
// docs/migration.md, methodology §13): rating histories from a book's
// snapshots, annual transition matrices by the cohort and duration
// (generator-matrix) methods, matrix validation, powers and exponential,
// lifetime PDs, optionally conditioned on a credit-cycle index; the matrix
// of a segment's `pd_curve: transition_matrix`.
export {
  checkBookDates,
  cohortCounts,
  cohortMatrix,
  conditionalMatrix,
  conditionalPds,
  cumulativePds,
  DEFAULT_STATE,
  durationCounts,
  estimateCohort,
  estimateDuration,
  expm,
  generatorMatrix,
  GRADE_COLUMNS,
  GRADE_PD_COLUMN,
  identity,
  LIFETIME_YEARS,
  type LifetimePd,
  type LifetimePdOptions,
  lifetimePds,
  matMul,
  matPow,
  MATRIX_ROW_TOLERANCE,
  matrixCsv,
  matrixGradeWarnings,
  type MatrixProblem,
  type MatrixSegment,
  matrixWarnings,
  MAX_HISTORY_OBSERVATIONS,
  MAX_MATRIX_BYTES,
  MAX_MATRIX_STATES,
  MIGRATION_FILES,
  type MigrationEstimate,
  type MigrationOutputs,
  MIN_SNAPSHOT_GAP_DAYS,
  MIN_STATE_OBSERVATIONS,
  monthIndex,
  parseMatrixText,
  RATING_COLUMN,
  type RatingHistory,
  ratingHistory,
  type RatingHistoryOptions,
  readBookSnapshots,
  readMatrixFile,
  type ReadSnapshotsOptions,
  requireValidMatrix,
  shockedCurve,
  transitionFromGenerator,
  type TransitionMatrix,
  validateMatrix,
  writeMigrationOutputs,
} from "./migration/mod.ts";
export type {
  MasterScaleBand,
  TransitionMatrixRules,
} from "./transition_matrix.ts";

// Macro scenarios (lib/scenarios, docs/scenarios.md): the scenario file
// (weights, yearly macro paths per region, observed history, sources), the
// default-rate history, the satellite model (Vasicek credit-cycle index
// regressed on lagged macro variables), the projection of each scenario to
// `z_shift` adjustments and collateral haircuts (optionally with a shifted
// macro path), the rules fragment and the fit report; the generator of a
// macro and default-rate history with known coefficients.
export {
  checkScenarioFile,
  type ComparedScenario,
  correctedRate,
  creditCycleIndex,
  DEFAULT_ALPHA,
  DEFAULT_HAIRCUT,
  DEFAULT_MAX_LAG,
  type DefaultRateHistory,
  defaultRateHistoryCsv,
  EXPECTED_SIGNS,
  type FitReport,
  fitReport,
  fitReportHtml,
  fitReportJson,
  type FitReportOptions,
  fitSatellite,
  fitWarnings,
  type HaircutParameters,
  HISTORY_COLUMNS,
  HistoryError,
  HOUSE_PRICE_VARIABLE,
  type LaggedVariable,
  loadScenarioFile,
  type MacroPaths,
  type MacroRegion,
  type MacroScenario,
  type MacroSeries,
  type MacroShift,
  type MacroSource,
  macroValue,
  type MacroVariable,
  MAX_FILE_SCENARIOS,
  MAX_HISTORY_BYTES,
  MAX_HISTORY_YEARS,
  MAX_HORIZON_YEARS,
  MAX_LAG,
  MAX_LISTED_PROBLEMS,
  medianCorrection,
  mergeRulesFragment,
  mergeRulesFragmentText,
  MIN_ESTIMATED_RHO,
  MIN_SAMPLE_YEARS,
  ols,
  type OlsCoefficient,
  type OlsFit,
  parseDefaultRateHistory,
  parseScenarioFile,
  pdRatio,
  peakToTroughFall,
  projectSegment,
  type ProvenanceIssue,
  readDefaultRateHistory,
  readRulesText,
  reportingYearIndex,
  REQUIRED_VARIABLES,
  type RulesFragment,
  rulesFragment,
  rulesFragmentYaml,
  type RulesScenario,
  type SatelliteFit,
  type SatelliteOptions,
  type SatelliteTerm,
  SCENARIO_FILES,
  type ScenarioAdjustmentOptions,
  type ScenarioAdjustments,
  scenarioAdjustments,
  type ScenarioDetail,
  type ScenarioFile,
  ScenarioFileError,
  type ScenarioIssue,
  scenarioMismatches,
  type ScenarioOutputOptions,
  type ScenarioOutputPaths,
  type ScenarioSource,
  type SegmentFit,
  type SegmentHistory,
  VARIABLE_BOUNDS,
  vasicekMle,
  writeScenarioOutputs,
  ZERO_COUNT_CORRECTION,
} from "./scenarios/mod.ts";
export {
  binomial,
  type DefaultHistoryOptions,
  type GeneratedDefaultHistory,
  generateDefaultHistory,
  type GeneratedPaths,
  type GeneratedSegment,
  type GeneratedSegmentHistory,
  type GeneratedSeries,
  generateMacroHistory,
  type KnownTerm,
  MACRO_PROCESSES,
  type MacroHistoryOptions,
  type MacroProcess,
  type RandomStream,
  SAMPLE_NOISE_SD,
  SAMPLE_PD_TTC,
  SAMPLE_RHO,
  SAMPLE_TERMS,
  sampleSegments,
} from "./generate/macro_history.ts";
