/**
 * The portfolio schema: the input columns of methodology §1 as named
 * constants and a Polars schema, and the loan-level output columns of
 * methodology §9. Every step refers to columns through these constants so a
 * rename happens in one place.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataType } from "./frame.ts";

/** Input column names (methodology §1). */
export const COL = {
  loanId: "loan_id",
  customerId: "customer_id",
  reportingDate: "reporting_date",
  originationDate: "origination_date",
  maturityDate: "maturity_date",
  product: "product",
  segment: "segment",
  region: "region",
  currency: "currency",
  balance: "balance",
  creditLimit: "credit_limit",
  interestRate: "interest_rate",
  daysPastDue: "days_past_due",
  pd12mOrigination: "pd_12m_origination",
  pd12mCurrent: "pd_12m_current",
  collateralValue: "collateral_value",
  watchlist: "watchlist",
  forborne: "forborne",
  defaultFlag: "default_flag",
  previousStage: "previous_stage",
  /**
   * Not in §1: the amount written off in the period that ends at the
   * reporting date. The generator's multi-period snapshots carry it so that
   * movement analysis can tell a write-off from a repayment (IFRS 7 §35H).
   */
  writeOffAmount: "write_off_amount",
} as const;

/**
 * The prefix of the library's working columns, which an input portfolio may
 * not use: validation adds `__row`, `__rejected`, `__reporting_date`,
 * `__v:<column>`, `__m:<column>`, `__chk:<code>`, `__fail:<code>` and
 * `__mask<n>` to the rows it reads (`lib/validation/`), and the engine adds
 * `__product_code`, `__balance`, `__overlay_<n>` and the like
 * (`lib/engine/`). An input column of such a name would collide with one of
 * them or be silently replaced, so `requireColumns` refuses a portfolio
 * with any column that starts with it, naming the column.
 */
export const RESERVED_COLUMN_PREFIX = "__";

/** A column name of the input portfolio. */
export type PortfolioColumn = (typeof COL)[keyof typeof COL];

/** Kinds of value a portfolio column holds, independent of Polars. */
export type ColumnKind = "string" | "date" | "float" | "int" | "bool";

/** One column of the portfolio contract. */
export interface ColumnSpec {
  /** The column's name in the portfolio file, as in {@link COL}. */
  name: PortfolioColumn;
  /**
   * The type its values must parse as (methodology §1), held in Polars as
   * {@link POLARS_TYPE}.
   */
  kind: ColumnKind;
  /** Whether a portfolio without this column is refused. */
  required: boolean;
  /** Whether a null value in a present column breaks a rule. */
  nullable: boolean;
  /**
   * Required, column and value, only for facilities of products on the
   * general approach: the PD columns, which the simplified approach (IFRS 9
   * §5.5.15, B5.5.35) does not use (docs/simplified_approach.md). A file
   * without them is refused only when the rules configure no simplified
   * product; otherwise a general-approach row without a PD is rejected with
   * its `NULL_<COLUMN>` code.
   */
  generalApproachOnly?: boolean;
}

/**
 * The columns of methodology §1, in their canonical order. The PD columns
 * are required for the general approach, which reads PDs from the portfolio
 * (§1, footnote), and not for receivables under the simplified approach
 * ({@link ColumnSpec.generalApproachOnly}).
 */
export const PORTFOLIO_COLUMNS: readonly ColumnSpec[] = [
  { name: COL.loanId, kind: "string", required: true, nullable: false },
  { name: COL.customerId, kind: "string", required: false, nullable: true },
  { name: COL.reportingDate, kind: "date", required: true, nullable: false },
  { name: COL.originationDate, kind: "date", required: true, nullable: false },
  { name: COL.maturityDate, kind: "date", required: false, nullable: true },
  { name: COL.product, kind: "string", required: true, nullable: false },
  { name: COL.segment, kind: "string", required: false, nullable: true },
  { name: COL.region, kind: "string", required: false, nullable: true },
  { name: COL.currency, kind: "string", required: true, nullable: false },
  { name: COL.balance, kind: "float", required: true, nullable: false },
  { name: COL.creditLimit, kind: "float", required: false, nullable: true },
  { name: COL.interestRate, kind: "float", required: true, nullable: false },
  { name: COL.daysPastDue, kind: "int", required: true, nullable: false },
  {
    name: COL.pd12mOrigination,
    kind: "float",
    required: false,
    nullable: false,
    generalApproachOnly: true,
  },
  {
    name: COL.pd12mCurrent,
    kind: "float",
    required: false,
    nullable: false,
    generalApproachOnly: true,
  },
  { name: COL.collateralValue, kind: "float", required: false, nullable: true },
  { name: COL.watchlist, kind: "bool", required: false, nullable: true },
  { name: COL.forborne, kind: "bool", required: false, nullable: true },
  { name: COL.defaultFlag, kind: "bool", required: false, nullable: true },
  { name: COL.previousStage, kind: "int", required: false, nullable: true },
  { name: COL.writeOffAmount, kind: "float", required: false, nullable: true },
];

/** The Polars type each kind is held in once typed. */
export const POLARS_TYPE: Record<ColumnKind, DataType> = {
  string: pl.Utf8,
  date: pl.Date,
  float: pl.Float64,
  int: pl.Int32,
  bool: pl.Bool,
};

/** The typed portfolio schema: column name to Polars type. */
export const PORTFOLIO_SCHEMA: Record<PortfolioColumn, DataType> = Object
  .fromEntries(
    PORTFOLIO_COLUMNS.map((c) => [c.name, POLARS_TYPE[c.kind]]),
  ) as Record<PortfolioColumn, DataType>;

/** One optional borrower characteristic: its column name and value kind. */
export interface CharacteristicSpec {
  /** The column's name in the portfolio file. */
  name: string;
  /** The type of its values, held in Polars as {@link POLARS_TYPE}. */
  kind: ColumnKind;
}

/**
 * Optional borrower characteristics, not in methodology §1: what a PD model
 * is developed on (`lib/pd_model/sample.ts`). The generator writes them
 * after the §1 columns, in this order (docs/generator.md, "Borrower
 * characteristics"); the ECL engine does not read them, and validation
 * passes them through to the valid rows as read, without the
 * unknown-column warning.
 */
export const CHARACTERISTIC_COLUMNS: readonly CharacteristicSpec[] = [
  { name: "credit_score", kind: "int" },
  { name: "debt_to_income", kind: "float" },
  { name: "months_on_book", kind: "int" },
  { name: "employment_type", kind: "string" },
  { name: "ltv", kind: "float" },
  { name: "rating", kind: "string" },
];

/** Loan-level output columns (methodology §9), before the per-scenario ones. */
export const RESULT_COLUMNS = [
  "loan_id",
  "reporting_date",
  "product",
  "segment",
  "region",
  "currency",
  "stage",
  "stage_reason",
  "stage_triggers",
  "remaining_term_months",
  "ead",
  "pd_12m",
  "pd_lifetime",
  "lgd",
  "ecl_12m",
  "ecl_lifetime",
  "ecl_model",
  "ecl",
] as const;

/**
 * The columns a run computes and writes beside the portfolio's in
 * `loan_results.parquet` (methodology §9 and the run folder's extras), and
 * the prefix of the per-scenario ones. An input column of such a name
 * would be overwritten, or collide inside the engine, so `requireColumns`
 * refuses it, naming it.
 */
export const COMPUTED_COLUMNS: readonly string[] = [
  ...RESULT_COLUMNS.filter((c) => !PORTFOLIO_COLUMNS.some((p) => p.name === c)),
  "overlays_applied",
  "overlay_impacts",
  "overlay_floor",
  "fx_rate",
  "ead_rc",
  "ecl_rc",
];

/** The output column holding one scenario's ECL: `ecl_<scenario name>` (§9). */
export function scenarioEclColumn(scenario: string): string {
  return `ecl_${scenario}`;
}

/** Stage reasons of methodology §3, in rule order, plus the extensions. */
export const STAGE_REASON = {
  defaultFlag: "DEFAULT_FLAG",
  dpd90: "DPD_90",
  dpd30: "DPD_30",
  watchlist: "WATCHLIST",
  forborne: "FORBORNE",
  pdSicr: "PD_SICR",
  performing: "PERFORMING",
  /** Opt-in: a stage-3 facility that cured goes through stage 2 first. */
  probation: "PROBATION",
  /** Simplified approach (IFRS 9 §5.5.15): lifetime ECL without SICR test. */
  simplified: "SIMPLIFIED",
} as const;
