/**
 * Month-by-month projection of one facility (methodology §4-§7), for
 * notebooks and reviews: the same kernel `computeEcl` runs, asked to record
 * each month.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import pl from "nodejs-polars";
import type { DataFrame, Series } from "../frame.ts";
import { COL } from "../schema.ts";
import { requireValidRules, type Rules } from "../rules.ts";
import { allocateOutput, projectBatch, type Trace } from "./_kernel.ts";
import { kernelColumns, kernelConfig, kernelInputs } from "./ecl.ts";
import { STAGE_COLUMNS, stageFacilities } from "./staging.ts";

/**
 * Projects one facility month by month. `row` is a one-row frame typed as
 * the portfolio schema (a validated row, e.g.
 * `valid.filter(pl.col("loan_id").eq(pl.lit("L1")))`), staged or not.
 *
 * Returns one row per month `t = 1..m`: `t` (Int32), `ead` (EAD[t], §5),
 * `df` (DF[t], §7), and per scenario `survival_<s>` (S[s,t]),
 * `marginal_pd_<s>` (mpd[s,t], §4) and `lgd_<s>` (LGD[s,t], §6). Summing
 * `marginal_pd_<s> * lgd_<s> * ead * df` over the months gives that
 * scenario's lifetime ECL, over the first 12 its 12-month ECL (§8).
 *
 * Throws a `UserError` for a product on the simplified approach, which has
 * no monthly projection (docs/simplified_approach.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { parseRules } from "../rules.ts";
 * import { projectFacility } from "./project.ts";
 *
 * // The §11 loan: the months' marginal PD * LGD * EAD * DF add up to its
 * // lifetime ECL of 90.31546325313.
 * const rules = parseRules(
 *   "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]",
 *   "inline.yaml",
 * );
 * const loan = pl.DataFrame({
 *   loan_id: ["L1"], product: ["sme"], currency: ["EUR"], balance: [1000],
 *   interest_rate: [0.12], days_past_due: [0], pd_12m_origination: [0.1],
 *   pd_12m_current: [0.12], watchlist: [true],
 *   reporting_date: ["2025-12-31"], origination_date: ["2024-12-31"],
 *   maturity_date: ["2027-12-31"],
 * }).withColumns(
 *   ...["reporting_date", "origination_date", "maturity_date"].map((c) =>
 *     pl.col(c).str.strptime(pl.Date, "%Y-%m-%d")
 *   ),
 * );
 * const months = (await projectFacility(loan, rules)).toRecords();
 * assert.equal(months.length, 24);
 * const lifetime = months.reduce(
 *   (sum, m) =>
 *     sum + (m.marginal_pd_base as number) * (m.lgd_base as number) *
 *       (m.ead as number) * (m.df as number),
 *   0,
 * );
 * assert.ok(Math.abs(lifetime - 90.31546325313) < 1e-9);
 * ```
 */
export async function projectFacility(
  row: DataFrame,
  rules: Rules,
): Promise<DataFrame> {
  // Rules built or changed in code are checked like a rules file (§10).
  rules = requireValidRules(rules, "projectFacility()");
  if (row.height !== 1) {
    throw new UserError(
      "usage",
      `Cannot project facility: expected a frame with one row, got ${row.height}`,
    );
  }
  const product = String(row.getColumn(COL.product).get(0));
  const loan = String(row.getColumn(COL.loanId).get(0));
  const p = rules.products[product];
  if (!p) {
    throw new RangeError(
      `Cannot project facility ${loan}: product ${product} is not configured in the rules file`,
    );
  }
  if (p.approach === "simplified") {
    throw new RangeError(
      `Cannot project facility ${loan}: product ${product} uses the simplified approach (provision matrix), which has no monthly projection`,
    );
  }
  const lf = row.columns.includes(STAGE_COLUMNS.stage)
    ? row.lazy()
    : stageFacilities(row.lazy(), rules);
  const df = await kernelInputs(lf, rules).collect();
  const m = Number(df.getColumn(STAGE_COLUMNS.remainingTerm).get(0));
  if (!Number.isInteger(m) || m < 1) {
    throw new RangeError(
      `Cannot project facility ${loan}: remaining term is ${m} (is maturity_date missing?)`,
    );
  }
  const cfg = kernelConfig(rules);
  const S = cfg.scenarioNames.length;
  const perScenario = () =>
    Array.from({ length: S }, () => new Float64Array(m));
  const trace: Trace = {
    ead: new Float64Array(m),
    df: new Float64Array(m),
    survival: perScenario(),
    marginalPd: perScenario(),
    lgd: perScenario(),
  };
  projectBatch(cfg, kernelColumns(df, 0, 1), 1, allocateOutput(1, S), 0, trace);
  const columns: Series[] = [
    pl.Series("t", Int32Array.from({ length: m }, (_, i) => i + 1)),
    pl.Series("ead", trace.ead),
    pl.Series("df", trace.df),
  ];
  cfg.scenarioNames.forEach((s, i) => {
    columns.push(
      pl.Series(`survival_${s}`, trace.survival[i]),
      pl.Series(`marginal_pd_${s}`, trace.marginalPd[i]),
      pl.Series(`lgd_${s}`, trace.lgd[i]),
    );
  });
  return pl.DataFrame(columns);
}
