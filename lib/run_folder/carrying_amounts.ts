/**
 * `carrying_amounts.parquet`: the gross carrying amount and the write-off
 * of each computed facility, beside the loan results (which carry EAD,
 * not the balance). Movement analysis (IFRS 7 §35H, §35I) reconciles gross
 * carrying amounts and write-offs between two runs from it, and the
 * summary's coverage and loss allowance are measured against it.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame, LazyFrame } from "../frame.ts";
import { COL } from "../schema.ts";

/** Column of the carrying-amounts table: the balance at the reporting date. */
export const GROSS_CARRYING_AMOUNT = "gross_carrying_amount";

/** The columns of `carrying_amounts.parquet`, in order. */
export const CARRYING_AMOUNT_COLUMNS = [
  COL.loanId,
  COL.currency,
  GROSS_CARRYING_AMOUNT,
  COL.writeOffAmount,
] as const;

/**
 * The carrying amounts of validated portfolio rows: `loan_id`, `currency`,
 * `gross_carrying_amount` (the balance at the reporting date) and
 * `write_off_amount` (0 when absent).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { carryingAmounts } from "./carrying_amounts.ts";
 *
 * const valid = pl.DataFrame({
 *   loan_id: ["L1", "L2"], currency: ["EUR", "MXN"],
 *   balance: [1000, 250], write_off_amount: [null, 40],
 * });
 * const carrying = await carryingAmounts(valid.lazy()).collect();
 * assert.deepEqual(carrying.toRecords(), [
 *   { loan_id: "L1", currency: "EUR", gross_carrying_amount: 1000, write_off_amount: 0 },
 *   { loan_id: "L2", currency: "MXN", gross_carrying_amount: 250, write_off_amount: 40 },
 * ]);
 * ```
 */
export function carryingAmounts(valid: LazyFrame): LazyFrame {
  return valid.select(
    pl.col(COL.loanId),
    pl.col(COL.currency),
    pl.col(COL.balance).cast(pl.Float64).alias(GROSS_CARRYING_AMOUNT),
    pl.col(COL.writeOffAmount).cast(pl.Float64).fillNull(0).alias(
      COL.writeOffAmount,
    ),
  );
}

/**
 * The loan results with each facility's `gross_carrying_amount` (or the
 * carrying-amount columns named) attached. A run writes both files in the
 * same facility order, so the columns are usually attached side by side
 * after checking the `loan_id`s line up (milliseconds for a million loans,
 * where a join on string keys takes a quarter of a second); otherwise they
 * are joined on `loan_id`.
 *
 * @param carrying `loan_id` and the columns per facility.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { attachCarryingAmounts } from "./carrying_amounts.ts";
 *
 * const results = pl.DataFrame({ loan_id: ["L1", "L2"], ecl: [10, 20] });
 * const carrying = pl.DataFrame({
 *   loan_id: ["L2", "L1"], gross_carrying_amount: [400, 1000],
 * });
 * const attached = attachCarryingAmounts(results, carrying);
 * assert.deepEqual(attached.getColumn("gross_carrying_amount").toArray(), [1000, 400]);
 * ```
 */
export function attachCarryingAmounts(
  results: DataFrame,
  carrying: DataFrame,
  columns: string[] = [GROSS_CARRYING_AMOUNT],
): DataFrame {
  const aligned = results.height === carrying.height &&
    results.getColumn(COL.loanId).seriesEqual(carrying.getColumn(COL.loanId));
  return aligned
    ? results.withColumns(...columns.map((c) => carrying.getColumn(c)))
    : results.join(carrying.select(COL.loanId, ...columns), {
      on: COL.loanId,
      how: "left",
    });
}
