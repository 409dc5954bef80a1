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
 * @module
 */
import pl from "nodejs-polars";
import type { Expr, LazyFrame } from "../frame.ts";
import { UserError } from "../errors.ts";
import { COL } from "../schema.ts";
import { allowanceSplit, LOSS_ALLOWANCE, PROVISION } from "../allowance.ts";
import { preciseSum, withPreciseSums } from "../precise_sum.ts";
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

/** Options of {@link ifrs7Tables}. */
export interface Ifrs7Options {
  /** The run's reporting currency. */
  reportingCurrency: string;
  /** Reporting-currency units per unit of each currency (`summary.fx.rates`). */
  rates: Record<string, number>;
  /** Products on the simplified approach (`summary.simplified_products`). */
  simplifiedProducts: readonly string[];
  /** The master scale for facilities without a rating. @default DEFAULT_MASTER_SCALE */
  masterScale?: readonly MasterScaleGrade[];
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

const SUMS = [
  GROSS_CARRYING_AMOUNT,
  LOSS_ALLOWANCE,
  PROVISION,
  "ci_gca",
  "ci_allowance",
  "ci_provision",
  "ci_collateral",
  "ci_collateral_capped",
  COL.writeOffAmount,
];

/**
 * The IFRS 7 credit-risk tables of a run's facilities.
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
  const scale = opts.masterScale ?? DEFAULT_MASTER_SCALE;
  const columns = facilities.columns;
  const has = (c: string) => columns.includes(c);
  const gca = pl.col(GROSS_CARRYING_AMOUNT);
  const impaired = pl.col("stage").eq(3);
  const inImpaired = (e: Expr) =>
    pl.when(impaired).then(e).otherwise(pl.lit(0)).cast(pl.Float64);
  const collateral = has(COL.collateralValue)
    ? pl.col(COL.collateralValue).cast(pl.Float64).fillNull(0)
    : pl.lit(0);
  const capped = pl.when(collateral.lt(gca)).then(collateral).otherwise(gca);
  const prepared = facilities.withColumns(
    ...allowanceSplit(pl.col("ecl"), gca),
  ).select(
    gradeExpr(columns, scale).alias("grade"),
    columnExpr(opts.simplifiedProducts).alias("column"),
    pl.col(COL.currency),
    impaired.cast(pl.Float64).alias("ci_count"),
    (has(RATING) ? pl.col(RATING).isNotNull() : pl.lit(false)).cast(
      pl.Float64,
    ).alias("rated"),
    gca.cast(pl.Float64).alias(GROSS_CARRYING_AMOUNT),
    pl.col(LOSS_ALLOWANCE),
    pl.col(PROVISION),
    inImpaired(gca).alias("ci_gca"),
    inImpaired(pl.col(LOSS_ALLOWANCE)).alias("ci_allowance"),
    inImpaired(pl.col(PROVISION)).alias("ci_provision"),
    inImpaired(collateral).alias("ci_collateral"),
    inImpaired(capped).alias("ci_collateral_capped"),
    (has(COL.writeOffAmount)
      ? pl.col(COL.writeOffAmount).cast(pl.Float64).fillNull(0)
      : pl.lit(0).cast(pl.Float64)).alias(COL.writeOffAmount),
  );
  const keys = ["grade", "column", COL.currency];
  const cellsFrame = await withPreciseSums(
    prepared.groupBy(keys).agg(
      pl.len().cast(pl.Float64).alias("count"),
      pl.col("ci_count").sum().alias("ci_count"),
      pl.col("rated").sum().alias("rated"),
      ...SUMS.flatMap((c) => preciseSum(pl.col(c), c)),
    ),
    SUMS,
  ).collect();
  // A fixed order, so the floating-point sums do not depend on the order
  // in which Polars emitted the groups (as lib/run/summary.ts does).
  const rows = cellsFrame.sort(keys).toRecords() as Record<string, unknown>[];

  const cells = new Map<string, Ifrs7Cell>();
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
    if (!cells.has(key)) cells.set(key, { grade, column, ...zero() });
    const add = (a: Ifrs7Amounts) => {
      a.count += Number(r.count);
      a.gross_carrying_amount += Number(r[GROSS_CARRYING_AMOUNT]) * rate;
      a.loss_allowance += Number(r[LOSS_ALLOWANCE]) * rate;
      a.provision += Number(r[PROVISION]) * rate;
    };
    add(cells.get(key)!);
    add(byColumn[column]);
    add(totals);
    ci.count += Number(r.ci_count);
    ci.gross_carrying_amount += Number(r.ci_gca) * rate;
    ci.loss_allowance += Number(r.ci_allowance) * rate;
    ci.provision += Number(r.ci_provision) * rate;
    ci.collateral += Number(r.ci_collateral) * rate;
    ci.capped += Number(r.ci_collateral_capped) * rate;
    writtenOff += Number(r[COL.writeOffAmount]) * rate;
    rated += Number(r.rated);
  }
  const grades = [...new Set([...cells.values()].map((c) => c.grade))].sort(
    gradeOrder(scale),
  );
  const order = (c: Ifrs7Cell) =>
    grades.indexOf(c.grade) * IFRS7_COLUMNS.length +
    IFRS7_COLUMNS.indexOf(c.column);
  const collateralAvailable = has(COL.collateralValue);
  const writeOffAvailable = has(COL.writeOffAmount);
  return {
    reporting_currency: opts.reportingCurrency,
    grade_source: rated === 0
      ? "master_scale"
      : rated === totals.count
      ? "rating"
      : "rating_and_master_scale",
    master_scale: scale.map((g) => ({ grade: g.grade, upper_pd: g.upper_pd })),
    grades,
    cells: [...cells.values()].sort((a, b) => order(a) - order(b)),
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
