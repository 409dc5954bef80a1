/**
 * Tests of `validatePortfolio`: one breaking row per rule code, several
 * codes on one row, duplicates, values that cannot be parsed, the
 * valid/rejected split and its types, and file-level errors.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { PortfolioReadError, scanPortfolio } from "../../lib/io/mod.ts";
import { PORTFOLIO_COLUMNS, PORTFOLIO_SCHEMA } from "../../lib/schema.ts";
import {
  allRuleCodes,
  REJECTION_CODES,
  validatePortfolio,
  type ValidationResult,
} from "../../lib/validation/mod.ts";
import {
  ALL_COLUMNS,
  csv,
  GOOD_CARD,
  GOOD_MORTGAGE,
  type Row,
  RULES,
  writeTemp,
} from "./_fixture.ts";

async function validateCsv(
  rows: Row[],
  columns: string[] = ALL_COLUMNS,
  reportingDate?: string,
): Promise<ValidationResult> {
  const path = writeTemp(csv(rows, columns));
  return await validatePortfolio(scanPortfolio(path), RULES, {
    file: path,
    reportingDate,
  });
}

/** loan_id -> codes of the rejected rows (loan_id "" for a missing id). */
function codesById(result: ValidationResult): Map<string, string[]> {
  const ids = result.rejected.getColumn("loan_id").toArray() as (
    | string
    | null
  )[];
  const codes = result.rejected.getColumn(REJECTION_CODES)
    .toArray() as unknown as string[][];
  return new Map(ids.map((id, i) => [id ?? "", [...codes[i]]]));
}

/** A type's name; Polars calls its string type both Utf8 and String. */
const typeName = (t: pl.DataType) => String(t).replace("Utf8", "String");

/** One row per rule: the field changes that break exactly that rule. */
const BREAKING: { code: string; change: Row }[] = [
  { code: "NULL_LOAN_ID", change: { loan_id: "" } },
  { code: "NULL_REPORTING_DATE", change: { reporting_date: "" } },
  { code: "NULL_ORIGINATION_DATE", change: { origination_date: "" } },
  { code: "NULL_PRODUCT", change: { product: "" } },
  { code: "NULL_CURRENCY", change: { currency: "" } },
  { code: "NULL_BALANCE", change: { balance: "" } },
  { code: "NULL_INTEREST_RATE", change: { interest_rate: "" } },
  { code: "NULL_DAYS_PAST_DUE", change: { days_past_due: "" } },
  { code: "NULL_PD_12M_ORIGINATION", change: { pd_12m_origination: "" } },
  { code: "NULL_PD_12M_CURRENT", change: { pd_12m_current: "" } },
  {
    code: "UNPARSEABLE_REPORTING_DATE",
    change: { reporting_date: "2025-02-30" },
  },
  {
    code: "UNPARSEABLE_ORIGINATION_DATE",
    change: { origination_date: "last year" },
  },
  {
    code: "UNPARSEABLE_MATURITY_DATE",
    change: { maturity_date: "2030-13-01" },
  },
  { code: "UNPARSEABLE_BALANCE", change: { balance: "1,000" } },
  { code: "UNPARSEABLE_CREDIT_LIMIT", change: { credit_limit: "NaN" } },
  { code: "UNPARSEABLE_INTEREST_RATE", change: { interest_rate: "inf" } },
  { code: "UNPARSEABLE_DAYS_PAST_DUE", change: { days_past_due: "3.5" } },
  {
    code: "UNPARSEABLE_PD_12M_ORIGINATION",
    change: { pd_12m_origination: "-inf" },
  },
  { code: "UNPARSEABLE_PD_12M_CURRENT", change: { pd_12m_current: "two%" } },
  {
    code: "UNPARSEABLE_COLLATERAL_VALUE",
    change: { collateral_value: "1e999" },
  },
  { code: "UNPARSEABLE_WATCHLIST", change: { watchlist: "yes" } },
  { code: "UNPARSEABLE_FORBORNE", change: { forborne: "2" } },
  { code: "UNPARSEABLE_DEFAULT_FLAG", change: { default_flag: "n" } },
  { code: "UNPARSEABLE_PREVIOUS_STAGE", change: { previous_stage: "two" } },
  { code: "UNPARSEABLE_WRITE_OFF_AMOUNT", change: { write_off_amount: "x" } },
  { code: "REPORTING_DATE_MISMATCH", change: { reporting_date: "2025-11-30" } },
  {
    code: "ORIGINATION_AFTER_REPORTING",
    change: { origination_date: "2026-01-01" },
  },
  {
    code: "MATURITY_NOT_AFTER_REPORTING",
    change: { maturity_date: "2025-12-31" },
  },
  { code: "MATURITY_MISSING", change: { maturity_date: "" } },
  { code: "PRODUCT_UNKNOWN", change: { product: "boat" } },
  { code: "CURRENCY_INVALID", change: { currency: "eur" } },
  { code: "BALANCE_NEGATIVE", change: { balance: "-0.01" } },
  { code: "CREDIT_LIMIT_BELOW_BALANCE", change: { credit_limit: "999.99" } },
  { code: "INTEREST_RATE_OUT_OF_RANGE", change: { interest_rate: "1" } },
  { code: "DPD_NEGATIVE", change: { days_past_due: "-1" } },
  { code: "PD_ORIGINATION_OUT_OF_RANGE", change: { pd_12m_origination: "0" } },
  { code: "PD_CURRENT_OUT_OF_RANGE", change: { pd_12m_current: "1.0001" } },
  { code: "COLLATERAL_NEGATIVE", change: { collateral_value: "-5" } },
  { code: "PREVIOUS_STAGE_INVALID", change: { previous_stage: "4" } },
  { code: "WRITE_OFF_NEGATIVE", change: { write_off_amount: "-1" } },
  // Plausibility limits: 1e15 per amount, 100 years, 36,500 days.
  { code: "BALANCE_IMPLAUSIBLE", change: { balance: "1000000000000001" } },
  { code: "CREDIT_LIMIT_IMPLAUSIBLE", change: { credit_limit: "2e15" } },
  { code: "COLLATERAL_IMPLAUSIBLE", change: { collateral_value: "1e16" } },
  { code: "WRITE_OFF_IMPLAUSIBLE", change: { write_off_amount: "9.3e16" } },
  { code: "MATURITY_TOO_FAR", change: { maturity_date: "2126-01-01" } },
  { code: "ORIGINATION_TOO_OLD", change: { origination_date: "1925-12-30" } },
  { code: "DPD_IMPLAUSIBLE", change: { days_past_due: "36501" } },
  { code: "LOAN_ID_INVALID", change: { loan_id: "X".repeat(257) } },
];

Deno.test("validatePortfolio() has a breaking case in this file for every rule code", () => {
  const tested = new Set([...BREAKING.map((b) => b.code), "LOAN_ID_DUPLICATE"]);
  assert.deepEqual(
    allRuleCodes().map((r) => r.code).filter((c) => !tested.has(c)),
    [],
  );
});

for (const { code, change } of BREAKING) {
  Deno.test(`validatePortfolio() rejects a row that breaks ${code} and keeps the rows that pass`, async () => {
    const bad = { ...GOOD_MORTGAGE, loan_id: "BAD", ...change };
    const result = await validateCsv([GOOD_MORTGAGE, GOOD_CARD, bad]);
    assert.deepEqual(
      Object.fromEntries(codesById(result)),
      { [bad.loan_id]: [code] },
    );
    assert.deepEqual(result.valid.getColumn("loan_id").toArray(), ["G1", "G2"]);
    const line = result.report.rules.find((r) => r.code === code)!;
    assert.equal(line.rows_failed, 1);
    assert.deepEqual(line.examples, [
      bad.loan_id === ""
        ? "row 3"
        : bad.loan_id.length > 64
        ? `${bad.loan_id.slice(0, 63)}…`
        : "BAD",
    ]);
  });
}

Deno.test("validatePortfolio() accepts the boundary values of each range", async () => {
  const changes: Row[] = [
    { interest_rate: "0" },
    { pd_12m_current: "1" },
    { pd_12m_origination: "0.999999" },
    { balance: "0", collateral_value: "0", days_past_due: "0" },
    { credit_limit: "1000" }, // equal to the balance
    { maturity_date: "2026-01-01" }, // the day after the reporting date
    { origination_date: "2025-12-31" }, // on the reporting date
    { days_past_due: "30.0", previous_stage: "3" },
    { watchlist: "TRUE", forborne: "1", default_flag: "fAlSe" },
    // The plausibility limits themselves pass.
    { balance: "1e15", collateral_value: "1e15", write_off_amount: "1e15" },
    { credit_limit: "1000000000000000" },
    { maturity_date: "2125-12-31", origination_date: "1925-12-31" },
    { days_past_due: "36500" },
  ];
  const edges = changes.map((change, i) => ({
    ...GOOD_MORTGAGE,
    loan_id: `E${i}`,
    ...change,
  }));
  const result = await validateCsv(edges);
  assert.equal(result.rejected.height, 0, result.rejected.toString());
  assert.equal(result.valid.height, edges.length);
  const row =
    result.valid.filter(pl.col("loan_id").eq(pl.lit("E7"))).toRecords()[0];
  assert.equal(row.days_past_due, 30);
  const bools =
    result.valid.filter(pl.col("loan_id").eq(pl.lit("E8"))).toRecords()[0];
  assert.deepEqual([bools.watchlist, bools.forborne, bools.default_flag], [
    true,
    true,
    false,
  ]);
});

Deno.test("validatePortfolio() reports every rule a row breaks, in rule order", async () => {
  const bad = {
    ...GOOD_MORTGAGE,
    loan_id: "BAD",
    balance: "-5",
    currency: "XX",
    days_past_due: "-1",
    previous_stage: "0",
    watchlist: "maybe",
  };
  const result = await validateCsv([GOOD_MORTGAGE, bad]);
  assert.deepEqual(codesById(result).get("BAD"), [
    "UNPARSEABLE_WATCHLIST",
    "CURRENCY_INVALID",
    "BALANCE_NEGATIVE",
    "DPD_NEGATIVE",
    "PREVIOUS_STAGE_INVALID",
  ]);
});

Deno.test("validatePortfolio() rejects every row carrying a duplicated loan_id", async () => {
  const rows = [
    { ...GOOD_MORTGAGE, loan_id: "A" },
    { ...GOOD_MORTGAGE, loan_id: "B" },
    { ...GOOD_CARD, loan_id: "A" },
    { ...GOOD_MORTGAGE, loan_id: "C" },
    { ...GOOD_MORTGAGE, loan_id: "A", balance: "-1" },
  ];
  const result = await validateCsv(rows);
  assert.deepEqual(result.valid.getColumn("loan_id").toArray(), ["B", "C"]);
  assert.deepEqual(result.rejected.getColumn(REJECTION_CODES).toArray(), [
    ["LOAN_ID_DUPLICATE"],
    ["LOAN_ID_DUPLICATE"],
    ["LOAN_ID_DUPLICATE", "BALANCE_NEGATIVE"],
  ]);
  const dup = result.report.rules.find((r) => r.code === "LOAN_ID_DUPLICATE")!;
  assert.deepEqual([dup.rows_checked, dup.rows_failed, dup.examples], [5, 3, [
    "A",
    "A",
    "A",
  ]]);
});

Deno.test("validatePortfolio() does not count rows without a loan_id as duplicates", async () => {
  const rows = [GOOD_MORTGAGE, { ...GOOD_MORTGAGE, loan_id: "" }, {
    ...GOOD_MORTGAGE,
    loan_id: "",
  }];
  const result = await validateCsv(rows);
  assert.deepEqual(result.rejected.getColumn(REJECTION_CODES).toArray(), [
    ["NULL_LOAN_ID"],
    ["NULL_LOAN_ID"],
  ]);
  const dup = result.report.rules.find((r) => r.code === "LOAN_ID_DUPLICATE")!;
  assert.deepEqual([dup.rows_checked, dup.rows_failed], [1, 0]);
});

Deno.test("validatePortfolio() rejects NaN, infinity, text and impossible dates row by row, not the file", async () => {
  const rows = [
    GOOD_MORTGAGE,
    { ...GOOD_MORTGAGE, loan_id: "N1", balance: "NaN" },
    { ...GOOD_MORTGAGE, loan_id: "N2", interest_rate: "Infinity" },
    { ...GOOD_MORTGAGE, loan_id: "N3", collateral_value: "lots" },
    { ...GOOD_MORTGAGE, loan_id: "N4", maturity_date: "2030-02-30" },
    { ...GOOD_MORTGAGE, loan_id: "N5", origination_date: "2024-01-15x" },
    GOOD_CARD,
  ];
  const result = await validateCsv(rows);
  assert.equal(result.report.rows_read, 7);
  assert.deepEqual(result.valid.getColumn("loan_id").toArray(), ["G1", "G2"]);
  assert.deepEqual(Object.fromEntries(codesById(result)), {
    N1: ["UNPARSEABLE_BALANCE"],
    N2: ["UNPARSEABLE_INTEREST_RATE"],
    N3: ["UNPARSEABLE_COLLATERAL_VALUE"],
    N4: ["UNPARSEABLE_MATURITY_DATE"],
    N5: ["UNPARSEABLE_ORIGINATION_DATE"],
  });
});

Deno.test("validatePortfolio() puts every row read in exactly one of valid and rejected, the rejected ones unchanged", async () => {
  const rows = [
    GOOD_MORTGAGE,
    { ...GOOD_MORTGAGE, loan_id: "R1", balance: "abc" },
    GOOD_CARD,
    {
      ...GOOD_MORTGAGE,
      loan_id: "R2",
      currency: "EURO",
      region: ' spaced , "quoted" ',
    },
    { ...GOOD_MORTGAGE, loan_id: "G3" },
  ];
  const result = await validateCsv(rows);
  const { rows_read, rows_valid, rows_rejected } = result.report;
  assert.deepEqual([rows_read, rows_valid, rows_rejected], [5, 3, 2]);
  assert.equal(result.valid.height + result.rejected.height, rows_read);
  assert.deepEqual(result.rejected.columns, [...ALL_COLUMNS, REJECTION_CODES]);
  const rejected = result.rejected.drop(REJECTION_CODES).toRecords();
  const asRead = (r: Row) =>
    Object.fromEntries(ALL_COLUMNS.map((c) => [c, r[c] === "" ? null : r[c]]));
  assert.deepEqual(rejected, [asRead(rows[1]), asRead(rows[3])]);
});

Deno.test("validatePortfolio() types the valid rows as PORTFOLIO_SCHEMA and fills absent optional columns with null", async () => {
  const columns = ALL_COLUMNS.filter((c) =>
    !["customer_id", "collateral_value", "write_off_amount", "previous_stage"]
      .includes(c)
  ).concat(["desk"]);
  const result = await validateCsv(
    [{ ...GOOD_MORTGAGE, desk: "retail" }, { ...GOOD_CARD, desk: "cards" }],
    columns,
  );
  const want = Object.fromEntries([
    ...PORTFOLIO_COLUMNS.map((
      c,
    ) => [c.name, typeName(PORTFOLIO_SCHEMA[c.name])]),
    ["desk", typeName(pl.Utf8)],
  ]);
  const got = Object.fromEntries(
    Object.entries(result.valid.schema).map((
      [k, t],
    ) => [k, typeName(t as pl.DataType)]),
  );
  assert.deepEqual(got, want);
  assert.deepEqual(result.valid.columns, [...ALL_COLUMNS, "desk"]);
  const first = result.valid.toRecords()[0];
  assert.equal(first.collateral_value, null);
  assert.equal(first.previous_stage, null);
  assert.equal(first.balance, 1000);
  assert.equal(first.interest_rate, 0.05);
  assert.equal(first.segment, null); // empty text is absent, so the engine defaults it
  assert.equal(first.desk, "retail");
  assert.deepEqual(result.report.warnings, [
    "unknown column desk kept as read and passed through to the valid rows",
  ]);
});

Deno.test("validatePortfolio() refuses a file without a required column, naming file and columns", async () => {
  const columns = ALL_COLUMNS.filter((c) =>
    c !== "balance" && c !== "currency"
  );
  const path = writeTemp(csv([GOOD_MORTGAGE], columns));
  await assert.rejects(
    () => validatePortfolio(scanPortfolio(path), RULES, { file: path }),
    (e: unknown) => {
      assert.ok(e instanceof PortfolioReadError);
      assert.match(
        e.message,
        new RegExp(
          `^Cannot read portfolio ${path}: missing required columns currency, balance \\(columns found: loan_id, `,
        ),
      );
      return true;
    },
  );
});

Deno.test("validatePortfolio() takes the most frequent reporting date unless one is given", async () => {
  const rows = [
    {
      ...GOOD_MORTGAGE,
      loan_id: "A",
      reporting_date: "2025-09-30",
      origination_date: "2024-01-01",
    },
    { ...GOOD_MORTGAGE, loan_id: "B" },
    { ...GOOD_MORTGAGE, loan_id: "C" },
  ];
  const inferred = await validateCsv(rows);
  assert.equal(inferred.report.reporting_date, "2025-12-31");
  assert.deepEqual([...codesById(inferred).keys()], ["A"]);

  const given = await validateCsv(rows, ALL_COLUMNS, "2025-09-30");
  assert.equal(given.report.reporting_date, "2025-09-30");
  assert.deepEqual(given.valid.getColumn("loan_id").toArray(), ["A"]);
  assert.deepEqual(codesById(given).get("B"), ["REPORTING_DATE_MISMATCH"]);

  await assert.rejects(
    () => validateCsv(rows, ALL_COLUMNS, "2025-06-31"),
    /reportingDate must be a real date written YYYY-MM-DD, got "2025-06-31"/,
  );
});

Deno.test("validatePortfolio() counts rows checked and failed per rule and gives example ids", async () => {
  // Hand count: 4 rows; credit_limit present on rows 2 and 4 only, so
  // CREDIT_LIMIT_BELOW_BALANCE is checked twice and fails once (row 4:
  // 50 < 200). Row 3 has no loan_id and a negative balance.
  const rows = [
    GOOD_MORTGAGE,
    GOOD_CARD,
    { ...GOOD_MORTGAGE, loan_id: "", balance: "-1" },
    { ...GOOD_CARD, loan_id: "X4", credit_limit: "50" },
  ];
  const result = await validateCsv(rows);
  const line = (code: string) => {
    const r = result.report.rules.find((x) => x.code === code)!;
    return [r.rows_checked, r.rows_failed, r.examples];
  };
  assert.deepEqual(line("CREDIT_LIMIT_BELOW_BALANCE"), [2, 1, ["X4"]]);
  assert.deepEqual(line("BALANCE_NEGATIVE"), [4, 1, ["row 3"]]);
  assert.deepEqual(line("NULL_LOAN_ID"), [4, 1, ["row 3"]]);
  assert.deepEqual(line("MATURITY_MISSING"), [2, 0, []]); // the two mortgages
  assert.deepEqual(line("UNPARSEABLE_COLLATERAL_VALUE"), [2, 0, []]);
  assert.deepEqual(line("LOAN_ID_DUPLICATE"), [3, 0, []]);
  assert.deepEqual(
    result.report.rules.map((r) => r.code),
    allRuleCodes().map((r) => r.code),
  );
  assert.equal(result.report.reject_rate, 0.5);
  assert.equal(result.report.passed, false);
});

Deno.test("validatePortfolio() keeps at most five examples, first in file order", async () => {
  const rows = Array.from(
    { length: 8 },
    (_, i) => ({ ...GOOD_MORTGAGE, loan_id: `L${i}`, days_past_due: "-3" }),
  );
  const result = await validateCsv(rows);
  const dpd = result.report.rules.find((r) => r.code === "DPD_NEGATIVE")!;
  assert.deepEqual([dpd.rows_failed, dpd.examples], [8, [
    "L0",
    "L1",
    "L2",
    "L3",
    "L4",
  ]]);
});

Deno.test("validatePortfolio() reads stored Parquet types and casts wrong physical types like text", async () => {
  const df = pl.DataFrame({
    loan_id: ["P1", "P2", "P3"],
    reporting_date: ["2025-12-31", "2025-12-31", "2025-12-31"],
    origination_date: ["2024-01-01", "2024-01-01", "2024-01-01"],
    maturity_date: ["2030-01-01", "2030-01-01", "2030-01-01"],
    product: ["sme", "sme", "sme"],
    currency: ["USD", "USD", "USD"],
    balance: [100, 200, Number.NaN],
    interest_rate: ["0.1", "0.1", "0.1"], // text where a float belongs
    days_past_due: [0, 12.5, 3], // float where an int belongs
    pd_12m_origination: [0.01, 0.01, 0.01],
    pd_12m_current: [0.02, 0.02, 0.02],
    default_flag: [1, 0, 1], // numbers where a bool belongs
  }).withColumns(
    pl.col("reporting_date").str.strptime(pl.Date, "%Y-%m-%d"),
    pl.col("origination_date").str.strptime(pl.Date, "%Y-%m-%d"),
  );
  const path = writeTemp("", "portfolio.parquet");
  df.writeParquet(path);
  const result = await validatePortfolio(scanPortfolio(path), RULES, {
    file: path,
  });
  assert.deepEqual(Object.fromEntries(codesById(result)), {
    P2: ["UNPARSEABLE_DAYS_PAST_DUE"],
    P3: ["UNPARSEABLE_BALANCE"],
  });
  const p1 = result.valid.toRecords()[0];
  assert.deepEqual(
    [p1.loan_id, p1.interest_rate, p1.days_past_due, p1.default_flag],
    ["P1", 0.1, 0, true],
  );
  assert.equal(
    result.valid.schema.days_past_due.toString(),
    pl.Int32.toString(),
  );
  // Rejected rows keep the stored types.
  assert.equal(
    result.rejected.schema.balance.toString(),
    pl.Float64.toString(),
  );
});

Deno.test("validatePortfolio() validates an in-memory frame and names it in errors", async () => {
  const raw = pl.DataFrame({ loan_id: ["A"], balance: ["1"] }).lazy();
  await assert.rejects(
    () => validatePortfolio(raw, RULES, { file: "notebook frame" }),
    /^PortfolioReadError: Cannot read portfolio notebook frame: missing required columns reporting_date, origination_date, product, currency, interest_rate, days_past_due, pd_12m_origination, pd_12m_current/,
  );
});

Deno.test("validatePortfolio() warns once per product the rules file lacks, with its row count", async () => {
  const result = await validateCsv([
    GOOD_MORTGAGE,
    { ...GOOD_MORTGAGE, loan_id: "B1", product: "boat" },
    { ...GOOD_MORTGAGE, loan_id: "B2", product: "boat" },
    { ...GOOD_MORTGAGE, loan_id: "L1", product: "leasing" },
  ]);
  assert.equal(result.report.rows_rejected, 3);
  assert.deepEqual(result.report.warnings, [
    "product boat is not in the rules file: 2 rows rejected (PRODUCT_UNKNOWN); add it under products in the rules file (key products.boat, with its repayment) or correct the rows' product",
    "product leasing is not in the rules file: 1 row rejected (PRODUCT_UNKNOWN); add it under products in the rules file (key products.leasing, with its repayment) or correct the rows' product",
  ]);
});
