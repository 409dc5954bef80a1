/**
 * A run with `pd_curve: transition_matrix` (methodology §13 then §4-§8):
 * two stage 2 facilities' lifetime ECL computed here by hand from the
 * documented formulas (a bullet SME loan graded by its PD, an annuity car
 * loan graded by its `rating`), and a bad matrix refused before any data
 * is read.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import pl from "nodejs-polars";
import { runPortfolio } from "../../lib/run/mod.ts";
import { projectFacility } from "../../lib/engine/mod.ts";
import { loadRules } from "../../lib/rules.ts";
import { projectPath } from "../../lib/project.ts";
import { portfolioFrame } from "../run/_portfolio.ts";

const FX = projectPath("config/fx_rates.yaml");

// States A, B, C and default, best first.
const MATRIX = [
  [0.92, 0.06, 0.015, 0.005],
  [0.04, 0.88, 0.06, 0.02],
  [0.01, 0.07, 0.82, 0.10],
  [0, 0, 0, 1],
];
const STATES = ["A", "B", "C", "D"];
const CSV = [
  ["from", ...STATES].join(","),
  ...MATRIX.map((r, i) => [STATES[i], ...r].join(",")),
].join("\n") + "\n";
// Master scale: A up to 1%, B up to 3%, C up to 100%.
const BANDS: [string, number][] = [["A", 0.01], ["B", 0.03], ["C", 1]];
const SCENARIOS = [
  { name: "base", weight: 0.5, k: [1.0] },
  { name: "upside", weight: 0.2, k: [0.8, 0.9] },
  { name: "downside", weight: 0.3, k: [1.6, 1.4, 1.2] },
];

const rulesText = (matrix: string) =>
  `reporting_currency: EUR
products:
  mortgage: { repayment: annuity }
  auto: { repayment: annuity }
  consumer: { repayment: linear }
  sme: { repayment: bullet }
  credit_card: { repayment: revolving, ccf: 0.75, behavioural_life_months: 36 }
segments:
  default:
    pd_curve: transition_matrix
    transition_matrix: ${matrix}
    master_scale: [${
    BANDS.map(([g, u]) => `{grade: ${g}, upper_pd: ${u}}`).join(", ")
  }]
    lgd_unsecured: 0.45
    lgd_floor: 0.05
scenario_adjustment: multiplier
scenarios:
${
    SCENARIOS.map((s) =>
      `  - { name: ${s.name}, weight: ${s.weight}, pd_multiplier: [${
        s.k.join(", ")
      }], collateral_haircut: 0.2 }`
    ).join("\n")
  }
`;

/** PD(y) of grade g for y = 0..years, by row vector times matrix. */
function cumulative(g: number, years: number): number[] {
  let v: number[] = STATES.map((_, j) => (j === g ? 1 : 0));
  const out = [0];
  for (let y = 1; y <= years; y++) {
    v = STATES.map((_, j) => v.reduce((s, vi, i) => s + vi * MATRIX[i][j], 0));
    out.push(v[3]);
  }
  return out;
}

/** Lifetime ECL of a stage 2 facility without collateral, by the formulas. */
function handEcl(
  f: {
    balance: number;
    rate: number;
    m: number;
    grade: number;
    annuity: boolean;
  },
): number {
  const pd = cumulative(f.grade, Math.ceil(f.m / 12));
  const q = (y: number) => (pd[y] - pd[y - 1]) / (1 - pd[y - 1]);
  const r = f.rate / 12;
  const n = f.m;
  let total = 0;
  for (const s of SCENARIOS) {
    let surv = 1;
    let ecl = 0;
    for (let t = 1; t <= n; t++) {
      const y = Math.ceil(t / 12);
      const k = s.k[Math.min(y, s.k.length) - 1];
      const qs = Math.min(1, q(y) * k);
      const h = 1 - Math.pow(1 - qs, 1 / 12);
      const mpd = surv * h;
      surv *= 1 - h;
      const ead = f.annuity
        ? f.balance * (Math.pow(1 + r, n) - Math.pow(1 + r, t - 1)) /
          (Math.pow(1 + r, n) - 1)
        : f.balance;
      const lgd = Math.max(0.05, 0.45); // no collateral
      ecl += mpd * lgd * ead * Math.pow(1 + r, -t);
    }
    total += s.weight * ecl;
  }
  return total;
}

/** Months from 2025-12-31 (a month-end) to a maturity on the 15th (§2). */
function termFrom20251231(maturity: string): number {
  const y = Number(maturity.slice(0, 4)), mo = Number(maturity.slice(5, 7));
  return (y - 2025) * 12 + (mo - 12);
}

Deno.test("a run with pd_curve: transition_matrix matches a hand calculation of two stage 2 facilities' lifetime ECL", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "config"));
    await Deno.writeTextFile(join(dir, "config", "matrix.csv"), CSV);
    const rules = join(dir, "config", "rules.yaml");
    await Deno.writeTextFile(rules, rulesText("matrix.csv"));
    // L0000011 (auto, annuity, 45 days past due: stage 2) has a rating,
    // C, that its PD band would not give; L0000013 (sme, bullet, on the
    // watchlist: stage 2) has none and is graded by its PD.
    const frame = portfolioFrame(40).withColumns(
      pl.when(pl.col("loan_id").eq(pl.lit("L0000011"))).then(pl.lit("C"))
        .otherwise(pl.lit(null)).cast(pl.Utf8).alias("rating"),
    );
    const portfolio = join(dir, "book.parquet");
    frame.writeParquet(portfolio);
    const run = await runPortfolio({
      portfolio,
      rules,
      fx: FX,
      out: join(dir, "runs"),
      runId: "tm",
      report: false,
    });
    const results = pl.readParquet(join(run.dir, "loan_results.parquet"));
    const row = (id: string) =>
      results.filter(pl.col("loan_id").eq(pl.lit(id))).toRecords()[0];
    const input = (id: string) =>
      frame.filter(pl.col("loan_id").eq(pl.lit(id))).withColumns(
        pl.col("maturity_date").cast(pl.Utf8),
      ).toRecords()[0];

    const auto = input("L0000011");
    assert.equal(auto.product, "auto");
    const autoPd = auto.pd_12m_current as number;
    // Its PD band is not C: the rating decides.
    assert.ok(autoPd <= 0.03, `PD ${autoPd}`);
    const sme = input("L0000013");
    assert.equal(sme.product, "sme");
    const smePd = sme.pd_12m_current as number;
    const smeGrade = BANDS.findIndex(([, upper]) => smePd <= upper);

    for (
      const [id, f] of [
        ["L0000011", {
          balance: auto.balance as number,
          rate: auto.interest_rate as number,
          m: termFrom20251231(auto.maturity_date as string),
          grade: 2,
          annuity: true,
        }],
        ["L0000013", {
          balance: sme.balance as number,
          rate: sme.interest_rate as number,
          m: termFrom20251231(sme.maturity_date as string),
          grade: smeGrade,
          annuity: false,
        }],
      ] as const
    ) {
      const got = row(id);
      assert.equal(got.stage, 2, id);
      assert.equal(got.remaining_term_months, f.m, id);
      const expected = handEcl(f);
      assert.ok(
        Math.abs((got.ecl as number) - expected) <= 1e-9 * expected,
        `${id}: engine ${got.ecl}, hand ${expected}`,
      );
      assert.ok(f.m > 24, `${id}: a term of several years (${f.m} months)`);
    }
    // The monthly projection of a notebook uses the same grade's curve:
    // survival to month 24 under the base scenario is 1 - PD(2).
    const months = (await projectFacility(
      frame.filter(pl.col("loan_id").eq(pl.lit("L0000011"))),
      await loadRules(rules),
    )).toRecords();
    const pd2 = cumulative(2, 2)[2];
    assert.ok(
      Math.abs((months[23].survival_base as number) - (1 - pd2)) < 1e-12,
    );
    // The manifest records the matrix file, its SHA-256 and its rows.
    const params = run.manifest.inputs.rules.parameters!;
    assert.equal(
      params["segments.default.transition_matrix.file"],
      "matrix.csv",
    );
    assert.equal(
      params["segments.default.transition_matrix.sha256"],
      createHash("sha256").update(CSV).digest("hex"),
    );
    assert.deepEqual(
      params["segments.default.transition_matrix.rows[2]"],
      MATRIX[2],
    );
    // The matrix changed the figures: the same facility graded A gives less.
    const asA = handEcl({
      balance: auto.balance as number,
      rate: auto.interest_rate as number,
      m: termFrom20251231(auto.maturity_date as string),
      grade: 0,
      annuity: true,
    });
    assert.ok((row("L0000011").ecl as number) > 2 * asA);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run refuses a bad transition matrix before any data is read, listing every problem with its labels", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "bad.csv"),
      "from,A,B,C,D\nA,0.9,0.2,0,-0.1\nB,0.1,0.8,0.1\nC,0,0,0.9,0.05\nD,0,0,0.5,0.5\n",
    );
    const rules = join(dir, "rules.yaml");
    await Deno.writeTextFile(rules, rulesText("bad.csv"));
    const out = join(dir, "runs");
    await assert.rejects(
      () =>
        runPortfolio({
          // No such file: the rules are refused before it is looked at.
          portfolio: join(dir, "missing.parquet"),
          rules,
          fx: FX,
          out,
          report: false,
        }),
      (e: Error) => {
        assert.match(
          e.message,
          /^Cannot load rules file .*rules\.yaml: 5 problems/,
        );
        for (
          const p of [
            "key segments.default.transition_matrix.rows[0][3]: row A, column D: -0.1 is negative (matrix file bad.csv)",
            "key segments.default.transition_matrix.rows[1]: row B: holds 3 values, expected 4",
            "key segments.default.transition_matrix.rows[2]: row C sums to 0.95, not 1 (within 1e-6)",
            "key segments.default.transition_matrix.rows[3][2]: row D: the default state D must be absorbing (D -> D = 1, 0 elsewhere), got D -> C = 0.5",
            "got D -> D = 0.5",
          ]
        ) assert.ok(e.message.includes(p), `${p}\nin\n${e.message}`);
        assert.doesNotMatch(e.message, /missing\.parquet/);
        return true;
      },
    );
    // Nothing was written.
    assert.equal(await Deno.stat(out).then(() => true, () => false), false);
    // A matrix file that does not exist is named, relative to the rules.
    await Deno.writeTextFile(rules, rulesText("nowhere.csv"));
    await assert.rejects(
      () =>
        runPortfolio({
          portfolio: join(dir, "missing.parquet"),
          rules,
          fx: FX,
          out,
          report: false,
        }),
      /key segments\.default\.transition_matrix: .*nowhere\.csv cannot be read: no such file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
