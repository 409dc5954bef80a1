/**
 * A small synthetic portfolio for the run tests, made here rather than by
 * the generator so these tests depend only on the §1 contract: `n` loans
 * over every configured product and the currencies EUR, USD and MXN, with
 * a few facilities in each stage. Values come from a fixed linear
 * congruential sequence, so the file is the same on every call.
 *
 * @module
 */
import pl from "nodejs-polars";

/** Reporting date of the fixture portfolio. */
export const REPORTING_DATE = "2025-12-31";

const PRODUCTS = ["mortgage", "auto", "consumer", "sme", "credit_card"];
const CURRENCIES = ["EUR", "USD", "MXN"];
const REGIONS = ["north", "south", "east"];

/** The fixture as a frame of §1 columns. `bad` rows get a negative balance. */
export function portfolioFrame(n: number, bad = 0): pl.DataFrame {
  let seed = 12345;
  const u = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const cols: Record<string, unknown[]> = {
    loan_id: [],
    customer_id: [],
    reporting_date: [],
    origination_date: [],
    maturity_date: [],
    product: [],
    segment: [],
    region: [],
    currency: [],
    balance: [],
    credit_limit: [],
    interest_rate: [],
    days_past_due: [],
    pd_12m_origination: [],
    pd_12m_current: [],
    collateral_value: [],
    watchlist: [],
    forborne: [],
    default_flag: [],
    previous_stage: [],
    write_off_amount: [],
  };
  for (let i = 0; i < n; i++) {
    const product = PRODUCTS[i % PRODUCTS.length];
    const revolving = product === "credit_card";
    const balance = Math.round(1000 + u() * 99000);
    const pd0 = 0.005 + u() * 0.03;
    const dpd = i % 17 === 0 ? 95 : i % 11 === 0 ? 45 : 0;
    cols.loan_id.push(`L${String(i).padStart(7, "0")}`);
    cols.customer_id.push(`C${i % 997}`);
    cols.reporting_date.push(REPORTING_DATE);
    cols.origination_date.push(
      `20${String(15 + (i % 10)).padStart(2, "0")}-0${1 + (i % 9)}-15`,
    );
    cols.maturity_date.push(
      revolving ? null : `20${27 + (i % 20)}-0${1 + (i % 9)}-15`,
    );
    cols.product.push(product);
    cols.segment.push(i % 3 === 0 ? null : product);
    cols.region.push(REGIONS[i % 3]);
    cols.currency.push(CURRENCIES[(i >> 1) % 3]);
    cols.balance.push(i < bad ? -1 : balance);
    cols.credit_limit.push(revolving ? balance * 1.5 : null);
    cols.interest_rate.push(Math.round((0.02 + u() * 0.15) * 1e4) / 1e4);
    cols.days_past_due.push(dpd);
    cols.pd_12m_origination.push(pd0);
    cols.pd_12m_current.push(i % 7 === 0 ? Math.min(0.9, pd0 * 3 + 0.01) : pd0);
    cols.collateral_value.push(product === "mortgage" ? balance * 1.2 : null);
    cols.watchlist.push(i % 13 === 0);
    cols.forborne.push(false);
    cols.default_flag.push(i % 29 === 0);
    cols.previous_stage.push(1);
    cols.write_off_amount.push(null);
  }
  const date = (c: string) => pl.col(c).str.strptime(pl.Date, "%Y-%m-%d");
  return pl.DataFrame(cols).withColumns(
    date("reporting_date"),
    date("origination_date"),
    date("maturity_date"),
    pl.col("balance").cast(pl.Float64),
    pl.col("credit_limit").cast(pl.Float64),
    pl.col("collateral_value").cast(pl.Float64),
    pl.col("days_past_due").cast(pl.Int32),
    pl.col("previous_stage").cast(pl.Int32),
    pl.col("segment").cast(pl.Utf8),
    pl.col("write_off_amount").cast(pl.Float64),
  );
}

/** Writes the fixture as Parquet to `path` and returns `path`. */
export function writePortfolio(path: string, n: number, bad = 0): string {
  portfolioFrame(n, bad).writeParquet(path);
  return path;
}
