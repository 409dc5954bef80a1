/**
 * `withCapital` (lib/capital/run.ts) finds each facility's portfolio row
 * whether the chunk's rows are in the results' order (side by side) or not
 * (by loan_id), with the same figures, worked out by hand here for a
 * mortgage with collateral (methodology §6 base LGD plus the add-on).
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { checkRules } from "../../lib/rules.ts";
import { irbRiskWeight, withCapital } from "../../lib/capital/mod.ts";

function rules() {
  const { rules, issues } = checkRules({
    reporting_currency: "EUR",
    products: {
      mortgage: { repayment: "annuity" },
      consumer: { repayment: "linear" },
    },
    segments: {
      default: { pd_curve: "flat", lgd_unsecured: 0.45, lgd_floor: 0.05 },
    },
    scenarios: [{
      name: "base",
      weight: 1,
      pd_multiplier: [1],
      collateral_haircut: 0.2,
    }],
    capital: {
      asset_classes: { products: { mortgage: "residential_mortgage" } },
      lgd: { downturn_add_on: 0.1 },
      pd_floor: 0.0005,
      lgd_floor: 0.1,
    },
  });
  assert.deepEqual(issues, []);
  return rules!;
}

const results = pl.DataFrame({
  loan_id: ["A", "B", "C"],
  product: ["mortgage", "consumer", "mortgage"],
  segment: pl.Series("segment", [null, null, null], pl.Utf8),
  stage: pl.Series("stage", [1, 1, 3], pl.Int32),
  ead: [100_000, 5_000, 50_000],
  pd_12m: pl.Series("pd_12m", [0.01, 0.02, null], pl.Float64),
  ecl: [300, 80, 20_000],
  remaining_term_months: [240, 24, 120],
});
const inputs = pl.DataFrame({
  loan_id: ["A", "B", "C"],
  collateral_value: pl.Series(
    "collateral_value",
    [60_000, null, 100_000],
    pl.Float64,
  ),
  interest_rate: [0.03, 0.1, 0.04],
});

Deno.test("withCapital() gives the same figures with the portfolio rows in the results' order or not, as worked by hand", () => {
  const r = rules();
  const inOrder = withCapital(results, inputs, r);
  const reversed = withCapital(results, inputs.reverse(), r);
  for (const c of ["rwa", "capital_k", "regulatory_el"]) {
    assert.deepEqual(
      reversed.getColumn(c).toArray(),
      inOrder.getColumn(c).toArray(),
      c,
    );
  }
  const rows = inOrder.toRecords() as Record<string, number | null>[];
  // A: collateral 60,000 less the 20% haircut recovers 48,000 of 100,000:
  // LGD max(0.05, 52,000 × 0.45 / 100,000) = 0.234, plus 0.1 = 0.334.
  const k = irbRiskWeight({
    assetClass: "residential_mortgage",
    pd: 0.01,
    lgd: 0.334,
  }).k;
  assert.ok(Math.abs(rows[0].capital_k! - k) < 1e-12);
  assert.ok(Math.abs(rows[0].rwa! - 12.5 * k * 100_000) < 1e-6);
  assert.ok(Math.abs(rows[0].regulatory_el! - 0.01 * 0.334 * 100_000) < 1e-9);
  // B: a consumer loan has no asset class here: no capital figures.
  assert.deepEqual(
    [rows[1].rwa, rows[1].capital_k, rows[1].regulatory_el],
    [null, null, null],
  );
  // C: in default (stage 3, no PD): K = max(0, LGD - ECL/EAD) with the
  // LGD floored at 0.1 (collateral covers the EAD: base LGD 0.05 + 0.1);
  // regulatory EL = ECL.
  assert.ok(Math.abs(rows[2].capital_k! - Math.max(0, 0.15 - 0.4)) < 1e-12);
  assert.equal(rows[2].regulatory_el, 20_000);
});

Deno.test("withCapital() refuses a result with no portfolio row", () => {
  assert.throws(
    () => withCapital(results, inputs.slice(0, 2), rules()),
    /withCapital: no input row for C/,
  );
});
