/**
 * The reject-rate limit of the rules file (`validation.max_reject_rate`):
 * the error a portfolio above it gets, and the check. The validation
 * outputs themselves (`valid.parquet`, `rejected.parquet`,
 * `data_quality.json`) are written, whole or not at all, by
 * `writeValidationOutputs` of `lib/run_folder`, the module that writes
 * every output folder; it writes them first and then enforces the limit,
 * so a failed run still leaves the rejected rows and the report to look at.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { DataQualityReport } from "./validate.ts";
import { formatPercent } from "../format.ts";

/**
 * Thrown when the share of rejected rows is above
 * `validation.max_reject_rate`; the message gives the figure.
 */
export class RejectRateError extends UserError {
  /**
   * The error for a report that did not pass: the message names the file,
   * its reject rate, the rows rejected and read, and the limit, then the
   * report's warnings (a product missing from the rules file, say), which
   * a failed run would otherwise show only in `data_quality.json`.
   */
  constructor(readonly report: DataQualityReport) {
    const pct = formatPercent;
    super(
      "check",
      `Cannot accept portfolio ${report.file}: ${
        pct(report.reject_rate)
      } of rows rejected (${report.rows_rejected} of ${report.rows_read}), above validation.max_reject_rate ${
        pct(report.max_reject_rate)
      }${report.warnings.map((w) => `; warning: ${w}`).join("")}`,
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
