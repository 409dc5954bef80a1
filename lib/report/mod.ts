/**
 * Reporting: the run's charts (Observable Plot rendered server-side through
 * `lib/plot/`), the self-contained `report.html` of a run folder, the
 * trend dashboard across run folders and the star-schema export for BI
 * tools.
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
  stageDistributionChart,
  topExposuresChart,
} from "./charts.ts";
export {
  renderRunReport,
  type RunReportOptions,
  writeRunReport,
} from "./run_report.ts";
export {
  allowanceTrendChart,
  coverageTrendChart,
  readTrend,
  renderDashboard,
  stageMixTrendChart,
  type TrendPoint,
  writeDashboard,
} from "./dashboard.ts";
export {
  dateKey,
  exportStarSchema,
  STAR_TABLES,
  type StarSchemaExport,
} from "./star_schema.ts";
