/**
 * Writing a validation result: `valid.parquet`, `rejected.parquet` and
 * `data_quality.json`, then enforcing the reject-rate limit of the rules
 * file (`validation.max_reject_rate`). The outputs are written first so a
 * failed run still leaves the rejected rows and the report to look at.
 *
 * @module
 */
import type { DataQualityReport, ValidationResult } from "./validate.ts";

/**
 * Thrown when the share of rejected rows is above
 * `validation.max_reject_rate`; the message gives the figure.
 */
export class RejectRateError extends Error {
  constructor(readonly report: DataQualityReport) {
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    super(
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
  valid?: string;
  rejected: string;
  dataQuality: string;
}

/**
 * Writes the outputs into `dir` (created if needed), then throws
 * {@link RejectRateError} if the rejected share is above the limit.
 *
 * @example
 * ```ts
 * // const result = await validatePortfolio(scanPortfolio(path), rules, { file: path });
 * // await writeValidationOutputs(result, "data/tmp/validation");
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
