/**
 * Validation of receivables under the simplified approach (methodology v2
 * §1; docs/simplified_approach.md): no PD columns, and any maturity date or
 * none, for products on the simplified approach only.
 *
 * @module
 */
import assert from "node:assert/strict";
import { computeEcl } from "../../lib/engine/ecl.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import { PortfolioReadError, scanPortfolio } from "../../lib/io/mod.ts";
import { parseRules } from "../../lib/rules.ts";
import {
  REJECTION_CODES,
  requiredColumns,
  validatePortfolio,
  type ValidationResult,
} from "../../lib/validation/mod.ts";
import { csv, GOOD_MORTGAGE, type Row, RULES, writeTemp } from "./_fixture.ts";

/** The fixture's products plus trade receivables with a two-bucket matrix. */
const WITH_RECEIVABLES = parseRules(
  `
reporting_currency: EUR
products:
  sme: { repayment: bullet }
  credit_card: { repayment: revolving, ccf: 0.75, behavioural_life_months: 36 }
  trade_receivable:
    repayment: bullet
    approach: simplified
    provision_matrix:
      upper_bound: inclusive
      buckets: [{ max_dpd: 30, loss_rate: 0.01 }, { loss_rate: 0.5 }]
scenarios:
  - { name: base, weight: 1, pd_multiplier: [1.0] }
validation:
  max_reject_rate: 1
`,
  "tests/validation/simplified_test.ts",
);

/** The columns of a receivables ledger: no PD, no limit, no collateral. */
const LEDGER = [
  "loan_id",
  "customer_id",
  "reporting_date",
  "origination_date",
  "maturity_date",
  "product",
  "currency",
  "balance",
  "interest_rate",
  "days_past_due",
  "default_flag",
];

const INVOICE: Row = {
  loan_id: "INV-1",
  customer_id: "C-1",
  reporting_date: "2025-12-31",
  origination_date: "2025-09-01",
  maturity_date: "2025-10-01",
  product: "trade_receivable",
  currency: "EUR",
  balance: "1000",
  interest_rate: "0",
  days_past_due: "91",
  default_flag: "false",
};

async function validate(
  rows: Row[],
  columns: string[],
  rules = WITH_RECEIVABLES,
): Promise<ValidationResult> {
  const path = writeTemp(csv(rows, columns));
  return await validatePortfolio(scanPortfolio(path), rules, { file: path });
}

function codesById(result: ValidationResult): Record<string, string[]> {
  return Object.fromEntries(
    result.rejected.toRecords().map((
      r,
    ) => [r.loan_id as string, r[REJECTION_CODES] as unknown as string[]]),
  );
}

Deno.test("validatePortfolio() accepts receivables without PD columns, with a past, present or missing due date, and they compute", async () => {
  const result = await validate([
    INVOICE, // due 2025-10-01: 91 days past due
    {
      ...INVOICE,
      loan_id: "INV-2",
      maturity_date: "2025-12-31",
      days_past_due: "0",
    },
    { ...INVOICE, loan_id: "INV-3", maturity_date: "", days_past_due: "10" },
  ], LEDGER);
  assert.deepEqual(codesById(result), {});
  assert.equal(result.report.rows_valid, 3);
  assert.deepEqual(result.report.warnings, []);
  assert.deepEqual(result.valid.getColumn("pd_12m_current").toArray(), [
    null,
    null,
    null,
  ]);
  const ecl = await computeEcl(
    stageFacilities(result.valid.lazy(), WITH_RECEIVABLES),
    WITH_RECEIVABLES,
  );
  // 91 days: stage 3, the last bucket's 50%; the others 1-30: 1% of 1,000.
  assert.deepEqual(ecl.getColumn("ecl").toArray(), [500, 10, 10]);
  assert.deepEqual(ecl.getColumn("stage").toArray(), [3, 2, 2]);
});

Deno.test("validatePortfolio() still rejects a general-approach row without PDs or with a past maturity, with its codes", async () => {
  const result = await validate([
    INVOICE,
    {
      ...INVOICE,
      loan_id: "SME-1",
      product: "sme",
      maturity_date: "2025-12-01",
    },
    { ...INVOICE, loan_id: "SME-2", product: "sme", maturity_date: "" },
  ], LEDGER);
  assert.deepEqual(codesById(result), {
    "SME-1": [
      "NULL_PD_12M_ORIGINATION",
      "NULL_PD_12M_CURRENT",
      "MATURITY_NOT_AFTER_REPORTING",
    ],
    "SME-2": [
      "NULL_PD_12M_ORIGINATION",
      "NULL_PD_12M_CURRENT",
      "MATURITY_MISSING",
    ],
  });
  assert.deepEqual(result.report.warnings, [
    "columns pd_12m_origination, pd_12m_current not in the file: only products on the simplified approach can do without them, so 2 rows of products on the general approach were rejected (NULL_PD_12M_ORIGINATION, NULL_PD_12M_CURRENT)",
  ]);
  const rule = (code: string) =>
    result.report.rules.find((r) => r.code === code)!;
  // Checked on the two general rows only, not on the receivable.
  assert.equal(rule("NULL_PD_12M_CURRENT").rows_checked, 2);
  assert.equal(rule("MATURITY_NOT_AFTER_REPORTING").rows_checked, 1);
  assert.match(
    rule("NULL_PD_12M_CURRENT").description,
    /general approach/,
  );
});

Deno.test("validatePortfolio() rejects a receivable's PD only when one is given and out of range", async () => {
  const columns = [...LEDGER, "pd_12m_origination", "pd_12m_current"];
  const result = await validate([
    { ...INVOICE, pd_12m_origination: "", pd_12m_current: "" },
    {
      ...INVOICE,
      loan_id: "INV-2",
      pd_12m_origination: "0.01",
      pd_12m_current: "1.5",
    },
    { ...GOOD_MORTGAGE, loan_id: "M-1", product: "sme", pd_12m_current: "" },
  ], columns);
  assert.deepEqual(codesById(result), {
    "INV-2": ["PD_CURRENT_OUT_OF_RANGE"],
    "M-1": ["NULL_PD_12M_CURRENT"],
  });
  // The columns are there, only empty: nothing to warn about.
  assert.deepEqual(result.report.warnings, []);
});

Deno.test("validatePortfolio() refuses a file without PD columns when no product is on the simplified approach", async () => {
  assert.deepEqual(
    requiredColumns(RULES).filter((c) => c.startsWith("pd_")),
    ["pd_12m_origination", "pd_12m_current"],
  );
  assert.deepEqual(
    requiredColumns(WITH_RECEIVABLES).filter((c) => c.startsWith("pd_")),
    [],
  );
  const path = writeTemp(csv([{ ...INVOICE, product: "sme" }], LEDGER));
  await assert.rejects(
    () => validatePortfolio(scanPortfolio(path), RULES, { file: path }),
    (e: unknown) => {
      assert.ok(e instanceof PortfolioReadError);
      assert.match(
        e.message,
        /missing required columns pd_12m_origination, pd_12m_current/,
      );
      return true;
    },
  );
});
