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
 * in memory, not the loan results (about 100 ms per million loans). A run
 * that computes in batches checks each batch in memory as it computes it
 * instead ({@link checkFiniteFrame}, one pass over the frame, about 15 ms
 * per million loans) and tells {@link checkRunFigures} the files are
 * checked, so they are not read back.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame, DataType, Expr, LazyFrame } from "../frame.ts";
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

/** The floating-point columns of a schema, with their kind. */
function floatColumns(
  schema: Record<string, DataType>,
): { column: string; kind: "value" | "list" }[] {
  return Object.entries(schema)
    .map(([column, dtype]) => ({ column, kind: floatKind(dtype) }))
    .filter((c): c is { column: string; kind: "value" | "list" } =>
      c.kind !== null
    );
}

/** How many values of a column are NaN or infinite (nulls are not). */
function nonFiniteCount(column: string, kind: "value" | "list"): Expr {
  return (kind === "list"
    ? pl.col(column).lst.eval(pl.element().isFinite().not()).lst.sum()
    : pl.col(column).isFinite().not()).sum();
}

/**
 * The error for `bad` non-finite values in `column` of `rows` (the file's
 * or frame's facilities), naming the first facility.
 */
async function nonFiniteError(
  rows: LazyFrame,
  hasLoanId: boolean,
  name: string,
  column: string,
  kind: "value" | "list",
  bad: number,
): Promise<UserError> {
  // Rare: find the first facility to name it.
  let picked = rows.select(
    hasLoanId ? pl.col(COL.loanId) : pl.lit(null).alias(COL.loanId),
    pl.col(column),
  );
  if (kind === "list") picked = picked.explode(column);
  const first = await picked
    .filter(pl.col(column).isFinite().not())
    .head(1)
    .collect();
  const row = first.toRecords()[0] ?? {};
  return new UserError(
    "check",
    `${name}: facility ${row[COL.loanId] ?? "(no loan_id)"}: ${column} ${
      kind === "list" ? "holds" : "is"
    } ${row[column]}, not a finite number (${bad} value${
      bad === 1 ? "" : "s"
    } in that column); ${FIX}`,
  );
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
  for (const { column, kind } of floatColumns(schema)) {
    // One column at a time: the check holds one column in memory, not the
    // loan results (reading all at once took as long, with five times the
    // memory, in Polars' streaming engine too).
    const bad = Number(
      (await pl.scanParquet(path).select(
        nonFiniteCount(column, kind).alias("n"),
      )
        .collect()).getColumn("n").get(0) ?? 0,
    );
    if (bad === 0) continue;
    throw await nonFiniteError(
      pl.scanParquet(path),
      schema[COL.loanId] !== undefined,
      name,
      column,
      kind,
      bad,
    );
  }
}

/**
 * Refuses facilities held in memory (a batch's loan results or carrying
 * amounts, as a run computes them, before or after it writes them) with a
 * NaN or infinite number in a floating-point column or list of numbers:
 * the check {@link checkFiniteColumns} makes of the written file, with the
 * same message, made on each batch instead of reading the file back, in
 * one pass over the frame. A run that checked every batch of its files
 * passes `filesChecked` to {@link checkRunFigures}.
 *
 * @param frame The facilities (one batch).
 * @param name The file they are written to, for the message
 *   (`loan_results.parquet`).
 * @throws {UserError} of kind `check`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { checkFiniteFrame } from "./finite.ts";
 *
 * const batch = pl.DataFrame({ loan_id: ["L1", "L2"], ecl: [1.5, Infinity] });
 * await assert.rejects(
 *   checkFiniteFrame(batch, "loan_results.parquet"),
 *   /loan_results\.parquet: facility L2: ecl is Infinity, not a finite number \(1 value in that column\)/,
 * );
 * ```
 */
export async function checkFiniteFrame(
  frame: DataFrame,
  name: string,
): Promise<void> {
  const schema = frame.schema as Record<string, DataType>;
  const checked = floatColumns(schema);
  if (checked.length === 0 || frame.height === 0) return;
  const counts = (await frame.lazy().select(
    ...checked.map(({ column, kind }) =>
      nonFiniteCount(column, kind).alias(column)
    ),
  ).collect()).toRecords()[0] as Record<string, unknown>;
  for (const { column, kind } of checked) {
    const bad = Number(counts[column] ?? 0);
    if (bad === 0) continue;
    throw await nonFiniteError(
      frame.lazy(),
      schema[COL.loanId] !== undefined,
      name,
      column,
      kind,
      bad,
    );
  }
}

/** Options of {@link checkRunFigures}. */
export interface CheckRunFiguresOptions {
  /**
   * Every batch of the run's Parquet files was checked as it was computed
   * ({@link checkFiniteFrame}): the files are not read back, only the
   * summary is checked. @default false
   */
  filesChecked?: boolean;
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
  opts: CheckRunFiguresOptions = {},
): Promise<string[]> {
  if (!opts.filesChecked) {
    for (const file of CHECKED_FILES) {
      await checkFiniteColumns(folder.path(file), RUN_FILES[file]);
    }
  }
  checkFiniteSummary(summary);
  const inexact = summaryInexactWarning(summary);
  return inexact === null ? [] : [inexact];
}
