/**
 * Hardening of row-level validation (issue 10): plausibility limits as rule
 * codes, identifiers trimmed and compared, reserved column names, a header
 * without rows or without a readable reporting date, and products missing
 * from the rules file named where the user sees them.
 *
 * Run alone with `deno test -A tests/hardening/validation_test.ts`. Every
 * figure asserted is derived here from the limits as documented
 * (docs/methodology.md §1, "Plausibility limits"), not read back from the
 * code's output.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { scanPortfolio } from "../../lib/io/mod.ts";
import { computeEcl, stageFacilities } from "../../lib/engine/mod.ts";
import {
  PLAUSIBILITY_LIMITS,
  PLAUSIBILITY_RULES,
  REJECTION_CODES,
  validatePortfolio,
  type ValidationResult,
} from "../../lib/validation/mod.ts";
import { main as validateMain } from "../../tasks/validate.ts";
import { main as runMain } from "../../tasks/run.ts";
import { callMain, withTempDir } from "../tasks/_main.ts";
import {
  ALL_COLUMNS,
  csv,
  GOOD_CARD,
  GOOD_MORTGAGE,
  type Row,
  RULES,
  writeTemp,
} from "../validation/_fixture.ts";

const STACK = /\n\s+at /;

async function validateRows(
  rows: Row[],
  opts: { columns?: string[]; reportingDate?: string } = {},
): Promise<ValidationResult> {
  const path = writeTemp(csv(rows, opts.columns ?? ALL_COLUMNS));
  try {
    return await validatePortfolio(scanPortfolio(path), RULES, {
      file: path,
      reportingDate: opts.reportingDate,
    });
  } finally {
    await Deno.remove(join(path, ".."), { recursive: true });
  }
}

/** loan_id (as read) -> rejection codes of the rejected rows. */
function codesById(result: ValidationResult): Record<string, string[]> {
  const ids = result.rejected.getColumn("loan_id").toArray() as string[];
  const codes = result.rejected.getColumn(REJECTION_CODES)
    .toArray() as unknown as string[][];
  return Object.fromEntries(ids.map((id, i) => [id, [...codes[i]]]));
}

const validArgs = (portfolio: string, out: string) => [
  "--portfolio",
  portfolio,
  "--rules",
  "config/ifrs9_rules.yaml",
  "--out",
  out,
];

const runArgs = (portfolio: string, out: string) => [
  "--portfolio",
  portfolio,
  "--rules",
  "config/ifrs9_rules.yaml",
  "--fx",
  "config/fx_rates.yaml",
  "--out",
  out,
  "--no-report",
  "--quiet",
];

/** Names in `dir`, or [] when it does not exist. */
async function entries(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name)
      .sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** 20 good rows (mortgages and cards) with ids G0..G19, then `extra`. */
function book(extra: Row[] = []): Row[] {
  return [
    ...Array.from({ length: 20 }, (_, i) => ({
      ...(i % 2 ? GOOD_CARD : GOOD_MORTGAGE),
      loan_id: `G${i}`,
    })),
    ...extra,
  ];
}

// 1. Plausibility limits ------------------------------------------------

Deno.test("validatePortfolio() rejects amounts above 1e15 in absolute value with a code per column, and keeps 1e15 itself as read", async () => {
  // The issue's cases: ~9.2e16 overflowed the exact-cent Int64 sums
  // (2^63 cents = 9.22e16 units) and fell out of every total; 1e308 gave
  // -Infinity / NaN. Neither may pass validation any more.
  const result = await validateRows([
    { ...GOOD_MORTGAGE, loan_id: "EDGE", balance: "1e15" },
    { ...GOOD_CARD, loan_id: "EDGE_LIMIT", credit_limit: "1e15" },
    { ...GOOD_MORTGAGE, loan_id: "B92", balance: "9.3e16" },
    { ...GOOD_MORTGAGE, loan_id: "B308", balance: "1e308" },
    { ...GOOD_MORTGAGE, loan_id: "B1", balance: "1000000000000001" },
    { ...GOOD_CARD, loan_id: "CL", credit_limit: "2e15" },
    { ...GOOD_MORTGAGE, loan_id: "COLL", collateral_value: "1e16" },
    { ...GOOD_MORTGAGE, loan_id: "WO", write_off_amount: "5e15" },
  ]);
  assert.deepEqual(codesById(result), {
    B92: ["BALANCE_IMPLAUSIBLE"],
    B308: ["BALANCE_IMPLAUSIBLE"],
    B1: ["BALANCE_IMPLAUSIBLE"],
    CL: ["CREDIT_LIMIT_IMPLAUSIBLE"],
    COLL: ["COLLATERAL_IMPLAUSIBLE"],
    WO: ["WRITE_OFF_IMPLAUSIBLE"],
  });
  // Nothing clamped: the rows at the limit keep their figures, and the
  // rejected ones keep the text as read.
  const valid = result.valid.toRecords();
  assert.equal(valid.find((r) => r.loan_id === "EDGE")!.balance, 1e15);
  assert.equal(
    valid.find((r) => r.loan_id === "EDGE_LIMIT")!.credit_limit,
    1e15,
  );
  const rejected = result.rejected.toRecords();
  assert.equal(rejected.find((r) => r.loan_id === "B308")!.balance, "1e308");
  const line = result.report.rules.find((r) =>
    r.code === "BALANCE_IMPLAUSIBLE"
  )!;
  assert.deepEqual([line.rows_checked, line.rows_failed, line.examples], [
    8,
    3,
    ["B92", "B308", "B1"],
  ]);
});

Deno.test("validatePortfolio() rejects a maturity more than 100 years after the reporting date (9999-12-31 on a 20% annuity), and a facility at every limit computes finite figures", async () => {
  // Reporting date 2025-12-31: the latest maturity allowed is 2125-12-31.
  const result = await validateRows([
    {
      ...GOOD_MORTGAGE,
      loan_id: "M9999",
      maturity_date: "9999-12-31",
      interest_rate: "0.2",
    },
    { ...GOOD_MORTGAGE, loan_id: "M2126", maturity_date: "2126-01-01" },
    // At every limit at once: amounts of 1e15, 100 years to maturity, the
    // highest rate below 1, the highest DPD, the oldest origination.
    {
      ...GOOD_MORTGAGE,
      loan_id: "AT_LIMITS",
      maturity_date: "2125-12-31",
      origination_date: "1925-12-31",
      interest_rate: "0.999999",
      balance: "1e15",
      collateral_value: "1e15",
      write_off_amount: "1e15",
      days_past_due: "36500",
      pd_12m_current: "0.999999",
    },
    {
      ...GOOD_CARD,
      loan_id: "CARD_AT_LIMIT",
      balance: "1e15",
      credit_limit: "1e15",
    },
    // A revolving facility's maturity is not read (its term is the
    // behavioural life), so a placeholder there is not rejected.
    { ...GOOD_CARD, loan_id: "CARD9999", maturity_date: "9999-12-31" },
  ]);
  assert.deepEqual(codesById(result), {
    M9999: ["MATURITY_TOO_FAR"],
    M2126: ["MATURITY_TOO_FAR"],
  });
  const ecl = await computeEcl(
    stageFacilities(result.valid.lazy(), RULES),
    RULES,
  );
  assert.equal(ecl.height, 3);
  for (const row of ecl.toRecords()) {
    for (
      const c of [
        "ead",
        "pd_12m",
        "pd_lifetime",
        "lgd",
        "ecl_12m",
        "ecl_lifetime",
        "ecl",
      ]
    ) {
      assert.ok(
        Number.isFinite(row[c] as number),
        `${row.loan_id} ${c} = ${row[c]}`,
      );
    }
  }
  // 100 years of months.
  const term = ecl.toRecords().find((r) => r.loan_id === "AT_LIMITS")!;
  assert.equal(term.remaining_term_months, 1200);
});

Deno.test("validatePortfolio() rejects an origination more than 100 years before the reporting date and days_past_due above 36,500", async () => {
  const result = await validateRows([
    { ...GOOD_MORTGAGE, loan_id: "O1900", origination_date: "1900-01-01" },
    { ...GOOD_MORTGAGE, loan_id: "O1925", origination_date: "1925-12-30" },
    { ...GOOD_MORTGAGE, loan_id: "OK1925", origination_date: "1925-12-31" },
    { ...GOOD_MORTGAGE, loan_id: "D36501", days_past_due: "36501" },
    { ...GOOD_MORTGAGE, loan_id: "D2E9", days_past_due: "2000000000" },
    { ...GOOD_MORTGAGE, loan_id: "OK36500", days_past_due: "36500" },
  ]);
  assert.deepEqual(codesById(result), {
    O1900: ["ORIGINATION_TOO_OLD"],
    O1925: ["ORIGINATION_TOO_OLD"],
    D36501: ["DPD_IMPLAUSIBLE"],
    D2E9: ["DPD_IMPLAUSIBLE"],
  });
  assert.deepEqual(result.valid.getColumn("loan_id").toArray(), [
    "OK1925",
    "OK36500",
  ]);
});

Deno.test("tasks/validate.ts main() reports balances of 9.3e16 and 1e308 under BALANCE_IMPLAUSIBLE, on the console and in data_quality.json", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "book.csv");
    // 2 of 42 rows rejected: 4.76%, within the 5% limit, so the run of
    // the same book would complete without them.
    await Deno.writeTextFile(
      path,
      csv(book([
        ...Array.from({ length: 20 }, (_, i) => ({
          ...GOOD_MORTGAGE,
          loan_id: `H${i}`,
        })),
        { ...GOOD_MORTGAGE, loan_id: "HUGE", balance: "9.3e16" },
        { ...GOOD_MORTGAGE, loan_id: "INF", balance: "1e308" },
      ])),
    );
    const out = join(dir, "out");
    const r = await callMain(validateMain, ...validArgs(path, out));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /BALANCE_IMPLAUSIBLE: 2 of 42 \(e\.g\. HUGE, INF\)/);
    const report = JSON.parse(
      await Deno.readTextFile(join(out, "data_quality.json")),
    );
    const line = report.rules.find((x: { code: string }) =>
      x.code === "BALANCE_IMPLAUSIBLE"
    );
    assert.deepEqual([line.rows_failed, line.examples], [2, ["HUGE", "INF"]]);
    assert.match(line.description, /1e15/);
    assert.equal(report.rows_valid, 40);
  });
});

Deno.test("PLAUSIBILITY_LIMITS are the documented values, and docs/methodology.md §1 lists every plausibility code with its limit", async () => {
  assert.deepEqual({ ...PLAUSIBILITY_LIMITS }, {
    maxAmount: 1e15,
    maxMaturityYears: 100,
    maxOriginationAgeYears: 100,
    maxDaysPastDue: 36_500,
    maxIdChars: 256,
  });
  const doc = await Deno.readTextFile(
    new URL("../../docs/methodology.md", import.meta.url),
  );
  const section1 = doc.slice(
    doc.indexOf("## 1. Input portfolio"),
    doc.indexOf("## 2. Remaining term"),
  );
  assert.match(section1, /### Plausibility limits/);
  for (const code of Object.keys(PLAUSIBILITY_RULES)) {
    assert.ok(section1.includes(`\`${code}\``), `${code} not in §1`);
  }
  for (const text of ["1e15", "100 years", "36,500", "256 characters"]) {
    assert.ok(section1.includes(text), `${text} not in §1`);
  }
});

// 2. Identifiers ----------------------------------------------------------

Deno.test("validatePortfolio() trims ids and keys: `L1` and `L1 ` are duplicates, a blank loan_id is NULL_LOAN_ID, padded product and currency match", async () => {
  const result = await validateRows([
    { ...GOOD_MORTGAGE, loan_id: "L1" },
    { ...GOOD_MORTGAGE, loan_id: "L1 " },
    { ...GOOD_MORTGAGE, loan_id: "   " },
    {
      ...GOOD_MORTGAGE,
      loan_id: " P1\t",
      product: " mortgage ",
      currency: "EUR ",
      customer_id: " C9 ",
    },
  ]);
  assert.deepEqual(
    result.rejected.getColumn(REJECTION_CODES).toArray(),
    [["LOAN_ID_DUPLICATE"], ["LOAN_ID_DUPLICATE"], ["NULL_LOAN_ID"]],
  );
  // Rejected rows keep the text as read; the valid row carries the
  // trimmed values.
  assert.deepEqual(result.rejected.getColumn("loan_id").toArray(), [
    "L1",
    "L1 ",
    "   ",
  ]);
  const [p1] = result.valid.toRecords();
  assert.deepEqual(
    [p1.loan_id, p1.product, p1.currency, p1.customer_id],
    ["P1", "mortgage", "EUR", "C9"],
  );
  const dup = result.report.rules.find((r) => r.code === "LOAN_ID_DUPLICATE")!;
  assert.deepEqual([dup.rows_checked, dup.rows_failed, dup.examples], [
    3,
    2,
    ["L1", "L1"],
  ]);
  const blank = result.report.rules.find((r) => r.code === "NULL_LOAN_ID")!;
  assert.deepEqual([blank.rows_failed, blank.examples], [1, ["row 3"]]);
});

Deno.test("validatePortfolio() accepts loan_ids that differ only by letter case and warns, naming a pair and the count", async () => {
  const result = await validateRows([
    { ...GOOD_MORTGAGE, loan_id: "L1" },
    { ...GOOD_MORTGAGE, loan_id: "l1" },
    { ...GOOD_MORTGAGE, loan_id: "a7" },
    { ...GOOD_MORTGAGE, loan_id: "A7" },
    { ...GOOD_MORTGAGE, loan_id: "B2" },
  ]);
  assert.equal(result.report.rows_rejected, 0);
  // Four ids in two pairs; the first pair in order of the folded id is
  // a7/A7, upper case first.
  const warning = result.report.warnings.find((w) => /letter case/.test(w));
  assert.ok(warning, JSON.stringify(result.report.warnings));
  assert.match(
    warning,
    /^4 loan_ids differ from another only by letter case \(e\.g\. A7 and a7\)/,
  );
  // No warning when no two ids fold together.
  const clean = await validateRows([
    { ...GOOD_MORTGAGE, loan_id: "L1" },
    { ...GOOD_MORTGAGE, loan_id: "l2" },
  ]);
  assert.deepEqual(clean.report.warnings, []);
});

Deno.test("tasks/validate.ts main() writes trimmed loan_ids to valid.parquet and rejects `L1` next to `L1 `", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "book.csv");
    await Deno.writeTextFile(
      path,
      csv(book([
        { ...GOOD_MORTGAGE, loan_id: " T1 " },
        { ...GOOD_MORTGAGE, loan_id: "G0 " }, // G0 is in the book
      ])),
    );
    const out = join(dir, "out");
    const r = await callMain(validateMain, ...validArgs(path, out));
    // G0 and "G0 " rejected: 2 of 22 = 9.09% > 5%.
    assert.equal(r.code, 1);
    assert.match(r.stdout, /LOAN_ID_DUPLICATE: 2 of 22 \(e\.g\. G0, G0\)/);
    const valid = pl.readParquet(join(out, "valid.parquet"));
    const ids = valid.getColumn("loan_id").toArray() as string[];
    assert.ok(ids.includes("T1"), ids.join());
    assert.ok(!ids.some((id) => id !== id.trim()));
    assert.equal(valid.height, 20);
  });
});

// 3. Reserved column names -------------------------------------------------

for (const column of ["__row", "__rejected", "__v:balance"]) {
  Deno.test(`tasks/validate.ts main() refuses an input column named ${column} before computing, naming the file and the column`, async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "book.parquet");
      pl.DataFrame(
        book().map((r) => ({ ...r, [column]: "1" })),
      ).writeParquet(path);
      const out = join(dir, "out");
      const r = await callMain(validateMain, ...validArgs(path, out));
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.ok(r.stderr.includes(`Cannot read portfolio ${path}:`), r.stderr);
      assert.ok(r.stderr.includes(`column ${column}:`), r.stderr);
      assert.match(r.stderr, /reserved/);
      assert.match(r.stderr, /rename/);
      assert.doesNotMatch(r.stderr, STACK);
      assert.deepEqual(await entries(out), []);
    });
  });
}

Deno.test("tasks/run.ts main() refuses a __rejected column with exit 2 and leaves no run folder", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "book.csv");
    await Deno.writeTextFile(
      path,
      csv(book(), [...ALL_COLUMNS, "__rejected"]),
    );
    const out = join(dir, "runs");
    const r = await callMain(runMain, ...runArgs(path, out));
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.ok(r.stderr.includes(`Cannot read portfolio ${path}:`), r.stderr);
    assert.match(r.stderr, /column __rejected: .*reserved/);
    assert.doesNotMatch(r.stderr, STACK);
    assert.deepEqual(await entries(out), []);
  });
});

Deno.test("tasks/validate.ts main() validates a fixed rejected.parquet again: its stale rejection_codes are replaced, with a warning", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "book.csv");
    await Deno.writeTextFile(
      path,
      csv(book([
        { ...GOOD_MORTGAGE, loan_id: "NEG", balance: "-5" },
        { ...GOOD_MORTGAGE, loan_id: "CUR", currency: "eur" },
      ])),
    );
    const first = join(dir, "first");
    assert.equal(
      (await callMain(validateMain, ...validArgs(path, first))).code,
      1, // 2 of 22 rejected
    );
    // The data owner fixes the balance, not the currency, and sends the
    // rejected rows back as they are, rejection_codes included.
    const fixedPath = join(dir, "fixed.parquet");
    pl.readParquet(join(first, "rejected.parquet"))
      .withColumns(
        pl.when(pl.col("loan_id").eq(pl.lit("NEG"))).then(pl.lit("5"))
          .otherwise(pl.col("balance")).alias("balance"),
      )
      .writeParquet(fixedPath);
    const second = join(dir, "second");
    const r = await callMain(validateMain, ...validArgs(fixedPath, second));
    assert.doesNotMatch(r.stderr, STACK);
    assert.doesNotMatch(r.stderr, /Internal error/);
    assert.equal(r.code, 1, r.stderr); // CUR is still rejected: 1 of 2
    assert.match(
      r.stdout,
      /warning: column rejection_codes \(from an earlier validation\) dropped/,
    );
    const valid = pl.readParquet(join(second, "valid.parquet"));
    assert.deepEqual(valid.getColumn("loan_id").toArray(), ["NEG"]);
    assert.ok(!valid.columns.includes(REJECTION_CODES));
    const rejected = pl.readParquet(join(second, "rejected.parquet"));
    assert.deepEqual(rejected.getColumn(REJECTION_CODES).toArray(), [[
      "CURRENCY_INVALID",
    ]]);
    assert.equal(
      rejected.columns.filter((c) => c === REJECTION_CODES).length,
      1,
    );
  });
});

// 4. A header without rows, rows without a reporting date ------------------

Deno.test("tasks/validate.ts and tasks/run.ts refuse a header-only portfolio with exit 2, naming the file; the run leaves no folder", async () => {
  await withTempDir(async (dir) => {
    // The header of the sample portfolio, and nothing else.
    const sample = pl.readParquet("data/sample/portfolio_2025-12-31.parquet");
    const path = join(dir, "header_only.csv");
    await Deno.writeTextFile(path, sample.columns.join(",") + "\n");
    const out = join(dir, "out");
    const v = await callMain(validateMain, ...validArgs(path, out));
    assert.equal(v.code, 2, v.stdout + v.stderr);
    assert.ok(
      v.stderr.includes(
        `Cannot read portfolio ${path}: it has a header but no rows`,
      ),
      v.stderr,
    );
    assert.doesNotMatch(v.stderr, STACK);
    assert.deepEqual(await entries(out), []);

    const runs = join(dir, "runs");
    const r = await callMain(runMain, ...runArgs(path, runs));
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.ok(
      r.stderr.includes(
        `Cannot read portfolio ${path}: it has a header but no rows`,
      ),
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, STACK);
    assert.deepEqual(await entries(runs), []);
  });
});

Deno.test("validatePortfolio() refuses a portfolio in which no row has a readable reporting_date, saying so, unless the date is given", async () => {
  const rows = [
    { ...GOOD_MORTGAGE, loan_id: "A", reporting_date: "31/12/2025" },
    { ...GOOD_MORTGAGE, loan_id: "B", reporting_date: "" },
    { ...GOOD_MORTGAGE, loan_id: "C", reporting_date: "2025-12-32" },
  ];
  await assert.rejects(
    () => validateRows(rows),
    (e: Error) => {
      assert.equal(e.name, "PortfolioReadError");
      assert.match(
        e.message,
        /^Cannot read portfolio .*portfolio\.csv: no row has a readable reporting_date \(1 row empty, 2 rows not a YYYY-MM-DD date, e\.g\. loan_id A: "31\/12\/2025"\), so the portfolio's reporting date cannot be determined; write it as YYYY-MM-DD on every row$/,
      );
      return true;
    },
  );
  // With the date given, the rows are checked against it one by one.
  const given = await validateRows(rows, { reportingDate: "2025-12-31" });
  assert.deepEqual(codesById(given), {
    A: ["UNPARSEABLE_REPORTING_DATE"],
    B: ["NULL_REPORTING_DATE"],
    C: ["UNPARSEABLE_REPORTING_DATE"],
  });
  assert.equal(given.report.reporting_date, "2025-12-31");
});

Deno.test("tasks/validate.ts main() exits 2 when no row has a readable reporting_date, naming the file, and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "nodate.csv");
    await Deno.writeTextFile(
      path,
      csv(book().map((r) => ({ ...r, reporting_date: "" }))),
    );
    const out = join(dir, "out");
    const r = await callMain(validateMain, ...validArgs(path, out));
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.ok(
      r.stderr.includes(
        `Cannot read portfolio ${path}: no row has a readable reporting_date (20 rows empty)`,
      ),
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, STACK);
    assert.deepEqual(await entries(out), []);
  });
});

// 5. A product missing from the rules file ---------------------------------

Deno.test("tasks/validate.ts and tasks/run.ts name a product missing from the rules file with its row count, also when the run fails its reject limit", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "book.csv");
    // 3 of 23 rows are leasing: 13.04% > 5%, so the run fails.
    await Deno.writeTextFile(
      path,
      csv(book([1, 2, 3].map((i) => ({
        ...GOOD_MORTGAGE,
        loan_id: `LS${i}`,
        product: "leasing",
      })))),
    );
    const expected =
      "product leasing is not in the rules file: 3 rows rejected (PRODUCT_UNKNOWN); add it under products in the rules file (key products.leasing, with its repayment)";
    const v = await callMain(
      validateMain,
      ...validArgs(path, join(dir, "out")),
    );
    assert.equal(v.code, 1);
    assert.ok(v.stdout.includes(`warning: ${expected}`), v.stdout);

    const runs = join(dir, "runs");
    const r = await callMain(runMain, ...runArgs(path, runs));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.ok(r.stderr.includes(expected), r.stderr);
    assert.doesNotMatch(r.stderr, STACK);
  });
});

Deno.test("deno task run refuses a portfolio with a column the run computes (ead, ecl_<scenario>), naming it, before creating a folder", async () => {
  const { portfolioFrame } = await import("../run/_portfolio.ts");
  await withTempDir(async (dir) => {
    for (
      const [column, rules] of [
        ["ead", "config/ifrs9_rules.yaml"],
        ["ecl_downside", "config/sample_rules.yaml"],
      ]
    ) {
      const path = join(dir, `with_${column}.parquet`);
      portfolioFrame(10).withColumns(pl.lit(1.5).alias(column))
        .writeParquet(path);
      const out = join(dir, "runs");
      const r = await callMain(
        runMain,
        "--portfolio",
        path,
        "--rules",
        rules,
        "--out",
        out,
        "--quiet",
      );
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^Cannot read portfolio ${path}: column ${column}: this name is computed by the run`,
        ),
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.deepEqual(
        await Array.fromAsync(Deno.readDir(out)).catch(() => []),
        [],
      );
    }
  });
});

Deno.test("COMPUTED_COLUMNS lists every column a run adds to the portfolio's in loan_results.parquet", async () => {
  const { portfolioFrame } = await import("../run/_portfolio.ts");
  const { runPortfolio, loadRules } = await import("../../lib/mod.ts");
  const { COMPUTED_COLUMNS, PORTFOLIO_COLUMNS, scenarioEclColumn } =
    await import("../../lib/schema.ts");
  await withTempDir(async (dir) => {
    const path = join(dir, "book.parquet");
    portfolioFrame(40).writeParquet(path);
    const rules = "config/sample_rules.yaml";
    const run = await runPortfolio({
      portfolio: path,
      rules,
      out: dir,
      runId: "q4",
      report: false,
    });
    const scenarios = (await loadRules(rules)).scenarios.map((s) =>
      scenarioEclColumn(s.name)
    );
    const inputs = PORTFOLIO_COLUMNS.map((c) => c.name as string);
    const added = pl.readParquet(join(run.dir, "loan_results.parquet"))
      .columns.filter((c) => !inputs.includes(c));
    assert.deepEqual(
      added.filter((c) =>
        !COMPUTED_COLUMNS.includes(c) && !scenarios.includes(c)
      ),
      [],
    );
  });
});

Deno.test("deno task run checks --compare before reading the book: a missing run, or --compare with --no-report, is refused with no folder", async () => {
  const { writePortfolio } = await import("../run/_portfolio.ts");
  await withTempDir(async (dir) => {
    const portfolio = writePortfolio(join(dir, "book.parquet"), 10);
    const out = join(dir, "runs");
    const missing = join(dir, "nope");
    const base = ["--portfolio", portfolio, "--out", out, "--quiet"];
    const r = await callMain(runMain, ...base, "--compare", missing);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^Cannot read run folder ${missing}`));
    const both = await callMain(
      runMain,
      ...base,
      "--compare",
      missing,
      "--no-report",
    );
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /--no-report .*skips the report; drop one/);
    assert.deepEqual(
      await Array.fromAsync(Deno.readDir(out)).catch(() => []),
      [],
    );
  });
});

Deno.test("deno task run --compare naming a file is refused before the book is read, naming it", async () => {
  const { writePortfolio } = await import("../run/_portfolio.ts");
  await withTempDir(async (dir) => {
    const portfolio = writePortfolio(join(dir, "book.parquet"), 10);
    const file = join(dir, "afile");
    await Deno.writeTextFile(file, "x");
    const r = await callMain(
      runMain,
      "--portfolio",
      portfolio,
      "--out",
      join(dir, "runs"),
      "--compare",
      file,
      "--quiet",
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^Cannot read run folder ${file}: it is a file, not a run folder`,
      ),
    );
  });
});

Deno.test("validatePortfolio() rejects a loan_id longer than 256 characters or holding a control character (LOAN_ID_INVALID), and keeps one of exactly 256", async () => {
  const long = "L".repeat(257);
  const limit = "K".repeat(256);
  const result = await validateRows(book([
    { ...GOOD_MORTGAGE, loan_id: long },
    { ...GOOD_MORTGAGE, loan_id: limit },
    { ...GOOD_MORTGAGE, loan_id: "T\tAB" },
    { ...GOOD_MORTGAGE, loan_id: "N\nL" },
  ]));
  assert.deepEqual(codesById(result), {
    [long]: ["LOAN_ID_INVALID"],
    "T\tAB": ["LOAN_ID_INVALID"],
    "N\nL": ["LOAN_ID_INVALID"],
  });
  assert.equal(result.valid.height, 21);
});
