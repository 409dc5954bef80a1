/**
 * Writing a validation result: `valid.parquet`, `rejected.parquet` and
 * `data_quality.json`, then enforcing the reject-rate limit of the rules
 * file (`validation.max_reject_rate`). The outputs are written first so a
 * failed run still leaves the rejected rows and the report to look at.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { DataQualityReport, ValidationResult } from "./validate.ts";
import { formatPercent } from "../format.ts";

/**
 * Thrown when the share of rejected rows is above
 * `validation.max_reject_rate`; the message gives the figure.
 */
export class RejectRateError extends UserError {
  /**
   * The error for a report that did not pass: the message names the file,
   * its reject rate, the rows rejected and read, and the limit.
   */
  constructor(readonly report: DataQualityReport) {
    const pct = formatPercent;
    super(
      "check",
      `Cannot accept portfolio ${report.file}: ${
        pct(report.reject_rate)
      } of rows rejected (${report.rows_rejected} of ${report.rows_read}), above validation.max_reject_rate ${
        pct(report.max_reject_rate)
      }`,
    );
    this.name = "RejectRateError";
  }
}

/**
 * Throws {@link RejectRateError} when the report did not pass.
 *
 * @example
 * ```ts
 * import { assertRejectRate } from "./write.ts";
 * assertRejectRate({ file: "p.csv", reporting_date: null, rows_read: 10,
 *   rows_valid: 10, rows_rejected: 0, reject_rate: 0, max_reject_rate: 0.05,
 *   passed: true, rules: [], warnings: [] }); // does not throw
 * ```
 */
export function assertRejectRate(report: DataQualityReport): void {
  if (!report.passed) throw new RejectRateError(report);
}

/** Options of {@link writeValidationOutputs}. */
export interface WriteValidationOptions {
  /**
   * Whether to write `valid.parquet`; a run folder, which keeps loan
   * results instead, sets it to false.
   * @default true
   */
  valid?: boolean;
}

/** Paths of the files written. */
export interface ValidationOutputs {
  /**
   * `<dir>/valid.parquet`, the rows that broke no rule; absent when
   * {@link WriteValidationOptions.valid} is false.
   */
  valid?: string;
  /** `<dir>/rejected.parquet`, the rejected rows with `rejection_codes`. */
  rejected: string;
  /** `<dir>/data_quality.json`, the {@link DataQualityReport}. */
  dataQuality: string;
}

/**
 * Writes the outputs into `dir` (created if needed), then throws
 * {@link RejectRateError} if the rejected share is above the limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { parseRules } from "../rules.ts";
 * import { RejectRateError, validatePortfolio, writeValidationOutputs } from "./mod.ts";
 * const rules = parseRules(
 *   "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]\nvalidation: {max_reject_rate: 0.1}",
 *   "inline.yaml",
 * );
 * // One of two rows has a negative balance: 50% rejected, above 10%.
 * const raw = pl.DataFrame({
 *   loan_id: ["L1", "L2"], reporting_date: ["2025-12-31", "2025-12-31"],
 *   origination_date: ["2024-01-01", "2024-01-01"],
 *   maturity_date: ["2027-01-01", "2027-01-01"], product: ["sme", "sme"],
 *   currency: ["EUR", "EUR"], balance: ["1000", "-5"],
 *   interest_rate: ["0.05", "0.05"], days_past_due: ["0", "0"],
 *   pd_12m_origination: ["0.01", "0.01"], pd_12m_current: ["0.02", "0.02"],
 * }).lazy();
 * const result = await validatePortfolio(raw, rules, { file: "inline.csv" });
 * const dir = await Deno.makeTempDir();
 * // The outputs are written first, then the limit is enforced.
 * await assert.rejects(writeValidationOutputs(result, dir), RejectRateError);
 * assert.equal(pl.readParquet(`${dir}/rejected.parquet`).height, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeValidationOutputs(
  result: ValidationResult,
  dir: string,
  opts: WriteValidationOptions = {},
): Promise<ValidationOutputs> {
  await Deno.mkdir(dir, { recursive: true });
  const outputs: ValidationOutputs = {
    rejected: `${dir}/rejected.parquet`,
    dataQuality: `${dir}/data_quality.json`,
  };
  if (opts.valid ?? true) {
    outputs.valid = `${dir}/valid.parquet`;
    result.valid.writeParquet(outputs.valid);
  }
  result.rejected.writeParquet(outputs.rejected);
  await Deno.writeTextFile(
    outputs.dataQuality,
    JSON.stringify(result.report, null, 2) + "\n",
  );
  assertRejectRate(result.report);
  return outputs;
}
