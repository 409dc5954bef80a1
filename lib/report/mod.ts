/**
 * Reporting: the run's charts (Observable Plot rendered server-side through
 * `lib/plot/`), the self-contained `report.html` of a run folder (with the
 * comparison with the previous run of the same book), the trend dashboard
 * across run folders and the star-schema export for BI tools.
 *
 * @module
 */
export {
  type ChartSource,
  chartSource,
  dataQualityChart,
  eclByChart,
  type EclDimension,
  inReportingCurrency,
  missingRateCurrencies,
  type ParameterColumn,
  parameterDistributionChart,
  type RunCharts,
  runCharts,
  scenarioColumns,
  scenarioEclChart,
  STAGE_COLORS,
  stageColorScale,
  stageDistributionChart,
  summaryUnit,
  topExposuresChart,
} from "./charts.ts";
export {
  renderRunReport,
  type RunReportOptions,
  writeRunReport,
} from "./run_report.ts";
export {
  bookName,
  ComparisonError,
  findPreviousRun,
  type PreviousRun,
} from "./compare.ts";
export {
  allowanceTrendChart,
  allowanceWalkChart,
  allowanceWalkSteps,
  coverageByProductChart,
  coverageTrendChart,
  type DashboardOptions,
  dataQualityTrendChart,
  type MovementWalk,
  readMovements,
  readTrend,
  renderDashboard,
  type StageMixMeasure,
  stageMixTrendChart,
  type TrendPoint,
  trendUnit,
  writeDashboard,
} from "./dashboard.ts";
export {
  dateKey,
  exportStarSchema,
  STAR_FILES,
  STAR_TABLES,
  type StarSchemaExport,
  type StarSchemaOptions,
} from "./star_schema.ts";
