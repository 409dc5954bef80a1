/**
 * Tiny portfolios for the validation tests, written as CSV text into a
 * temporary directory so every fixture is visible in the test itself.
 *
 * @module
 */
import { parseRules, type Rules } from "../../lib/rules.ts";
import { PORTFOLIO_COLUMNS } from "../../lib/schema.ts";

/** One portfolio row as the text of its CSV fields. */
export type Row = Record<string, string>;

/** A facility that breaks no rule: an annuity mortgage. */
export const GOOD_MORTGAGE: Row = {
  loan_id: "G1",
  customer_id: "C1",
  reporting_date: "2025-12-31",
  origination_date: "2024-01-15",
  maturity_date: "2034-01-15",
  product: "mortgage",
  segment: "",
  region: "north",
  currency: "EUR",
  balance: "1000",
  credit_limit: "",
  interest_rate: "0.05",
  days_past_due: "0",
  pd_12m_origination: "0.01",
  pd_12m_current: "0.02",
  collateral_value: "800",
  watchlist: "false",
  forborne: "0",
  default_flag: "FALSE",
  previous_stage: "1",
  write_off_amount: "",
};

/** A revolving facility that breaks no rule: no maturity date needed. */
export const GOOD_CARD: Row = {
  ...GOOD_MORTGAGE,
  loan_id: "G2",
  product: "credit_card",
  maturity_date: "",
  balance: "200",
  credit_limit: "500",
  collateral_value: "",
  watchlist: "True",
  forborne: "",
  default_flag: "",
  previous_stage: "",
};

/** All §1 columns, in schema order. */
export const ALL_COLUMNS = PORTFOLIO_COLUMNS.map((c) => c.name as string);

/** CSV text for `rows` with the given header (default: all §1 columns). */
export function csv(rows: Row[], columns: string[] = ALL_COLUMNS): string {
  const quote = (s: string) =>
    /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  return [
    columns.join(","),
    ...rows.map((r) => columns.map((c) => quote(r[c] ?? "")).join(",")),
  ].join("\n") + "\n";
}

/**
 * One temporary folder per test process for {@link writeTemp}'s files,
 * removed when the process ends, so thousands of calls leave nothing in
 * the system's temporary folder.
 */
let tempRoot: string | undefined;

/** Writes `text` to a new temporary directory and returns the file path. */
export function writeTemp(
  text: string | Uint8Array,
  name = "portfolio.csv",
): string {
  if (tempRoot === undefined) {
    const root = Deno.makeTempDirSync({ prefix: "validation_test_" });
    globalThis.addEventListener("unload", () => {
      Deno.removeSync(root, { recursive: true });
    });
    tempRoot = root;
  }
  const dir = Deno.makeTempDirSync({ dir: tempRoot });
  const path = `${dir}/${name}`;
  if (typeof text === "string") Deno.writeTextFileSync(path, text);
  else Deno.writeFileSync(path, text);
  return path;
}

/** The reference products of methodology §10 and a 5% reject limit. */
export const RULES: Rules = parseRules(
  `
reporting_currency: EUR
products:
  mortgage: { repayment: annuity }
  consumer: { repayment: linear }
  sme: { repayment: bullet }
  credit_card: { repayment: revolving, ccf: 0.75, behavioural_life_months: 36 }
scenarios:
  - { name: base, weight: 1, pd_multiplier: [1.0] }
validation:
  max_reject_rate: 0.05
`,
  "tests/validation/_fixture.ts",
);
