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
import { formatPercent, messageList } from "../format.ts";

/**
 * Thrown when the share of rejected rows is above
 * `validation.max_reject_rate`; the message gives the figure.
 */
export class RejectRateError extends UserError {
  /**
   * The error for a report that did not pass: the message names the file,
   * its reject rate, the rows rejected and read, and the limit, the rules
   * that rejected the most rows (up to three, with example ids), then the
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
      }${mostFailed(report)}${
        report.warnings.map((w) => `; warning: ${w}`).join("")
      }`,
    );
    this.name = "RejectRateError";
  }
}

/** How many of the rules that rejected most rows the message names. */
const RULES_NAMED = 3;

/**
 * `; most rows failed UNPARSEABLE_BALANCE (178, e.g. L1, L2)`: the rules
 * that rejected the most rows, so the message says what to fix first.
 */
function mostFailed(report: DataQualityReport): string {
  const failed = report.rules.filter((r) => r.rows_failed > 0)
    .sort((a, b) => b.rows_failed - a.rows_failed).slice(0, RULES_NAMED);
  if (failed.length === 0) return "";
  return `; most rows failed ${
    failed.map((r) =>
      `${r.code} (${r.rows_failed}${
        r.examples.length > 0 ? `, e.g. ${messageList(r.examples, 2)}` : ""
      })`
    ).join(", ")
  }`;
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
