/**
 * The row-level rules of methodology §1 as Polars expressions, one pair per
 * rule code of `codes.ts`: where the rule applies (`applies`, counted as the
 * rule's rows checked) and where it is broken (`fails`, always within
 * `applies`). They read the working columns that {@link parsedColumnNames}
 * names, which `validatePortfolio` adds in the same lazy query.
 *
 * Every rule is evaluated on every row, so a row is rejected with all the
 * rules it breaks, not the first (methodology §1: "with every rule it
 * broke").
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Expr } from "../frame.ts";
import type { Rules } from "../rules.ts";
import { COL } from "../schema.ts";
import {
  allRuleCodes,
  GENERAL_APPROACH_ONLY,
  nullCode,
  PLAUSIBILITY_LIMITS,
  type PlausibilityRuleCode,
  REQUIRED_VALUE_COLUMNS,
  TYPED_COLUMNS,
  unparseableCode,
  type ValueRuleCode,
} from "./codes.ts";
import { ISO_4217_CODES } from "./iso4217.ts";
import { textToDate } from "./parse.ts";

/** One row-level rule as expressions. */
export interface RowRule {
  code: string;
  description: string;
  /** True on the rows the rule is checked on. */
  applies: Expr;
  /** True on the rows that break it; never null, never outside `applies`. */
  fails: Expr;
}

/** Names of the working columns validation adds for one portfolio column. */
export function parsedColumnNames(column: string): {
  value: string;
  missing: string;
} {
  return { value: `__v:${column}`, missing: `__m:${column}` };
}

const v = (c: string) => pl.col(parsedColumnNames(c).value);
const missing = (c: string) => pl.col(parsedColumnNames(c).missing);
const has = (...cs: string[]) =>
  cs.map((c) => v(c).isNotNull()).reduce((a, b) => a.and(b));

/**
 * The same day and month `years` later (or earlier, when negative) than a
 * scalar Date expression; a 29 February in a year without one becomes the
 * 28th (as the end-of-month convention of §2 would have it). Computed once
 * on the scalar, so each row compares two dates.
 */
function yearsFrom(date: Expr, years: number): Expr {
  // yyyymmdd as a number: adding years * 10000 moves the year only.
  const key = date.dt.year().cast(pl.Int32).mul(10_000)
    .add(date.dt.month().cast(pl.Int32).mul(100))
    .add(date.dt.day().cast(pl.Int32))
    .add(years * 10_000)
    .cast(pl.Int32); // a number literal makes the sum a float
  const asDate = (k: Expr) =>
    textToDate(k.cast(pl.Utf8).str.zFill(8), "%Y%m%d");
  return asDate(key).fillNull(asDate(key.sub(1)));
}

/** An amount beyond {@link PLAUSIBILITY_LIMITS}.maxAmount, either sign. */
const implausibleAmount = (c: string) => ({
  applies: has(c),
  breaks: v(c).abs().gt(PLAUSIBILITY_LIMITS.maxAmount),
});

/**
 * The rules, in the order of `allRuleCodes()` (which is also the order of
 * the codes on a rejected row).
 *
 * @param rules the rules file: configured products and their repayment
 * @param expectedReportingDate a scalar Date expression: the portfolio's
 *   reporting date (§1: "the same for every row of one portfolio")
 * @param duplicated true on the rows whose loan_id appears more than once
 *   in the whole portfolio. @default the count of the frame's own ids, for
 *   a frame holding the whole portfolio; a batch of a larger one passes
 *   the ids found repeated over the whole file (`validate.ts`)
 */
export function rowRules(
  rules: Rules,
  expectedReportingDate: Expr,
  duplicated?: Expr,
): RowRule[] {
  const products = Object.keys(rules.products);
  const simplified = products.filter((p) =>
    rules.products[p].approach === "simplified"
  );
  // §1: receivables under the simplified approach may carry any maturity
  // date, or none, and no PD (docs/simplified_approach.md): the provision
  // matrix reads neither. A row whose product is unknown or missing is
  // held to the general rules (it fails PRODUCT_UNKNOWN or NULL_PRODUCT).
  const onGeneralApproach = simplified.length === 0
    ? pl.lit(true)
    : v(COL.product).isIn(simplified).not().fillNull(true);
  const dated = products.filter((p) =>
    rules.products[p].repayment !== "revolving" &&
    rules.products[p].approach !== "simplified"
  );
  // Plausibility limits in time are counted from the portfolio's reporting
  // date (a row carrying another one is REPORTING_DATE_MISMATCH anyway).
  const latestMaturity = yearsFrom(
    expectedReportingDate,
    PLAUSIBILITY_LIMITS.maxMaturityYears,
  );
  const earliestOrigination = yearsFrom(
    expectedReportingDate,
    -PLAUSIBILITY_LIMITS.maxOriginationAgeYears,
  );
  // The rows whose maturity date sets the term (§2).
  const onDatedProduct = dated.length === 0
    ? pl.lit(false)
    : v(COL.product).isIn(dated).fillNull(false);
  const value: Record<
    ValueRuleCode | PlausibilityRuleCode,
    { applies: Expr; breaks: Expr }
  > = {
    LOAN_ID_DUPLICATE: {
      applies: has(COL.loanId),
      // Every row carrying a repeated id is rejected, not only the later
      // copies: no rule can tell which copy is the right one. A count over
      // the id groups is about twice as fast as `isDuplicated` here.
      breaks: duplicated ??
        v(COL.loanId).count().over(parsedColumnNames(COL.loanId).value)
          .gt(1),
    },
    REPORTING_DATE_MISMATCH: {
      applies: has(COL.reportingDate),
      breaks: v(COL.reportingDate).neq(expectedReportingDate),
    },
    ORIGINATION_AFTER_REPORTING: {
      applies: has(COL.originationDate, COL.reportingDate),
      breaks: v(COL.originationDate).gt(v(COL.reportingDate)),
    },
    MATURITY_NOT_AFTER_REPORTING: {
      applies: has(COL.maturityDate, COL.reportingDate).and(onGeneralApproach),
      breaks: v(COL.maturityDate).ltEq(v(COL.reportingDate)),
    },
    MATURITY_MISSING: {
      // §1: maturity_date is null only for revolving products (whose term
      // is the behavioural life, §2) and simplified-approach receivables;
      // unknown products fail PRODUCT_UNKNOWN.
      applies: onDatedProduct,
      breaks: missing(COL.maturityDate),
    },
    PRODUCT_UNKNOWN: {
      applies: has(COL.product),
      breaks: v(COL.product).isIn(products).not(),
    },
    CURRENCY_INVALID: {
      applies: has(COL.currency),
      breaks: v(COL.currency).isIn(ISO_4217_CODES as string[]).not(),
    },
    BALANCE_NEGATIVE: {
      applies: has(COL.balance),
      breaks: v(COL.balance).lt(0),
    },
    CREDIT_LIMIT_BELOW_BALANCE: {
      applies: has(COL.creditLimit, COL.balance),
      breaks: v(COL.creditLimit).lt(v(COL.balance)),
    },
    INTEREST_RATE_OUT_OF_RANGE: {
      applies: has(COL.interestRate),
      breaks: v(COL.interestRate).lt(0).or(v(COL.interestRate).gtEq(1)),
    },
    DPD_NEGATIVE: {
      applies: has(COL.daysPastDue),
      breaks: v(COL.daysPastDue).lt(0),
    },
    PD_ORIGINATION_OUT_OF_RANGE: {
      applies: has(COL.pd12mOrigination),
      breaks: v(COL.pd12mOrigination).ltEq(0)
        .or(v(COL.pd12mOrigination).gtEq(1)),
    },
    PD_CURRENT_OUT_OF_RANGE: {
      applies: has(COL.pd12mCurrent),
      breaks: v(COL.pd12mCurrent).ltEq(0).or(v(COL.pd12mCurrent).gt(1)),
    },
    COLLATERAL_NEGATIVE: {
      applies: has(COL.collateralValue),
      breaks: v(COL.collateralValue).lt(0),
    },
    PREVIOUS_STAGE_INVALID: {
      applies: has(COL.previousStage),
      breaks: v(COL.previousStage).isIn([1, 2, 3]).not(),
    },
    WRITE_OFF_NEGATIVE: {
      applies: has(COL.writeOffAmount),
      breaks: v(COL.writeOffAmount).lt(0),
    },
    // Plausibility limits: values no real facility has (PLAUSIBILITY_LIMITS
    // in codes.ts says why each limit is where it is).
    BALANCE_IMPLAUSIBLE: implausibleAmount(COL.balance),
    CREDIT_LIMIT_IMPLAUSIBLE: implausibleAmount(COL.creditLimit),
    COLLATERAL_IMPLAUSIBLE: implausibleAmount(COL.collateralValue),
    WRITE_OFF_IMPLAUSIBLE: implausibleAmount(COL.writeOffAmount),
    MATURITY_TOO_FAR: {
      // Only where the maturity sets the term (§2): the products that
      // MATURITY_MISSING applies to.
      applies: has(COL.maturityDate, COL.reportingDate).and(onDatedProduct),
      breaks: v(COL.maturityDate).gt(latestMaturity),
    },
    ORIGINATION_TOO_OLD: {
      applies: has(COL.originationDate, COL.reportingDate),
      breaks: v(COL.originationDate).lt(earliestOrigination),
    },
    LOAN_ID_INVALID: {
      applies: has(COL.loanId),
      // A control character would break every line it is printed on, and
      // a CSV export of the results.
      breaks: v(COL.loanId).str.lengths().gt(PLAUSIBILITY_LIMITS.maxIdChars)
        .or(v(COL.loanId).str.contains("[\\x00-\\x1f\\x7f]")),
    },
    DPD_IMPLAUSIBLE: {
      applies: has(COL.daysPastDue),
      breaks: v(COL.daysPastDue).gt(PLAUSIBILITY_LIMITS.maxDaysPastDue),
    },
  };

  const byCode = new Map<string, { applies: Expr; breaks: Expr }>();
  for (const c of REQUIRED_VALUE_COLUMNS) {
    byCode.set(nullCode(c), {
      applies: GENERAL_APPROACH_ONLY.has(c) ? onGeneralApproach : pl.lit(true),
      breaks: missing(c),
    });
  }
  for (const c of TYPED_COLUMNS) {
    // Present but null once typed: the text did not parse (parse.ts).
    byCode.set(unparseableCode(c), {
      applies: missing(c).not(),
      breaks: v(c).isNull(),
    });
  }
  for (const [code, rule] of Object.entries(value)) byCode.set(code, rule);

  return allRuleCodes().map(({ code, description }) => {
    const rule = byCode.get(code);
    if (!rule) {
      throw new Error(`validation has no check for rule code ${code}`);
    }
    return {
      code,
      description,
      applies: rule.applies,
      fails: rule.applies.and(rule.breaks.fillNull(false)),
    };
  });
}
