/**
 * Breakage injection: turns a chosen share of a snapshot's rows into rows
 * the validator must reject, one rule code of lib/validation/codes.ts per
 * row, cycling through every code so that each kind appears once enough
 * rows are broken. The row, its loan_id and the code go to a sidecar file
 * (`injected_<date>.json`) so tests can check the validator caught each one.
 *
 * Only the broken cell changes; every other column keeps its valid value.
 *
 * @module
 */
import { PORTFOLIO_COLUMNS } from "../schema.ts";
import type { PortfolioColumn } from "../schema.ts";
import {
  nullCode,
  REQUIRED_VALUE_COLUMNS,
  TYPED_COLUMNS,
  unparseableCode,
  VALUE_RULES,
} from "../validation/codes.ts";
import { addMonths } from "./calendar.ts";
import { PRODUCTS, REVOLVING_PRODUCT } from "./catalogue.ts";
import type { Rng } from "./random.ts";
import {
  CURRENCY_NAMES,
  loanIdOf,
  PRODUCT_NAMES,
  type Snapshot,
} from "./snapshot.ts";

/** One injected row: where it is, which loan, and the code it must get. */
export interface InjectedRow {
  /** 0-based data row in the snapshot file (header excluded). */
  row: number;
  /** The row's loan_id as written; null where the id itself is broken. */
  loan_id: string | null;
  /**
   * The rule code of `lib/validation/codes.ts` the validator must reject
   * it with.
   */
  code: string;
}

/** Which representation of "unparseable" the output format can carry. */
export type InjectionFormat = "csv" | "parquet";

const KIND = new Map(PORTFOLIO_COLUMNS.map((c) => [c.name, c.kind]));

/**
 * The codes injection produces for a format: every NULL_*, every
 * UNPARSEABLE_* the format can hold (CSV: text in any typed column;
 * Parquet: NaN or infinity in float columns, as a typed file cannot hold
 * text in a number column) and every value rule.
 */
export function injectableCodes(format: InjectionFormat): string[] {
  const typed = TYPED_COLUMNS.filter((c) =>
    format === "csv" || KIND.get(c) === "float"
  );
  return [
    ...REQUIRED_VALUE_COLUMNS.map(nullCode),
    ...typed.map(unparseableCode),
    ...Object.keys(VALUE_RULES),
  ];
}

const CONSUMER = PRODUCTS.findIndex((p) => p.name === "consumer");

function mask(s: Snapshot, kind: "nulls" | "text", col: PortfolioColumn) {
  return (s[kind][col] ??= new Uint8Array(s.n));
}

/** The array of a float column in the snapshot. */
function floatArray(s: Snapshot, col: string): Float64Array {
  switch (col) {
    case "balance":
      return s.balance;
    case "credit_limit":
      return s.limit;
    case "interest_rate":
      return s.rate;
    case "pd_12m_origination":
      return s.pd0;
    case "pd_12m_current":
      return s.pd1;
    case "collateral_value":
      return s.coll;
    case "write_off_amount":
      return s.writeOff;
  }
  throw new RangeError(`Cannot inject into ${col}: not a float column`);
}

/**
 * Breaks row `i` so that it fails `code` (and, apart from duplicates, only
 * because of this cell). Returns the loan ids that end up on rejected rows
 * with this code: the row itself, and for LOAN_ID_DUPLICATE also row `i-1`
 * whose id it copies.
 */
function breakRow(
  s: Snapshot,
  i: number,
  code: string,
  format: InjectionFormat,
  rng: Rng,
): { rows: number[]; idBroken: boolean } {
  const one = { rows: [i], idBroken: false };
  if (code.startsWith("NULL_")) {
    const col = code.slice(5).toLowerCase() as PortfolioColumn;
    mask(s, "nulls", col)[i] = 1;
    return { rows: [i], idBroken: col === "loan_id" };
  }
  if (code.startsWith("UNPARSEABLE_")) {
    const col = code.slice(12).toLowerCase() as PortfolioColumn;
    if (s.nulls[col]) s.nulls[col]![i] = 0;
    if (format === "csv") mask(s, "text", col)[i] = 1;
    else floatArray(s, col)[i] = rng.chance(0.5) ? NaN : Infinity;
    return one;
  }
  const whole = (x: number) => Math.round(x * 100) / 100;
  switch (code) {
    case "LOAN_ID_DUPLICATE":
      // Both rows carry the id; the validator rejects every such row.
      s.id[i] = s.id[i - 1];
      return { rows: [i - 1, i], idBroken: false };
    case "REPORTING_DATE_MISMATCH":
      s.reporting[i] = addMonths(s.reportingDay, -3, true);
      return one;
    case "ORIGINATION_AFTER_REPORTING":
      s.orig[i] = s.reportingDay + rng.int(1, 20);
      return one;
    case "MATURITY_NOT_AFTER_REPORTING":
      s.mat[i] = s.reportingDay;
      if (s.nulls.maturity_date) s.nulls.maturity_date[i] = 0;
      return one;
    case "MATURITY_MISSING":
      // Only a non-revolving facility needs a maturity: a card row is
      // relabelled as a consumer loan first.
      if (s.product[i] === REVOLVING_PRODUCT) s.product[i] = CONSUMER;
      mask(s, "nulls", "maturity_date")[i] = 1;
      return one;
    case "PRODUCT_UNKNOWN":
      s.product[i] = PRODUCT_NAMES.length - 1;
      return one;
    case "CURRENCY_INVALID":
      s.currency[i] = CURRENCY_NAMES.length - 1;
      return one;
    case "BALANCE_NEGATIVE":
      s.balance[i] = -Math.max(s.balance[i], 100);
      return one;
    case "CREDIT_LIMIT_BELOW_BALANCE":
      if (s.balance[i] < 1) s.balance[i] = 1000;
      s.limit[i] = whole(s.balance[i] / 2);
      if (s.nulls.credit_limit) s.nulls.credit_limit[i] = 0;
      return one;
    case "INTEREST_RATE_OUT_OF_RANGE":
      // The classic extract error: a percentage where a decimal belongs.
      s.rate[i] = Math.max(1.5, whole(s.rate[i] * 100));
      return one;
    case "DPD_NEGATIVE":
      s.dpd[i] = -rng.int(1, 30);
      return one;
    case "PD_ORIGINATION_OUT_OF_RANGE":
      s.pd0[i] = s.pd0[i] >= 0.01 ? s.pd0[i] * 100 : 0;
      return one;
    case "PD_CURRENT_OUT_OF_RANGE":
      s.pd1[i] = s.pd1[i] > 0.0101 ? s.pd1[i] * 100 : 0;
      return one;
    case "COLLATERAL_NEGATIVE":
      s.coll[i] = -(s.coll[i] > 0 ? s.coll[i] : 10_000);
      if (s.nulls.collateral_value) s.nulls.collateral_value[i] = 0;
      return one;
    case "PREVIOUS_STAGE_INVALID":
      s.prev[i] = rng.chance(0.5) ? 0 : 4;
      if (s.nulls.previous_stage) s.nulls.previous_stage[i] = 0;
      return one;
    case "WRITE_OFF_NEGATIVE":
      s.writeOff[i] = -Math.max(1, whole(s.balance[i] * 0.1));
      return one;
  }
  throw new RangeError(`Cannot inject rule code ${code}: not a known code`);
}

/**
 * Breaks `round(n * share)` rows of the snapshot in place. Broken rows are
 * odd rows spread evenly over the batch (stratified), so each has an intact
 * even neighbour for LOAN_ID_DUPLICATE; hence `share <= 0.5`.
 *
 * @param counter running count of injected rows over earlier batches, so
 *   the code cycle continues across batches
 * @param rowOffset file row of the snapshot's first row
 * @returns the injected rows (file rows) and the new counter
 */
export function injectBreakage(
  s: Snapshot,
  opts: {
    share: number;
    format: InjectionFormat;
    rng: Rng;
    counter: number;
    rowOffset: number;
  },
): { rows: InjectedRow[]; counter: number } {
  const { share, format, rng, rowOffset } = opts;
  if (!(share >= 0 && share <= 0.5)) {
    throw new RangeError(
      `Cannot inject broken rows: share ${share} must be between 0 and 0.5`,
    );
  }
  const pairs = Math.floor(s.n / 2);
  const k = Math.min(pairs, Math.round(s.n * share));
  const codes = injectableCodes(format);
  const out: InjectedRow[] = [];
  let counter = opts.counter;
  for (let j = 0; j < k; j++) {
    // Stratum j holds the pairs [floor(j * pairs / k), floor((j + 1) *
    // pairs / k)): disjoint and never empty (k <= pairs), so no row is
    // broken twice.
    const lo = Math.floor(j * pairs / k);
    const hi = Math.floor((j + 1) * pairs / k);
    const m = lo + Math.floor(rng.uniform() * (hi - lo));
    const i = 2 * m + 1;
    const code = codes[counter++ % codes.length];
    const { rows, idBroken } = breakRow(s, i, code, format, rng);
    for (const r of rows) {
      out.push({
        row: rowOffset + r,
        loan_id: idBroken ? null : loanIdOf(s.id[r]),
        code,
      });
    }
  }
  return { rows: out, counter };
}
