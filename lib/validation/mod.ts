/**
 * Validation of a portfolio against methodology §1: every row is either
 * valid (typed as `PORTFOLIO_SCHEMA`) or rejected with every rule code it
 * broke, and a data-quality report counts each rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanPortfolio } from "../io/mod.ts";
 * import { loadRules } from "../rules.ts";
 * import { validatePortfolio } from "./mod.ts";
 * const path = "data/sample/portfolio_2025-12-31.parquet";
 * const rules = await loadRules("config/ifrs9_rules.yaml");
 * const result = await validatePortfolio(scanPortfolio(path), rules, { file: path });
 * // The committed sample is clean: every row valid, the report says so.
 * assert.equal(result.report.rows_rejected, 0);
 * assert.equal(result.valid.height, result.report.rows_read);
 * ```
 *
 * The outputs (`valid.parquet`, `rejected.parquet`, `data_quality.json`)
 * are written by `writeValidationOutputs` of `lib/run_folder`, which
 * writes every output folder whole or not at all.
 *
 * @module
 */
export {
  allRuleCodes,
  GENERAL_APPROACH_ONLY,
  nullCode,
  PLAUSIBILITY_LIMITS,
  PLAUSIBILITY_RULES,
  type PlausibilityRuleCode,
  REQUIRED_VALUE_COLUMNS,
  type RuleCode,
  TYPED_COLUMNS,
  unparseableCode,
  VALUE_RULES,
  type ValueRuleCode,
} from "./codes.ts";
export { parsedColumnNames, type RowRule, rowRules } from "./checks.ts";
export { isIso4217, ISO_4217_CODES } from "./iso4217.ts";
export { absentColumn, parseColumn, type ParsedColumn } from "./parse.ts";
export {
  type BatchValidateOptions,
  type DataQualityReport,
  DEFAULT_VALIDATION_BATCH_ROWS,
  PortfolioValidation,
  REJECTION_CODES,
  requireColumns,
  requiredColumns,
  type RuleReport,
  type ValidateOptions,
  validatePortfolio,
  type ValidationBatch,
  type ValidationResult,
} from "./validate.ts";
export { assertRejectRate, RejectRateError } from "./write.ts";
