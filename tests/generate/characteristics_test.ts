/**
 * Tests of the borrower characteristics the generator writes
 * (docs/generator.md, "Borrower characteristics"): the columns it wrote
 * before keep their values, each characteristic's range and definition,
 * what is fixed at origination and what moves, the structural model
 * recovered by least squares, and validation and the ECL untouched by them.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { generateBook } from "../../lib/generate/mod.ts";
import { CHARACTERISTICS, PRODUCTS } from "../../lib/generate/catalogue.ts";
import { systematicLogOdds } from "../../lib/generate/characteristics.ts";
import { CHARACTERISTIC_COLUMNS, PORTFOLIO_COLUMNS } from "../../lib/schema.ts";
import {
  computeEcl,
  loadFx,
  loadRules,
  projectPath,
  stageFacilities,
  validatePortfolio,
} from "../../lib/mod.ts";
import { ols } from "../pd_model/_fit.ts";

type Row = Record<string, unknown>;
const DAY = 86_400_000;
const logit = (p: number) => Math.log(p / (1 - p));

async function sha256Text(text: string): Promise<string> {
  const h = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
}

const BOOK = generateBook({
  loans: 4_000,
  seed: 404,
  reportingDate: "2025-06-30",
  periods: 4,
});
const SNAPS = BOOK.map((df) => df.toRecords() as Row[]);

Deno.test("generateBook() keeps the values of every column it wrote before the characteristics", async () => {
  // SHA-256 of the §1 columns as CSV, per snapshot, from the generator of
  // commit 7ae3260 (before characteristics existed), run on the same
  // options with three batches: the characteristics' own random stream
  // leaves the main stream's draws where they were.
  const want = [
    [3000, "600779438dba793f17f716227add2558f0136f8a5745e617f9b2f83135b36d04"],
    [3028, "9b35f2647e57341458d411d730e36253b1dfa962bd95959ecc77d535a47e02d9"],
    [3013, "ec1b87f9b75421a2bb0e25686df2ab5a555f499d19fa4709e8c9a812f1e71cf5"],
  ];
  const book = generateBook({
    loans: 3_000,
    seed: 11,
    reportingDate: "2024-12-31",
    periods: 3,
    batchSize: 1_000,
  });
  for (const [t, df] of book.entries()) {
    const csv = String(
      df.select(...PORTFOLIO_COLUMNS.map((c) => c.name)).writeCSV(),
    );
    assert.deepEqual(
      [df.height, await sha256Text(csv)],
      want[t],
      `period ${t}`,
    );
  }
});

Deno.test("generated characteristics are in range and as defined", () => {
  const ltvRange = new Map(PRODUCTS.map((p) => [p.name, p.ltv]));
  const types = new Set([
    "salaried",
    "public_sector",
    "self_employed",
    "temporary",
    "retired",
  ]);
  // The rating scale written out: upper PDs doubling from 0.05% to 25.6%,
  // R11 below 1, D at 1.
  const grade = (pd: number) => {
    if (pd >= 1) return "D";
    for (let k = 0; k < 10; k++) {
      if (pd <= 0.0005 * 2 ** k) return `R${String(k + 1).padStart(2, "0")}`;
    }
    return "R11";
  };
  for (const rows of SNAPS) {
    for (const r of rows) {
      const cs = r.credit_score as number;
      assert.ok(Number.isInteger(cs) && cs >= 300 && cs <= 850, `score ${cs}`);
      const dti = r.debt_to_income as number;
      assert.ok(dti >= 0.02 && dti <= 0.95, `dti ${dti}`);
      assert.ok(types.has(r.employment_type as string));
      if (r.product === "sme") assert.equal(r.employment_type, "self_employed");
      // LTV at origination: present exactly for secured facilities, in the
      // product's origination range.
      const range = ltvRange.get(r.product as string);
      if (r.collateral_value === null) assert.equal(r.ltv, null);
      else {
        const ltv = r.ltv as number;
        assert.ok(range && ltv >= range.lo - 1e-4 && ltv <= range.hi + 1e-4);
      }
      // Whole months since origination (a month-end reporting date counts
      // the month as complete).
      const o = r.origination_date as Date, d = r.reporting_date as Date;
      let mob = 12 * (d.getUTCFullYear() - o.getUTCFullYear()) +
        d.getUTCMonth() - o.getUTCMonth();
      const monthEnd = new Date(d.getTime() + DAY).getUTCDate() === 1;
      if (d.getUTCDate() < o.getUTCDate() && !monthEnd) mob--;
      assert.equal(r.months_on_book, mob, `${r.loan_id}`);
      assert.equal(r.rating, grade(r.pd_12m_current as number), `${r.loan_id}`);
    }
  }
});

Deno.test("characteristics drawn at origination stay; months on book and the rating move", () => {
  const first = new Map(SNAPS[0].map((r) => [r.loan_id, r]));
  let migrated = 0, seen = 0;
  for (const rows of SNAPS.slice(1)) {
    for (const r of rows) {
      const f = first.get(r.loan_id);
      if (!f) continue;
      seen++;
      for (
        const c of ["credit_score", "debt_to_income", "employment_type", "ltv"]
      ) {
        assert.equal(r[c], f[c], `${r.loan_id} ${c}`);
      }
      if (r.rating !== f.rating) migrated++;
    }
  }
  assert.ok(seen > 10_000);
  // The current PD drifts and the state migrates: a good share of grades
  // change within a year.
  assert.ok(migrated / seen > 0.1, `rating migrated ${migrated} of ${seen}`);
});

Deno.test("least squares of the origination PD's log-odds on the characteristics recovers the documented coefficients", () => {
  const b = CHARACTERISTICS.model;
  const types = [
    "public_sector",
    "self_employed",
    "temporary",
    "retired",
  ] as const;
  const rows = SNAPS[0];
  const X = rows.map((r) => [
    1,
    r.credit_score as number,
    r.debt_to_income as number,
    ...types.map((t) => r.employment_type === t ? 1 : 0),
    (r.ltv as number | null) ?? 0,
    r.months_on_book as number,
  ]);
  const y = rows.map((r) => logit(r.pd_12m_origination as number));
  const fit = ols(X, y);
  const truth = [
    b.intercept,
    b.creditScore,
    b.debtToIncome,
    ...types.map((t) => b.employment[t]),
    b.ltv,
    0, // months on book: no term
  ];
  truth.forEach((want, k) => {
    const z = (fit.beta[k] - want) / fit.se[k];
    assert.ok(
      Math.abs(z) < 4,
      `coefficient ${k}: fitted ${fit.beta[k]} ± ${
        fit.se[k]
      }, documented ${want}`,
    );
  });
  // The score carries most of it: 40 points about double the odds.
  assert.ok(Math.abs(fit.beta[1] / b.creditScore - 1) < 0.02);
  // The idiosyncratic noise: 0.25·√(1 - 0.6²) = 0.2 on the log scale, a
  // little more on the log-odds scale.
  assert.ok(fit.residualSd > 0.18 && fit.residualSd < 0.3, `${fit.residualSd}`);
});

Deno.test("validation knows the characteristics, and the ECL is the same with or without them", async () => {
  const rules = await loadRules(projectPath("config/ifrs9_rules.yaml"));
  const fx = await loadFx(projectPath("config/fx_rates.yaml"));
  const [book] = generateBook({
    loans: 1_500,
    seed: 8,
    reportingDate: "2025-12-31",
  });
  const bare = book.select(...PORTFOLIO_COLUMNS.map((c) => c.name));
  const run = async (df: pl.DataFrame, file: string) => {
    const { valid, report } = await validatePortfolio(df.lazy(), rules, {
      file,
    });
    const results = await computeEcl(
      stageFacilities(valid.lazy(), rules),
      rules,
      {
        fx,
      },
    );
    return { valid, report, results };
  };
  const withChars = await run(book, "with.parquet");
  const without = await run(bare, "without.parquet");
  assert.deepEqual(withChars.report.warnings, []);
  assert.equal(withChars.report.rows_rejected, 0);
  for (const { name } of CHARACTERISTIC_COLUMNS) {
    assert.ok(withChars.valid.columns.includes(name), name);
  }
  const ecl = (r: typeof withChars) =>
    r.results.select("loan_id", "stage", "ecl").sort("loan_id");
  assert.ok(ecl(withChars).frameEqual(ecl(without)));
  // An unknown column still warns (the characteristics are not a blanket
  // pass).
  const other = await validatePortfolio(
    bare.withColumns(pl.lit(1).alias("desk")).lazy(),
    rules,
    { file: "other.parquet" },
  );
  assert.equal(other.report.warnings.length, 1);
});

Deno.test("the systematic propensity is the expectation of the log-odds over the idiosyncratic noise", () => {
  // Brute force: a midpoint rule over a standard normal on a fine grid,
  // the noise 0.25·√(1 - 0.6²) = 0.2 on the log-PD scale, the PD clipped
  // to 0.03%-45% as the generator clips it.
  const brute = (m: number) => {
    let s = 0, w = 0;
    for (let x = -9; x <= 9; x += 0.0005) {
      const d = Math.exp(-x * x / 2);
      const p = Math.min(0.45, Math.max(0.0003, Math.exp(m + 0.2 * x)));
      s += d * logit(p);
      w += d;
    }
    return s / w;
  };
  for (const m of [-9, -7.3, -5, -3.9, -2, -1.1, -0.8, -0.5, 0.3]) {
    assert.ok(Math.abs(systematicLogOdds(m) - brute(m)) < 1e-4, `m ${m}`);
  }
});
