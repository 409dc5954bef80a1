/**
 * Remaining term `m` in months (methodology §2), as a Polars expression so
 * it runs inside the lazy staging step.
 *
 * `m` is the smallest `k >= 1` with `addMonths(R, k) >= M`, where
 * `addMonths` keeps the day of the month (clipped to the target month's
 * length) and maps a month-end to a month-end. That search has a closed
 * form: with `d = 12*(year(M) - year(R)) + (month(M) - month(R))`, `m = d`
 * when `R` is the last day of its month or `day(M) <= day(R)`, else
 * `d + 1`, floored at 1. From R = 2025-09-30 a maturity of 2025-10-31 gives
 * 1 (version 1 of the contract counted 2, doubling that loan's 12-month
 * ECL), 2025-11-01 gives 2. A revolving product uses its
 * `behavioural_life_months` whatever its maturity date.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Expr } from "../frame.ts";
import { COL } from "../schema.ts";
import type { Rules } from "../rules.ts";
import { firstMatch } from "./_expr.ts";

/** Output column of {@link remainingTermExpr}. */
export const REMAINING_TERM = "remaining_term_months";

/**
 * Expression for `remaining_term_months` (Int32, methodology §2). Null for a
 * non-revolving facility without a maturity date (validation rejects those).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { parseRules } from "../rules.ts";
 * import { remainingTermExpr } from "./term.ts";
 *
 * const rules = parseRules(
 *   "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]",
 *   "inline.yaml",
 * );
 * const dates = pl.DataFrame({
 *   product: ["sme", "sme", "sme"],
 *   reporting_date: ["2025-09-30", "2025-09-30", "2025-09-15"],
 *   maturity_date: ["2025-10-31", "2025-11-01", "2025-10-20"],
 * }).lazy().withColumns(
 *   pl.col("reporting_date").str.strptime(pl.Date, "%Y-%m-%d"),
 *   pl.col("maturity_date").str.strptime(pl.Date, "%Y-%m-%d"),
 * );
 * const out = await dates.select(remainingTermExpr(rules)).collect();
 * // Month-end to month-end is one month; 15 Sep to 20 Oct needs two.
 * assert.deepEqual(out.getColumn("remaining_term_months").toArray(), [1, 2, 2]);
 * ```
 */
export function remainingTermExpr(rules: Rules): Expr {
  const m = pl.col(COL.maturityDate);
  const r = pl.col(COL.reportingDate);
  const day = (d: Expr) => d.dt.day().cast(pl.Int32);
  // R is the last day of its month when the next day is a 1st (one date
  // part of R + 1 day, the date as days since 1970, instead of R's year,
  // month and the month's length: each date part costs a calendar
  // conversion per row).
  const monthEnd = day(r.cast(pl.Int32).add(1).cast(pl.Date)).eq(1);
  // §2: addMonths(R, d) lands in M's month on day(R) (or on its last day
  // when R is a month-end); one month more is needed only when that day is
  // before M's.
  const laterDay = day(m).gt(day(r)).and(monthEnd.not());
  const months = m.dt.year().cast(pl.Int32).sub(r.dt.year().cast(pl.Int32))
    .mul(12)
    .add(m.dt.month().cast(pl.Int32).sub(r.dt.month().cast(pl.Int32)))
    .add(laterDay.cast(pl.Int32));
  // Floored at 1, the months computed once (a when/then would compute them
  // twice).
  const contractual = months.clip(1, 2 ** 31 - 1);
  // §2: a revolving facility has no contractual run-off; its term is the
  // product's behavioural life (IFRS 9 §5.5.20).
  const revolving = Object.entries(rules.products)
    .filter(([, p]) => p.repayment === "revolving")
    .map(([name, p]) =>
      [
        pl.col(COL.product).eq(pl.lit(name)),
        pl.lit(p.behavioural_life_months ?? 1),
      ] as const
    );
  const full = firstMatch(revolving, contractual);
  return full.cast(pl.Int32).alias(REMAINING_TERM);
}
