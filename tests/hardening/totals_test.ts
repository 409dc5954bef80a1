/**
 * Hardening (issue 10): no silent wrong totals and no non-finite figure
 * anywhere. Each case failed before the change:
 *
 * - exact sums (lib/precise_sum.ts) dropped amounts of 9.2e16 and more and
 *   overflowed on 100 amounts of 1e15, so a run "passed" with wrong
 *   totals; now they keep every amount and say when a total is too large
 *   to be exact to the cent, in the run's and the movement's warnings;
 * - the engine gave NaN at the limits (a 20% annuity maturing 9999-12-31,
 *   1000% a year over 100 years, a PD of 5e-324 under `z_shift`);
 * - a run published NaN figures (now the final check before publishing,
 *   lib/run/finite.ts, fails it naming the facility and the column or the
 *   summary key);
 * - the console printed a non-finite total as a dash, and the formats
 *   showed NaN as a dash, like a missing figure.
 *
 * Expected figures are derived here, independently of the code: sums with
 * BigInt arithmetic on whole cents, ECL from the methodology's formulas
 * with `Math.pow` month by month.
 *
 * Run alone: `deno test -A tests/hardening/totals_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  inexactSumWarning,
  isExactSum,
  PRECISE_SUM_EXACT_LIMIT,
  preciseSum,
  withPreciseSums,
} from "../../lib/precise_sum.ts";
import { computeEcl } from "../../lib/engine/ecl.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import { exitCodeFor, failureMessage, UserError } from "../../lib/errors.ts";
import { runPortfolio } from "../../lib/run/run.ts";
import { checkRunFigures } from "../../lib/run/finite.ts";
import { stageTable } from "../../lib/run/console.ts";
import { formatAmount, formatPercent } from "../../lib/format.ts";
import { readRunFolder, type Summary } from "../../lib/run_folder/mod.ts";
import { computeMovement } from "../../lib/movement/mod.ts";
import {
  portfolio,
  type Row,
  rulesFrom,
  rulesYaml,
} from "../engine/_helpers.ts";
import { remainingTerm } from "../engine/_reference.ts";

/** A stack trace line, which no message may carry. */
const STACK = /\n\s+at /;

/** The precise sum of `values` (one group), as a run computes it. */
async function preciseTotal(values: number[]): Promise<number> {
  const frame = pl.DataFrame({ x: pl.Series("x", values, pl.Float64) });
  const out = await withPreciseSums(
    frame.lazy().select(...preciseSum(pl.col("x"), "x")),
    ["x"],
  ).collect();
  return out.getColumn("x").get(0) as number;
}

/**
 * The exact sum of amounts given as whole cents (BigInt), as the nearest
 * Float64 of units: the figure a correct sum must be within one unit in
 * the last place of.
 */
function exactUnits(cents: bigint[]): number {
  const total = cents.reduce((a, b) => a + b, 0n);
  const whole = total / 100n;
  const rest = total - whole * 100n;
  return Number(whole) + Number(rest) / 100;
}

/** The spacing of Float64 numbers at `x`. */
function ulp(x: number): number {
  const a = Math.abs(x);
  return a === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(a)) - 52);
}

Deno.test("preciseSum() keeps 100 amounts of 1e15 (the validation limit) in the total instead of overflowing", async () => {
  // 100 * 1e17 cents = 1e19 cents: beyond the Int64 range (9.22e18).
  const values = Array<number>(100).fill(1e15);
  const expected = exactUnits(values.map(() => 10n ** 17n));
  assert.equal(expected, 1e17);
  const sum = await preciseTotal(values);
  assert.ok(
    Math.abs(sum - expected) <= ulp(expected),
    `sum ${sum}, expected ${expected}`,
  );
  // And it says that a total this large is not exact to the cent.
  assert.equal(isExactSum(sum), false);
});

Deno.test("preciseSum() keeps an amount of 9.3e16 in the total instead of dropping it", async () => {
  // The case: a huge amount beside an ordinary book of 166,817.92.
  const values = [9.3e16, 100_000.5, 66_817.42];
  const expected = exactUnits([
    9_300_000_000_000_000_000n,
    10_000_050n,
    6_681_742n,
  ]);
  const sum = await preciseTotal(values);
  assert.ok(
    Math.abs(sum - expected) <= ulp(expected),
    `sum ${sum}, expected ${expected}`,
  );
});

Deno.test("preciseSum() cancels huge amounts of both signs down to the cents", async () => {
  // An ECL of 1e17 (1e15 times an overlay multiplier of 100) released by
  // two of -5e16, beside 7 cents, 1,000 times: 70.00 exactly. Before, the
  // 1e17 dropped out (1e19 cents is beyond Int64) and the rest overflowed.
  const values: number[] = [];
  const cents: bigint[] = [];
  for (let i = 0; i < 1000; i++) {
    values.push(1e17, -5e16, -5e16, 0.07);
    cents.push(10n ** 19n, -(5n * 10n ** 18n), -(5n * 10n ** 18n), 7n);
  }
  const expected = exactUnits(cents);
  assert.equal(expected, 70);
  const sum = await preciseTotal(values);
  assert.ok(Math.abs(sum - expected) < 1e-9, `sum ${sum}`);
  assert.equal(isExactSum(sum), true);
});

Deno.test("inexactSumWarning() names the figures above 2^53 cents and says they cannot be exact", () => {
  assert.equal(PRECISE_SUM_EXACT_LIMIT, 90_071_992_547_409.92);
  assert.equal(
    inexactSumWarning("summary.json", [["totals.ecl", 90_071_992_547_409]]),
    null,
  );
  const w = inexactSumWarning("summary.json", [
    ["totals.ecl", 5],
    ["totals.gross_carrying_amount", 9.5e16],
  ])!;
  assert.match(
    w,
    /^summary\.json: totals\.gross_carrying_amount \(95000000000000000\) is above 2\^53 cents/,
  );
  assert.match(w, /cannot be exact to the cent/);
});

/**
 * Methodology §4-§8 for one stage 2 annuity, one scenario, no collateral,
 * flat PD (`q = p1` every year): the lifetime ECL from the formulas,
 * month by month with `Math.pow`. §5's EAD is used in its discounted
 * form, `B (1 - (1+r)^-(n-t+1)) / (1 - (1+r)^-n)`, the same formula
 * divided through by `(1+r)^n`, which would overflow here.
 */
function annuityLifetimeEcl(
  B: number,
  annualRate: number,
  m: number,
  p1: number,
  lgd: number,
): number {
  const r = annualRate / 12;
  // ln(1 - q) / 12: the monthly hazard is 1 - exp of it, and the survival
  // to month t exp of t times it, in log1p / expm1 so that a PD of 1e-300
  // does not round to a hazard of 0.
  const logF = Math.log1p(-p1) / 12;
  const hazard = -Math.expm1(logF);
  let ecl = 0;
  for (let t = 1; t <= m; t++) {
    const ead = B * (1 - Math.pow(1 + r, -(m - t + 1))) /
      (1 - Math.pow(1 + r, -m));
    const survived = t === 1 ? 1 : Math.exp((t - 1) * logF);
    ecl += survived * hazard * lgd * ead * Math.pow(1 + r, -t);
  }
  return ecl;
}

/** Stage 2 (watchlist) annuities through computeEcl; records. */
async function computeRows(
  rows: Row[],
  yaml = rulesYaml(),
): Promise<Record<string, unknown>[]> {
  const rules = rulesFrom(yaml);
  const df = await computeEcl(
    stageFacilities(portfolio(rows).lazy(), rules),
    rules,
  );
  return df.toRecords();
}

/** Every number of every record is finite (nulls aside). */
function assertAllFinite(records: Record<string, unknown>[]): void {
  for (const r of records) {
    for (const [k, v] of Object.entries(r)) {
      if (typeof v === "number") {
        assert.ok(Number.isFinite(v), `${r.loan_id}: ${k} is ${v}`);
      }
    }
  }
}

Deno.test("computeEcl() gives a finite ECL for a 20% annuity maturing 9999-12-31 (it gave NaN)", async () => {
  const m = remainingTerm("2025-12-31", "9999-12-31");
  assert.equal(m, (9999 - 2025) * 12);
  const [row] = await computeRows([{
    product: "mortgage",
    maturity_date: "9999-12-31",
    interest_rate: 0.2,
    balance: 1_000_000,
    pd_12m_current: 0.02,
    watchlist: true,
  }]);
  assertAllFinite([row]);
  const expected = annuityLifetimeEcl(1_000_000, 0.2, m, 0.02, 0.45);
  const ecl = row.ecl as number;
  assert.ok(
    Math.abs(ecl - expected) <= 1e-9 * expected,
    `ecl ${ecl}, expected ${expected}`,
  );
});

Deno.test("computeEcl() stays finite and right at the limits: 1e15, 100 years, up to 1000% a year, PDs near 0 and 1, multiplier 100", async () => {
  // Maturity 100 years after the reporting date: 1,200 months.
  const m = remainingTerm("2025-12-31", "2125-12-31");
  assert.equal(m, 1200);
  const rows: Row[] = [];
  for (const rate of [0, 0.2, 0.999, 10]) {
    for (const pd of [1e-300, 0.5, 1 - 1e-16, 1]) {
      rows.push({
        product: "mortgage",
        maturity_date: "2125-12-31",
        interest_rate: rate,
        balance: 1e15,
        pd_12m_current: pd,
        watchlist: true,
      });
    }
  }
  // Every repayment type and stage at the same limits.
  for (const product of ["consumer", "sme", "credit_card"]) {
    for (const stage of [1, 2, 3]) {
      rows.push({
        product,
        maturity_date: "2125-12-31",
        interest_rate: 10,
        balance: 1e15,
        credit_limit: product === "credit_card" ? 1e15 : null,
        collateral_value: 1e15,
        pd_12m_current: 0.999,
        watchlist: stage === 2,
        default_flag: stage === 3,
      });
    }
  }
  const records = await computeRows(
    rows,
    rulesYaml({
      scenarios: "  - { name: base, weight: 1, pd_multiplier: [100] }",
      overlays: "  - { name: stress, filter: {}, multiplier: 100, reason: r }",
    }),
  );
  assertAllFinite(records);
  // The annuities against the formulas: the PD times 100 is capped at 1.
  for (const [i, r] of records.slice(0, 16).entries()) {
    const rate = [0, 0.2, 0.999, 10][Math.floor(i / 4)];
    const pd = [1e-300, 0.5, 1 - 1e-16, 1][i % 4];
    if (rate === 0) continue; // linear run-off, not this formula
    const expected: number = 100 *
      annuityLifetimeEcl(1e15, rate, m, Math.min(1, pd * 100), 0.45);
    const ecl = r.ecl as number;
    assert.ok(
      Math.abs(ecl - expected) <= 1e-9 * expected,
      `rate ${rate} pd ${pd}: ecl ${ecl}, expected ${expected}`,
    );
  }
});

Deno.test("computeEcl() under z_shift gives a finite ECL for a PD of 5e-324 (the probit was NaN)", async () => {
  const records = await computeRows(
    [
      { product: "sme", pd_12m_current: 5e-324, watchlist: true },
      { product: "sme", pd_12m_current: 1, watchlist: true },
    ],
    rulesYaml({
      scenarioAdjustment: "z_shift",
      scenarios: "  - { name: base, weight: 0.5, z: [-3] }\n" +
        "  - { name: good, weight: 0.5, z: [3] }",
    }),
  );
  assertAllFinite(records);
  // A PD of 5e-324 shifted by three standard deviations is still ~0.
  assert.ok((records[0].ecl as number) < 1e-200);
  // A PD of 1 stays 1 whatever the economy: the lifetime PD is 1.
  assert.ok(Math.abs((records[1].pd_lifetime as number) - 1) < 1e-12);
});

/** A portfolio file of `rows` (engine test defaults) in `dir`. */
function writePortfolio(dir: string, name: string, rows: Row[]): string {
  const path = `${dir}/${name}`;
  portfolio(rows).writeParquet(path);
  return path;
}

/** `n` EUR bullet loans of `balance` at `date`. */
function bigBook(n: number, balance: number, date: string): Row[] {
  return Array.from({ length: n }, () => ({
    reporting_date: date,
    maturity_date: "2030-12-31",
    product: "sme",
    balance,
    previous_stage: 1,
  }));
}

Deno.test("runPortfolio() totals 200 loans of 5e14 right and warns that they cannot be exact to the cent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "totals_test_" });
  try {
    const path = writePortfolio(
      dir,
      "big_2025-12-31.parquet",
      bigBook(200, 5e14, "2025-12-31"),
    );
    const run = await runPortfolio({
      portfolio: path,
      out: `${dir}/runs`,
      runId: "big",
      report: false,
    });
    // 200 * 5e16 cents = 1e19 cents: the Int64 sum overflowed.
    const expected = exactUnits(Array(200).fill(5n * 10n ** 16n));
    assert.equal(expected, 1e17);
    const { totals } = run.summary;
    for (const v of [totals.gross_carrying_amount, totals.ead]) {
      assert.ok(Math.abs(v - expected) <= 16 * ulp(expected), `total ${v}`);
    }
    assert.ok(Math.abs(totals.coverage! - totals.ecl / expected) < 1e-12);
    assert.ok(totals.coverage! > 0 && totals.coverage! < 1);
    const warning = run.manifest.warnings.find((w) => /2\^53 cents/.test(w));
    assert.ok(warning, run.manifest.warnings.join("\n"));
    assert.match(warning, /^summary\.json: totals\.gross_carrying_amount/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("computeMovement() between runs whose sums cannot be exact to the cent says so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "totals_test_" });
  try {
    const runs = [];
    for (const date of ["2025-09-30", "2025-12-31"]) {
      const path = writePortfolio(
        dir,
        `big_${date}.parquet`,
        bigBook(200, 5e14, date),
      );
      const run = await runPortfolio({
        portfolio: path,
        out: `${dir}/runs`,
        runId: date,
        report: false,
      });
      runs.push(await readRunFolder(run.dir));
    }
    const { movement } = await computeMovement(runs[0], runs[1], {
      throwOnFailure: false,
    });
    const warning = movement.warnings.find((w) => /2\^53 cents/.test(w));
    assert.ok(warning, movement.warnings.join("\n"));
    assert.match(warning, /^Movement from 2025-09-30 to 2025-12-31: /);
    // The closing gross carrying amount is the book, not an overflow.
    const closing = movement.gross_carrying_amount.lines.at(-1)!.total;
    assert.ok(Math.abs(closing - 1e17) <= 16 * ulp(1e17), `closing ${closing}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runPortfolio() fails the run, naming the facility and the column, when a figure is NaN before publishing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "totals_test_" });
  try {
    const path = writePortfolio(
      dir,
      "book_2025-12-31.parquet",
      bigBook(5, 1000, "2025-12-31"),
    );
    const out = `${dir}/runs`;
    // What a plugin or an engine edge could leave: the ECL of facility L3
    // NaN in the written loan results, just before the final check.
    const corrupt = (step: string) => {
      if (step !== "check_figures") return;
      const staging = [...Deno.readDirSync(out)]
        .find((e) => e.name.startsWith(".big.partial"))!;
      const file = `${out}/${staging.name}/loan_results.parquet`;
      const df = pl.readParquet(file);
      df.withColumns(
        pl.when(pl.col("loan_id").eq(pl.lit("L3"))).then(pl.lit(NaN))
          .otherwise(pl.col("ecl")).alias("ecl"),
      ).writeParquet(file);
    };
    const error = await runPortfolio({
      portfolio: path,
      out,
      runId: "big",
      report: false,
      onStep: corrupt,
    }).then(() => null, (e) => e);
    assert.ok(error instanceof UserError, String(error));
    assert.equal(exitCodeFor(error), 1, error.message);
    const message = failureMessage(error, { debug: false });
    assert.match(
      message,
      /loan_results\.parquet: facility L3: ecl is NaN, not a finite number/,
    );
    assert.doesNotMatch(message, STACK);
    // Nothing published under the run's name; the failed folder says why.
    const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assert.deepEqual(names, ["big.failed"]);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${out}/big.failed/manifest.json`),
    );
    assert.equal(manifest.status, "failed");
    assert.match(manifest.error, /facility L3: ecl is NaN/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkRunFigures() names a non-finite overlay impact and a non-finite summary figure", async () => {
  const dir = await Deno.makeTempDir({ prefix: "totals_test_" });
  try {
    const path = (file: string) => `${dir}/${file}.parquet`;
    pl.DataFrame({ loan_id: ["A", "B"], gross_carrying_amount: [1, 2] })
      .writeParquet(path("carryingAmounts"));
    pl.DataFrame({
      loan_id: ["A", "B"],
      ecl: [1, 2],
      overlay_impacts: pl.Series("overlay_impacts", [[0.5], [1, Infinity]]),
    }).writeParquet(path("loanResults"));
    await assert.rejects(
      checkRunFigures({ path }, {} as Summary),
      /loan_results\.parquet: facility B: overlay_impacts holds Infinity/,
    );
    pl.DataFrame({ loan_id: ["A", "B"], ecl: [1, 2] })
      .writeParquet(path("loanResults"));
    const summary = {
      totals: { ecl: 3, coverage: null },
      by_stage: [{ key: "1", ecl: 3, coverage: -Infinity }],
    } as unknown as Summary;
    await assert.rejects(
      checkRunFigures({ path }, summary),
      (e: unknown) => {
        assert.ok(e instanceof UserError && e.kind === "check");
        assert.match(
          e.message,
          /^summary\.json: by_stage\[0\]\.coverage is -Infinity, not a finite number/,
        );
        return true;
      },
    );
    // Finite figures and a null coverage pass.
    summary.by_stage[0].coverage = 0.5;
    assert.deepEqual(await checkRunFigures({ path }, summary), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A summary of one stage whose figures are those given. */
function summaryWith(totals: Partial<Summary["totals"]>): Summary {
  const group = {
    count: 1,
    gross_carrying_amount: 1000,
    ead: 1000,
    ecl: 10,
    loss_allowance: 10,
    provision: 0,
    coverage: 0.01,
  };
  return {
    run_id: "q4",
    reporting_date: "2025-12-31",
    reporting_currency: "EUR",
    fx: { file: "fx.yaml", as_of: "2025-12-31" },
    by_stage: [{ key: "1", ...group }],
    totals: { ...group, ecl_model: 10, ...totals },
  } as unknown as Summary;
}

Deno.test("stageTable() refuses a non-finite total, naming the key, instead of printing a dash", () => {
  assert.match(stageTable(summaryWith({})), /total .*10\.00/);
  for (
    const [totals, text] of [
      [{ ecl: -Infinity }, "totals.ecl is -Infinity"],
      [{ gross_carrying_amount: NaN }, "totals.gross_carrying_amount is NaN"],
      [{ coverage: NaN }, "totals.coverage is NaN"],
      // What JSON.stringify made of a NaN total in summary.json.
      [{ ead: null as unknown as number }, "totals.ead is null"],
    ] as const
  ) {
    assert.throws(
      () => stageTable(summaryWith(totals)),
      (e: unknown) => {
        assert.ok(e instanceof UserError && e.kind === "check");
        assert.ok(e.message.includes(text), e.message);
        assert.match(e.message, /of run q4: summary\.json/);
        return true;
      },
    );
  }
});

Deno.test("formatAmount() and formatPercent() show a non-finite number as n/a, not as a missing figure's dash", () => {
  assert.equal(formatAmount(NaN), "n/a");
  assert.equal(formatAmount(-Infinity), "n/a");
  assert.equal(formatPercent(Infinity), "n/a");
  assert.equal(formatAmount(null), "–");
  assert.equal(formatPercent(undefined), "–");
});

Deno.test("computeMovement() names the facility whose line is NaN instead of failing every invariant", async () => {
  const dir = await Deno.makeTempDir({ prefix: "totals_test_" });
  try {
    const dirs: string[] = [];
    for (const date of ["2025-09-30", "2025-12-31"]) {
      const path = writePortfolio(
        dir,
        `book_${date}.parquet`,
        bigBook(5, 1000, date),
      );
      const run = await runPortfolio({
        portfolio: path,
        out: `${dir}/runs`,
        runId: date,
        report: false,
      });
      dirs.push(run.dir);
    }
    // A run folder written before runs checked their figures, with the
    // ECL of facility L2 NaN at the later date.
    const file = `${dirs[1]}/loan_results.parquet`;
    const nan = (c: string) =>
      pl.when(pl.col("loan_id").eq(pl.lit("L2"))).then(pl.lit(NaN))
        .otherwise(pl.col(c)).alias(c);
    pl.readParquet(file).withColumns(nan("ecl"), nan("ecl_rc"))
      .writeParquet(file);
    const [from, to] = await Promise.all(dirs.map((d) => readRunFolder(d)));
    await assert.rejects(
      computeMovement(from, to),
      (e: unknown) => {
        assert.ok(e instanceof UserError && e.kind === "check", String(e));
        assert.match(e.message, /: loan L2: its allowance_\w+ is NaN/);
        assert.doesNotMatch(e.message, /does not reconcile/);
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
