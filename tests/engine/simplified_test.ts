/**
 * Tests of the simplified approach (IFRS 9 §5.5.15, B5.5.35;
 * docs/simplified_approach.md), including IFRS 9 Illustrative Example 12.
 *
 * @module
 */
import assert from "node:assert/strict";
import { computeEcl } from "../../lib/engine/ecl.ts";
import { bucketLossRate } from "../../lib/engine/simplified.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import type { Rules } from "../../lib/rules.ts";
import {
  portfolio,
  relErr,
  type Row,
  rulesFrom,
  rulesYaml,
} from "./_helpers.ts";

/** Company M's provision matrix (IFRS 9 IE, Example 12). */
const MATRIX = `      buckets:
        - { max_dpd: 0, loss_rate: 0.003 }
        - { max_dpd: 30, loss_rate: 0.016 }
        - { max_dpd: 60, loss_rate: 0.036 }
        - { max_dpd: 90, loss_rate: 0.066 }
        - { loss_rate: 0.106 }`;

const RULES = rulesFrom(rulesYaml({
  products: `  receivable:
    repayment: bullet
    approach: simplified
    provision_matrix:
${MATRIX}
      segments:
        export: [{ max_dpd: 30, loss_rate: 0.02 }, { loss_rate: 0.5 }]`,
  scenarios: `  - { name: base, weight: 0.5, pd_multiplier: [1] }
  - { name: stress, weight: 0.5, pd_multiplier: [3] }`,
}));

async function run(rows: Row[], rules: Rules = RULES) {
  const df = await computeEcl(
    stageFacilities(portfolio(rows).lazy(), rules),
    rules,
  );
  return df.toRecords();
}

Deno.test("computeEcl() reproduces IFRS 9 Illustrative Example 12 (allowance CU 580,000)", async () => {
  const book: [number, number][] = [
    [0, 15_000_000], // current
    [15, 7_500_000], // 1-30 days past due
    [45, 4_000_000], // 31-60
    [75, 2_500_000], // 61-90
    [120, 1_000_000], // more than 90
  ];
  const got = await run(book.map(([dpd, balance]) => ({
    product: "receivable",
    days_past_due: dpd,
    balance,
  })));
  // Example 12's table: 45,000 + 120,000 + 144,000 + 165,000 + 106,000.
  const expected = [45_000, 120_000, 144_000, 165_000, 106_000];
  got.forEach((r, i) =>
    assert.ok(relErr(r.ecl as number, expected[i]) < 1e-15)
  );
  const total = got.reduce((a, r) => a + (r.ecl as number), 0);
  assert.ok(relErr(total, 580_000) < 1e-15);
});

Deno.test("computeEcl() puts days_past_due on bucket bounds into the lower bucket", async () => {
  const got = await run([0, 1, 30, 31, 60, 61, 90, 91].map((d) => ({
    product: "receivable",
    days_past_due: d,
    balance: 1000,
  })));
  const rates = [0.003, 0.016, 0.016, 0.036, 0.036, 0.066, 0.066, 0.106];
  got.forEach((r, i) =>
    assert.ok(relErr(r.ecl as number, 1000 * rates[i]) < 1e-15)
  );
  assert.equal(
    bucketLossRate([{ max_dpd: 30, loss_rate: 0.1 }, { loss_rate: 0.9 }], 30),
    0.1,
  );
});

Deno.test("computeEcl() uses a segment's matrix when the product defines one, else the product's", async () => {
  const got = await run([
    {
      product: "receivable",
      segment: "export",
      days_past_due: 10,
      balance: 1000,
    },
    {
      product: "receivable",
      segment: "export",
      days_past_due: 200,
      balance: 1000,
    },
    {
      product: "receivable",
      segment: "domestic",
      days_past_due: 10,
      balance: 1000,
    },
  ]);
  assert.deepEqual(got.map((r) => r.ecl), [20, 500, 16]);
});

Deno.test("computeEcl() reports simplified facilities as lifetime ECL in every column, without PD or LGD", async () => {
  const [current, defaulted, general] = await run([
    {
      product: "receivable",
      days_past_due: 10,
      balance: 1000,
      pd_12m_current: 0.3,
      watchlist: true,
    },
    { product: "receivable", days_past_due: 95, balance: 1000 },
    { product: "sme", balance: 1000, default_flag: true },
  ]);
  assert.deepEqual([current.stage, current.stage_reason], [2, "SIMPLIFIED"]);
  assert.deepEqual([defaulted.stage, defaulted.stage_reason], [3, "DPD_90"]);
  for (const r of [current, defaulted]) {
    for (
      const c of [
        "ecl_12m",
        "ecl_lifetime",
        "ecl_model",
        "ecl_base",
        "ecl_stress",
      ]
    ) {
      assert.equal(r[c], r.ecl, `${r.loan_id} ${c}`);
    }
    assert.equal(r.pd_lifetime, null);
    assert.equal(r.lgd, null);
    assert.equal(r.ead, 1000);
  }
  assert.ok(relErr(current.ecl as number, 16) < 1e-15);
  assert.equal(current.pd_12m, 0.3);
  // The general-approach row in the same frame is untouched: stage 3, 0.45 * 1000.
  assert.equal(general.ecl, 450);
  assert.equal(general.lgd, 0.45);
});
