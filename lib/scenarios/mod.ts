/**
 * Forward-looking information (IFRS 9 §5.5.17(c), B5.5.42-B5.5.54): macro
 * scenarios as data, a satellite model linking default rates to the macro
 * variables, and the rules fragment it writes (docs/scenarios.md).
 *
 * - `scenario_file.ts`: the scenario file (weights, yearly macro paths per
 *   region, observed history, the source of every series), checked;
 * - `history.ts`: the default-rate history by segment (CSV);
 * - `satellite.ts`: the Vasicek credit-cycle index and its OLS regression
 *   on lagged macro variables;
 * - `project.ts`: each scenario's macro path to `z` per forecast year and
 *   a collateral haircut, optionally with a shifted path (a stress);
 * - `../scenario_source.ts` (re-exported): the check, at rules load, that rules naming a fit
 *   hold its scenarios (and their macro stresses fit its scenario file);
 * - `fragment.ts`: the rules fragment (`scenario_source`,
 *   `scenario_adjustment`, `scenarios`, segments' `rho`);
 * - `report.ts`: the fit report, HTML and JSON.
 *
 * @module
 */
export {
  checkScenarioFile,
  loadScenarioFile,
  type MacroPaths,
  type MacroRegion,
  type MacroScenario,
  type MacroSeries,
  type MacroSource,
  macroValue,
  type MacroVariable,
  MAX_FILE_SCENARIOS,
  MAX_HISTORY_YEARS,
  MAX_HORIZON_YEARS,
  parseScenarioFile,
  REQUIRED_VARIABLES,
  type ScenarioFile,
  ScenarioFileError,
  type ScenarioIssue,
  VARIABLE_BOUNDS,
} from "./scenario_file.ts";
export {
  type DefaultRateHistory,
  defaultRateHistoryCsv,
  HISTORY_COLUMNS,
  HistoryError,
  MAX_HISTORY_BYTES,
  parseDefaultRateHistory,
  readDefaultRateHistory,
  type SegmentHistory,
} from "./history.ts";
export {
  correctedRate,
  creditCycleIndex,
  DEFAULT_ALPHA,
  DEFAULT_MAX_LAG,
  EXPECTED_SIGNS,
  fitSatellite,
  fitWarnings,
  type LaggedVariable,
  MAX_LAG,
  MIN_ESTIMATED_RHO,
  MIN_SAMPLE_YEARS,
  type SatelliteFit,
  type SatelliteOptions,
  type SatelliteTerm,
  type SegmentFit,
  vasicekMle,
  ZERO_COUNT_CORRECTION,
} from "./satellite.ts";
export {
  DEFAULT_HAIRCUT,
  type HaircutParameters,
  HOUSE_PRICE_VARIABLE,
  type MacroShift,
  medianCorrection,
  pdRatio,
  peakToTroughFall,
  projectSegment,
  reportingYearIndex,
  type RulesScenario,
  type ScenarioAdjustmentOptions,
  type ScenarioAdjustments,
  scenarioAdjustments,
  type ScenarioDetail,
} from "./project.ts";
export { ols, type OlsCoefficient, type OlsFit } from "./_stats.ts";
export {
  mergeRulesFragment,
  mergeRulesFragmentText,
  type RulesFragment,
  rulesFragment,
  rulesFragmentYaml,
  type ScenarioSource,
} from "./fragment.ts";
export {
  type ComparedScenario,
  MAX_LISTED_PROBLEMS,
  type ProvenanceIssue,
  scenarioMismatches,
} from "../scenario_source.ts";
export {
  type FitReport,
  fitReport,
  fitReportHtml,
  fitReportJson,
  type FitReportOptions,
  fittedChart,
  macroChart,
  zPathChart,
} from "./report.ts";
export {
  readRulesText,
  SCENARIO_FILES,
  type ScenarioOutputOptions,
  type ScenarioOutputPaths,
  writeScenarioOutputs,
} from "./write.ts";
