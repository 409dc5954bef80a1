/**
 * IFRS 7 credit-risk tables of one run (docs/disclosures.md):
 *
 * - **§35M**: the gross carrying amount and the loss allowance by credit-risk
 *   grade and by column: 12-month ECL (stage 1, §35M(a)), lifetime ECL
 *   not credit-impaired (stage 2, §35M(b)(i)), lifetime ECL credit-impaired
 *   (stage 3, §35M(b)(ii)) and the simplified approach for receivables
 *   (§35M(b)(iii), IFRS 9 §5.5.15; every facility of a simplified product,
 *   whatever its stage, as in the §35H movement). The grade is the
 *   portfolio's internal `rating` where the row has one, else the band of
 *   the facility's 12-month PD (`pd_12m`) on a master scale
 *   ({@link DEFAULT_MASTER_SCALE}: a grade holds the PDs above the previous
 *   grade's `upper_pd` up to its own); a facility with neither is graded
 *   {@link UNGRADED}.
 * - **Credit-impaired** loans with lifetime ECL (stage 3, including
 *   simplified-approach receivables in stage 3): count, gross carrying
 *   amount, loss allowance.
 * - **§35K(c)** collateral held against the credit-impaired assets: the
 *   portfolio's `collateral_value` (methodology §1, in the facility's
 *   currency) summed as given, and capped at each facility's gross carrying
 *   amount (the part that mitigates the exposure); absent when the
 *   portfolio has no `collateral_value` column.
 * - **§35L** written-off amounts still subject to enforcement activity: the
 *   portfolio records the amount written off in the period
 *   (`write_off_amount`) but no enforcement status, so the §35L figure is
 *   not available. The amount written off in the period by the facilities
 *   still in the book is given for information, as what it is: not the
 *   §35L figure (the contractual amount outstanding on written-off assets
 *   still under enforcement), nor a bound on it, and with no taxonomy
 *   element.
 *
 * The loss allowance is each facility's ECL up to its own gross carrying
 * amount (IFRS 7 B8E, `allowanceSplit`), as in `summary.json`, so the
 * §35M table's totals equal the run's `totals.gross_carrying_amount` and
 * `totals.loss_allowance`. Sums are precise sums per grade, column and
 * currency (`lib/precise_sum.ts`), each converted at the run's closing
 * rate (IAS 21 §23) and added in a fixed order, as the run's summary is.
 *
 * The sums are kept as additive cells ({@link DisclosureCells}: per grade,
 * column, stage and currency, the precise sums' parts not yet reduced), so
 * a run computes them batch by batch from what it holds in memory
 * ({@link disclosureCells} of {@link batchFacilities}), the parts of a
 * partitioned run merge them exactly ({@link mergeDisclosureCells}), and
 * {@link disclosuresFromCells} gives the same tables as the whole book in
 * one pass (docs/disclosures.md, "Cells").
 *
 * @module
 */
import pl from "nodejs-polars";
import {
  columnTypesProblem,
  type DataFrame,
  type DataType,
  type Expr,
  type LazyFrame,
} from "../frame.ts";
import { UserError } from "../errors.ts";
import { COL } from "../schema.ts";
import { allowanceSplit, LOSS_ALLOWANCE, PROVISION } from "../allowance.ts";
import {
  preciseSum,
  preciseSumParts,
  preciseSumPartTypes,
  preciseSumRowParts,
  sumPreciseParts,
  withPreciseSums,
} from "../precise_sum.ts";
import { GROSS_CARRYING_AMOUNT } from "../run_folder/mod.ts";
import { DEFAULT_MASTER_SCALE } from "../pd_model/master_scale.ts";
import type { MasterScaleGrade } from "../pd_model/types.ts";
import { TAXONOMY, type TaxonomyTag } from "./taxonomy.ts";

/** The portfolio's internal grade column (docs/generator.md). */
export const RATING = "rating";

/** The grade of a facility with no rating and no 12-month PD. */
export const UNGRADED = "(ungraded)";

/** The columns of the §35M table, in order. */
export const IFRS7_COLUMNS = [
  "stage_1",
  "stage_2",
  "stage_3",
  "simplified",
] as const;

/** A column of the §35M table. */
export type Ifrs7Column = (typeof IFRS7_COLUMNS)[number];

/** Headings of the §35M columns, with the paragraph of each. */
export const IFRS7_COLUMN_LABELS: Record<Ifrs7Column, string> = {
  stage_1: "Stage 1: 12-month ECL (§35M(a))",
  stage_2: "Stage 2: lifetime ECL, not credit-impaired (§35M(b)(i))",
  stage_3: "Stage 3: lifetime ECL, credit-impaired (§35M(b)(ii))",
  simplified: "Simplified approach: lifetime ECL (§35M(b)(iii))",
};

/** Amounts of one cell (or total) of the §35M table, reporting currency. */
export interface Ifrs7Amounts {
  /** Facilities. */
  count: number;
  /** Sum of the balances at the reporting date. */
  gross_carrying_amount: number;
  /** Sum of each facility's ECL up to its gross carrying amount (B8E). */
  loss_allowance: number;
  /** Sum of each facility's ECL beyond its gross carrying amount (B8E). */
  provision: number;
}

/** One cell of the §35M table: a grade and a column. */
export interface Ifrs7Cell extends Ifrs7Amounts {
  /** The credit-risk grade. */
  grade: string;
  /** The column. */
  column: Ifrs7Column;
}

/** The IFRS 7 credit-risk tables of a run (`summary.json` `disclosures`). */
export interface Ifrs7Disclosures {
  /** The currency every amount is in. */
  reporting_currency: string;
  /**
   * Where the grades come from: `rating` (every facility has one),
   * `master_scale` (none has: bands of `pd_12m`), or `rating_and_master_scale`.
   */
  grade_source: "rating" | "master_scale" | "rating_and_master_scale";
  /** The master scale used for facilities without a rating. */
  master_scale: MasterScaleGrade[];
  /** The grades, in row order (sorted by name, {@link UNGRADED} last). */
  grades: string[];
  /** The §35M cells that hold a facility, by grade then column. */
  cells: Ifrs7Cell[];
  /** The totals of each column. */
  by_column: Record<Ifrs7Column, Ifrs7Amounts>;
  /** The table's total: equals the run's summary totals. */
  totals: Ifrs7Amounts;
  /** Lifetime-ECL loans that are credit-impaired (stage 3), and §35K(c). */
  credit_impaired: Ifrs7Amounts & {
    /** Whether the portfolio has a `collateral_value` column. */
    collateral_available: boolean;
    /** Sum of `collateral_value` of the credit-impaired facilities; null when absent. */
    collateral_value: number | null;
    /** The same, each capped at the facility's gross carrying amount; null when absent. */
    collateral_capped: number | null;
  };
  /** §35L: written-off amounts still subject to enforcement activity. */
  written_off: {
    /** Whether the data says which write-offs are still under enforcement (never, yet). */
    enforcement_available: boolean;
    /** Sum of `write_off_amount` of the run's facilities: the amount written off in the period (not the §35L figure); null when absent. */
    written_off_in_period: number | null;
    /** What the figure is. */
    note: string;
  };
  /** The IFRS Accounting Taxonomy element of each figure. */
  taxonomy: Record<string, TaxonomyTag>;
}

/** Options of {@link ifrs7Tables} and {@link disclosuresFromCells}. */
export interface Ifrs7Options extends DisclosureCellOptions {
  /** The run's reporting currency. */
  reportingCurrency: string;
  /** Reporting-currency units per unit of each currency (`summary.fx.rates`). */
  rates: Record<string, number>;
}

/**
 * The grade of a facility: its `rating` when it has one, else the band of
 * `pd_12m` on `scale`, else {@link UNGRADED}.
 */
export function gradeExpr(
  columns: readonly string[],
  scale: readonly MasterScaleGrade[] = DEFAULT_MASTER_SCALE,
): Expr {
  const pd = pl.col("pd_12m");
  // deno-lint-ignore no-explicit-any
  let band: any = pl.when(pd.isNull()).then(pl.lit(UNGRADED));
  for (const g of scale.slice(0, -1)) {
    band = band.when(pd.ltEq(g.upper_pd)).then(pl.lit(g.grade));
  }
  band = band.otherwise(pl.lit(scale[scale.length - 1].grade));
  const fromPd = columns.includes("pd_12m") ? band as Expr : pl.lit(UNGRADED);
  return columns.includes(RATING)
    ? pl.when(pl.col(RATING).isNotNull()).then(pl.col(RATING).cast(pl.Utf8))
      .otherwise(fromPd)
    : fromPd;
}

/**
 * The order of the §35M rows, best grade first: a master-scale grade by its
 * place on `scale`; a portfolio rating `Rnn` at the place `nn` of the
 * scale (docs/generator.md: `R01` up to 0.05%, upper PDs doubling, as the
 * default master scale); any other rating after those, by name; the default
 * grade `D` after every performing grade; {@link UNGRADED} last. Ties (a
 * rating and a master-scale grade at the same place) by name.
 */
export function gradeOrder(
  scale: readonly MasterScaleGrade[] = DEFAULT_MASTER_SCALE,
): (a: string, b: string) => number {
  const place = new Map(scale.map((g, i) => [g.grade, i]));
  const rank = (g: string) => {
    if (g === UNGRADED) return Number.MAX_SAFE_INTEGER;
    if (g === "D") return Number.MAX_SAFE_INTEGER - 1;
    const onScale = place.get(g);
    if (onScale !== undefined) return onScale;
    const r = /^R(\d+)$/.exec(g);
    if (r !== null) return Number(r[1]) - 1;
    return Number.MAX_SAFE_INTEGER - 2;
  };
  return (a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** The §35M column of a facility (simplified products first). */
export function columnExpr(simplifiedProducts: readonly string[]): Expr {
  const simplified = simplifiedProducts.length === 0
    ? pl.lit(false)
    : pl.col(COL.product).isIn([...simplifiedProducts]);
  return pl.when(simplified).then(pl.lit("simplified"))
    .when(pl.col("stage").eq(3)).then(pl.lit("stage_3"))
    .when(pl.col("stage").eq(2)).then(pl.lit("stage_2"))
    .otherwise(pl.lit("stage_1"));
}

const zero = (): Ifrs7Amounts => ({
  count: 0,
  gross_carrying_amount: 0,
  loss_allowance: 0,
  provision: 0,
});

/** The keys of a disclosure cell, in order. */
export const DISCLOSURE_CELL_KEYS = [
  "grade",
  "column",
  "stage",
  COL.currency,
] as const;

/** The `collateral_value` of a facility capped at its gross carrying amount. */
const COLLATERAL_CAPPED = "collateral_capped";

/** The amounts every disclosure cell holds a precise sum of. */
const BASE_AMOUNTS = [GROSS_CARRYING_AMOUNT, LOSS_ALLOWANCE, PROVISION];
/** Present when the facilities have `collateral_value` (§35K(c)). */
const COLLATERAL_AMOUNTS = [COL.collateralValue, COLLATERAL_CAPPED];
/** Present when the facilities have `write_off_amount`. */
const WRITE_OFF_AMOUNTS = [COL.writeOffAmount];
/** The amounts summed over the credit-impaired (stage 3) cells. */
const IMPAIRED_AMOUNTS = [...BASE_AMOUNTS, ...COLLATERAL_AMOUNTS];

/** What decides a facility's cell: its §35M column and its grade. */
export interface DisclosureCellOptions {
  /** Products on the simplified approach (`summary.simplified_products`). */
  simplifiedProducts: readonly string[];
  /** The master scale for facilities without a rating. @default DEFAULT_MASTER_SCALE */
  masterScale?: readonly MasterScaleGrade[];
}

/**
 * The IFRS 7 tables of some facilities as additive cells: one row per
 * grade, §35M column, stage and currency, in the facilities' own
 * currency, with the precise sums' parts not yet reduced
 * (`preciseSumPartTypes`, lib/precise_sum.ts: `<amount>__cents_hi`,
 * `<amount>__cents_lo`, `<amount>__subcent_30`...). The parts add
 * exactly, in any order, so the cells of
 * slices of a book (a run's batches, the parts of a partitioned run)
 * merge ({@link mergeDisclosureCells}) into the cells of the whole book,
 * and {@link disclosuresFromCells} turns them into the same tables as
 * {@link ifrs7Tables} of the whole book.
 */
export interface DisclosureCells {
  /**
   * Columns: {@link DISCLOSURE_CELL_KEYS} (`grade`, `column` Utf8, `stage`
   * Int32, `currency` Utf8); `count` and `rated` (facilities with a
   * portfolio `rating`), Float64; the precise-sum parts of
   * `gross_carrying_amount`, `loss_allowance` and `provision`; of
   * `collateral_value` and `collateral_capped` (of the credit-impaired,
   * stage-3, facilities: zero in other stages) only when the facilities
   * have `collateral_value`, of `write_off_amount` only when they have
   * that column (so the file's schema says what the portfolio had, even
   * with no rows).
   */
  frame: DataFrame;
}

/**
 * A facility's band on the master scale as the place of its grade on
 * `scale` (null without `pd_12m`): the same first match as
 * {@link gradeExpr}, on integers, which a group-by keys much faster than
 * names.
 */
function bandExpr(scale: readonly MasterScaleGrade[]): Expr {
  const pd = pl.col("pd_12m");
  // deno-lint-ignore no-explicit-any
  let band: any = pl.when(pd.isNull()).then(pl.lit(null).cast(pl.Int32));
  scale.slice(0, -1).forEach((g, i) => {
    band = band.when(pd.ltEq(g.upper_pd)).then(pl.lit(i));
  });
  return (band.otherwise(pl.lit(scale.length - 1)) as Expr).cast(pl.Int32);
}

/**
 * `frame` with a `count` and the precise-sum parts of each of `amounts`,
 * zero where it has none, in one order (to stack the frames of a group-by).
 */
function withZeroParts(frame: DataFrame, amounts: readonly string[]) {
  const present = new Set(frame.columns);
  const zero = (c: string, type: DataType) =>
    present.has(c) ? pl.col(c).cast(type) : pl.lit(0).cast(type).alias(c);
  return frame.select(
    ...frame.columns.filter((c) =>
      c !== "count" && !amounts.some((a) => preciseSumParts(a).includes(c))
    ),
    zero("count", pl.Float64),
    ...amounts.flatMap((a) =>
      Object.entries(preciseSumPartTypes(a)).map(([c, t]) => zero(c, t))
    ),
  );
}

/** The optional amounts a cells frame holds, by its columns. */
function optionalAmounts(columns: readonly string[]): {
  collateral: boolean;
  writeOff: boolean;
} {
  const has = (a: string) => columns.includes(preciseSumParts(a)[0]);
  return {
    collateral: has(COL.collateralValue),
    writeOff: has(COL.writeOffAmount),
  };
}

/** The amounts of cells with the given optional ones, in order. */
function amountsOf(opt: { collateral: boolean; writeOff: boolean }): string[] {
  return [
    ...BASE_AMOUNTS,
    ...(opt.collateral ? COLLATERAL_AMOUNTS : []),
    ...(opt.writeOff ? WRITE_OFF_AMOUNTS : []),
  ];
}

/** The columns of a cells frame, in order. */
function cellColumns(amounts: readonly string[]): string[] {
  return [
    ...DISCLOSURE_CELL_KEYS,
    "count",
    "rated",
    ...amounts.flatMap(preciseSumParts),
  ];
}

/** Each part's sum over a group of cells, same names and types. */
function partSums(amounts: readonly string[]): Expr[] {
  return amounts.flatMap(preciseSumParts).map((c) => pl.col(c).sum());
}

/** Cells added up by key, in key order, columns in order. */
function addUp(cells: LazyFrame, amounts: readonly string[]): DataFrame {
  return cells.groupBy([...DISCLOSURE_CELL_KEYS]).agg(
    pl.col("count").sum(),
    pl.col("rated").sum(),
    ...partSums(amounts),
  ).select(...cellColumns(amounts)).sort([...DISCLOSURE_CELL_KEYS])
    .collectSync();
}

/**
 * The disclosure cells of some facilities (one pass): what
 * {@link ifrs7Tables} sums, not yet converted or rolled up. Call it on each
 * batch of a run, or on the whole book.
 *
 * @param facilities one row per facility: `currency`, `product`, `stage`,
 *   `ecl`, `gross_carrying_amount`, and where available `pd_12m`, `rating`,
 *   `collateral_value` and `write_off_amount` (see {@link batchFacilities}
 *   and {@link runFacilities}).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import {
 *   disclosureCells,
 *   disclosuresFromCells,
 *   ifrs7Tables,
 *   mergeDisclosureCells,
 * } from "./ifrs7.ts";
 *
 * const book = pl.DataFrame({
 *   loan_id: ["A", "B", "C"], currency: ["EUR", "EUR", "USD"],
 *   product: ["mortgage", "mortgage", "sme"], stage: [1, 3, 2],
 *   ecl: [1, 40, 5], gross_carrying_amount: [100, 50, 200],
 *   pd_12m: [0.001, 1, 0.02],
 * });
 * const opts = {
 *   reportingCurrency: "EUR", rates: { EUR: 1, USD: 0.5 }, simplifiedProducts: [],
 * };
 * // Two slices' cells, merged: the tables of the whole book.
 * const merged = mergeDisclosureCells([
 *   await disclosureCells(book.slice(0, 2).lazy(), opts),
 *   await disclosureCells(book.slice(2, 1).lazy(), opts),
 * ]);
 * assert.deepEqual(
 *   disclosuresFromCells(merged, opts),
 *   await ifrs7Tables(book.lazy(), opts),
 * );
 * ```
 */
export async function disclosureCells(
  facilities: LazyFrame,
  opts: DisclosureCellOptions,
): Promise<DisclosureCells> {
  const scale = opts.masterScale ?? DEFAULT_MASTER_SCALE;
  const columns = facilities.columns;
  const has = (c: string) => columns.includes(c);
  const opt = {
    collateral: has(COL.collateralValue),
    writeOff: has(COL.writeOffAmount),
  };
  const amounts = amountsOf(opt);
  const gca = pl.col(GROSS_CARRYING_AMOUNT);
  const collateral = pl.col(COL.collateralValue).cast(pl.Float64).fillNull(0);
  const band = has("pd_12m")
    ? bandExpr(scale)
    : pl.lit(null).cast(pl.Int32) as Expr;
  // The facilities grouped by what decides their grade and column (a
  // rating, else the band of pd_12m; product and stage), integers where
  // possible; grades and columns are named on the few hundred groups.
  const keys = [...(has(RATING) ? [RATING] : []), "band", COL.product, "stage"];
  const rows = facilities.withColumns(
    ...allowanceSplit(pl.col("ecl"), gca),
  ).select(
    ...(has(RATING) ? [pl.col(RATING).cast(pl.Utf8).alias(RATING)] : []),
    (has(RATING)
      ? pl.when(pl.col(RATING).isNull()).then(band).otherwise(
        pl.lit(null).cast(pl.Int32),
      )
      : band).alias("band"),
    pl.col(COL.product),
    pl.col("stage").cast(pl.Int32),
    pl.col(COL.currency),
    gca.cast(pl.Float64).alias(GROSS_CARRYING_AMOUNT),
    pl.col(LOSS_ALLOWANCE),
    pl.col(PROVISION),
    ...(opt.collateral
      ? [
        // Only the credit-impaired facilities' collateral is reported
        // (§35K(c)): zero elsewhere.
        pl.when(pl.col("stage").eq(3)).then(collateral).otherwise(pl.lit(0))
          .cast(pl.Float64).alias(COL.collateralValue),
        pl.when(pl.col("stage").eq(3)).then(
          pl.when(collateral.lt(gca)).then(collateral).otherwise(gca),
        ).otherwise(pl.lit(0)).cast(pl.Float64).alias(COLLATERAL_CAPPED),
      ]
      : []),
    ...(opt.writeOff
      ? [
        pl.col(COL.writeOffAmount).cast(pl.Float64).fillNull(0).alias(
          COL.writeOffAmount,
        ),
      ]
      : []),
  );
  const groupKeys = [...keys, COL.currency];
  const sides = amounts.filter((a) => !BASE_AMOUNTS.includes(a));
  // Every facility in the count and the base amounts; the collateral and
  // write-off sums over the few facilities that have one (stage 3, a
  // write-off): a zero adds nothing to any part of a precise sum, and
  // most facilities would add only zeros.
  // Each amount's cents and rest once per row, not once per part of its
  // precise sum in the agg (preciseSumRowParts).
  const main = await rows.withColumns(
    ...BASE_AMOUNTS.flatMap((c) => preciseSumRowParts(pl.col(c), c)),
  ).groupBy(groupKeys).agg(
    pl.len().cast(pl.Float64).alias("count"),
    ...BASE_AMOUNTS.flatMap(sumPreciseParts),
  ).collect();
  const frames = [main];
  if (sides.length > 0) {
    const some = sides.map((c) => pl.col(c).neq(0)).reduce((a, b) => a.or(b));
    frames.push(
      await rows.filter(some).groupBy(groupKeys).agg(
        ...sides.flatMap((c) => preciseSum(pl.col(c), c)),
      ).collect(),
    );
  }
  const groups = pl.concat(frames.map((f) => withZeroParts(f, amounts)), {
    how: "vertical",
  });
  // deno-lint-ignore no-explicit-any
  let bandName: any = pl.when(pl.col("band").isNull()).then(pl.lit(UNGRADED));
  scale.forEach((g, i) => {
    bandName = bandName.when(pl.col("band").eq(i)).then(pl.lit(g.grade));
  });
  bandName = bandName.otherwise(pl.lit(UNGRADED)) as Expr;
  const rated = has(RATING) ? pl.col(RATING).isNotNull() : pl.lit(false);
  const named = groups.lazy().withColumns(
    (has(RATING)
      ? pl.when(pl.col(RATING).isNotNull()).then(pl.col(RATING)).otherwise(
        bandName,
      )
      : bandName).cast(pl.Utf8).alias("grade"),
    columnExpr(opts.simplifiedProducts).alias("column"),
    pl.when(rated).then(pl.col("count")).otherwise(pl.lit(0)).cast(pl.Float64)
      .alias("rated"),
  );
  return { frame: addUp(named, amounts) };
}

/**
 * The facilities of one batch of a run for {@link disclosureCells}, from
 * what the run holds in memory: the batch's loan results, its carrying
 * amounts and its valid portfolio rows (for `rating` and
 * `collateral_value`). Rows in the same order (as a run computes them)
 * are put side by side; otherwise they are joined on `loan_id`, as
 * {@link runFacilities} does.
 */
export function batchFacilities(
  results: DataFrame,
  carrying: DataFrame,
  inputs?: DataFrame,
): LazyFrame {
  const ids = results.getColumn(COL.loanId);
  const aligned = (other: DataFrame) =>
    other.height === results.height &&
    (results.height === 0 ||
      other.getColumn(COL.loanId).seriesEqual(ids));
  const extra = inputs === undefined
    ? []
    : [RATING, COL.collateralValue].filter((c) => inputs.columns.includes(c));
  if (!aligned(carrying) || (extra.length > 0 && !aligned(inputs!))) {
    return runFacilities(results.lazy(), carrying.lazy(), inputs?.lazy());
  }
  const carried = [
    GROSS_CARRYING_AMOUNT,
    ...(carrying.columns.includes(COL.writeOffAmount)
      ? [COL.writeOffAmount]
      : []),
  ];
  let frame = results.select(
    COL.loanId,
    COL.currency,
    COL.product,
    "stage",
    "ecl",
    "pd_12m",
  ).hstack(carrying.select(...carried));
  if (extra.length > 0) frame = frame.hstack(inputs!.select(...extra));
  return frame.lazy();
}

/**
 * Adds up the disclosure cells of slices of one book (a run's batches, or
 * the parts of a partitioned run): the whole-cent parts exactly. The
 * optional amounts are kept when any slice has them (a slice without
 * them adds nothing).
 */
export function mergeDisclosureCells(
  parts: readonly DisclosureCells[],
): DisclosureCells {
  if (parts.length === 1) return parts[0];
  const opt = { collateral: false, writeOff: false };
  for (const p of parts) {
    const o = optionalAmounts(p.frame.columns);
    opt.collateral ||= o.collateral;
    opt.writeOff ||= o.writeOff;
  }
  const amounts = amountsOf(opt);
  const frames = parts.map((p) => aligned(p.frame, amounts));
  if (frames.length === 0) return { frame: aligned(null, amounts) };
  return { frame: addUp(pl.concat(frames).lazy(), amounts) };
}

/**
 * `frame` (or no rows) with exactly the columns of cells of `amounts`, in
 * order and with their types; missing amounts are zero.
 */
function aligned(frame: DataFrame | null, amounts: readonly string[]) {
  const types: Record<string, DataType> = {
    grade: pl.Utf8,
    column: pl.Utf8,
    stage: pl.Int32,
    [COL.currency]: pl.Utf8,
    count: pl.Float64,
    rated: pl.Float64,
  };
  for (const a of amounts) Object.assign(types, preciseSumPartTypes(a));
  const columns = cellColumns(amounts);
  if (frame === null) {
    return pl.DataFrame(
      Object.fromEntries(columns.map((c) => [c, pl.Series(c, [], types[c])])),
    );
  }
  const present = new Set(frame.columns);
  return frame.select(
    ...columns.map((c) =>
      (present.has(c) ? pl.col(c) : pl.lit(0)).cast(types[c]).alias(c)
    ),
  );
}

/**
 * What is wrong with a frame read back as disclosure cells (a missing
 * column, or one of another type), or null when it is disclosure cells.
 */
export function disclosureCellsProblem(frame: DataFrame): string | null {
  const amounts = amountsOf(optionalAmounts(frame.columns));
  const expected = aligned(null, amounts).schema as Record<string, DataType>;
  const problem = columnTypesProblem(frame, expected);
  return problem === null
    ? null
    : `${problem}, so it holds no disclosure cells (lib/disclosure/ifrs7.ts); rerun the part that wrote it`;
}

/**
 * Checks a frame read back as disclosure cells (a part's
 * `disclosure_cells.parquet`): the key and count columns and the three
 * parts of each amount, with their types.
 *
 * @param where the file, for the message.
 * @throws {UserError} (`input`) naming the file and the column at fault.
 */
export function disclosureCellsOf(
  frame: DataFrame,
  where: string,
): DisclosureCells {
  const problem = disclosureCellsProblem(frame);
  if (problem !== null) throw new UserError("input", `${where}: ${problem}`);
  const amounts = amountsOf(optionalAmounts(frame.columns));
  return { frame: frame.select(...cellColumns(amounts)) };
}

/**
 * The IFRS 7 credit-risk tables of (merged) disclosure cells: each cell
 * converted at its currency's closing rate and rolled up, in a fixed
 * order; the same tables {@link ifrs7Tables} gives of the facilities.
 *
 * @throws {UserError} (`input`) when a currency has no rate in `rates`.
 */
export function disclosuresFromCells(
  cells: DisclosureCells,
  opts: Ifrs7Options,
): Ifrs7Disclosures {
  const scale = opts.masterScale ?? DEFAULT_MASTER_SCALE;
  const opt = optionalAmounts(cells.frame.columns);
  const amounts = amountsOf(opt);
  const impaired = IMPAIRED_AMOUNTS.filter((a) => amounts.includes(a));
  const stage3 = pl.col("stage").eq(3);
  const inImpaired = (c: string, as: string, type: DataType) =>
    pl.when(stage3).then(pl.col(c)).otherwise(pl.lit(0)).cast(type).sum()
      .alias(as);
  // Credit-impaired: the stage-3 cells (simplified receivables in stage 3
  // too), whatever their column.
  const impairedParts = impaired.flatMap((a) => {
    const ci = preciseSumParts(`ci_${a}`);
    return Object.entries(preciseSumPartTypes(a)).map(([c, t], i) =>
      inImpaired(c, ci[i], t)
    );
  });
  const keys = ["grade", "column", COL.currency];
  const cellsFrame = withPreciseSums(
    cells.frame.lazy().groupBy(keys).agg(
      pl.col("count").sum(),
      pl.col("rated").sum(),
      inImpaired("count", "ci_count", pl.Float64),
      ...partSums(amounts),
      ...impairedParts,
    ),
    [...amounts, ...impaired.map((a) => `ci_${a}`)],
  ).collectSync();
  // A fixed order, so the floating-point sums do not depend on the order
  // in which Polars emitted the groups (as lib/run/summary.ts does).
  const rows = cellsFrame.sort(keys).toRecords() as Record<string, unknown>[];
  const num = (r: Record<string, unknown>, c: string) => Number(r[c] ?? 0);

  const table = new Map<string, Ifrs7Cell>();
  const byColumn = Object.fromEntries(
    IFRS7_COLUMNS.map((c) => [c, zero()]),
  ) as Record<Ifrs7Column, Ifrs7Amounts>;
  const totals = zero();
  const ci = { ...zero(), collateral: 0, capped: 0 };
  let writtenOff = 0, rated = 0;
  for (const r of rows) {
    const currency = String(r[COL.currency]);
    const rate = opts.rates[currency];
    if (!(typeof rate === "number" && rate > 0)) {
      throw new UserError(
        "input",
        `Cannot compute the IFRS 7 tables: currency ${currency} has no rate into ${opts.reportingCurrency}`,
      );
    }
    const grade = String(r.grade);
    const column = String(r.column) as Ifrs7Column;
    const key = `${grade}\u0000${column}`;
    if (!table.has(key)) table.set(key, { grade, column, ...zero() });
    const add = (a: Ifrs7Amounts) => {
      a.count += num(r, "count");
      a.gross_carrying_amount += num(r, GROSS_CARRYING_AMOUNT) * rate;
      a.loss_allowance += num(r, LOSS_ALLOWANCE) * rate;
      a.provision += num(r, PROVISION) * rate;
    };
    add(table.get(key)!);
    add(byColumn[column]);
    add(totals);
    ci.count += num(r, "ci_count");
    ci.gross_carrying_amount += num(r, `ci_${GROSS_CARRYING_AMOUNT}`) * rate;
    ci.loss_allowance += num(r, `ci_${LOSS_ALLOWANCE}`) * rate;
    ci.provision += num(r, `ci_${PROVISION}`) * rate;
    ci.collateral += num(r, `ci_${COL.collateralValue}`) * rate;
    ci.capped += num(r, `ci_${COLLATERAL_CAPPED}`) * rate;
    writtenOff += num(r, COL.writeOffAmount) * rate;
    rated += num(r, "rated");
  }
  const grades = [...new Set([...table.values()].map((c) => c.grade))].sort(
    gradeOrder(scale),
  );
  const order = (c: Ifrs7Cell) =>
    grades.indexOf(c.grade) * IFRS7_COLUMNS.length +
    IFRS7_COLUMNS.indexOf(c.column);
  const collateralAvailable = opt.collateral;
  const writeOffAvailable = opt.writeOff;
  return {
    reporting_currency: opts.reportingCurrency,
    grade_source: rated === 0
      ? "master_scale"
      : rated === totals.count
      ? "rating"
      : "rating_and_master_scale",
    master_scale: scale.map((g) => ({ grade: g.grade, upper_pd: g.upper_pd })),
    grades,
    cells: [...table.values()].sort((a, b) => order(a) - order(b)),
    by_column: byColumn,
    totals,
    credit_impaired: {
      count: ci.count,
      gross_carrying_amount: ci.gross_carrying_amount,
      loss_allowance: ci.loss_allowance,
      provision: ci.provision,
      collateral_available: collateralAvailable,
      collateral_value: collateralAvailable ? ci.collateral : null,
      collateral_capped: collateralAvailable ? ci.capped : null,
    },
    written_off: {
      enforcement_available: false,
      written_off_in_period: writeOffAvailable ? writtenOff : null,
      note: writeOffAvailable
        ? "The portfolio records the amount written off in the period (write_off_amount) but not whether it is still subject to enforcement activity: the IFRS 7 §35L figure (the contractual amount outstanding on written-off assets still under enforcement) is not available. The amount written off in the period by the facilities still in the run is shown for information only: it is not the §35L figure and carries no taxonomy element."
        : "The portfolio has no write_off_amount column and no enforcement status: the IFRS 7 §35L figure is not available.",
    },
    taxonomy: { ...TAXONOMY },
  };
}

/**
 * The IFRS 7 credit-risk tables of a run's facilities:
 * {@link disclosuresFromCells} of their {@link disclosureCells}.
 *
 * @param facilities one row per facility: `currency`, `product`, `stage`,
 *   `ecl`, `gross_carrying_amount`, and where available `pd_12m`, `rating`,
 *   `collateral_value` and `write_off_amount` (see {@link runFacilities}).
 * @throws {UserError} (`input`) when a currency has no rate in `rates`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { ifrs7Tables } from "./ifrs7.ts";
 *
 * const facilities = pl.DataFrame({
 *   loan_id: ["A", "B", "C"], currency: ["EUR", "EUR", "USD"],
 *   product: ["mortgage", "mortgage", "sme"], stage: [1, 3, 2],
 *   rating: ["R02", "D", "R05"], ecl: [1, 40, 5],
 *   gross_carrying_amount: [100, 50, 200], collateral_value: [90, 80, null],
 * }).lazy();
 * const d = await ifrs7Tables(facilities, {
 *   reportingCurrency: "EUR", rates: { EUR: 1, USD: 0.5 }, simplifiedProducts: [],
 * });
 * assert.equal(d.totals.gross_carrying_amount, 250); // 100 + 50 + 200 * 0.5
 * assert.equal(d.totals.loss_allowance, 43.5); // 1 + 40 + 5 * 0.5
 * assert.equal(d.credit_impaired.collateral_capped, 50); // min(80, 50)
 * ```
 */
export async function ifrs7Tables(
  facilities: LazyFrame,
  opts: Ifrs7Options,
): Promise<Ifrs7Disclosures> {
  return disclosuresFromCells(await disclosureCells(facilities, opts), opts);
}

/**
 * The facilities of a run folder's files for {@link ifrs7Tables}: the loan
 * results with `gross_carrying_amount` and `write_off_amount` from the
 * carrying amounts and, from the portfolio's valid rows when given, the
 * `rating` and `collateral_value` columns it has (the run folder keeps
 * neither).
 */
export function runFacilities(
  results: LazyFrame,
  carrying: LazyFrame,
  portfolio?: LazyFrame,
): LazyFrame {
  const withCarrying = results.select(
    COL.loanId,
    COL.currency,
    COL.product,
    "stage",
    "ecl",
    "pd_12m",
  ).join(
    carrying.select(
      COL.loanId,
      GROSS_CARRYING_AMOUNT,
      ...(carrying.columns.includes(COL.writeOffAmount)
        ? [COL.writeOffAmount]
        : []),
    ),
    { on: COL.loanId, how: "left" },
  );
  if (portfolio === undefined) return withCarrying;
  const extra = [RATING, COL.collateralValue].filter((c) =>
    portfolio.columns.includes(c)
  );
  if (extra.length === 0) return withCarrying;
  return withCarrying.join(portfolio.select(COL.loanId, ...extra), {
    on: COL.loanId,
    how: "left",
  });
}
