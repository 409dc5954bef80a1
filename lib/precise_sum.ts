/**
 * Sums of money amounts that stay exact to the cent over millions of rows,
 * and say so when they cannot.
 *
 * Polars' group-by sum adds a group's values one after another, so its
 * rounding error grows with the number of rows: over two 10-million-loan
 * runs (gross carrying amount about 2e11) it reached 0.5 to 1.6 cents, and the
 * movement reconciliation, which must tie to the run totals to the cent
 * (docs/movement.md §4), failed. Here each value `v` is split into whole
 * cents `c = round(100 v)` (halves to even) and the sub-cent remainder
 * `rest = v - c / 100` (`|rest| <= 0.005` up to about one unit in the last
 * place of `v`). The cents are summed exactly as integers, in two
 * parts so that no part can overflow: `c = hi * 2^32 + lo` with
 * `hi = floor(c / 2^32)` and `0 <= lo < 2^32`. The low parts are summed as
 * 64-bit integers (no overflow below 2^31 rows in a group); the high parts
 * as Float64, exact while the sum of `|hi|` stays below 2^53, that is while
 * the group's amounts add up to less than 2^85 cents in absolute value
 * ({@link PRECISE_SUM_MAX_ABS_TOTAL}, 3.9e23 units: 387 million rows at the
 * validation limit of 1e15 each). The carry of the low sum moves into the
 * high sum, and only then are the parts combined in Float64, once.
 *
 * The rest is summed exactly too, so that a sum does not depend on the
 * order of its rows: the parts of a partitioned run, added up in any
 * order, give exactly the single run's figures (docs/partitions.md §4).
 * (A Float64 sum of the rests rounds after every addition, and the
 * rounding depends on the order.) Each row's rest, a Float64, is split
 * into three fixed-point integers, `rest = a 2^-30 + b 2^-60 + c 2^-90`:
 * with `x = rest 2^60`, `a = floor(x 2^-30)`, `b = floor(x) mod 2^30` (in
 * [0, 2^30)) and `c = round((x mod 1) 2^30)` (in [0, 2^30]), so that
 * `floor(x) = a 2^30 + b` and `x = floor(x) + (x mod 1)`. Every step but
 * the last rounding is exact in Float64: a product by a power of two only
 * moves the exponent; floor of a Float64 is one; the floored modulo of a
 * whole number by 2^30 is a whole number below 2^30. And `x mod 1` is
 * exact when the rest is a multiple of 2^-90 (it is then a multiple of
 * 2^-30 below 1: at most 30 significant bits), so `c` is exact too. The
 * rest of an amount of at least 2^-38 (3.6e-12) is a multiple of 2^-90:
 * the amount and `c / 100` are, so their difference is one, exactly
 * representable or correctly rounded to one. So the rest is held exactly
 * for every amount but those below 3.6e-12, whose rest (the amount itself)
 * is held to about 2^-90 (8.1e-28). The parts are summed as 64-bit
 * integers, exactly in any order: `|a| <= 2^30 |rest| + 1` stays within
 * 2^30 while `|rest| < 1` (amounts below 2^51, 2.25e15, twice the
 * validation limit), so no sum overflows below 2^33 rows in a group (the
 * low cents already limit a group to 2^31). They are reduced once,
 * `(a_sum 2^-30 + b_sum 2^-60) + c_sum 2^-90` in Float64, a function of
 * the integer sums alone, then added to the cents divided by 100 (an IEEE
 * division in every row, see `centsToUnits`). For one row,
 * `a 2^-30 + b 2^-60 = floor(x) 2^-60` is a Float64 (the rest cut at
 * 2^-60: exact when the rest has no bits below 2^-60, and otherwise the
 * rest is below 2^-8, leaving at most 53 bits) and adding `c 2^-90` gives
 * the rest itself: the sum of one amount is exactly what it was before the
 * rest was split (tests/precise_sum_test.ts). The rest of an amount of
 * 2^85 or more (3.9e25, far beyond {@link PRECISE_SUM_MAX_ABS_TOTAL}) does
 * not fit the parts (null in Int64) and drops out; the amount stays in its
 * cents, to one part in 1e16.
 *
 * An earlier version summed the whole cents as one 64-bit integer: an
 * amount of 9.2e16 or more (9.22e18 cents) did not convert and dropped out
 * of every total, and 100 amounts of 1e15 overflowed the sum, silently.
 * Now no value drops out: a NaN or infinite value makes the sum NaN or
 * infinite, for the final check of a run to refuse (`lib/run/finite.ts`).
 *
 * How exact: the result is the exact sum of the cents, rounded once to
 * Float64, then divided by 100 and given its sub-cent part, while the
 * total stays below 2^53 cents ({@link PRECISE_SUM_EXACT_LIMIT},
 * 90,071,992,547,409.92 units): that is exact to the cent. A larger
 * total cannot be represented to the cent in Float64 at all (its unit in
 * the last place is 2 cents or more); it is still within one part in
 * 1e15 of the true sum, and {@link isExactSum} says it is not exact, so
 * the run and the movement can warn ({@link inexactSumWarning}) instead of
 * presenting it as exact.
 *
 * Use in an aggregation: `agg(...preciseSum(pl.col("ecl"), "ecl"))`, then
 * `withPreciseSums(frame, ["ecl"])` to turn the parts into the `ecl` column.
 * Over many rows, compute the cents and the rest of each row once before
 * the group-by, `withColumns(...preciseSumRowParts(pl.col("ecl"), "ecl"))`,
 * and aggregate `agg(...sumPreciseParts("ecl"))`: the same sums to the
 * bit, without each of the five parts computing them again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { isExactSum, preciseSum, withPreciseSums } from "./precise_sum.ts";
 *
 * // 100 amounts of 1e15 (1e17 cents each): 1e17 in total, none dropped.
 * const frame = pl.DataFrame({ x: Array<number>(100).fill(1e15) }).lazy();
 * const sum = (await withPreciseSums(
 *   frame.select(...preciseSum(pl.col("x"), "x")),
 *   ["x"],
 * ).collect()).getColumn("x").get(0) as number;
 * assert.equal(sum, 1e17);
 * // 1e17 is above 2^53 cents: not exact to the cent in Float64.
 * assert.equal(isExactSum(sum), false);
 * assert.equal(isExactSum(99_544_147.88), true);
 * ```
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataType, Expr, LazyFrame } from "./frame.ts";

/** 2^32: the cents of a value split into a high and a low part. */
const SPLIT = 2 ** 32;

/**
 * The largest total, in units of the currency, that a precise sum gives
 * exact to the cent: 2^53 cents (90,071,992,547,409.92). Float64 holds
 * every whole number of cents up to 2^53; above it, the gap between two
 * neighbouring Float64 numbers is 2 cents or more, so no sum (nor any other
 * figure) that large can be exact to the cent. {@link isExactSum} compares
 * with it.
 */
export const PRECISE_SUM_EXACT_LIMIT: number = 2 ** 53 / 100;

/**
 * The largest sum of absolute values, in units of the currency, over which
 * one precise sum is computed without rounding of its parts: 2^85 cents
 * (about 3.9e23), the sum of `|hi|` staying below 2^53. With amounts
 * bounded by validation to 1e15, that is 387 million rows in one group.
 * Beyond, the Float64 sum of the high parts rounds like any Float64 sum;
 * the total is then far above {@link PRECISE_SUM_EXACT_LIMIT}, and
 * {@link isExactSum} says it is not exact, unless amounts that large cancel
 * out, the one case it cannot tell.
 */
export const PRECISE_SUM_MAX_ABS_TOTAL: number = 2 ** 85 / 100;

/** 2^30: the step between the fixed-point parts of the sub-cent rest. */
const SUB_STEP = 2 ** 30;

/**
 * The columns a precise sum of `name` aggregates into, in order, with
 * their types: the one description of the parts that the run, the
 * disclosures, the capital summary and the merge of a partitioned run all
 * use (`<name>__cents_hi` Float64; `<name>__cents_lo`,
 * `<name>__subcent_30`, `<name>__subcent_60`, `<name>__subcent_90` Int64).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preciseSumPartTypes } from "./precise_sum.ts";
 *
 * assert.deepEqual(Object.keys(preciseSumPartTypes("ecl")), [
 *   "ecl__cents_hi",
 *   "ecl__cents_lo",
 *   "ecl__subcent_30",
 *   "ecl__subcent_60",
 *   "ecl__subcent_90",
 * ]);
 * ```
 */
export function preciseSumPartTypes(name: string): Record<string, DataType> {
  return {
    [`${name}__cents_hi`]: pl.Float64,
    [`${name}__cents_lo`]: pl.Int64,
    [`${name}__subcent_30`]: pl.Int64,
    [`${name}__subcent_60`]: pl.Int64,
    [`${name}__subcent_90`]: pl.Int64,
  };
}

/**
 * The part columns {@link preciseSum} aggregates into, in order (the keys
 * of {@link preciseSumPartTypes}); the first is the high part of the
 * cents, whose `__cents_hi` suffix says a frame holds a precise sum.
 */
export function preciseSumParts(name: string): string[] {
  return Object.keys(preciseSumPartTypes(name));
}

/**
 * `cents / 100`, correctly rounded, row by row. Polars divides a column of
 * more than one row by a scalar as a product by the scalar's reciprocal,
 * which is not the quotient (602549927 / 100 is 6025499.27, but
 * 602549927 * 0.01 is 6025499.2700000005), and a frame of one row by the
 * quotient: a figure then depended on how many rows shared its frame (the
 * cells of a part against those of the whole book). A division by a column
 * of 100s (null where `cents` is) is the IEEE division in every row.
 */
function centsToUnits(cents: Expr): Expr {
  return cents.div(cents.isNotNull().cast(pl.Float64).mul(100));
}

/** Suffix of the row column of an amount's whole cents. */
const ROW_CENTS = "__row_cents";
/** Suffix of the row column of an amount's sub-cent rest, in 2^-60. */
const ROW_REST = "__row_rest";

/**
 * What a precise sum of `value` needs of each row, computed once per row
 * before a group-by, for {@link sumPreciseParts} to aggregate: two Float64
 * columns, `<name>__row_cents` (the whole cents `c = round(100 v)`) and
 * `<name>__row_rest` (the sub-cent rest in units of 2^-60, `(v - c / 100)
 * 2^60`), exactly as {@link preciseSum} computes them. In an `agg`, Polars
 * shares no common subexpression, so each of the five parts of
 * {@link preciseSum} computes the cents and the rest of every row again;
 * here they are computed once, and the parts' sums are the same to the
 * bit. (Five materialised part columns per amount instead of two cost more
 * memory and, measured, more time: each new column is written once more.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import {
 *   preciseSumRowParts,
 *   sumPreciseParts,
 *   withPreciseSums,
 * } from "./precise_sum.ts";
 *
 * const frame = pl.DataFrame({ k: [1, 1, 2], x: [0.1, 0.2, 0.3] }).lazy();
 * const sums = await withPreciseSums(
 *   frame.withColumns(...preciseSumRowParts(pl.col("x"), "x"))
 *     .groupBy("k").agg(...sumPreciseParts("x")).sort("k"),
 *   ["x"],
 * ).collect();
 * // Exact, then rounded once: 0.3, where 0.1 + 0.2 is 0.30000000000000004.
 * assert.deepEqual(sums.getColumn("x").toArray(), [0.3, 0.3]);
 * ```
 */
export function preciseSumRowParts(value: Expr, name: string): Expr[] {
  const cents = value.mul(100).round(0);
  return [
    cents.alias(`${name}${ROW_CENTS}`),
    restOf(value, cents).alias(`${name}${ROW_REST}`),
  ];
}

/**
 * The sub-cent rest of `value` in units of 2^-60, `x = (v - c / 100)
 * 2^60`: exact, a product by a power of two.
 */
function restOf(value: Expr, cents: Expr): Expr {
  return value.sub(centsToUnits(cents)).mul(2 ** 60);
}

/**
 * The five aggregations of a precise sum named `name`, from the whole
 * cents `cents` and the rest `x` (in 2^-60) of each row.
 */
function partsOf(cents: Expr, x: Expr, name: string): Expr[] {
  const [hiName, loName, s30, s60, s90] = preciseSumParts(name);
  // x split as x = (a 2^30 + b) + f with a = floor(x 2^-30),
  // b = floor(x) mod 2^30 and f = x mod 1 (module doc).
  return [
    // Exact: a division by a power of two, then floor. A NaN or infinite
    // value gives a NaN or infinite high part, which the Float64 sum keeps.
    cents.div(SPLIT).floor().sum().alias(hiName),
    // cents - hi * 2^32, in [0, 2^32): Polars' modulo of a float is the
    // floored one, and exact by a power of two. The Int64 sum of 2^31 of
    // them cannot overflow; it stays Int64 until withPreciseSums has taken
    // its carry out.
    cents.modulo(SPLIT).cast(pl.Int64).sum().alias(loName),
    // Whole numbers, exact in Float64 and Int64, summed exactly in any
    // order: |a| <= |rest| 2^30 + 1, b in [0, 2^30), c in [0, 2^30].
    x.mul(2 ** -30).floor().cast(pl.Int64).sum().alias(s30),
    x.floor().modulo(SUB_STEP).cast(pl.Int64).sum().alias(s60),
    x.modulo(1).mul(SUB_STEP).round(0).cast(pl.Int64).sum().alias(s90),
  ];
}

/**
 * The aggregations of a precise sum of `name` from the row columns
 * {@link preciseSumRowParts} computed before the group-by: the same parts,
 * to the bit, as {@link preciseSum} of the amount, for
 * {@link withPreciseSums} to combine.
 */
export function sumPreciseParts(name: string): Expr[] {
  return partsOf(
    pl.col(`${name}${ROW_CENTS}`),
    pl.col(`${name}${ROW_REST}`),
    name,
  );
}

/**
 * The aggregations of an exact-to-the-cent sum of `value`, named after
 * `name`; {@link withPreciseSums} combines them. Each part computes the
 * cents and the rest of every row again (Polars shares no common
 * subexpression in an `agg`): for many rows, compute
 * {@link preciseSumRowParts} before the group-by and aggregate
 * {@link sumPreciseParts}, which gives the same sums to the bit.
 */
export function preciseSum(value: Expr, name: string): Expr[] {
  const cents = value.mul(100).round(0);
  return partsOf(cents, restOf(value, cents), name);
}

/** Replaces the parts of each named precise sum by the sum itself. */
export function withPreciseSums(
  frame: LazyFrame,
  names: string[],
): LazyFrame {
  if (names.length === 0) return frame;
  return frame.withColumns(
    ...names.map((n) => {
      const [hiName, loName, s30, s60, s90] = preciseSumParts(n);
      const lo = pl.col(loName).cast(pl.Int64);
      // The low sum below 2^32 and its carry, a multiple of 2^32 below
      // 2^63 with at most 31 significant bits above them: both exact in
      // Float64, as is the high sum with the carry moved in (a multiple of
      // 2^32 below 2^85). One rounding when the parts are added.
      const rest = lo.modulo(pl.lit(SPLIT).cast(pl.Int64));
      const carry = lo.sub(rest).cast(pl.Float64);
      const cents = pl.col(hiName).mul(SPLIT).add(carry)
        .add(rest.cast(pl.Float64));
      // The sub-cent rest from its integer sums, in one fixed order: a
      // function of the sums alone, so of the rows and not of their
      // order. For one row it is the row's rest exactly (module doc).
      const part = (c: string, scale: number) =>
        pl.col(c).cast(pl.Float64).mul(scale);
      const subcent = part(s30, 2 ** -30).add(part(s60, 2 ** -60))
        .add(part(s90, 2 ** -90));
      return centsToUnits(cents).add(subcent).alias(n);
    }),
  ).drop(names.flatMap(preciseSumParts));
}

/**
 * Whether a precise sum (or any amount) is exact to the cent: finite and
 * below {@link PRECISE_SUM_EXACT_LIMIT} in absolute value.
 */
export function isExactSum(total: number): boolean {
  return Number.isFinite(total) && Math.abs(total) < PRECISE_SUM_EXACT_LIMIT;
}

/**
 * Every number of a value with its key path (`totals.ecl`,
 * `by_stage[1].coverage`), depth first in key order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { figuresOf } from "./precise_sum.ts";
 *
 * assert.deepEqual(
 *   [...figuresOf({ totals: { ecl: 5, coverage: null }, by_stage: [{ ecl: 2 }] })],
 *   [["totals.ecl", 5], ["by_stage[0].ecl", 2]],
 * );
 * ```
 */
export function* figuresOf(
  value: unknown,
  path = "",
): Generator<[key: string, value: number]> {
  if (typeof value === "number") {
    yield [path, value];
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      yield* figuresOf(value[i], `${path}[${i}]`);
    }
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      yield* figuresOf(v, path === "" ? k : `${path}.${k}`);
    }
  }
}

/**
 * The warning for figures too large to be exact to the cent, or null when
 * every one is exact: `where` names the file or table, `figures` the key
 * and value of each figure (the first three are named).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inexactSumWarning } from "./precise_sum.ts";
 *
 * assert.equal(inexactSumWarning("summary.json", [["totals.ecl", 1028449.75]]), null);
 * assert.match(
 *   inexactSumWarning("summary.json", [["totals.ead", 1.5e17]])!,
 *   /^summary\.json: totals\.ead \(150000000000000000\) is above 2\^53 cents/,
 * );
 * ```
 */
export function inexactSumWarning(
  where: string,
  figures: Iterable<[key: string, value: number]>,
): string | null {
  const inexact: string[] = [];
  for (const [key, value] of figures) {
    if (Number.isFinite(value) && !isExactSum(value)) {
      inexact.push(`${key} (${value})`);
    }
  }
  if (inexact.length === 0) return null;
  const named = inexact.slice(0, 3).join(", ") +
    (inexact.length > 3 ? ` and ${inexact.length - 3} more` : "");
  return `${where}: ${named} ${
    inexact.length === 1 ? "is" : "are"
  } above 2^53 cents (${
    PRECISE_SUM_EXACT_LIMIT.toFixed(2)
  } in absolute value): figures that large cannot be exact to the cent in Float64 and are rounded to about 16 significant digits (lib/precise_sum.ts); check the amounts, or report in a currency with larger units`;
}
