/**
 * Codes of the row-level validation rules (methodology §1). The validator
 * reports every code a row breaks; the generator's breakage injection uses
 * the same list, so a new rule is one entry here and one check in the
 * validator.
 *
 * @module
 */

import { PORTFOLIO_COLUMNS } from "../schema.ts";

/** Columns whose value only the general approach needs (the PDs). */
export const GENERAL_APPROACH_ONLY: ReadonlySet<string> = new Set(
  PORTFOLIO_COLUMNS.filter((c) => c.generalApproachOnly).map((c) => c.name),
);

/** A row-level rule: its code and what it means. */
export interface RuleCode {
  code: string;
  description: string;
}

/** Columns whose value must be present (methodology §1, "required"). */
export const REQUIRED_VALUE_COLUMNS = [
  "loan_id",
  "reporting_date",
  "origination_date",
  "product",
  "currency",
  "balance",
  "interest_rate",
  "days_past_due",
  "pd_12m_origination",
  "pd_12m_current",
] as const;

/** Columns parsed from text into a number, date or boolean. */
export const TYPED_COLUMNS = [
  "reporting_date",
  "origination_date",
  "maturity_date",
  "balance",
  "credit_limit",
  "interest_rate",
  "days_past_due",
  "pd_12m_origination",
  "pd_12m_current",
  "collateral_value",
  "watchlist",
  "forborne",
  "default_flag",
  "previous_stage",
  "write_off_amount",
] as const;

/** `NULL_<COLUMN>`: a required value is missing (or an empty loan_id). */
export const nullCode = (column: string) => `NULL_${column.toUpperCase()}`;
/** `UNPARSEABLE_<COLUMN>`: the value is not of the column's type, or NaN / infinite. */
export const unparseableCode = (column: string) =>
  `UNPARSEABLE_${column.toUpperCase()}`;

/** Range and cross-field rules, in the order they are reported. */
export const VALUE_RULES = {
  LOAN_ID_DUPLICATE:
    "loan_id appears on more than one row (every such row is rejected)",
  REPORTING_DATE_MISMATCH:
    "reporting_date differs from the portfolio's reporting date",
  ORIGINATION_AFTER_REPORTING: "origination_date is after reporting_date",
  MATURITY_NOT_AFTER_REPORTING:
    "maturity_date is not after reporting_date (simplified-approach products excepted)",
  MATURITY_MISSING:
    "maturity_date is missing on a non-revolving product (simplified-approach products excepted)",
  PRODUCT_UNKNOWN: "product is not configured in the rules file",
  CURRENCY_INVALID: "currency is not an ISO 4217 code",
  BALANCE_NEGATIVE: "balance is below 0",
  CREDIT_LIMIT_BELOW_BALANCE: "credit_limit is below balance",
  INTEREST_RATE_OUT_OF_RANGE: "interest_rate is outside 0 <= r < 1",
  DPD_NEGATIVE: "days_past_due is below 0",
  PD_ORIGINATION_OUT_OF_RANGE: "pd_12m_origination is outside 0 < p < 1",
  PD_CURRENT_OUT_OF_RANGE: "pd_12m_current is outside 0 < p <= 1",
  COLLATERAL_NEGATIVE: "collateral_value is below 0",
  PREVIOUS_STAGE_INVALID: "previous_stage is not 1, 2 or 3",
  WRITE_OFF_NEGATIVE: "write_off_amount is below 0",
} as const;

export type ValueRuleCode = keyof typeof VALUE_RULES;

/** Every row-level rule code with its description. */
export function allRuleCodes(): RuleCode[] {
  return [
    ...REQUIRED_VALUE_COLUMNS.map((c) => ({
      code: nullCode(c),
      description: GENERAL_APPROACH_ONLY.has(c)
        ? `${c} is required on products of the general approach but missing`
        : `${c} is required but missing`,
    })),
    ...TYPED_COLUMNS.map((c) => ({
      code: unparseableCode(c),
      description: `${c} cannot be read as its type (or is NaN / infinite)`,
    })),
    ...Object.entries(VALUE_RULES).map(([code, description]) => ({
      code,
      description,
    })),
  ];
}
