/**
 * One snapshot of a batch as typed arrays, and its conversion into a Polars
 * frame with the portfolio columns of methodology §1 in `PORTFOLIO_COLUMNS`
 * order, typed exactly as `PORTFOLIO_SCHEMA`, plus `write_off_amount`, then
 * the borrower characteristics in `CHARACTERISTIC_COLUMNS` order
 * (docs/generator.md).
 *
 * Strings are built by Polars from small dictionaries (codes to names) and
 * number formatting, not row by row in JavaScript, which keeps a batch of a
 * quarter of a million rows at a few tens of milliseconds.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame, Expr, Series } from "../frame.ts";
import {
  CHARACTERISTIC_COLUMNS,
  POLARS_TYPE,
  PORTFOLIO_COLUMNS,
  PORTFOLIO_SCHEMA,
} from "../schema.ts";
import type { PortfolioColumn } from "../schema.ts";
import {
  COUNTRIES,
  CURRENCIES,
  EMPLOYMENT_TYPES,
  PRODUCTS,
  RATING_SCALE,
  REGIONS,
} from "./catalogue.ts";

/**
 * Names outside the catalogue that breakage injection writes: an
 * unconfigured product and a currency that is not an ISO 4217 code.
 */
export const UNKNOWN_PRODUCT = "leasing";
export const INVALID_CURRENCY = "EURO";

/** Dictionary of the `product` codes (the last one unknown to the rules). */
export const PRODUCT_NAMES = [...PRODUCTS.map((p) => p.name), UNKNOWN_PRODUCT];
/** Dictionary of the `currency` codes (the last one not ISO 4217). */
export const CURRENCY_NAMES = [...CURRENCIES, INVALID_CURRENCY];

/** Columns of one snapshot of one batch, row `i` one facility. */
export interface Snapshot {
  reportingDay: number;
  n: number;
  /** Loan number: `loan_id` is `L` + 12 digits of it. */
  id: Float64Array;
  /** Customer number: `customer_id` is `C` + 12 digits of it. */
  cust: Float64Array;
  reporting: Int32Array;
  orig: Int32Array;
  mat: Int32Array;
  product: Uint8Array;
  country: Uint8Array;
  region: Uint8Array;
  currency: Uint8Array;
  balance: Float64Array;
  limit: Float64Array;
  rate: Float64Array;
  dpd: Int32Array;
  pd0: Float64Array;
  pd1: Float64Array;
  coll: Float64Array;
  /** `credit_score`. */
  score: Int32Array;
  /** `debt_to_income`. */
  dti: Float64Array;
  /** `employment_type`, as an index into `EMPLOYMENT_TYPES`. */
  emp: Uint8Array;
  /** `ltv` (at origination); NaN (written null) where unsecured. */
  ltv: Float64Array;
  /** `months_on_book`. */
  mob: Int32Array;
  /** `rating`, as an index into `RATING_SCALE`. */
  rating: Uint8Array;
  watch: Uint8Array;
  forb: Uint8Array;
  dflag: Uint8Array;
  prev: Int32Array;
  writeOff: Float64Array;
  /** Latent credit state (1, 2, 3): the stage the reference rules give. */
  state: Uint8Array;
  /** Per column, 1 where the value is null. */
  nulls: Partial<Record<PortfolioColumn, Uint8Array>>;
  /**
   * Per column, 1 where a CSV file shows unparseable text instead of the
   * value (breakage injection); see {@link UNPARSEABLE_TEXT}.
   */
  text: Partial<Record<PortfolioColumn, Uint8Array>>;
}

/**
 * What a broken CSV cell holds instead of a number, date, integer or
 * boolean: spreadsheet errors and foreign formats a real extract shows
 * (never an empty cell or `NA`, which readers take for null).
 */
export const UNPARSEABLE_TEXT: Record<string, string> = {
  date: "31.12.2025",
  float: "#VALUE!",
  int: "3 months",
  bool: "unknown",
};

const KIND = new Map(PORTFOLIO_COLUMNS.map((c) => [c.name, c.kind]));

/** Raw series of the snapshot's arrays, named `__<column>`. */
function rawFrame(s: Snapshot): DataFrame {
  const series: Series[] = [
    pl.Series("__id", s.id),
    pl.Series("__cust", s.cust),
    pl.Series("__reporting", s.reporting),
    pl.Series("__orig", s.orig),
    pl.Series("__mat", s.mat),
    pl.Series("__product", s.product),
    pl.Series("__country", s.country),
    pl.Series("__region", s.region),
    pl.Series("__currency", s.currency),
    pl.Series("__balance", s.balance),
    pl.Series("__limit", s.limit),
    pl.Series("__rate", s.rate),
    pl.Series("__dpd", s.dpd),
    pl.Series("__pd0", s.pd0),
    pl.Series("__pd1", s.pd1),
    pl.Series("__coll", s.coll),
    pl.Series("__watch", s.watch),
    pl.Series("__forb", s.forb),
    pl.Series("__dflag", s.dflag),
    pl.Series("__prev", s.prev),
    pl.Series("__writeoff", s.writeOff),
    pl.Series("__score", s.score),
    pl.Series("__dti", s.dti),
    pl.Series("__emp", s.emp),
    pl.Series("__ltv", s.ltv),
    pl.Series("__mob", s.mob),
    pl.Series("__rating", s.rating),
  ];
  for (const [col, mask] of Object.entries(s.nulls)) {
    if (mask && mask.includes(1)) series.push(pl.Series(`__null_${col}`, mask));
  }
  for (const [col, mask] of Object.entries(s.text)) {
    if (mask && mask.includes(1)) series.push(pl.Series(`__text_${col}`, mask));
  }
  return pl.DataFrame(series);
}

const codeToName = (raw: string, names: readonly string[]) =>
  pl.col(raw).cast(pl.UInt32).replaceStrict(
    names.map((_, k) => k),
    [...names],
    undefined,
    pl.Utf8,
  );

const paddedId = (raw: string, prefix: string) =>
  pl.concatString([
    pl.lit(prefix),
    pl.col(raw).cast(pl.Int64).cast(pl.Utf8).str.padStart(12, "0"),
  ], "");

/** The value expression of each output column, before nulls and text. */
function valueExprs(): Record<PortfolioColumn, Expr> {
  const product = codeToName("__product", PRODUCT_NAMES);
  return {
    loan_id: paddedId("__id", "L"),
    customer_id: paddedId("__cust", "C"),
    reporting_date: pl.col("__reporting").cast(pl.Date),
    origination_date: pl.col("__orig").cast(pl.Date),
    maturity_date: pl.col("__mat").cast(pl.Date),
    product,
    // Segment: product and country (e.g. `mortgage_es`), the granularity at
    // which a lender calibrates PD and LGD parameters.
    segment: pl.concatString([
      product,
      codeToName("__country", COUNTRIES.map((c) => c.code)),
    ], "_"),
    region: codeToName("__region", REGIONS),
    currency: codeToName("__currency", CURRENCY_NAMES),
    balance: pl.col("__balance"),
    credit_limit: pl.col("__limit"),
    interest_rate: pl.col("__rate"),
    days_past_due: pl.col("__dpd"),
    pd_12m_origination: pl.col("__pd0"),
    pd_12m_current: pl.col("__pd1"),
    collateral_value: pl.col("__coll"),
    watchlist: pl.col("__watch").cast(pl.Bool),
    forborne: pl.col("__forb").cast(pl.Bool),
    default_flag: pl.col("__dflag").cast(pl.Bool),
    previous_stage: pl.col("__prev"),
    write_off_amount: pl.col("__writeoff"),
  };
}

/** The value expression of each borrower characteristic. */
function characteristicExprs(): Record<string, Expr> {
  return {
    credit_score: pl.col("__score"),
    debt_to_income: pl.col("__dti"),
    months_on_book: pl.col("__mob"),
    employment_type: codeToName("__emp", EMPLOYMENT_TYPES),
    ltv: pl.when(pl.col("__ltv").isNan()).then(pl.lit(null)).otherwise(
      pl.col("__ltv"),
    ),
    rating: codeToName("__rating", RATING_SCALE.map((g) => g.grade)),
  };
}

/**
 * Builds the snapshot's frame: `PORTFOLIO_COLUMNS` in order (including
 * `write_off_amount`), each cast to its `PORTFOLIO_SCHEMA` type, then the
 * `CHARACTERISTIC_COLUMNS`, each cast to its kind's type. Columns with
 * injected unparseable text (CSV only) are Utf8 instead.
 */
export function snapshotFrame(s: Snapshot): DataFrame {
  const raw = rawFrame(s);
  const names = new Set(raw.columns);
  const values = valueExprs();
  const exprs = PORTFOLIO_COLUMNS.map(({ name }) => {
    let e = values[name].cast(PORTFOLIO_SCHEMA[name]);
    if (names.has(`__null_${name}`)) {
      e = pl.when(pl.col(`__null_${name}`).eq(1)).then(
        pl.lit(null).cast(PORTFOLIO_SCHEMA[name]),
      ).otherwise(e);
    }
    if (names.has(`__text_${name}`)) {
      e = pl.when(pl.col(`__text_${name}`).eq(1)).then(
        pl.lit(UNPARSEABLE_TEXT[KIND.get(name)!]),
      ).otherwise(e.cast(pl.Utf8));
    }
    return e.alias(name);
  });
  const chars = characteristicExprs();
  for (const { name, kind } of CHARACTERISTIC_COLUMNS) {
    exprs.push(chars[name].cast(POLARS_TYPE[kind]).alias(name));
  }
  return raw.select(...exprs);
}

/** `loan_id` of a loan number, as {@link snapshotFrame} writes it. */
export function loanIdOf(id: number): string {
  return "L" + String(id).padStart(12, "0");
}
