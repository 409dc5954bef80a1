/**
 * The final check of a run before it is published: no figure it wrote may
 * be NaN or infinite, and a total too large to be exact to the cent is
 * said, not presented as exact.
 *
 * Validation bounds the inputs (amounts, maturities, rates) and the rules
 * schema the parameters, so a portfolio cannot produce a non-finite figure;
 * but rules changed in code, a plugin, or an engine edge can. A NaN ECL
 * would sum to a NaN total, which JSON writes as `null`, and the run would
 * complete. So before `runPortfolio` publishes the folder,
 * {@link checkRunFigures} reads every floating-point column of
 * `loan_results.parquet` and `carrying_amounts.parquet` (lists of numbers
 * such as `overlay_impacts` included) and every number of `summary.json`;
 * the first non-finite one fails the run with a {@link UserError} of kind
 * `check` (exit 1) naming the file, the facility (`loan_id`) and the
 * column, or the summary's key path, with the value. Null is not
 * non-finite: it means "not defined" (the PD of a receivable on the
 * simplified approach, the coverage of an undrawn book).
 *
 * The files are read one column at a time, so the check holds one column
 * in memory, not the loan results (about 100 ms per million loans).
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataType } from "../frame.ts";
import { UserError } from "../errors.ts";
import { COL } from "../schema.ts";
import { figuresOf, inexactSumWarning } from "../precise_sum.ts";
import { RUN_FILES, type RunFile, type Summary } from "../run_folder/mod.ts";

/** The Parquet files of a run whose numbers {@link checkRunFigures} reads. */
export const CHECKED_FILES = ["loanResults", "carryingAmounts"] as const;

/** What to do about a non-finite figure, at the end of each message. */
const FIX =
  "a run publishes no NaN or infinite figure: check the facility's amounts, rate and maturity, and the rules' multipliers and overlays (in a rules file or changed in code), then rerun";

/**
 * Refuses a summary with a NaN or infinite number, naming the first key
 * path and its value.
 *
 * @param where The file or object the summary is, for the message.
 * @throws {UserError} of kind `check`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFiniteSummary } from "./finite.ts";
 *
 * checkFiniteSummary({ totals: { ecl: 5 } });
 * assert.throws(
 *   () => checkFiniteSummary({ totals: { ecl: 5, coverage: NaN } }),
 *   /summary\.json: totals\.coverage is NaN/,
 * );
 * ```
 */
export function checkFiniteSummary(
  summary: unknown,
  where: string = RUN_FILES.summary,
): void {
  for (const [key, value] of figuresOf(summary)) {
    if (!Number.isFinite(value)) {
      throw new UserError(
        "check",
        `${where}: ${key} is ${value}, not a finite number; ${FIX}`,
      );
    }
  }
}

/**
 * The warning for a summary whose totals are too large to be exact to the
 * cent (`inexactSumWarning` of `lib/precise_sum.ts`), or null. The book's
 * totals are named first.
 */
export function summaryInexactWarning(
  summary: Summary,
  where: string = RUN_FILES.summary,
): string | null {
  const { totals, ...rest } = summary;
  return inexactSumWarning(where, [
    ...figuresOf(totals, "totals"),
    ...figuresOf(rest),
  ]);
}

/** Whether a column type holds floating-point numbers, alone or in lists. */
function floatKind(dtype: DataType): "value" | "list" | null {
  if (dtype.equals(pl.Float64) || dtype.equals(pl.Float32)) return "value";
  if (dtype.equals(pl.List(pl.Float64)) || dtype.equals(pl.List(pl.Float32))) {
    return "list";
  }
  return null;
}

/**
 * Refuses a Parquet file of facilities with a NaN or infinite number in a
 * floating-point column (or in a list of numbers), naming the first
 * facility by `loan_id`, the column and the value. Integer columns cannot
 * hold one; nulls are not checked.
 *
 * @param path The file.
 * @param name The file's name in messages.
 * @throws {UserError} of kind `check`.
 */
export async function checkFiniteColumns(
  path: string,
  name: string = path,
): Promise<void> {
  const schema = (await pl.scanParquet(path).head(0).collect())
    .schema as Record<string, DataType>;
  const checked = Object.entries(schema)
    .map(([column, dtype]) => ({ column, kind: floatKind(dtype) }))
    .filter((c): c is { column: string; kind: "value" | "list" } =>
      c.kind !== null
    );
  for (const { column, kind } of checked) {
    // One column at a time: the check holds one column in memory, not the
    // loan results (reading all at once took as long, with five times the
    // memory, in Polars' streaming engine too).
    const values = kind === "list"
      ? pl.col(column).lst.eval(pl.element().isFinite().not()).lst.sum()
      : pl.col(column).isFinite().not();
    const bad = Number(
      (await pl.scanParquet(path).select(values.sum().alias("n")).collect())
        .getColumn("n").get(0) ?? 0,
    );
    if (bad === 0) continue;
    // Rare: find the first facility to name it.
    let rows = pl.scanParquet(path).select(
      schema[COL.loanId] === undefined
        ? pl.lit(null).alias(COL.loanId)
        : pl.col(COL.loanId),
      pl.col(column),
    );
    if (kind === "list") rows = rows.explode(column);
    const first = await rows
      .filter(pl.col(column).isFinite().not())
      .head(1)
      .collect();
    const row = first.toRecords()[0] ?? {};
    throw new UserError(
      "check",
      `${name}: facility ${row[COL.loanId] ?? "(no loan_id)"}: ${column} ${
        kind === "list" ? "holds" : "is"
      } ${row[column]}, not a finite number (${bad} value${
        bad === 1 ? "" : "s"
      } in that column); ${FIX}`,
    );
  }
}

/**
 * The final check of a run before it is published (see the module doc):
 * every floating-point column of the run's Parquet files and every number
 * of its summary finite. Returns the run's warnings about totals too large
 * to be exact to the cent (none on an ordinary book).
 *
 * @param folder Where the run's files are: `path(file)` of a run folder
 *   being written (`openRunFolder`).
 * @param summary What was written to `summary.json`.
 * @throws {UserError} of kind `check`, naming the file, the facility and
 *   the column, or the summary's key path, and the value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { checkRunFigures } from "./finite.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const path = (file: string) => `${dir}/${file}.parquet`;
 * pl.DataFrame({ loan_id: ["L1", "L2"], ecl: [1.5, NaN] })
 *   .writeParquet(path("loanResults"));
 * pl.DataFrame({ loan_id: ["L1", "L2"], gross_carrying_amount: [10, 20] })
 *   .writeParquet(path("carryingAmounts"));
 * await assert.rejects(
 *   checkRunFigures({ path }, { totals: { ecl: NaN } } as never),
 *   /loan_results\.parquet: facility L2: ecl is NaN/,
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkRunFigures(
  folder: { path(file: RunFile): string },
  summary: Summary,
): Promise<string[]> {
  for (const file of CHECKED_FILES) {
    await checkFiniteColumns(folder.path(file), RUN_FILES[file]);
  }
  checkFiniteSummary(summary);
  const inexact = summaryInexactWarning(summary);
  return inexact === null ? [] : [inexact];
}
