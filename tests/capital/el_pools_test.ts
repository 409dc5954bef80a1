/**
 * The CRE35 comparison of regulatory EL with the allowance, and the one
 * definition of "defaulted" (lib/capital/run.ts), on hand-built loan
 * results whose figures are worked out by hand below: the pools' net
 * `(EL_nd − P_nd) + max(0, EL_d − P_d)` (EU CRR Art. 159(2)), the Tier 2
 * cap of 0.6% of RWA, and a facility with a PD of 1 outside stage 3.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { checkRules } from "../../lib/rules.ts";
import {
  capitalSummary,
  isDefaulted,
  withCapital,
} from "../../lib/capital/run.ts";

const BASE = {
  reporting_currency: "EUR",
  products: { sme: { repayment: "bullet" } },
  scenarios: [{ name: "base", weight: 1, pd_multiplier: [1] }],
};

function rules(capital: Record<string, unknown> = {}) {
  const { rules, issues } = checkRules({
    ...BASE,
    capital: {
      asset_classes: { products: { sme: "corporate" } },
      lgd: { regulatory: 0.45 },
      ...capital,
    },
  });
  assert.deepEqual(issues, []);
  return rules!;
}

interface Row {
  stage: number;
  pd_12m: number | null;
  regulatory_el: number;
  ecl: number;
  rwa: number;
}

/** Loan results with the columns capitalSummary reads; fx_rate 1. */
function results(rows: Row[]) {
  return pl.DataFrame({
    loan_id: rows.map((_, i) => `L${i}`),
    product: rows.map(() => "sme"),
    segment: pl.Series("segment", rows.map(() => null), pl.Utf8),
    stage: pl.Series("stage", rows.map((r) => r.stage), pl.Int32),
    pd_12m: pl.Series("pd_12m", rows.map((r) => r.pd_12m), pl.Float64),
    ead: rows.map(() => 1000),
    ead_rc: rows.map(() => 1000),
    fx_rate: rows.map(() => 1),
    rwa: rows.map((r) => r.rwa),
    capital_k: rows.map((r) => r.rwa / 12.5 / 1000),
    regulatory_el: rows.map((r) => r.regulatory_el),
    ecl_rc: rows.map((r) => r.ecl),
  }).lazy();
}

const near = (a: number, b: number, what: string) =>
  assert(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

Deno.test("a non-defaulted excess offsets a defaulted shortfall (CET1 deduction = net)", async () => {
  // Non-defaulted: EL 4.5, allowance 10 → excess 5.5.
  // Defaulted: EL 300, allowance 200 → shortfall 100.
  // net = (4.5 − 10) + 100 = 94.5 → CET1 deduction 94.5, no excess.
  const s = await capitalSummary(
    results([
      { stage: 1, pd_12m: 0.01, regulatory_el: 4.5, ecl: 10, rwa: 900 },
      { stage: 3, pd_12m: 1, regulatory_el: 300, ecl: 200, rwa: 100 },
    ]),
    rules(),
  );
  const e = s.el_vs_allowance;
  near(e.non_defaulted.excess, 5.5, "nd excess");
  near(e.defaulted.shortfall, 100, "d shortfall");
  near(e.cet1_deduction, 94.5, "CET1 deduction");
  near(e.excess, 0, "excess");
  near(e.tier2_eligible_excess, 0, "Tier 2");
});

Deno.test("a defaulted excess offsets nothing: the non-defaulted shortfall is deducted whole", async () => {
  // Non-defaulted: EL 50, allowance 20 → shortfall 30.
  // Defaulted: EL 100, allowance 150 → excess 50, which offsets nothing.
  // net = (50 − 20) + max(0, 100 − 150) = 30.
  const s = await capitalSummary(
    results([
      { stage: 2, pd_12m: 0.2, regulatory_el: 50, ecl: 20, rwa: 2000 },
      { stage: 3, pd_12m: null, regulatory_el: 100, ecl: 150, rwa: 0 },
    ]),
    rules(),
  );
  const e = s.el_vs_allowance;
  near(e.cet1_deduction, 30, "CET1 deduction");
  near(e.excess, 0, "excess");
  near(e.tier2_eligible_excess, 0, "Tier 2");
});

Deno.test("the Tier 2 excess is the net excess capped at 0.6% of RWA", async () => {
  // Non-defaulted: EL 4.5, allowance 100 → excess 95.5; defaulted: EL 20,
  // allowance 12 → shortfall 8; net = (4.5 − 100) + 8 = −87.5 → excess
  // 87.5. RWA 900 + 100 = 1000 → cap 6; Tier 2 = 6, CET1 deduction 0.
  const s = await capitalSummary(
    results([
      { stage: 1, pd_12m: 0.01, regulatory_el: 4.5, ecl: 100, rwa: 900 },
      { stage: 3, pd_12m: 1, regulatory_el: 20, ecl: 12, rwa: 100 },
    ]),
    rules(),
  );
  const e = s.el_vs_allowance;
  near(e.excess, 87.5, "excess");
  near(e.tier2_cap, 6, "cap");
  near(e.tier2_eligible_excess, 6, "Tier 2");
  near(e.cet1_deduction, 0, "CET1 deduction");
  // Below the cap the whole excess is eligible: RWA 100,000 → cap 600.
  const big = await capitalSummary(
    results([
      { stage: 1, pd_12m: 0.01, regulatory_el: 4.5, ecl: 100, rwa: 99_900 },
      { stage: 3, pd_12m: 1, regulatory_el: 20, ecl: 12, rwa: 100 },
    ]),
    rules(),
  );
  near(big.el_vs_allowance.tier2_eligible_excess, 87.5, "Tier 2 uncapped");
});

Deno.test("a facility with a PD of 1 outside stage 3 is defaulted for its K and for the pools", async () => {
  assert.equal(isDefaulted(2, 1), true);
  assert.equal(isDefaulted(1, null), true);
  assert.equal(isDefaulted(3, 0.01), true);
  assert.equal(isDefaulted(2, 0.99), false);
  // withCapital: stage 2, pd_12m 1, EAD 1000, ECL 150, regulatory LGD 0.45
  // → K = max(0, 0.45 − 150/1000) = 0.30, RWA = 12.5 × 0.30 × 1000 = 3750,
  // regulatory EL = ECL = 150 (not PD × LGD × EAD = 450).
  const r = rules();
  const df = pl.DataFrame({
    loan_id: ["A"],
    product: ["sme"],
    segment: pl.Series("segment", [null], pl.Utf8),
    stage: pl.Series("stage", [2], pl.Int32),
    ead: [1000],
    pd_12m: [1],
    ecl: [150],
    remaining_term_months: [36],
  });
  const out = withCapital(df, pl.DataFrame({ loan_id: ["A"] }), r)
    .toRecords()[0];
  near(out.capital_k as number, 0.3, "K");
  near(out.rwa as number, 3750, "RWA");
  near(out.regulatory_el as number, 150, "regulatory EL");
  // In the summary the stage-2 facility with pd_12m 1 is in the defaulted
  // pool: EL 80, allowance 50 → defaulted shortfall 30; the stage-1
  // facility alone is non-defaulted: EL 4.5, allowance 10 → excess 5.5;
  // net = −5.5 + 30 = 24.5.
  const s = await capitalSummary(
    results([
      { stage: 1, pd_12m: 0.01, regulatory_el: 4.5, ecl: 10, rwa: 900 },
      { stage: 2, pd_12m: 1, regulatory_el: 80, ecl: 50, rwa: 100 },
    ]),
    r,
  );
  const e = s.el_vs_allowance;
  near(e.defaulted.regulatory_el, 80, "defaulted EL");
  near(e.non_defaulted.allowance, 10, "non-defaulted allowance");
  near(e.cet1_deduction, 24.5, "CET1 deduction");
});

Deno.test("withCapital() floors the PD and LGD per asset class (Basel III defaults)", () => {
  // Corporate (product sme) and QRRE (segment card): PD 0.0001 and a
  // regulatory LGD of 0.45 for both. Floors by hand from Basel III (2017)
  // final: corporate PD 0.05%, LGD 25% (below 0.45, so 0.45 stays); QRRE
  // PD 0.10%, LGD 50%. Regulatory EL = PD × LGD × EAD (EAD 1000):
  // corporate 0.0005 × 0.45 × 1000 = 0.225; QRRE 0.001 × 0.5 × 1000 = 0.5.
  const r = rules({
    asset_classes: {
      products: { sme: "corporate" },
      segments: { card: "qualifying_revolving_retail" },
    },
  });
  const df = pl.DataFrame({
    loan_id: ["C", "Q"],
    product: ["sme", "sme"],
    segment: pl.Series("segment", [null, "card"], pl.Utf8),
    stage: pl.Series("stage", [1, 1], pl.Int32),
    ead: [1000, 1000],
    pd_12m: [0.0001, 0.0001],
    ecl: [0.1, 0.1],
    remaining_term_months: [36, 36],
  });
  const [c, q] = withCapital(df, pl.DataFrame({ loan_id: ["C", "Q"] }), r)
    .toRecords();
  near(c.regulatory_el as number, 0.225, "corporate EL");
  near(q.regulatory_el as number, 0.5, "QRRE EL");
});
