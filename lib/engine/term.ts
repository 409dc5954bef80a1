/**
 * Remaining term `m` in months (methodology §2), as a Polars expression so
 * it runs inside the lazy staging step.
 *
 * `m = 12*(year(M) - year(R)) + (month(M) - month(R)) + (day(M) > day(R) ? 1 : 0)`,
 * floored at 1; a revolving product uses its `behavioural_life_months`
 * whatever its maturity date. The day comparison makes a maturity on a later
 * day of the month count the started month in full: R = 2024-01-31,
 * M = 2024-02-29 gives 1 (month-end to month-end), M = 2024-03-01 gives 2.
 *
 * @module
 */
import pl from "nodejs-polars";
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
 *   product: ["sme"],
 *   reporting_date: ["2024-01-31"],
 *   maturity_date: ["2024-03-01"],
 * }).lazy().withColumns(
 *   pl.col("reporting_date").str.strptime(pl.Date, "%Y-%m-%d"),
 *   pl.col("maturity_date").str.strptime(pl.Date, "%Y-%m-%d"),
 * );
 * const out = await dates.select(remainingTermExpr(rules)).collect();
 * assert.equal(out.getColumn("remaining_term_months").get(0), 2);
 * ```
 */
export function remainingTermExpr(rules: Rules): pl.Expr {
  const m = pl.col(COL.maturityDate);
  const r = pl.col(COL.reportingDate);
  const months = m.dt.year().cast(pl.Int32).sub(r.dt.year().cast(pl.Int32))
    .mul(12)
    .add(m.dt.month().cast(pl.Int32).sub(r.dt.month().cast(pl.Int32)))
    .add(
      pl.when(m.dt.day().cast(pl.Int32).gt(r.dt.day().cast(pl.Int32)))
        .then(pl.lit(1)).otherwise(pl.lit(0)),
    );
  const contractual = pl.when(months.lt(1)).then(pl.lit(1)).otherwise(months);
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
