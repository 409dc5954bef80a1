/**
 * Sums of money amounts that stay exact to the cent over millions of rows.
 *
 * Polars' group-by sum adds a group's values one after another, so its
 * rounding error grows with the number of rows: over two 10-million-loan
 * runs (gross carrying amount about 2e11) it reached 0.5 to 1.6 cents, and the
 * movement reconciliation, which must tie to the run totals to the cent
 * (docs/movement.md §4), failed. Here each value is split into whole cents,
 * summed exactly as 64-bit integers, and the sub-cent remainder
 * (`|rest| <= 0.005`), whose float sum is tiny and so accurate to about
 * 1e-9 at that size. The result is within a unit in the last place of the
 * true sum while the total stays below 2^53 cents (90 trillion units of a
 * currency); beyond, the cents lose less than one part in 1e15.
 *
 * Use in an aggregation: `agg(...preciseSum(pl.col("ecl"), "ecl"))`, then
 * `withPreciseSums(frame, ["ecl"])` to turn the parts into the `ecl` column.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Expr, LazyFrame } from "./frame.ts";

/** The two part columns {@link preciseSum} aggregates into. */
export function preciseSumParts(name: string): [string, string] {
  return [`${name}__cents`, `${name}__subcent`];
}

/**
 * The two aggregations of an exact-to-the-cent sum of `value`, named after
 * `name`; {@link withPreciseSums} combines them.
 */
export function preciseSum(value: Expr, name: string): Expr[] {
  const [cents, subcent] = preciseSumParts(name);
  const whole = value.mul(100).round(0);
  return [
    // Read back as Float64: nodejs-polars returns Int64 values to
    // JavaScript cut to 32 bits, and every integer below 2^53 is exact.
    whole.cast(pl.Int64).sum().cast(pl.Float64).alias(cents),
    value.sub(whole.div(100)).sum().alias(subcent),
  ];
}

/** Replaces the parts of each named precise sum by the sum itself. */
export function withPreciseSums(
  frame: LazyFrame,
  names: string[],
): LazyFrame {
  if (names.length === 0) return frame;
  return frame.withColumns(
    ...names.map((n) => {
      const [cents, subcent] = preciseSumParts(n);
      return pl.col(cents).div(100).add(pl.col(subcent)).alias(n);
    }),
  ).drop(names.flatMap(preciseSumParts));
}
