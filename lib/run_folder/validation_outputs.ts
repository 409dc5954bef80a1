/**
 * The validation output folder (`deno task validate --out DIR`,
 * `writeValidationOutputs`): `valid.parquet`, `rejected.parquet` and
 * `data_quality.json`, written as one folder, whole or not at all, like
 * every output of this module ({@link writeOutputFolder}): staged in a
 * hidden folder beside it and renamed last, so a full disk leaves no
 * unreadable `valid.parquet` and an earlier output there stays as it was.
 * A folder holding other files (the portfolio's own folder, a run folder)
 * is refused before anything is written, and so is an output that is an
 * input. The reject-rate limit (`validation.max_reject_rate`) is enforced
 * after the outputs are published, so a failed portfolio still leaves the
 * rejected rows and the report to look at, complete.
 *
 * (It is here rather than in `lib/validation`, which this module's run
 * folders depend on for the data-quality report's type.)
 *
 * @module
 */
import { assertRejectRate, type ValidationResult } from "../validation/mod.ts";
import { VALIDATION_FILES } from "./layout.ts";
import { type FileWriter, writeOutputFolder } from "./write.ts";

/** Options of {@link writeValidationOutputs}. */
export interface WriteValidationOptions {
  /**
   * Whether to write `valid.parquet`; leave it out when only the rejected
   * rows and the report are wanted.
   * @default true
   */
  valid?: boolean;
  /**
   * The files the result was read from (the portfolio, the rules): an
   * output folder that is, or holds, one of them is refused.
   */
  inputs?: readonly string[];
  /**
   * How the files are written (a test passes one that fails part-way, as
   * a full disk does). @default the file system
   */
  writer?: FileWriter;
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
  /** `<dir>/data_quality.json`, the data-quality report. */
  dataQuality: string;
}

/**
 * Writes the outputs as the folder `dir` (created if needed, replacing an
 * earlier validation output there, whole or not at all), then throws
 * `RejectRateError` if the rejected share is above the limit.
 *
 * @throws {OutputLocationError} when `dir` is a file, holds other files
 *   or an input, or is inside a run folder (nothing is written).
 * @throws {UserError} of kind `output` when the disk is full or the folder
 *   cannot be written, naming `dir`; nothing is left under `dir` but what
 *   was there.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { parseRules } from "../rules.ts";
 * import { RejectRateError, validatePortfolio } from "../validation/mod.ts";
 * import { writeValidationOutputs } from "./mod.ts";
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
 * const root = await Deno.makeTempDir();
 * // The outputs are written first, then the limit is enforced.
 * await assert.rejects(writeValidationOutputs(result, `${root}/out`), RejectRateError);
 * assert.equal(pl.readParquet(`${root}/out/rejected.parquet`).height, 1);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function writeValidationOutputs(
  result: ValidationResult,
  dir: string,
  opts: WriteValidationOptions = {},
): Promise<ValidationOutputs> {
  const withValid = opts.valid ?? true;
  const { folder } = await writeOutputFolder(
    dir,
    Object.values(VALIDATION_FILES),
    async (_, out) => {
      if (withValid) await out.parquet(VALIDATION_FILES.valid, result.valid);
      await out.parquet(VALIDATION_FILES.rejected, result.rejected);
      await out.text(
        VALIDATION_FILES.dataQuality,
        JSON.stringify(result.report, null, 2) + "\n",
      );
    },
    { inputs: opts.inputs, writer: opts.writer },
  );
  const path = (file: keyof typeof VALIDATION_FILES) =>
    folder.child(VALIDATION_FILES[file]).href;
  const outputs: ValidationOutputs = {
    rejected: path("rejected"),
    dataQuality: path("dataQuality"),
  };
  if (withValid) outputs.valid = path("valid");
  assertRejectRate(result.report);
  return outputs;
}
