/**
 * Tests of projectFacility: the monthly detail matches the naive reference
 * month by month and adds up to computeEcl's figures.
 *
 * @module
 */
import assert from "node:assert/strict";
import { computeEcl } from "../../lib/engine/ecl.ts";
import { projectFacility } from "../../lib/engine/project.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import {
  portfolio,
  relErr,
  type Row,
  rulesFrom,
  rulesYaml,
} from "./_helpers.ts";
import {
  multiplierQ,
  refEad,
  refLgd,
  type RefLoan,
  type RefScenario,
  refSurvival,
} from "./_reference.ts";

const RULES = rulesFrom(rulesYaml({
  scenarios:
    `  - { name: base, weight: 0.7, pd_multiplier: [1.0], collateral_haircut: 0.2 }
  - { name: downside, weight: 0.3, pd_multiplier: [1.6, 1.2], collateral_haircut: 0.4 }`,
}));

const ROW: Row = {
  product: "mortgage",
  balance: 100_000,
  interest_rate: 0.048,
  maturity_date: "2031-12-31",
  collateral_value: 60_000,
  pd_12m_current: 0.02,
  watchlist: true,
};

Deno.test("projectFacility() matches the naive reference month by month", async () => {
  const detail = await projectFacility(portfolio([ROW]), RULES);
  assert.deepEqual(detail.columns, [
    "t",
    "ead",
    "df",
    "survival_base",
    "marginal_pd_base",
    "lgd_base",
    "survival_downside",
    "marginal_pd_downside",
    "lgd_downside",
  ]);
  assert.equal(detail.height, 72);
  const loan: RefLoan = {
    balance: 100_000,
    interestRate: 0.048,
    m: 72,
    repayment: "annuity",
    collateral: 60_000,
    stage: 2,
    lgdUnsecured: 0.45,
    lgdFloor: 0.05,
  };
  const scenarios: Record<string, RefScenario> = {
    base: { weight: 0.7, q: multiplierQ(0.02, [1.0]), haircut: 0.2 },
    downside: { weight: 0.3, q: multiplierQ(0.02, [1.6, 1.2]), haircut: 0.4 },
  };
  const rows = detail.toRecords();
  for (const row of rows) {
    const t = row.t as number;
    const close = (got: unknown, want: number, what: string) =>
      assert.ok(
        relErr(got as number, want) < 1e-12,
        `t=${t} ${what}: ${got} vs ${want}`,
      );
    close(row.ead, refEad(loan, t), "ead");
    close(row.df, Math.pow(1.004, -t), "df");
    for (const [name, sc] of Object.entries(scenarios)) {
      close(row[`survival_${name}`], refSurvival(sc, t), `survival_${name}`);
      close(
        row[`marginal_pd_${name}`],
        refSurvival(sc, t - 1) - refSurvival(sc, t),
        `marginal_pd_${name}`,
      );
      close(row[`lgd_${name}`], refLgd(loan, sc, t), `lgd_${name}`);
    }
  }
});

Deno.test("projectFacility() adds up to computeEcl's lifetime and 12-month ECL", async () => {
  const frame = portfolio([ROW]);
  const detail = (await projectFacility(frame, RULES)).toRecords();
  const [result] =
    (await computeEcl(stageFacilities(frame.lazy(), RULES), RULES)).toRecords();
  let lt = 0;
  let twelve = 0;
  for (const r of detail) {
    for (const [s, w] of [["base", 0.7], ["downside", 0.3]] as const) {
      const term = w * (r[`marginal_pd_${s}`] as number) *
        (r[`lgd_${s}`] as number) *
        (r.ead as number) * (r.df as number);
      lt += term;
      if ((r.t as number) <= 12) twelve += term;
    }
  }
  assert.ok(relErr(result.ecl_lifetime as number, lt) < 1e-12);
  assert.ok(relErr(result.ecl_12m as number, twelve) < 1e-12);
});

Deno.test("projectFacility() accepts an already staged row", async () => {
  const staged = await stageFacilities(portfolio([ROW]).lazy(), RULES)
    .collect();
  const a = await projectFacility(staged, RULES);
  const b = await projectFacility(portfolio([ROW]), RULES);
  assert.deepEqual(a.toRecords(), b.toRecords());
});

Deno.test("projectFacility() refuses several rows and simplified products", async () => {
  await assert.rejects(
    () => projectFacility(portfolio([ROW, ROW]), RULES),
    /expected a frame with one row, got 2/,
  );
  const rules = rulesFrom(rulesYaml({
    products: `  receivable:
    repayment: bullet
    approach: simplified
    provision_matrix: { buckets: [{ loss_rate: 0.01 }] }`,
  }));
  await assert.rejects(
    () =>
      projectFacility(
        portfolio([{ loan_id: "R1", product: "receivable" }]),
        rules,
      ),
    /facility R1: product receivable uses the simplified approach/,
  );
});
