/**
 * Rating histories from a book's quarterly snapshots (docs/migration.md):
 * one observation per facility and reporting date, `(loan_id,
 * reporting_date, rating)`, the input of the cohort and duration
 * estimators.
 *
 * Default is absorbing (docs/methodology.md §13): a facility observed in
 * the default state (its `rating` is the default state, or its
 * `default_flag` is true) is in default at every later reporting date of
 * the book, whether or not it still appears (a defaulted loan is written
 * off and leaves the book; a cure does not return it to a grade). A
 * facility that leaves the book without defaulting (repaid, matured) is
 * censored: it is not observed after its last snapshot. A row without a
 * rating is not an observation.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame } from "../frame.ts";
import { UserError } from "../errors.ts";
import { RATING_COLUMN } from "../transition_matrix.ts";

/** The default state's label when none is given: `D`, as the generator writes it. */
export const DEFAULT_STATE = "D";

/**
 * The most observations a history holds in memory: 50 million (a million
 * facilities over twelve years of quarters is 48 million). Each is a few
 * dozen bytes in the arrays below; a larger book is estimated on a sample
 * of facilities.
 */
export const MAX_HISTORY_OBSERVATIONS = 50_000_000;

/**
 * Rating histories, columnar: observation `k` is facility `loan[k]` in
 * state `states[state[k]]` at month `month[k]` (`12 * year + month - 1` of
 * its reporting date), sorted by facility, then date.
 */
export interface RatingHistory {
  /** State labels: the grades in the order given or found, the default state last. */
  states: string[];
  /** Facility of each observation. */
  loan: string[];
  /** Reporting month of each observation: `12 * year + (month - 1)`. */
  month: Int32Array;
  /** Index into `states` of each observation. */
  state: Int32Array;
  /** The book's reporting dates (`YYYY-MM-DD`), oldest first. */
  dates: string[];
}

/** Options of {@link ratingHistory}. */
export interface RatingHistoryOptions {
  /**
   * The states in order, the default state last (for example the grades
   * of `RATING_SCALE`). A rating outside them is refused, naming the
   * facility and date. Absent: the ratings found, sorted, the default
   * state last.
   */
  states?: readonly string[];
  /**
   * The default state's label (the last of `states` when they are given).
   * @default "D"
   */
  defaultState?: string;
}

/** `YYYY-MM-DD` to `12 * year + month - 1`. */
export function monthIndex(date: string): number {
  return 12 * Number(date.slice(0, 4)) + Number(date.slice(5, 7)) - 1;
}

/**
 * The rating histories of a book's snapshots (each a frame with
 * `loan_id`, `reporting_date`, `rating` and, optionally, `default_flag`;
 * dates as Polars dates or `YYYY-MM-DD` text, flags as booleans or
 * `true`/`false` text), default absorbing (module doc).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { ratingHistory } from "./history.ts";
 * const q = (date: string, ids: string[], ratings: string[]) =>
 *   pl.DataFrame({ loan_id: ids, reporting_date: ids.map(() => date), rating: ratings });
 * const h = ratingHistory([
 *   q("2025-03-31", ["a", "b"], ["A", "B"]),
 *   q("2025-06-30", ["a", "b"], ["B", "D"]),
 *   q("2025-09-30", ["a"], ["A"]), // b written off: still in default
 * ]);
 * assert.deepEqual(h.states, ["A", "B", "D"]);
 * assert.deepEqual(h.loan, ["a", "a", "a", "b", "b", "b"]);
 * assert.deepEqual([...h.state], [0, 1, 0, 1, 2, 2]);
 * ```
 */
export function ratingHistory(
  snapshots: readonly DataFrame[],
  options: RatingHistoryOptions = {},
): RatingHistory {
  const defaultState = options.states?.at(-1) ?? options.defaultState ??
    DEFAULT_STATE;
  const frames = snapshots.map((df, i) => {
    for (const c of ["loan_id", "reporting_date", RATING_COLUMN]) {
      if (!df.columns.includes(c)) {
        throw new UserError(
          "input",
          `Cannot build rating histories: snapshot ${
            i + 1
          } has no ${c} column (columns: ${
            df.columns.join(", ")
          }); the generator's snapshots carry loan_id, reporting_date and rating`,
        );
      }
    }
    const flag = df.columns.includes("default_flag")
      ? pl.col("default_flag").cast(pl.Utf8).str.toLowerCase().eq(
        pl.lit("true"),
      ).fillNull(pl.lit(false))
      : pl.lit(false);
    return df.select(
      pl.col("loan_id").cast(pl.Utf8).alias("loan_id"),
      pl.col("reporting_date").cast(pl.Utf8).str.slice(0, 10).alias("date"),
      pl.when(flag).then(pl.lit(defaultState)).otherwise(
        pl.col(RATING_COLUMN).cast(pl.Utf8),
      ).alias("rating"),
    ).filter(pl.col("rating").isNotNull());
  });
  const all = frames.length === 0
    ? pl.DataFrame({ loan_id: [], date: [], rating: [] })
    : pl.concat(frames).sort(["loan_id", "date"]);
  if (all.height > MAX_HISTORY_OBSERVATIONS) {
    throw new UserError(
      "input",
      `Cannot build rating histories: ${all.height} observations, more than ${MAX_HISTORY_OBSERVATIONS} (MAX_HISTORY_OBSERVATIONS); estimate on a sample of facilities`,
    );
  }
  const ids = all.getColumn("loan_id").toArray() as string[];
  const dates = all.getColumn("date").toArray() as string[];
  const ratings = all.getColumn("rating").toArray() as string[];
  const bookDates = [...new Set(dates)].sort();
  const states = options.states !== undefined ? [...options.states] : [
    ...[...new Set(ratings)].filter((r) => r !== defaultState).sort(),
    defaultState,
  ];
  const code = new Map(states.map((s, i) => [s, i]));
  const D = states.length - 1;
  const loan: string[] = [];
  const month: number[] = [];
  const state: number[] = [];
  for (let k = 0; k < ids.length;) {
    const id = ids[k];
    let defaulted = false;
    let last = "";
    for (; k < ids.length && ids[k] === id; k++) {
      if (defaulted) continue;
      if (dates[k] === last) {
        throw new UserError(
          "input",
          `Cannot build rating histories: loan ${id} appears twice at ${last}`,
        );
      }
      last = dates[k];
      const s = code.get(ratings[k]);
      if (s === undefined) {
        throw new UserError(
          "input",
          `Cannot build rating histories: loan ${id} at ${dates[k]}: rating ${
            JSON.stringify(ratings[k])
          } is not one of the states (${states.join(", ")})`,
        );
      }
      loan.push(id);
      month.push(monthIndex(dates[k]));
      state.push(s);
      if (s === D) {
        // Default is absorbing: in default at every later date of the book.
        defaulted = true;
        for (const d of bookDates) {
          if (d > dates[k]) {
            loan.push(id);
            month.push(monthIndex(d));
            state.push(D);
          }
        }
      }
    }
  }
  return {
    states,
    loan,
    month: Int32Array.from(month),
    state: Int32Array.from(state),
    dates: bookDates,
  };
}

/**
 * The snapshots of a generated book's folder (`deno task generate
 * --periods P`: `portfolio_<date>.parquet` or `.csv`), read with only the
 * columns a history needs, oldest first.
 */
export async function readBookSnapshots(
  files: readonly string[],
): Promise<DataFrame[]> {
  const out: DataFrame[] = [];
  for (const file of files) {
    const lf = file.endsWith(".csv")
      ? pl.scanCSV(file, { inferSchemaLength: 0 })
      : pl.scanParquet(file);
    const cols = lf.columns;
    if (!cols.includes(RATING_COLUMN)) {
      throw new UserError(
        "input",
        `Cannot build rating histories: ${file} has no ${RATING_COLUMN} column (the generator's snapshots carry one)`,
      );
    }
    const wanted = ["loan_id", "reporting_date", RATING_COLUMN, "default_flag"]
      .filter((c) => cols.includes(c));
    out.push(await lf.select(...wanted.map((c) => pl.col(c))).collect());
  }
  return out;
}
