/**
 * How a run grades the facilities of a `pd_curve: transition_matrix`
 * segment (methodology §13, docs/migration.md) and how the sensitivity
 * table's PD shock moves their curves (docs/sensitivity.md): a performing
 * facility rated in the default state is graded from its PD (not a certain
 * loss) and counted in a manifest warning, as are the facilities graded
 * from their PD band; a PD shock multiplies each grade's base curve
 * `q[y]`, the grade staying that of the unshocked PD. Expected figures are
 * computed here from the documented formulas.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { runPortfolio } from "../../lib/run/mod.ts";
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
const BANDS: [string, number][] = [["A", 0.01], ["B", 0.03], ["C", 1]];
const SCENARIOS = [
  { name: "base", weight: 0.6, k: [1.0] },
  { name: "downside", weight: 0.4, k: [1.5, 1.2] },
];
const FACTOR = 3;
const CAP = 0.9999;

const rulesText = (sensitivity = "") =>
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
    transition_matrix:
      states: [${STATES.join(", ")}]
      rows: [${MATRIX.map((r) => `[${r.join(", ")}]`).join(", ")}]
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
      }] }`
    ).join("\n")
  }
${sensitivity}`;

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

/**
 * Lifetime ECL of a stage 2 facility without collateral: methodology §13
 * (q[y] of its grade), the shock `q * f` capped at `max(q, CAP)`, §4 (the
 * scenario's multiplier, capped at 1; monthly hazard), §5-§8.
 */
function handEcl(
  f: { balance: number; rate: number; m: number; grade: number },
  factor = 1,
): number {
  const pd = cumulative(f.grade, Math.ceil(f.m / 12));
  const q = (y: number) => {
    const base = (pd[y] - pd[y - 1]) / (1 - pd[y - 1]);
    return factor === 1 ? base : Math.min(base * factor, Math.max(base, CAP));
  };
  const r = f.rate / 12;
  let total = 0;
  for (const s of SCENARIOS) {
    let surv = 1;
    let ecl = 0;
    for (let t = 1; t <= f.m; t++) {
      const y = Math.ceil(t / 12);
      const k = s.k[Math.min(y, s.k.length) - 1];
      const h = 1 - Math.pow(1 - Math.min(1, q(y) * k), 1 / 12);
      ecl += surv * h * 0.45 * f.balance * Math.pow(1 + r, -t);
      surv *= 1 - h;
    }
    total += s.weight * ecl;
  }
  return total;
}

/** Months from 2025-12-31 to a maturity date (§2). */
function termFrom20251231(maturity: string): number {
  const y = Number(maturity.slice(0, 4)), mo = Number(maturity.slice(5, 7));
  return (y - 2025) * 12 + (mo - 12);
}

Deno.test("transition_matrix: a performing facility rated in the default state is graded from its PD, and the grading is counted in the manifest", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const frame0 = portfolioFrame(40).filter(
      pl.col("product").eq(pl.lit("sme")),
    ).head(3);
    const ids = frame0.getColumn("loan_id").toArray() as string[];
    // The first rated D, the second rated B, the third not rated.
    const frame = frame0.withColumns(
      pl.Series("rating", ["D", "B", null], pl.Utf8),
      // Stage 2 for all three (watchlist), so ECL is lifetime.
      pl.lit(true).alias("watchlist"),
      pl.lit(0).alias("days_past_due"),
      pl.lit(false).alias("default_flag"),
    );
    const portfolio = join(dir, "book.parquet");
    frame.writeParquet(portfolio);
    const rules = join(dir, "rules.yaml");
    await Deno.writeTextFile(rules, rulesText());
    const run = await runPortfolio({
      portfolio,
      rules,
      fx: FX,
      out: join(dir, "runs"),
      runId: "grading",
      report: false,
    });
    const results = pl.readParquet(join(run.dir, "loan_results.parquet"));
    const inputs = frame.withColumns(pl.col("maturity_date").cast(pl.Utf8))
      .toRecords();
    for (const [i, id] of ids.entries()) {
      const f = inputs[i];
      const pd = f.pd_12m_current as number;
      const band = BANDS.findIndex(([, u]) => pd <= u);
      // Rated D: its PD's band, as the unrated one; rated B: B.
      const grade = i === 1 ? 1 : band;
      const got = results.filter(pl.col("loan_id").eq(pl.lit(id)))
        .toRecords()[0];
      assert.equal(got.stage, 2, id);
      const expected = handEcl({
        balance: f.balance as number,
        rate: f.interest_rate as number,
        m: termFrom20251231(f.maturity_date as string),
        grade,
      });
      assert.ok(
        Math.abs((got.ecl as number) - expected) <= 1e-9 * expected,
        `${id}: engine ${got.ecl}, hand ${expected}`,
      );
      // Never a certain loss: well below 45% of the balance.
      assert.ok((got.ecl as number) < 0.3 * (f.balance as number), id);
      // The grade and the 12-month PD behind the ECL, M[g, D].
      assert.equal(got.pd_grade, STATES[grade], id);
      assert.equal(got.pd_12m_grade, MATRIX[grade][3], id);
      assert.equal(got.pd_12m, pd, id);
    }
    const warnings = run.manifest.warnings.join("\n");
    assert.match(
      warnings,
      /segment default: 1 facility without a rating among the transition matrix's grades \(A, B, C\) was graded from pd_12m_current by the master scale/,
    );
    assert.match(
      warnings,
      /segment default: 1 performing \(stage 1 or 2\) facility rated D, the default state, was graded from pd_12m_current/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sensitivity: a PD shock multiplies the base curve q[y] of transition-matrix grades, the grade staying the unshocked PD's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const frame0 = portfolioFrame(40).filter(
      pl.col("product").eq(pl.lit("sme")),
    ).head(2);
    // One rated C, one graded from its PD; in euros, the table's currency.
    const frame = frame0.withColumns(
      pl.Series("rating", ["C", null], pl.Utf8),
      pl.lit("EUR").alias("currency"),
      pl.lit(true).alias("watchlist"),
      pl.lit(0).alias("days_past_due"),
      pl.lit(false).alias("default_flag"),
    );
    const portfolio = join(dir, "book.parquet");
    frame.writeParquet(portfolio);
    const rules = join(dir, "rules.yaml");
    await Deno.writeTextFile(
      rules,
      rulesText(
        `sensitivity:\n  scenarios: false\n  stresses:\n    - { name: pd_x3, pd_multiplier: ${FACTOR} }\n`,
      ),
    );
    const run = await runPortfolio({
      portfolio,
      rules,
      fx: FX,
      out: join(dir, "runs"),
      runId: "shock",
      report: false,
    });
    const summary = JSON.parse(
      await Deno.readTextFile(join(run.dir, "summary.json")),
    );
    const lines = summary.sensitivity.lines as {
      name: string;
      ecl: number;
    }[];
    const inputs = frame.withColumns(pl.col("maturity_date").cast(pl.Utf8))
      .toRecords();
    const facility = (i: number) => {
      const f = inputs[i];
      const pd = f.pd_12m_current as number;
      return {
        balance: f.balance as number,
        rate: f.interest_rate as number,
        m: termFrom20251231(f.maturity_date as string),
        grade: i === 0 ? 2 : BANDS.findIndex(([, u]) => pd <= u),
      };
    };
    const base = handEcl(facility(0)) + handEcl(facility(1));
    const shocked = handEcl(facility(0), FACTOR) +
      handEcl(facility(1), FACTOR);
    const weighted = lines.find((l) => l.name === "weighted")!;
    const stress = lines.find((l) => l.name === "pd_x3")!;
    assert.ok(
      Math.abs(weighted.ecl - base) < 0.005,
      `${weighted.ecl} vs ${base}`,
    );
    assert.ok(
      Math.abs(stress.ecl - shocked) < 0.005,
      `stress ${stress.ecl} vs hand ${shocked}`,
    );
    assert.ok(stress.ecl > 1.5 * weighted.ecl);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("transition_matrix: the grade columns appear only when a segment uses a matrix", async () => {
  const { parseRules } = await import("../../lib/rules.ts");
  const { computeEcl, stageFacilities } = await import(
    "../../lib/engine/mod.ts"
  );
  const frame = portfolioFrame(20);
  const flat = parseRules(
    rulesText().replace(
      / {2}default:\n( {4}.*\n)+? {4}lgd_unsecured/,
      "  default:\n    pd_curve: flat\n    lgd_unsecured",
    ),
    "flat.yaml",
  );
  assert.equal(flat.segments.default.pd_curve, "flat");
  const plain = await computeEcl(stageFacilities(frame.lazy(), flat), flat);
  assert.ok(!plain.columns.includes("pd_grade"));
  assert.ok(!plain.columns.includes("pd_12m_grade"));
  const matrix = parseRules(rulesText(), "matrix.yaml");
  const graded = await computeEcl(
    stageFacilities(frame.lazy(), matrix),
    matrix,
  );
  // The same columns with the two grade columns before the overlays'.
  assert.deepEqual(graded.columns, [
    ...plain.columns.slice(0, -3),
    "pd_grade",
    "pd_12m_grade",
    ...plain.columns.slice(-3),
  ]);
  const simplified = graded.filter(pl.col("pd_grade").isNull()).height;
  assert.equal(simplified, 0);
});

Deno.test("matrixGradeWarnings counts per segment; nothing is read without a matrix segment", async () => {
  const { matrixGradeWarnings } = await import(
    "../../lib/transition_matrix.ts"
  );
  const m = {
    states: ["A", "B", "D"],
    rows: [[0.9, 0.08, 0.02], [0, 1, 0], [0, 0, 1]],
  };
  const frame = pl.DataFrame({
    segment: ["retail", "retail", "retail", "sme", "sme", "other"],
    rating: ["A", "X", "D", "D", null, null],
    stage: [1, 2, 3, 2, 1, 1],
  }).lazy();
  const warnings = await matrixGradeWarnings(frame, {
    default: { pd_curve: "flat" },
    retail: { pd_curve: "transition_matrix", transition_matrix: m },
    sme: { pd_curve: "transition_matrix", transition_matrix: m },
  });
  assert.deepEqual(warnings, [
    "segment retail: state B is absorbing (B -> B = 1): its facilities never default (PD 0 in every year); estimate its row from more data or set it by judgement",
    // X is not a state; D in stage 3 is not warned.
    "segment retail: 1 facility without a rating among the transition matrix's grades (A, B) was graded from pd_12m_current by the master scale (methodology §13)",
    "segment sme: state B is absorbing (B -> B = 1): its facilities never default (PD 0 in every year); estimate its row from more data or set it by judgement",
    "segment sme: 1 facility without a rating among the transition matrix's grades (A, B) was graded from pd_12m_current by the master scale (methodology §13)",
    "segment sme: 1 performing (stage 1 or 2) facility rated D, the default state, was graded from pd_12m_current by the master scale, not given a certain loss: check the ratings or the default flags",
  ]);
  // No matrix segment: an empty list, the frame not even read.
  const unreadable = pl.DataFrame({ x: [1] }).lazy().select(
    pl.col("missing"),
  );
  assert.deepEqual(
    await matrixGradeWarnings(unreadable, { default: { pd_curve: "flat" } }),
    [],
  );
});
