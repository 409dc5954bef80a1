/**
 * Tests of computeEcl (methodology §4-§9): the §11 worked example, each
 * repayment type, edge cases, both scenario adjustments, segment overrides
 * and the output contract. Expected figures come from the naive reference
 * of `_reference.ts`, closed forms or hand arithmetic.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { computeEcl } from "../../lib/engine/ecl.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import { RESULT_COLUMNS } from "../../lib/schema.ts";
import type { Rules } from "../../lib/rules.ts";
import {
  ONE_SCENARIO,
  portfolio,
  relErr,
  type Row,
  rulesFrom,
  rulesYaml,
  sameType,
} from "./_helpers.ts";
import {
  multiplierQ,
  reference,
  type RefLoan,
  type RefResult,
  type RefScenario,
} from "./_reference.ts";

const ONE = rulesFrom(ONE_SCENARIO);

/** The three scenarios of methodology §10. */
const REF_SCENARIOS_YAML =
  `  - { name: base, weight: 0.5, pd_multiplier: [1.0], collateral_haircut: 0.20 }
  - { name: upside, weight: 0.2, pd_multiplier: [0.8, 0.9], collateral_haircut: 0.15 }
  - { name: downside, weight: 0.3, pd_multiplier: [1.6, 1.4, 1.2], collateral_haircut: 0.35 }`;
const REF = rulesFrom(rulesYaml({ scenarios: REF_SCENARIOS_YAML }));

function refScenarios(p1: number, g: number[] = [1]): RefScenario[] {
  return [
    { weight: 0.5, q: multiplierQ(p1, [1.0], g), haircut: 0.2 },
    { weight: 0.2, q: multiplierQ(p1, [0.8, 0.9], g), haircut: 0.15 },
    { weight: 0.3, q: multiplierQ(p1, [1.6, 1.4, 1.2], g), haircut: 0.35 },
  ];
}

async function run(
  rows: Row[],
  rules: Rules,
): Promise<Record<string, unknown>[]> {
  const df = await computeEcl(
    stageFacilities(portfolio(rows).lazy(), rules),
    rules,
  );
  return df.toRecords();
}

/** Asserts every computed figure of one result row against the reference. */
function assertMatches(
  got: Record<string, unknown>,
  want: RefResult,
  scenarioNames: string[],
  tol = 1e-12,
) {
  const pairs: [string, number][] = [
    ["ead", want.ead],
    ["pd_lifetime", want.pdLifetime],
    ["lgd", want.lgd],
    ["ecl_12m", want.ecl12m],
    ["ecl_lifetime", want.eclLifetime],
    ["ecl_model", want.eclModel],
    ["ecl", want.eclModel],
    ...scenarioNames.map((s, i) =>
      [`ecl_${s}`, want.scenario[i]] as [string, number]
    ),
  ];
  for (const [col, expected] of pairs) {
    const value = got[col] as number;
    const err = expected === 0 ? Math.abs(value) : relErr(value, expected);
    assert.ok(
      err <= tol,
      `${got.loan_id} ${col}: got ${value}, expected ${expected} (error ${err})`,
    );
  }
}

Deno.test("computeEcl() reproduces the §11 worked example", async () => {
  // Bullet, B = 1000, r = 0.12, m = 24, stage 2 (PD test: 0.12 vs 0.01).
  const [row] = await run([{
    balance: 1000,
    interest_rate: 0.12,
    maturity_date: "2027-12-31",
    pd_12m_origination: 0.01,
    pd_12m_current: 0.12,
  }], ONE);
  assert.equal(row.stage, 2);
  assert.equal(row.remaining_term_months, 24);
  // Figures of §11, given to 13 significant digits.
  assert.ok(relErr(row.ecl_lifetime as number, 90.31546325313) < 1e-12);
  assert.ok(relErr(row.ecl_12m as number, 50.71180749370) < 1e-12);
  assert.ok(relErr(row.ecl as number, 90.31546325313) < 1e-12);
  // And the closed form of §11 summed here term by term.
  const h = 1 - Math.pow(0.88, 1 / 12);
  let lt = 0;
  for (let t = 1; t <= 24; t++) {
    lt += Math.pow(0.88, (t - 1) / 12) * h * 0.45 * 1000 * Math.pow(1.01, -t);
  }
  assert.ok(relErr(row.ecl_lifetime as number, lt) < 1e-13);
});

const REPAYMENT_CASES: {
  row: Row;
  loan: Omit<RefLoan, "stage" | "lgdUnsecured" | "lgdFloor">;
}[] = [
  {
    row: {
      product: "mortgage",
      balance: 250_000,
      interest_rate: 0.036,
      maturity_date: "2045-12-31",
      collateral_value: 200_000,
    },
    loan: {
      balance: 250_000,
      interestRate: 0.036,
      m: 240,
      repayment: "annuity",
      collateral: 200_000,
    },
  },
  {
    row: {
      product: "consumer",
      balance: 12_000,
      interest_rate: 0.079,
      maturity_date: "2029-06-30",
    },
    loan: { balance: 12_000, interestRate: 0.079, m: 42, repayment: "linear" },
  },
  {
    row: {
      product: "sme",
      balance: 500_000,
      interest_rate: 0.055,
      maturity_date: "2028-03-15",
      collateral_value: 150_000,
    },
    loan: {
      balance: 500_000,
      interestRate: 0.055,
      m: 27,
      repayment: "bullet",
      collateral: 150_000,
    },
  },
  {
    row: {
      product: "credit_card",
      balance: 1_800,
      credit_limit: 5_000,
      interest_rate: 0.19,
      maturity_date: null,
    },
    loan: {
      balance: 1_800,
      interestRate: 0.19,
      m: 36,
      repayment: "revolving",
      ccf: 0.75,
      creditLimit: 5_000,
    },
  },
];

for (const stage of [1, 2, 3] as const) {
  Deno.test(`computeEcl() matches the naive reference for every repayment type in stage ${stage}`, async () => {
    const stageRow: Row = stage === 3
      ? { days_past_due: 120 }
      : stage === 2
      ? { watchlist: true }
      : {};
    const p1 = 0.021;
    const rows = REPAYMENT_CASES.map((c) => ({
      ...c.row,
      ...stageRow,
      pd_12m_origination: 0.02,
      pd_12m_current: p1,
    }));
    const got = await run(rows, REF);
    got.forEach((g, i) => {
      assert.equal(g.stage, stage);
      const want = reference(
        {
          ...REPAYMENT_CASES[i].loan,
          stage,
          lgdUnsecured: 0.45,
          lgdFloor: 0.05,
        },
        refScenarios(p1),
      );
      assertMatches(g, want, ["base", "upside", "downside"]);
    });
  });
}

Deno.test("computeEcl() amortises an annuity at r = 0 linearly", async () => {
  const rows: Row[] = [
    {
      product: "mortgage",
      interest_rate: 0,
      balance: 6000,
      maturity_date: "2030-12-31",
      watchlist: true,
    },
    {
      product: "consumer",
      interest_rate: 0,
      balance: 6000,
      maturity_date: "2030-12-31",
      watchlist: true,
    },
  ];
  const [annuity, linear] = await run(rows, ONE);
  assert.equal(annuity.ecl_lifetime, linear.ecl_lifetime);
  // By hand: h = 1-(1-p)^(1/12), S[t-1] = (1-p)^((t-1)/12), EAD = 6000(60-t+1)/60, DF = 1.
  const p = 0.01;
  const h = 1 - Math.pow(1 - p, 1 / 12);
  let lt = 0;
  for (let t = 1; t <= 60; t++) {
    lt += Math.pow(1 - p, (t - 1) / 12) * h * 0.45 * 6000 * (61 - t) / 60;
  }
  assert.ok(relErr(annuity.ecl_lifetime as number, lt) < 1e-12);
});

Deno.test("computeEcl() handles m = 1: one month of hazard, 12-month = lifetime", async () => {
  const [row] = await run([{
    maturity_date: "2026-01-15",
    balance: 1000,
    interest_rate: 0.06,
    watchlist: true,
    pd_12m_current: 0.05,
  }], ONE);
  assert.equal(row.remaining_term_months, 1);
  const expected = (1 - Math.pow(0.95, 1 / 12)) * 0.45 * 1000 / 1.005;
  assert.ok(relErr(row.ecl_lifetime as number, expected) < 1e-13);
  assert.equal(row.ecl_12m, row.ecl_lifetime);
  assert.ok(
    relErr(row.pd_lifetime as number, 1 - Math.pow(0.95, 1 / 12)) < 1e-13,
  );
});

Deno.test("computeEcl() handles p1 = 1: the whole loss in month 1", async () => {
  const [row] = await run([{
    balance: 1000,
    interest_rate: 0.12,
    maturity_date: "2027-12-31",
    pd_12m_origination: 0.5,
    pd_12m_current: 1,
  }], ONE);
  assert.equal(row.stage, 2);
  assert.equal(row.pd_lifetime, 1);
  // h = 1: mpd[1] = 1, every later mpd = 0; ECL = 0.45 * 1000 / 1.01.
  assert.ok(relErr(row.ecl_lifetime as number, 450 / 1.01) < 1e-15);
  assert.ok(relErr(row.ecl_12m as number, 450 / 1.01) < 1e-15);
});

Deno.test("computeEcl() gives zero EAD, LGD and ECL for a zero balance", async () => {
  const rows: Row[] = [
    { product: "mortgage", balance: 0, watchlist: true },
    { product: "sme", balance: 0, default_flag: true, collateral_value: 100 },
    {
      product: "credit_card",
      balance: 0,
      credit_limit: 0,
      maturity_date: null,
    },
  ];
  for (const row of await run(rows, ONE)) {
    for (const c of ["ead", "lgd", "ecl_12m", "ecl_lifetime", "ecl"]) {
      assert.equal(row[c], 0, `${row.loan_id} ${c}`);
    }
    assert.ok((row.pd_lifetime as number) > 0);
  }
});

Deno.test("computeEcl() floors LGD when collateral covers the EAD and reduces it when it does not", async () => {
  const rows: Row[] = [
    { balance: 1000, collateral_value: 5000, default_flag: true },
    { balance: 1000, collateral_value: 500, default_flag: true },
    { balance: 1000, collateral_value: null, default_flag: true },
  ];
  const rules = rulesFrom(rulesYaml({
    scenarios:
      `  - { name: base, weight: 0.6, pd_multiplier: [1], collateral_haircut: 0.2 }
  - { name: stress, weight: 0.4, pd_multiplier: [2], collateral_haircut: 0.5 }`,
  }));
  const [above, below, none] = await run(rows, rules);
  // Stage 3: ECL[s] = LGD[s,1] * EAD[1] (§8).
  assert.equal(above.lgd, 0.05);
  assert.equal(above.ecl, 50);
  // base: recovery 400 -> LGD = 600 * 0.45 / 1000 = 0.27; stress: 250 -> 0.3375.
  assert.ok(relErr(below.ecl_base as number, 270) < 1e-15);
  assert.ok(relErr(below.ecl_stress as number, 337.5) < 1e-15);
  assert.ok(relErr(below.lgd as number, 0.6 * 0.27 + 0.4 * 0.3375) < 1e-15);
  assert.ok(relErr(below.ecl as number, 0.6 * 270 + 0.4 * 337.5) < 1e-15);
  assert.ok(relErr(none.lgd as number, 0.6 * 0.45 + 0.4 * 0.45) < 1e-15);
});

Deno.test("computeEcl() follows a PD shape longer and shorter than the term", async () => {
  const rules = rulesFrom(rulesYaml({
    segments:
      `  default: { pd_curve: flat, lgd_unsecured: 0.45, lgd_floor: 0.05, rho: 0.15 }
  shaped: { pd_curve: shape, pd_shape: [1.0, 1.5, 2.0] }`,
    scenarios: REF_SCENARIOS_YAML,
  }));
  const g = [1.0, 1.5, 2.0];
  const p1 = 0.03;
  const rows: Row[] = [
    {
      segment: "shaped",
      maturity_date: "2026-09-30",
      watchlist: true,
      pd_12m_current: p1,
    }, // 9 months
    {
      segment: "shaped",
      maturity_date: "2032-12-31",
      watchlist: true,
      pd_12m_current: p1,
    }, // 84 months
    {
      segment: "shaped",
      maturity_date: "2032-12-31",
      watchlist: true,
      pd_12m_current: 0.6,
    }, // p1*g > 1
  ];
  const got = await run(rows, rules);
  const terms = [9, 84, 84];
  const pds = [p1, p1, 0.6];
  got.forEach((row, i) => {
    const want = reference(
      {
        balance: 1000,
        interestRate: 0.12,
        m: terms[i],
        repayment: "bullet",
        stage: 2,
        lgdUnsecured: 0.45,
        lgdFloor: 0.05,
      },
      refScenarios(pds[i], g),
    );
    assertMatches(row, want, ["base", "upside", "downside"]);
  });
});

// q values computed with 40-digit arithmetic (mpmath):
// Phi((PhiInv(base) - sqrt(0.15) z) / sqrt(0.85)).
const Z0 = 0.012953484965745454129; // base 0.02, z = 0
const Z_PLUS1 = 0.0040522203716070958458; // base 0.02, z = 1
const Z_MINUS_HALF = 0.021818477855849340172; // base 0.02, z = -0.5
const Z_MINUS_HALF_SHAPED = 0.033627580356705411941; // base 0.03, z = -0.5

Deno.test("computeEcl() applies z_shift with z = 0 as Phi(PhiInv(q) / sqrt(1 - rho))", async () => {
  const rules = rulesFrom(rulesYaml({
    scenarioAdjustment: "z_shift",
    scenarios: "  - { name: base, weight: 1, z: [0] }",
  }));
  const [row] = await run([{
    maturity_date: "2030-12-31",
    watchlist: true,
    pd_12m_current: 0.02,
  }], rules);
  const want = reference(
    {
      balance: 1000,
      interestRate: 0.12,
      m: 60,
      repayment: "bullet",
      stage: 2,
      lgdUnsecured: 0.45,
      lgdFloor: 0.05,
    },
    [{ weight: 1, q: () => Z0 }],
  );
  assertMatches(row, want, ["base"]);
});

Deno.test("computeEcl() applies z_shift vectors per year, with a PD shape, weighted", async () => {
  const rules = rulesFrom(rulesYaml({
    scenarioAdjustment: "z_shift",
    segments:
      `  default: { pd_curve: flat, lgd_unsecured: 0.45, lgd_floor: 0.05, rho: 0.15 }
  shaped: { pd_curve: shape, pd_shape: [1.0, 1.5] }`,
    scenarios: `  - { name: good, weight: 0.25, z: [1.0, -0.5] }
  - { name: bad, weight: 0.75, z: [-0.5] }`,
  }));
  const rows: Row[] = [
    { maturity_date: "2030-12-31", watchlist: true, pd_12m_current: 0.02 },
    {
      segment: "shaped",
      maturity_date: "2030-12-31",
      watchlist: true,
      pd_12m_current: 0.02,
    },
  ];
  const [flat, shaped] = await run(rows, rules);
  const loan: RefLoan = {
    balance: 1000,
    interestRate: 0.12,
    m: 60,
    repayment: "bullet",
    stage: 2,
    lgdUnsecured: 0.45,
    lgdFloor: 0.05,
  };
  // Flat: good = Z_PLUS1 in year 1, then z = -0.5 repeats; bad = -0.5 always.
  assertMatches(
    flat,
    reference(loan, [
      { weight: 0.25, q: (y) => (y === 1 ? Z_PLUS1 : Z_MINUS_HALF) },
      { weight: 0.75, q: () => Z_MINUS_HALF },
    ]),
    ["good", "bad"],
    1e-12,
  );
  // Shape [1, 1.5]: year 2 on, the base PD is 0.03.
  assertMatches(
    shaped,
    reference(loan, [
      { weight: 0.25, q: (y) => (y === 1 ? Z_PLUS1 : Z_MINUS_HALF_SHAPED) },
      {
        weight: 0.75,
        q: (y) => (y === 1 ? Z_MINUS_HALF : Z_MINUS_HALF_SHAPED),
      },
    ]),
    ["good", "bad"],
    1e-12,
  );
});

Deno.test("computeEcl() takes segment parameters merged over the default", async () => {
  const rules = rulesFrom(rulesYaml({
    segments:
      `  default: { pd_curve: flat, lgd_unsecured: 0.45, lgd_floor: 0.10, rho: 0.15 }
  secured: { lgd_unsecured: 0.25 }
  floored: { lgd_floor: 0.5 }`,
  }));
  const rows: Row[] = [
    { segment: "secured", default_flag: true },
    { segment: "floored", default_flag: true },
    { segment: "unknown_segment", default_flag: true },
    { segment: null, default_flag: true },
  ];
  const got = await run(rows, rules);
  assert.deepEqual(got.map((r) => r.lgd), [0.25, 0.5, 0.45, 0.45]);
  // secured keeps the default floor 0.10: collateral leaves 20% unsecured.
  const [secured] = await run([{
    segment: "secured",
    default_flag: true,
    collateral_value: 800,
  }], rules);
  assert.equal(secured.lgd, 0.1);
});

Deno.test("computeEcl() projects revolving facilities without a maturity over the behavioural life", async () => {
  const rows: Row[] = [
    {
      product: "credit_card",
      maturity_date: null,
      balance: 2000,
      credit_limit: 6000,
      watchlist: true,
    },
    {
      product: "credit_card",
      maturity_date: null,
      balance: 2000,
      credit_limit: null,
      watchlist: true,
    },
  ];
  const [withLimit, noLimit] = await run(rows, ONE);
  assert.equal(withLimit.remaining_term_months, 36);
  assert.equal(withLimit.ead, 2000 + 0.75 * 4000);
  assert.equal(noLimit.ead, 2000);
  const loan: RefLoan = {
    balance: 2000,
    interestRate: 0.12,
    m: 36,
    repayment: "revolving",
    ccf: 0.75,
    creditLimit: 6000,
    stage: 2,
    lgdUnsecured: 0.45,
    lgdFloor: 0.05,
  };
  assertMatches(withLimit, reference(loan, [{ weight: 1, q: () => 0.01 }]), [
    "base",
  ]);
});

Deno.test("computeEcl() exposes a defaulted card to its drawn balance only (methodology v2 §5)", async () => {
  // A card written off to a zero balance keeps its 6000 limit on file: in
  // version 1 its EAD was 0.75 * 6000 = 4500 and it kept an allowance of
  // 0.45 * 4500 = 2025. The limit is cancelled at default: EAD = B = 0.
  // A defaulted card with 2000 drawn: EAD 2000, ECL = LGD[1] * EAD[1] =
  // 0.45 * 2000 = 900, whatever its limit.
  const [writtenOff, drawn, performing] = await run([
    {
      product: "credit_card",
      maturity_date: null,
      balance: 0,
      credit_limit: 6000,
      default_flag: true,
    },
    {
      product: "credit_card",
      maturity_date: null,
      balance: 2000,
      credit_limit: 6000,
      days_past_due: 120,
    },
    {
      product: "credit_card",
      maturity_date: null,
      balance: 0,
      credit_limit: 6000,
    },
  ], ONE);
  assert.equal(writtenOff.stage, 3);
  assert.equal(writtenOff.ead, 0);
  assert.equal(writtenOff.ecl, 0);
  assert.equal(drawn.stage, 3);
  assert.equal(drawn.ead, 2000);
  assert.ok(relErr(drawn.ecl as number, 900) < 1e-12);
  // A performing card still converts its undrawn limit.
  assert.equal(performing.stage, 1);
  assert.equal(performing.ead, 4500);
});

Deno.test("computeEcl() reports a stage 3 facility's 12-month and lifetime ECL as its stage 3 ECL (methodology v2 §8)", async () => {
  // Bullet 1000, no collateral, two scenarios with different haircuts do
  // not matter without collateral: ECL[s] = 0.45 * 1000 = 450 in each, so
  // ecl_12m = ecl_lifetime = ecl_model = 450 (version 1 reported the
  // projections with the scenario PDs, well below 450).
  const rules = rulesFrom(rulesYaml({
    scenarios: `  - { name: base, weight: 0.6, pd_multiplier: [1.0] }
  - { name: down, weight: 0.4, pd_multiplier: [1.5] }`,
  }));
  const [row] = await run([{ default_flag: true, pd_12m_current: 0.3 }], rules);
  assert.equal(row.stage, 3);
  for (
    const c of ["ecl_12m", "ecl_lifetime", "ecl_model", "ecl_base", "ecl_down"]
  ) {
    assert.ok(relErr(row[c] as number, 450) < 1e-12, `${c} = ${row[c]}`);
  }
});

Deno.test("computeEcl() returns the §9 columns, then ecl_<scenario>, then overlays_applied, typed", async () => {
  const df = await computeEcl(
    stageFacilities(
      portfolio([{}, { product: "credit_card", maturity_date: null }]).lazy(),
      REF,
    ),
    REF,
  );
  assert.deepEqual(df.columns, [
    ...RESULT_COLUMNS,
    "ecl_base",
    "ecl_upside",
    "ecl_downside",
    "overlays_applied",
    "overlay_impacts",
    "overlay_floor",
  ]);
  const types: Record<string, pl.DataType> = {
    loan_id: pl.String,
    reporting_date: pl.Date,
    stage: pl.Int32,
    stage_triggers: pl.List(pl.String),
    remaining_term_months: pl.Int32,
    overlays_applied: pl.List(pl.String),
    overlay_impacts: pl.List(pl.Float64),
    overlay_floor: pl.Float64,
  };
  for (
    const c of [
      "ead",
      "pd_12m",
      "pd_lifetime",
      "lgd",
      "ecl_12m",
      "ecl_lifetime",
      "ecl_model",
      "ecl",
      "ecl_base",
    ]
  ) {
    types[c] = pl.Float64;
  }
  for (const [c, t] of Object.entries(types)) {
    assert.ok(
      sameType(df.getColumn(c).dtype, t),
      `${c} is ${df.getColumn(c).dtype}`,
    );
  }
  assert.deepEqual(
    df.getColumn("overlays_applied").toArray().map((
      x,
    ) => [...(x as unknown as string[])]),
    [[], []],
  );
});

Deno.test("computeEcl() keeps input order and gives the same result in any batch size", async () => {
  const rows: Row[] = Array.from({ length: 7 }, (_, i) => ({
    loan_id: `X${7 - i}`,
    product: ["mortgage", "consumer", "sme", "credit_card"][i % 4],
    maturity_date: i % 4 === 3 ? null : `20${28 + i}-06-30`,
    balance: 1000 * (i + 1),
    pd_12m_current: 0.01 * (i + 1),
    watchlist: i % 2 === 0,
  }));
  const staged = stageFacilities(portfolio(rows).lazy(), REF);
  const progress: number[] = [];
  const small = await computeEcl(staged, REF, {
    batchSize: 3,
    onProgress: (n) => progress.push(n),
  });
  const whole = await computeEcl(staged, REF);
  assert.deepEqual(progress, [3, 6, 7]);
  assert.deepEqual(
    small.getColumn("loan_id").toArray(),
    rows.map((r) => r.loan_id),
  );
  assert.deepEqual(small.toRecords(), whole.toRecords());
});

Deno.test("computeEcl() refuses an unconfigured product, naming the loan", async () => {
  const staged = stageFacilities(
    portfolio([{ loan_id: "BAD1", product: "yacht" }]).lazy(),
    ONE,
  );
  await assert.rejects(
    () => computeEcl(staged, ONE),
    /loan BAD1: product "yacht" is not configured/,
  );
});

Deno.test("computeEcl() refuses a non-revolving facility without a maturity, naming the loan", async () => {
  const staged = stageFacilities(
    portfolio([{ loan_id: "NOMAT", product: "sme", maturity_date: null }])
      .lazy(),
    ONE,
  );
  await assert.rejects(
    () => computeEcl(staged, ONE),
    /loan NOMAT: remaining_term_months is null/,
  );
});

Deno.test("computeEcl() returns an empty, typed frame for an empty portfolio", async () => {
  const empty = portfolio([{}]).head(0);
  const df = await computeEcl(stageFacilities(empty.lazy(), REF), REF);
  assert.equal(df.height, 0);
  assert.deepEqual(df.columns, [
    ...RESULT_COLUMNS,
    "ecl_base",
    "ecl_upside",
    "ecl_downside",
    "overlays_applied",
    "overlay_impacts",
    "overlay_floor",
  ]);
  assert.ok(sameType(df.getColumn("ecl").dtype, pl.Float64));
});

Deno.test("computeEcl() under z_shift sends p1 = 1 to q = 1 whatever z", async () => {
  const rules = rulesFrom(rulesYaml({
    scenarioAdjustment: "z_shift",
    scenarios: "  - { name: base, weight: 1, z: [2.5] }",
  }));
  const [row] = await run(
    [{ pd_12m_origination: 0.5, pd_12m_current: 1 }],
    rules,
  );
  assert.equal(row.pd_lifetime, 1);
  assert.ok(relErr(row.ecl_lifetime as number, 450 / 1.01) < 1e-15);
});
