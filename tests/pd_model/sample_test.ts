/**
 * Tests of the PD development sample (`lib/pd_model/sample.ts`): targets
 * and exclusions of a hand-built book worked out by hand, the same from
 * files, refused inputs, and on a generated book that the characteristics
 * predict the target as docs/generator.md says and leak nothing of it.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  buildDevelopmentSample,
  writeDevelopmentSample,
} from "../../lib/pd_model/sample.ts";
import { generateBook } from "../../lib/generate/mod.ts";
import { CHARACTERISTICS } from "../../lib/generate/catalogue.ts";
import { linearPredictor } from "../../lib/generate/characteristics.ts";
import { UserError } from "../../lib/errors.ts";
import { logistic } from "./_fit.ts";

type Row = Record<string, unknown>;
const DATES = [
  "2024-12-31",
  "2025-03-31",
  "2025-06-30",
  "2025-09-30",
  "2025-12-31",
  "2026-03-31",
];

/**
 * Three facilities over six quarter-ends:
 * - L1 performs throughout (89 days past due at Q3 is not a default), its
 *   score rising a point a quarter (so the score taken is the one at t);
 * - L2 performs at Q0-Q2, is 95 days past due without the flag at Q3 (a
 *   default by the backstop), flagged at Q4 and Q5;
 * - L3 performs at Q0 and Q1, then leaves the book (repaid).
 */
function handBook(): pl.DataFrame[] {
  const snap = (q: number) => {
    const rows: Row[] = [];
    rows.push({ id: "L1", dpd: q === 3 ? 89 : 0, flag: false, score: 700 + q });
    rows.push({
      id: "L2",
      dpd: q === 3 ? 95 : q >= 4 ? 120 : 0,
      flag: q >= 4,
      score: 600,
    });
    if (q <= 1) rows.push({ id: "L3", dpd: 0, flag: null, score: 650 });
    return pl.DataFrame({
      loan_id: rows.map((r) => r.id as string),
      reporting_date: rows.map(() => DATES[q]),
      days_past_due: rows.map((r) => r.dpd as number),
      default_flag: rows.map((r) => r.flag as boolean | null),
      credit_score: rows.map((r) => r.score as number),
      employment_type: rows.map(() => "salaried"),
    }).withColumns(
      pl.col("reporting_date").str.strptime(pl.Date, "%Y-%m-%d"),
      pl.col("days_past_due").cast(pl.Int32),
      pl.col("credit_score").cast(pl.Int32),
    );
  };
  return DATES.map((_, q) => snap(q));
}

const FEATURES = ["credit_score", "employment_type"];
const targets = (df: pl.DataFrame) =>
  (df.toRecords() as Row[]).map((r) =>
    `${
      (r.reporting_date as Date).toISOString().slice(0, 10)
    } ${r.loan_id} ${r.credit_score} ${r.default_12m}`
  ).sort();

Deno.test("buildDevelopmentSample(): a hand-built book gives the targets and exclusions worked out by hand", async () => {
  // In any order: the snapshots are sorted by their dates.
  const s = await buildDevelopmentSample(handBook().reverse(), {
    features: FEATURES,
  });
  // Q0's window is Q1-Q4, Q1's is Q2-Q5; from Q2 on the window ends after
  // Q5. L2 defaults at Q3 (DPD 95): 1 from Q0 and Q1. L3 is seen in no
  // default and leaves: 0, counted as left.
  assert.deepEqual(targets(s.frame), [
    "2024-12-31 L1 700 0",
    "2024-12-31 L2 600 1",
    "2024-12-31 L3 650 0",
    "2025-03-31 L1 701 0",
    "2025-03-31 L2 600 1",
    "2025-03-31 L3 650 0",
  ]);
  assert.equal(s.rows, 6);
  assert.equal(s.defaults, 2);
  // Defaulted at t: L2 at Q3, Q4, Q5. Window too short: L1 and L2 at Q2,
  // L1 at Q3, Q4, Q5.
  assert.deepEqual(s.excluded, {
    defaulted_at_observation: 3,
    outcome_window_too_short: 5,
    left_book_before_window_end: 0,
  });
  assert.equal(s.left_book, 2);
  assert.deepEqual(s.frame.columns, [
    "loan_id",
    "reporting_date",
    "credit_score",
    "employment_type",
    "default_12m",
  ]);
  assert.deepEqual(
    s.by_date.map((d) => [d.date, d.facilities, d.rows, d.defaults]),
    [
      ["2024-12-31", 3, 3, 1],
      ["2025-03-31", 3, 3, 1],
      ["2025-06-30", 2, 0, 0],
      ["2025-09-30", 2, 0, 0],
      ["2025-12-31", 2, 0, 0],
      ["2026-03-31", 2, 0, 0],
    ],
  );
});

Deno.test("buildDevelopmentSample(): leavers excluded, a 6-month horizon, chosen observation dates", async () => {
  const ex = await buildDevelopmentSample(handBook(), {
    features: FEATURES,
    leavers: "exclude",
  });
  assert.deepEqual(targets(ex.frame), [
    "2024-12-31 L1 700 0",
    "2024-12-31 L2 600 1",
    "2025-03-31 L1 701 0",
    "2025-03-31 L2 600 1",
  ]);
  assert.equal(ex.excluded.left_book_before_window_end, 2);

  // Six months: Q0 sees Q1-Q2 (L2 not yet in default; L3 gone by Q2), Q1
  // sees Q2-Q3 (L2's DPD 95), Q2 sees Q3-Q4, Q3 sees Q4-Q5 (L2 in default
  // at Q3: excluded); Q4 and Q5 lack a window.
  const six = await buildDevelopmentSample(handBook(), {
    features: FEATURES,
    horizonMonths: 6,
    target: "default_6m",
  });
  assert.deepEqual(
    (six.frame.toRecords() as Row[]).map((r) =>
      `${
        (r.reporting_date as Date).toISOString().slice(0, 10)
      } ${r.loan_id} ${r.default_6m}`
    ).sort(),
    [
      "2024-12-31 L1 0",
      "2024-12-31 L2 0",
      "2024-12-31 L3 0",
      "2025-03-31 L1 0",
      "2025-03-31 L2 1",
      "2025-03-31 L3 0",
      "2025-06-30 L1 0",
      "2025-06-30 L2 1",
      "2025-09-30 L1 0",
    ],
  );
  assert.deepEqual(six.excluded, {
    defaulted_at_observation: 3,
    outcome_window_too_short: 2,
    left_book_before_window_end: 0,
  });
  assert.equal(six.left_book, 2);

  const one = await buildDevelopmentSample(handBook(), {
    features: ["credit_score"],
    observationDates: ["2025-03-31"],
  });
  assert.deepEqual(one.frame.getColumn("default_12m").toArray(), [0, 1, 0]);
  assert.deepEqual(one.excluded, {
    defaulted_at_observation: 0,
    outcome_window_too_short: 0,
    left_book_before_window_end: 0,
  });
  // A date with no window: an empty sample, the columns kept.
  const late = await buildDevelopmentSample(handBook(), {
    features: ["credit_score"],
    observationDates: ["2026-03-31"],
  });
  assert.equal(late.rows, 0);
  assert.equal(late.excluded.outcome_window_too_short, 1);
  assert.deepEqual(late.frame.columns, [
    "loan_id",
    "reporting_date",
    "credit_score",
    "default_12m",
  ]);
});

Deno.test("writeDevelopmentSample(): CSV snapshots in a folder give the sample of the frames, written as Parquet", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [q, df] of handBook().entries()) {
      df.writeCSV(`${dir}/portfolio_${DATES[q]}.csv`);
    }
    const out = `${dir}/dev/sample.parquet`;
    const r = await writeDevelopmentSample({
      book: dir,
      out,
      features: FEATURES,
    });
    assert.equal(r.rows, 6);
    assert.equal(r.left_book, 2);
    const back = pl.readParquet(out);
    assert.deepEqual(
      targets(back),
      targets(
        (await buildDevelopmentSample(handBook(), { features: FEATURES }))
          .frame,
      ),
    );
    // Not replaced unless asked.
    await assert.rejects(
      () => writeDevelopmentSample({ book: dir, out, features: FEATURES }),
      (e: Error) =>
        e instanceof UserError && e.kind === "usage" &&
        /it exists/.test(e.message),
    );
    await writeDevelopmentSample({
      book: dir,
      out,
      features: FEATURES,
      replace: true,
    });
    await assert.rejects(
      () => writeDevelopmentSample({ book: dir, out: `${dir}/s.txt` }),
      /give a \.parquet or \.csv file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildDevelopmentSample() refuses a book it cannot read right, naming what is wrong", async () => {
  const book = handBook();
  const input = (e: Error) => e instanceof UserError && e.kind === "input";
  await assert.rejects(
    () => buildDevelopmentSample(book, { features: ["debt_to_income"] }),
    (e: Error) =>
      input(e) && /no column debt_to_income \(a feature\)/.test(e.message),
  );
  const dup = book.map((df, q) => q === 2 ? pl.concat([df, df.head(1)]) : df);
  await assert.rejects(
    () => buildDevelopmentSample(dup, { features: FEATURES }),
    (e: Error) =>
      input(e) &&
      /snapshot 3: loan_id L1 appears more than once/.test(e.message),
  );
  await assert.rejects(
    () => buildDevelopmentSample([book[0], book[0]], { features: FEATURES }),
    /are both the snapshot of 2024-12-31/,
  );
  await assert.rejects(
    () =>
      buildDevelopmentSample(book, {
        features: FEATURES,
        observationDates: ["2025-01-31"],
      }),
    /observation date 2025-01-31 is not the date of a snapshot/,
  );
  await assert.rejects(
    () =>
      buildDevelopmentSample([pl.concat([book[0], book[1]])], {
        features: FEATURES,
      }),
    /reporting_date must hold one date in a snapshot/,
  );
  await assert.rejects(
    () => buildDevelopmentSample(book, { features: ["default_12m"] }),
    (e: Error) => e instanceof UserError && e.kind === "usage",
  );
  const dir = await Deno.makeTempDir();
  await assert.rejects(
    () => buildDevelopmentSample(dir),
    /no portfolio_<YYYY-MM-DD>/,
  );
  await Deno.remove(dir);
});

// A generated book: 6,000 facilities, eight quarters, so the first four
// quarter-ends have a full 12-month window.
const GEN = generateBook({
  loans: 6_000,
  seed: 2026,
  reportingDate: "2024-12-31",
  periods: 8,
});
const SAMPLE = await buildDevelopmentSample(GEN, {
  features: [
    "credit_score",
    "debt_to_income",
    "employment_type",
    "ltv",
    "months_on_book",
    "pd_12m_origination",
    "product",
  ],
});
const ROWS = SAMPLE.frame.toRecords() as Row[];
const Y = ROWS.map((r) => r.default_12m as number);
const TYPES = [
  "public_sector",
  "self_employed",
  "temporary",
  "retired",
] as const;
const xs = (r: Row) => [
  1,
  r.credit_score as number,
  r.debt_to_income as number,
  ...TYPES.map((t) => r.employment_type === t ? 1 : 0),
  (r.ltv as number | null) ?? 0,
];

Deno.test("on a generated book, the development sample has the expected shape", () => {
  assert.equal(SAMPLE.by_date.filter((d) => d.rows > 0).length, 4);
  assert.ok(SAMPLE.rows > 20_000, `${SAMPLE.rows}`);
  // About 2% a year default (docs/generator.md: quarterly 1 -> 3 of 0.1 PD,
  // through stage 2 more).
  assert.ok(
    SAMPLE.default_rate > 0.01 && SAMPLE.default_rate < 0.04,
    `${SAMPLE.default_rate}`,
  );
  // The facilities in default at each date (2-3% of the book) are out.
  const atT = SAMPLE.excluded.defaulted_at_observation / (8 * 6_000);
  assert.ok(atT > 0.015 && atT < 0.05, `${atT}`);
  assert.ok(SAMPLE.left_book > 0);
});

Deno.test("on a generated book, the default rate falls with the credit score, band by band", () => {
  const cs = ROWS.map((r) => r.credit_score as number).sort((a, b) => a - b);
  const cuts = [0.2, 0.4, 0.6, 0.8].map((p) => cs[Math.floor(p * cs.length)]);
  const n = [0, 0, 0, 0, 0], d = [0, 0, 0, 0, 0];
  for (const r of ROWS) {
    const k = cuts.filter((c) => (r.credit_score as number) >= c).length;
    n[k]++;
    d[k] += r.default_12m as number;
  }
  const rate = n.map((v, k) => d[k] / v);
  for (let k = 1; k < 5; k++) assert.ok(rate[k] < rate[k - 1], `${rate}`);
  assert.ok(rate[0] / rate[4] > 5, `${rate}`);
});

Deno.test("on a generated book, a logistic fit of default_12m recovers the documented coefficients", () => {
  const b = CHARACTERISTICS.model;
  const fit = logistic(ROWS.map(xs), Y);
  const truth = [
    b.creditScore,
    b.debtToIncome,
    ...TYPES.map((t) => b.employment[t]),
    b.ltv,
  ];
  // The 12-month default log-odds move about one for one with the
  // propensity (a slope of 0.94-0.99 across seeds), so each fitted
  // coefficient lies within sampling error of the documented one.
  truth.forEach((want, k) => {
    const z = (fit.beta[k + 1] - want) / fit.se[k + 1];
    assert.ok(
      Math.abs(z) < 3.5,
      `coefficient ${k + 1}: ${fit.beta[k + 1]} ± ${
        fit.se[k + 1]
      }, documented ${want}`,
    );
  });
  assert.ok(Math.abs(fit.beta[1] / b.creditScore - 1) < 0.2, `${fit.beta[1]}`);
  assert.ok(fit.beta[1] / fit.se[1] < -10);
  assert.ok(fit.beta[2] / fit.se[2] > 2.5);
});

Deno.test("on a generated book, the characteristics leak nothing of the outcome", () => {
  // The outcome depends on a facility's origination PD (its propensity),
  // its product (prepayment, maturity) and draws of the main random stream
  // after t; the characteristics on the propensity and draws of their own.
  // Given the propensity and the product, they must carry no information
  // on default: the structural model's linear predictor has no effect
  // there, where alone it predicts strongly.
  const logit = (p: number) => Math.log(p / (1 - p));
  const products = ["mortgage", "auto", "consumer", "sme"];
  const lp = (r: Row) =>
    linearPredictor(
      r.credit_score as number,
      r.debt_to_income as number,
      r.employment_type as string,
      (r.ltv as number | null) ?? NaN,
    );
  const base = (r: Row) => [1, ...products.map((p) => r.product === p ? 1 : 0)];
  const alone = logistic(ROWS.map((r) => [...base(r), lp(r)]), Y);
  const k = products.length + 1;
  assert.ok(
    alone.beta[k] / alone.se[k] > 15,
    `alone z ${alone.beta[k] / alone.se[k]}`,
  );
  const given = logistic(
    ROWS.map((r) => {
      const eta = logit(r.pd_12m_origination as number);
      return [...base(r), eta, eta * eta, lp(r)];
    }),
    Y,
  );
  const z = given.beta[k + 2] / given.se[k + 2];
  assert.ok(Math.abs(z) < 3.5, `given the propensity z ${z}`);
  // And one by one: neither the score nor the debt-to-income ratio adds
  // anything once the propensity is known.
  const each = logistic(
    ROWS.map((r) => {
      const eta = logit(r.pd_12m_origination as number);
      return [...base(r), eta, eta * eta, ...xs(r).slice(1)];
    }),
    Y,
  );
  for (const j of [k + 2, k + 3]) {
    assert.ok(
      Math.abs(each.beta[j] / each.se[j]) < 3.5,
      `z ${each.beta[j] / each.se[j]}`,
    );
  }
  // At the default quarter, a defaulter's characteristics from origination
  // are those it showed a quarter before (nothing is redrawn at default).
  const byId = new Map<string, Row[]>();
  for (const [t, df] of GEN.entries()) {
    for (const r of df.toRecords() as Row[]) {
      const list = byId.get(r.loan_id as string) ?? [];
      list[t] = r;
      byId.set(r.loan_id as string, list);
    }
  }
  let defaulters = 0;
  for (const list of byId.values()) {
    for (let t = 1; t < list.length; t++) {
      const [before, at] = [list[t - 1], list[t]];
      if (!before || !at || before.default_flag || !at.default_flag) continue;
      defaulters++;
      for (
        const c of ["credit_score", "debt_to_income", "employment_type", "ltv"]
      ) {
        assert.equal(at[c], before[c]);
      }
      assert.equal(at.months_on_book, (before.months_on_book as number) + 3);
    }
  }
  assert.ok(defaulters > 100, `${defaulters}`);
});
