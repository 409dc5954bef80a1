/**
 * Codes of the row-level validation rules (methodology §1) and the
 * plausibility limits behind some of them ({@link PLAUSIBILITY_LIMITS}, the
 * one place they are set). The validator reports every code a row breaks;
 * the generator's breakage injection uses the same lists (the NULL_,
 * UNPARSEABLE_ and value rules), so a new rule is one entry here, one check
 * in the validator (`checks.ts`) and, for a value rule, one breakage in the
 * generator.
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

/**
 * `NULL_<COLUMN>`: a required value is missing: null, empty, or (in a text
 * column) only whitespace.
 */
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

/** A code of {@link VALUE_RULES}. */
export type ValueRuleCode = keyof typeof VALUE_RULES;

/**
 * Plausibility limits of the row-level rules (methodology §1, "Plausibility
 * limits"): values beyond any real facility, which would otherwise pass the
 * contract's ranges and then break a figure downstream. A row beyond a limit
 * is rejected with the code of {@link PLAUSIBILITY_RULES}, like every other
 * bad row; nothing is clamped. Each limit is inclusive: a value at the limit
 * passes.
 *
 * The contract's own ranges (`0 <= interest_rate < 1`, `0 < pd_12m_origination
 * < 1`, `0 < pd_12m_current <= 1`, `previous_stage` in 1..3) are value rules
 * of {@link VALUE_RULES}. A facility at every limit at once computes
 * finite figures (tests/hardening/validation_test.ts).
 */
export const PLAUSIBILITY_LIMITS = {
  /**
   * Largest money amount, in absolute value and in the facility's own
   * currency, of `balance`, `credit_limit`, `collateral_value` and
   * `write_off_amount`: 1e15 (a thousand trillion).
   *
   * Why: an amount beyond any real facility is a data error (a misplaced
   * decimal point, a placeholder such as 9.99e18) that passed validation
   * and then broke the totals: about 9.2e16 and more fell out of the
   * exact-cent sums (then 64-bit integers of cents), and 1e308 made the
   * figures infinite or NaN. 1e15 is above any real facility in any
   * currency (1e15 Vietnamese dong or Iranian rials are tens of billions
   * of US dollars), and a sum of up to 387 million amounts at the limit
   * stays within what `lib/precise_sum.ts` sums without losing a value
   * (`PRECISE_SUM_MAX_ABS_TOTAL`; above 9.0e13 a total is no longer exact
   * to the cent in Float64, which that module reports).
   */
  maxAmount: 1e15,
  /**
   * Latest maturity_date, in years after the reporting date: 100 (the same
   * day and month 100 years on).
   *
   * Why: the term reaches 1,200 months at most, so the annuity factor
   * `(1 + r/12)^m` stays finite for every allowed interest rate (below 1:
   * at most about 5e41); a 9999-12-31 maturity on a 20% annuity overflowed
   * it and gave a NaN ECL. No lending product runs longer than 100 years
   * (the longest mortgages run 50). Checked where the maturity sets the
   * term: non-revolving products on the general approach. A revolving
   * facility's term is its `behavioural_life_months` and a simplified-
   * approach receivable's maturity is not read, so a placeholder date such
   * as 9999-12-31 there changes nothing.
   */
  maxMaturityYears: 100,
  /**
   * Earliest origination_date, in years before the reporting date: 100
   * (the same day and month 100 years earlier).
   *
   * Why: a facility still outstanding after more than 100 years does not
   * exist (the longest terms are 50 years); such a date is a placeholder
   * (`1900-01-01`, `0001-01-01`) or a typo, and a wrong origination date
   * misstates the facility's age and vintage.
   */
  maxOriginationAgeYears: 100,
  /**
   * Largest days_past_due: 36,500 (100 years).
   *
   * Why: a payment cannot be overdue for longer than a facility can be
   * outstanding (see `maxOriginationAgeYears`); a larger figure is a date
   * difference taken from a placeholder date such as `0001-01-01`.
   */
  maxDaysPastDue: 36_500,
  /**
   * Longest loan_id, in characters: 256.
   *
   * Why: source systems' keys are tens of characters; a longer "id" is a
   * whole record or a file pasted into one cell, and it is printed as an
   * example in every report and message (five 1 MB ids made 9 MB of
   * console output).
   */
  maxIdChars: 256,
} as const;

const amountText = PLAUSIBILITY_LIMITS.maxAmount.toExponential().replace(
  "+",
  "",
);

/**
 * The rules of {@link PLAUSIBILITY_LIMITS}, reported after
 * {@link VALUE_RULES}. They are kept apart from the value rules because
 * the generator's breakage injection (`lib/generate/inject.ts`) covers the
 * value rules, whose breakages it knows how to make.
 */
export const PLAUSIBILITY_RULES = {
  BALANCE_IMPLAUSIBLE:
    `balance is above ${amountText} in absolute value (PLAUSIBILITY_LIMITS.maxAmount)`,
  CREDIT_LIMIT_IMPLAUSIBLE:
    `credit_limit is above ${amountText} in absolute value (PLAUSIBILITY_LIMITS.maxAmount)`,
  COLLATERAL_IMPLAUSIBLE:
    `collateral_value is above ${amountText} in absolute value (PLAUSIBILITY_LIMITS.maxAmount)`,
  WRITE_OFF_IMPLAUSIBLE:
    `write_off_amount is above ${amountText} in absolute value (PLAUSIBILITY_LIMITS.maxAmount)`,
  MATURITY_TOO_FAR:
    `maturity_date is more than ${PLAUSIBILITY_LIMITS.maxMaturityYears} years after reporting_date (PLAUSIBILITY_LIMITS.maxMaturityYears; non-revolving products of the general approach)`,
  ORIGINATION_TOO_OLD:
    `origination_date is more than ${PLAUSIBILITY_LIMITS.maxOriginationAgeYears} years before reporting_date (PLAUSIBILITY_LIMITS.maxOriginationAgeYears)`,
  LOAN_ID_INVALID:
    `loan_id is longer than ${PLAUSIBILITY_LIMITS.maxIdChars} characters (PLAUSIBILITY_LIMITS.maxIdChars) or holds a control character (a tab, a line break, NUL)`,
  DPD_IMPLAUSIBLE: `days_past_due is above ${
    PLAUSIBILITY_LIMITS.maxDaysPastDue.toLocaleString("en-US")
  } (PLAUSIBILITY_LIMITS.maxDaysPastDue)`,
} as const;

/** A code of {@link PLAUSIBILITY_RULES}. */
export type PlausibilityRuleCode = keyof typeof PLAUSIBILITY_RULES;

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
    ...Object.entries({ ...VALUE_RULES, ...PLAUSIBILITY_RULES }).map((
      [code, description],
    ) => ({ code, description })),
  ];
}
