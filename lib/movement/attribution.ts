/**
 * Facility-level attribution of the movement between two reporting dates
 * (docs/movement.md): every facility of either run gets its opening and
 * closing loss allowance and gross carrying amount in the reporting
 * currency, and the part of the change that each line of the IFRS 7 §35H
 * (allowance) and §35I (gross carrying amount) reconciliation takes.
 *
 * The attribution order is fixed so that each facility's lines add up to its
 * own change exactly: (1) transfers between columns (stage 1, 2, 3 or the
 * simplified approach) at the opening amount and opening rate, (2) new
 * assets at the closing amount and closing rate, (3) derecognition at the
 * opening amount and opening rate, (4) FX on the opening local amount of
 * facilities present in both runs, (5) write-offs at the closing rate,
 * (6) the remainder: for the allowance, remeasurement of facilities
 * transferred between columns or of those that stayed in theirs; for the
 * gross carrying amount, recoveries on facilities written off or the
 * balance changes of the others.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Expr, LazyFrame } from "../frame.ts";
import { allowanceSplit } from "../allowance.ts";
import { attachCarryingAmounts } from "../run_folder/mod.ts";

/** What happened to a facility between the two reporting dates. */
export const MOVEMENT_STATUS = {
  /** In both runs, not written off. */
  stayed: "stayed",
  /** Only in the later run: originated (or purchased) in the period. */
  new: "new",
  /** Only in the earlier run: repaid, prepaid or matured. */
  derecognised: "derecognised",
  /** In both runs, with `write_off_amount > 0` in the later one. */
  writtenOff: "written_off",
} as const;

/**
 * The column of the IFRS 7 §35H tables a facility is shown in at one date:
 * its stage under the general approach, or `simplified` when its product is
 * on the simplified approach in that run (§35H(b)(iii), IFRS 9 §5.5.15),
 * whatever its stage (2, or 3 when credit-impaired).
 */
export const SIMPLIFIED = "simplified";

/** One run's tables as the attribution reads them. */
export interface MovementSide {
  /** `loan_results.parquet`: loan_id, currency, product, stage, ecl (local). */
  results: LazyFrame;
  /** `carrying_amounts.parquet`: loan_id, gross_carrying_amount, write_off_amount. */
  carrying: LazyFrame;
  /** Reporting-currency units per unit of each currency (summary fx.rates). */
  rates: Record<string, number>;
  /**
   * Products on the simplified approach in this run (summary
   * `simplified_products`). @default []
   */
  simplifiedProducts?: string[];
}

/** The measures of the movement, as facility column prefixes. */
export type FacilityMeasure = "allowance" | "gross";

/**
 * Lines of each reconciliation measured per facility, in column order. The
 * allowance separates the remeasurement of facilities transferred between
 * columns from that of facilities that stayed in theirs; the gross carrying
 * amount separates recoveries on facilities written off from the balance
 * changes of the others (docs/movement.md §3, step 6).
 */
export const FACILITY_LINES = {
  allowance: [
    "opening",
    "transfer",
    "new_originated",
    "derecognised",
    "fx",
    "write_off",
    "remeasurement_transferred",
    "remeasurement",
    "closing",
  ],
  gross: [
    "opening",
    "transfer",
    "new_originated",
    "derecognised",
    "fx",
    "write_off",
    "recoveries",
    "remeasurement",
    "closing",
  ],
} as const;

/** A per-facility line name of either measure. */
export type FacilityLine = (typeof FACILITY_LINES)[FacilityMeasure][number];

/** The column holding a line's amount for one measure. */
export function lineColumn(
  measure: FacilityMeasure,
  line: FacilityLine,
): string {
  return `${measure}_${line}`;
}

/**
 * The loss allowance and provision parts of ECL (IFRS 7 B8E) at each date,
 * per facility in the reporting currency.
 */
export const SPLIT_COLUMNS = [
  "loss_allowance_opening",
  "provision_opening",
  "loss_allowance_closing",
  "provision_closing",
] as const;

function ratesFrame(rates: Record<string, number>, name: string) {
  const currencies = Object.keys(rates);
  return pl.DataFrame({
    currency: currencies,
    [name]: currencies.map((c) => rates[c]),
  }, { schema: { currency: pl.Utf8, [name]: pl.Float64 } }).lazy();
}

/**
 * One run's facilities: loan_id, currency, product, stage, whether the
 * product is on the simplified approach, ecl, gross, write-off, rate.
 */
async function side(
  s: MovementSide,
  suffix: "from" | "to",
): Promise<LazyFrame> {
  const simplified = s.simplifiedProducts ?? [];
  const onSimplified = simplified.length === 0
    ? pl.lit(false)
    : pl.col("product").isIn(simplified).fillNull(false);
  const [results, carrying] = await Promise.all([
    s.results.select(
      pl.col("loan_id"),
      pl.col("currency"),
      pl.col("product").cast(pl.Utf8),
      pl.col("stage").cast(pl.Int32),
      onSimplified.alias("simplified"),
      pl.col("ecl").cast(pl.Float64),
    ).collect(),
    s.carrying.select(
      pl.col("loan_id"),
      pl.col("gross_carrying_amount").cast(pl.Float64),
      pl.col("write_off_amount").cast(pl.Float64).fillNull(0),
    ).collect(),
  ]);
  return attachCarryingAmounts(results, carrying, [
    "gross_carrying_amount",
    "write_off_amount",
  ]).lazy()
    .join(ratesFrame(s.rates, "rate"), { on: "currency", how: "left" })
    .select(
      pl.col("loan_id"),
      pl.col("currency").alias(`currency_${suffix}`),
      pl.col("product").alias(`product_${suffix}`),
      pl.col("stage").alias(`stage_${suffix}`),
      pl.col("simplified").alias(`simplified_${suffix}`),
      pl.col("ecl").alias(`ecl_${suffix}`),
      pl.col("gross_carrying_amount").alias(`gross_${suffix}`),
      pl.col("write_off_amount").alias(`write_off_${suffix}`),
      pl.col("rate").alias(`rate_${suffix}`),
    );
}

/**
 * The pipeline step of the movement analysis: one row per facility of
 * either run with its status, class (`product`), stages, whether its
 * product is on the simplified approach at each date (`simplified_from`,
 * `simplified_to`, which with the stage give its column), rates,
 * every reconciliation line for the allowance (`allowance_<line>`) and the
 * gross carrying amount (`gross_<line>`) and the B8E split of its opening
 * and closing ECL ({@link SPLIT_COLUMNS}), all in the reporting currency.
 * It reads each run's key columns first (a few columns, collected) so that
 * a run's results and carrying amounts, written in the same order, are put
 * side by side rather than joined; the lazy frame it resolves to does the
 * rest.
 *
 * Amounts per facility, with `a0, g0` the opening local allowance and gross
 * carrying amount, `a1, g1` the closing ones, `w` the local amount written
 * off in the period, `r0`, `r1` the two runs' rates for the facility's
 * currency (docs/movement.md gives the reasoning):
 *
 * - opening `a0*r0`; closing `a1*r1`;
 * - transfer `a0*r0` when the column (stage, or simplified approach)
 *   changed, booked out of the opening column, into the closing column;
 * - new `a1*r1`; derecognised `-a0*r0`;
 * - FX `a0*(r1' - r0)`, `r1'` the later rate of the opening currency;
 * - write-off `-w*r1`;
 * - the remainder `a1*r1 - a0*r1' + w*r1` of a facility in both runs:
 *   allowance `remeasurement_transferred` when its column changed,
 *   `remeasurement` otherwise; gross `recoveries` when it was written off
 *   (negative: cash collected before the write-off), `remeasurement`
 *   otherwise.
 *
 * A facility's class is its product at the later date, or at the earlier
 * one when it was derecognised, so that each facility is in one class.
 *
 * Facilities whose currency lacks a rate get a null rate: check with
 * {@link missingRates} first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { facilityMovements } from "./attribution.ts";
 *
 * // One run's facilities (amounts in EUR, reported in EUR).
 * const side = (loans: [string, number, number, number][]) => ({
 *   results: pl.DataFrame(loans.map(([loan_id, stage, ecl]) =>
 *     ({ loan_id, currency: "EUR", product: "sme", stage, ecl }))).lazy(),
 *   carrying: pl.DataFrame(loans.map(([loan_id, , , gross]) =>
 *     ({ loan_id, gross_carrying_amount: gross, write_off_amount: 0 }))).lazy(),
 *   rates: { EUR: 1 },
 * });
 * // L1 moves to stage 2, L2 is repaid, L3 is new.
 * const from = side([["L1", 1, 10, 1000], ["L2", 1, 5, 500]]);
 * const to = side([["L1", 2, 60, 900], ["L3", 1, 4, 400]]);
 * const lines = await (await facilityMovements(from, to)).sort("loan_id")
 *   .select("loan_id", "status", "allowance_transfer",
 *     "allowance_remeasurement_transferred", "allowance_derecognised",
 *     "allowance_new_originated", "allowance_closing")
 *   .collect();
 * assert.deepEqual(lines.toRecords(), [
 *   { loan_id: "L1", status: "stayed", allowance_transfer: 10,
 *     allowance_remeasurement_transferred: 50, allowance_derecognised: 0,
 *     allowance_new_originated: 0, allowance_closing: 60 },
 *   { loan_id: "L2", status: "derecognised", allowance_transfer: 0,
 *     allowance_remeasurement_transferred: 0, allowance_derecognised: -5,
 *     allowance_new_originated: 0, allowance_closing: 0 },
 *   { loan_id: "L3", status: "new", allowance_transfer: 0,
 *     allowance_remeasurement_transferred: 0, allowance_derecognised: 0,
 *     allowance_new_originated: 4, allowance_closing: 4 },
 * ]);
 * ```
 */
export async function facilityMovements(
  from: MovementSide,
  to: MovementSide,
): Promise<LazyFrame> {
  const [f, t] = await Promise.all([side(from, "from"), side(to, "to")]);
  const inFrom = pl.col("stage_from").isNotNull();
  const inTo = pl.col("stage_to").isNotNull();
  const both = inFrom.and(inTo);
  const written = both.and(pl.col("write_off_to").gt(0));
  const status = pl.when(inFrom.not()).then(pl.lit(MOVEMENT_STATUS.new))
    .when(inTo.not()).then(pl.lit(MOVEMENT_STATUS.derecognised))
    .when(written).then(pl.lit(MOVEMENT_STATUS.writtenOff))
    .otherwise(pl.lit(MOVEMENT_STATUS.stayed))
    .alias("status");
  // The column changed: between the approaches, or between stages under
  // the general approach (a simplified receivable keeps its column).
  const simplifiedFrom = pl.col("simplified_from");
  const simplifiedTo = pl.col("simplified_to");
  const transferred = both.and(
    simplifiedFrom.neq(simplifiedTo).or(
      simplifiedFrom.not().and(pl.col("stage_from").neq(pl.col("stage_to"))),
    ),
  );
  const zero = pl.lit(0.0);
  const woLocal = pl.when(written).then(pl.col("write_off_to")).otherwise(
    zero,
  );
  const r0 = pl.col("rate_from");
  const r1 = pl.col("rate_to");

  // The same attribution for both measures; `open`/`close` are local
  // columns. Only the remainder (step 6) is split differently.
  const lines = (measure: FacilityMeasure, open: string, close: string) => {
    const a0 = pl.col(open).fillNull(0);
    const a1 = pl.col(close).fillNull(0);
    const r1Open = pl.col("rate_to_of_from_currency");
    const name = (l: FacilityLine) => lineColumn(measure, l);
    const remainder = a1.mul(r1).sub(a0.mul(r1Open)).add(woLocal.mul(r1));
    const [special, rest] = measure === "allowance"
      ? [transferred, "remeasurement_transferred" as const]
      : [written, "recoveries" as const];
    return [
      pl.when(inFrom).then(a0.mul(r0)).otherwise(zero).alias(name("opening")),
      pl.when(transferred).then(a0.mul(r0)).otherwise(zero).alias(
        name("transfer"),
      ),
      pl.when(inFrom.not()).then(a1.mul(r1)).otherwise(zero).alias(
        name("new_originated"),
      ),
      pl.when(inTo.not()).then(a0.mul(r0).mul(-1)).otherwise(zero).alias(
        name("derecognised"),
      ),
      pl.when(both).then(a0.mul(r1Open.sub(r0))).otherwise(zero).alias(
        name("fx"),
      ),
      woLocal.mul(r1).mul(-1).fillNull(0).alias(name("write_off")),
      pl.when(special).then(remainder).otherwise(zero).alias(name(rest)),
      pl.when(both.and(special.not())).then(remainder).otherwise(zero).alias(
        name("remeasurement"),
      ),
      pl.when(inTo).then(a1.mul(r1)).otherwise(zero).alias(name("closing")),
    ];
  };

  // IFRS 7 B8E: each date's ECL split by lib/allowance.ts in the facility
  // currency (ECL and balance in the same unit), then converted.
  const split = (suffix: "from" | "to", present: Expr, rate: Expr) => {
    const date = suffix === "from" ? "opening" : "closing";
    return allowanceSplit(
      pl.col(`ecl_${suffix}`).fillNull(0),
      pl.col(`gross_${suffix}`).fillNull(0),
    ).map((part, i) =>
      pl.when(present).then(part.mul(rate)).otherwise(zero).alias(
        `${i === 0 ? "loss_allowance" : "provision"}_${date}`,
      )
    );
  };

  // A full join keeps facilities of either run: new ones have no `_from`
  // columns, derecognised ones no `_to` columns.
  return f
    .join(t, { on: "loan_id", how: "full", coalesce: true })
    .join(
      ratesFrame(to.rates, "rate_to_of_from_currency").rename({
        currency: "currency_from",
      }),
      { on: "currency_from", how: "left" },
    )
    .withColumns(status)
    .select(
      pl.col("loan_id"),
      pl.col("status"),
      pl.col("product_to").fillNull(pl.col("product_from")).alias(
        "product",
      ),
      pl.col("currency_from"),
      pl.col("currency_to"),
      pl.col("stage_from"),
      pl.col("stage_to"),
      simplifiedFrom,
      simplifiedTo,
      pl.col("rate_from"),
      pl.col("rate_to"),
      pl.col("rate_to_of_from_currency"),
      pl.col("ecl_from").alias("allowance_from_local"),
      pl.col("ecl_to").alias("allowance_to_local"),
      pl.col("gross_from").alias("gross_from_local"),
      pl.col("gross_to").alias("gross_to_local"),
      woLocal.alias("write_off_local"),
      ...lines("allowance", "ecl_from", "ecl_to"),
      ...lines("gross", "gross_from", "gross_to"),
      ...split("from", inFrom, r0),
      ...split("to", inTo, r1),
    );
}

/**
 * Currencies a run's facilities use that its FX table lacks, per side, so
 * the caller can refuse the comparison naming the run and the currency.
 */
export async function missingRates(
  s: MovementSide,
): Promise<string[]> {
  const currencies = await s.results.select(pl.col("currency").unique())
    .collect();
  return (currencies.getColumn("currency").toArray() as (string | null)[])
    .filter((c): c is string => c !== null && !(c in s.rates))
    .sort();
}
