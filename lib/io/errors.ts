/**
 * The one error a portfolio file gives when it cannot be read as a table at
 * all: a missing file, a path that is not a file (a directory, a device, a
 * pipe), a file above the caller's size or row limit, bytes that are not
 * text, a broken header or mixed line endings, a record the CSV parser
 * cannot split, a missing required column, a column of a nested type.
 * Row-level problems (a bad value in one cell) are not errors: validation
 * rejects that row and keeps reading (methodology §1, "no row is dropped
 * silently").
 *
 * @module
 */
import { UserError } from "../errors.ts";

/**
 * Thrown when a portfolio file cannot be read. The message reads
 * `Cannot read portfolio data/x.csv: line 12: ...`, naming the file and,
 * where it is known, the 1-based line of the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PortfolioReadError } from "./errors.ts";
 * const e = new PortfolioReadError("data/x.csv", "the file is empty", 1);
 * assert.equal(e.message, "Cannot read portfolio data/x.csv: line 1: the file is empty");
 * ```
 */
export class PortfolioReadError extends UserError {
  /**
   * The error for `file`, its message built from `problem` and `line`.
   *
   * @param file the path as the caller gave it
   * @param problem what is wrong, without the file name
   * @param line the 1-based line of the file, when known
   * @param options.cause the underlying error (a Polars or file-system error)
   */
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly line?: number,
    options?: { cause?: unknown },
  ) {
    super(
      "input",
      `Cannot read portfolio ${file}: ${
        line === undefined ? "" : `line ${line}: `
      }${problem}`,
      options,
    );
    this.name = "PortfolioReadError";
  }
}
