/**
 * Sensitivity and stress (docs/sensitivity.md): the allowance of a run
 * under each scenario alone, the weighted result, and user-defined
 * stresses, each line computed by running the engine again.
 *
 * | what | file |
 * |---|---|
 * | the table from a run's valid rows: `sensitivityAnalysis` | `analysis.ts` |
 * | a macro stress through the fitted satellite model | `macro.ts` |
 * | the stand-alone table from files: `runSensitivity` | `standalone.ts` |
 *
 * @module
 */
export {
  collateralShockExpr,
  pdShockExpr,
  SENSITIVITY_CHUNK_SIZE,
  sensitivityAnalysis,
  type SensitivityOptions,
  type SensitivityVariant,
  sensitivityVariants,
  STAGING_RULE,
  type Summarizer,
} from "./analysis.ts";
export {
  runSensitivity,
  type RunSensitivityOptions,
  SENSITIVITY_CSV_COLUMNS,
  SENSITIVITY_FILES,
  sensitivityCsv,
  type SensitivityFile,
} from "./standalone.ts";
export {
  MACRO_MATCH_TOLERANCE,
  macroShiftWarnings,
  macroStressScenarios,
} from "./macro.ts";
