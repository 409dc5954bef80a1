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
  /**
   * What the estimate should be read with: states observed fewer than
   * {@link MIN_STATE_OBSERVATIONS} times (their rows rest on a handful of
   * facilities). Absent: none.
   */
  warnings?: string[];
}

/**
 * Observations of a state below which its row is warned as thin: 30 (a
 * one-year PD estimated from fewer facility-periods moves by several
 * points with one default more or less).
 */
export const MIN_STATE_OBSERVATIONS = 30;

/**
 * Agency-style rating labels (S&P / Fitch `AA+`, `BBB-`, Moody's `Baa1`):
 * their alphabetical order is not best-first (`A` sorts before `AA`,
 * `AA+` before `AA`), so the states of such a book must be given.
 */
const AGENCY_GRADE =
  /^(AAA|AA[+-]?|A[+-]|BBB[+-]?|BB[+-]?|B[+-]|CCC[+-]?|CC|Aaa|Aa[1-3]|A[1-3]|Baa[1-3]|Ba[1-3]|B[1-3]|Caa[1-3]|Ca)$/;

/** What a rating found in a book may look like when the states are not given. */
const GRADE_LABEL = /^[A-Za-z0-9][A-Za-z0-9+\-_.]{0,31}$/;

/** Labels that name a default state: a book writing one must say so. */
const DEFAULT_LIKE = /^(d|def|dflt|default|defaulted|sd|rd)$/i;

/** Options of {@link ratingHistory}. */
export interface RatingHistoryOptions {
  /**
   * The states in order, best grade first, the default state last (for
   * example the grades of `RATING_SCALE`). A rating outside them is
   * refused, naming the facility and date. Absent: the ratings found,
   * sorted by their text (`R01` < `R02` < ... < `R11`: zero-padded grades
   * sort best first), the default state last; agency-style labels (`AA+`,
   * `Baa1`), whose text order is not their credit order, a label that
   * looks like another default state (`d`, `DEF`), two labels differing
   * only in case and a label that is not 1 to 32 letters, digits, `+`,
   * `-`, `_` or `.` are then refused.
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
  checkBookDates(bookDates);
  const found = [...new Set(ratings)].filter((r) => r !== defaultState)
    .sort();
  if (options.states === undefined) refuseUnorderedStates(found, defaultState);
  const states = options.states !== undefined
    ? [...options.states]
    : [...found, defaultState];
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
  const seen = new Array<number>(states.length).fill(0);
  for (const k of state) seen[k]++;
  const warnings = states.slice(0, -1).flatMap((s, i) =>
    seen[i] > 0 && seen[i] < MIN_STATE_OBSERVATIONS
      ? [
        `state ${s}: ${seen[i]} observation${
          seen[i] === 1 ? "" : "s"
        } only (fewer than ${MIN_STATE_OBSERVATIONS}, MIN_STATE_OBSERVATIONS): its row rests on a handful of facilities`,
      ]
      : []
  );
  return {
    states,
    loan,
    month: Int32Array.from(month),
    state: Int32Array.from(state),
    dates: bookDates,
    ...(warnings.length === 0 ? {} : { warnings }),
  };
}

/**
 * The fewest days between two reporting dates of a history: 28. Time is
 * counted in whole months (`monthIndex`), so two snapshots of one month,
 * or a fortnight apart across a month's end, would be counted as no time
 * or as a month.
 */
export const MIN_SNAPSHOT_GAP_DAYS = 28;

/**
 * Refuses reporting dates a history cannot count in whole months:
 * consecutive dates less than {@link MIN_SNAPSHOT_GAP_DAYS} days apart, or
 * whose calendar distance differs from their whole months by more than
 * half a month (month-end snapshots, as the generator writes, always
 * pass).
 */
export function checkBookDates(dates: readonly string[]): void {
  const day = (d: string) => Date.parse(`${d}T00:00:00Z`) / 86_400_000;
  for (let k = 1; k < dates.length; k++) {
    const a = dates[k - 1], b = dates[k];
    const days = day(b) - day(a);
    const months = monthIndex(b) - monthIndex(a);
    if (
      !(days >= MIN_SNAPSHOT_GAP_DAYS) ||
      Math.abs(days - months * 30.436875) > 16
    ) {
      throw new UserError(
        "input",
        `Cannot build rating histories: the reporting dates ${a} and ${b} are ${days} days apart${
          days >= MIN_SNAPSHOT_GAP_DAYS
            ? `, not a whole number of months (${months} by the calendar)`
            : `, less than ${MIN_SNAPSHOT_GAP_DAYS} (MIN_SNAPSHOT_GAP_DAYS)`
        }: time is counted in whole months, so snapshots must be month-ends at least a month apart (quarterly, as deno task generate --periods writes)`,
      );
    }
  }
}

/**
 * Refuses ratings whose order cannot be taken from their text (states not
 * given): agency-style labels, and a label that looks like a default
 * state other than `defaultState` (it would be ranked as a performing
 * grade).
 */
function refuseUnorderedStates(found: string[], defaultState: string): void {
  const odd = found.find((r) => !GRADE_LABEL.test(r));
  if (odd !== undefined) {
    throw new UserError(
      "input",
      `Cannot build rating histories: rating ${
        JSON.stringify(odd)
      } is not a grade label (1 to 32 letters, digits, +, -, _ or .): correct the ratings, or give the states with --states`,
    );
  }
  const agency = found.filter((r) => AGENCY_GRADE.test(r));
  if (agency.length > 0) {
    throw new UserError(
      "usage",
      `Cannot build rating histories: the ratings look like agency grades (${
        agency.slice(0, 5).join(", ")
      }), whose alphabetical order is not best-first: give the states in order, best first, the default state last (--states AAA,AA+,AA,...,D)`,
    );
  }
  const lower = new Map<string, string>();
  for (const r of found) {
    const twin = lower.get(r.toLowerCase());
    if (twin !== undefined) {
      throw new UserError(
        "usage",
        `Cannot build rating histories: ratings ${JSON.stringify(twin)} and ${
          JSON.stringify(r)
        } differ only in case and would be two states: correct the ratings, or give --states`,
      );
    }
    lower.set(r.toLowerCase(), r);
  }
  const other = found.find((r) =>
    DEFAULT_LIKE.test(r) || r.toLowerCase() === defaultState.toLowerCase()
  );
  if (other !== undefined) {
    throw new UserError(
      "usage",
      `Cannot build rating histories: rating ${
        JSON.stringify(other)
      } looks like a default state, but the default state is ${defaultState}: it would be ranked as a performing grade; give --default-state ${other} (or --states with it last), or correct the ratings`,
    );
  }
}

/** Options of {@link readBookSnapshots}. */
export interface ReadSnapshotsOptions {
  /**
   * The states, the default state last: a rating outside them is refused
   * naming the file, its line and the value (as `--states` of
   * `deno task migration`). Absent: not checked here.
   */
  states?: readonly string[];
}

/**
 * The snapshots of a generated book's folder (`deno task generate
 * --periods P`: `portfolio_<date>.parquet` or `.csv`), read with only the
 * columns a history needs, oldest first. Each file is checked, the
 * message naming it and the line (a CSV's line in the file, the header
 * being line 1; a Parquet file's row, 1-based): it must be a readable,
 * non-empty file with `loan_id`, `reporting_date` and `rating`; every
 * row's `reporting_date` must be the date of its file's name; a loan may
 * appear once per file and two files may not hold the same date (a
 * `.csv` beside a `.parquet`); with `states`, every rating must be one of
 * them.
 */
export async function readBookSnapshots(
  files: readonly string[],
  options: ReadSnapshotsOptions = {},
): Promise<DataFrame[]> {
  const out: DataFrame[] = [];
  const byDate = new Map<string, string>();
  for (const file of files) {
    const date = /portfolio_(\d{4}-\d{2}-\d{2})\.(parquet|csv)$/.exec(file)
      ?.[1];
    if (date !== undefined) {
      const twin = byDate.get(date);
      if (twin !== undefined) {
        throw new UserError(
          "input",
          `Cannot build rating histories: ${twin} and ${file} both hold the snapshot of ${date}: keep one of them`,
        );
      }
      byDate.set(date, file);
    }
    const csv = file.endsWith(".csv");
    const where = (row: number) =>
      csv ? `${file} line ${row + 2}` : `${file} row ${row + 1}`;
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(file);
    } catch (e) {
      throw new UserError(
        "input",
        `Cannot build rating histories: ${file} cannot be read: ${
          (e as Error).message
        }`,
      );
    }
    if (!stat.isFile) {
      throw new UserError(
        "input",
        `Cannot build rating histories: ${file} is a directory, not a snapshot file: move it out of the book folder`,
      );
    }
    if (stat.size === 0) {
      throw new UserError(
        "input",
        `Cannot build rating histories: ${file} is empty (0 bytes): a snapshot needs a header row and its facilities`,
      );
    }
    let df: DataFrame;
    try {
      const lf = csv
        ? pl.scanCSV(file, { inferSchemaLength: 0 })
        : pl.scanParquet(file);
      const cols = lf.columns;
      for (const c of ["loan_id", "reporting_date", RATING_COLUMN]) {
        if (!cols.includes(c)) {
          throw new UserError(
            "input",
            `Cannot build rating histories: ${file} has no ${c} column (columns: ${
              cols.join(", ")
            }); the generator's snapshots carry loan_id, reporting_date and ${RATING_COLUMN}`,
          );
        }
      }
      const wanted = [
        "loan_id",
        "reporting_date",
        RATING_COLUMN,
        "default_flag",
      ]
        .filter((c) => cols.includes(c));
      df = await lf.select(...wanted.map((c) => pl.col(c))).collect();
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(
        "input",
        `Cannot build rating histories: ${file} cannot be read as a snapshot: ${
          String((e as Error).message ?? e).split("\n")[0]
        }`,
      );
    }
    const first = (mask: DataFrame) => {
      const i = (mask.getColumn("bad").toArray() as (boolean | null)[])
        .findIndex((b) => b === true);
      return i;
    };
    if (date !== undefined) {
      const i = first(df.select(
        pl.col("reporting_date").cast(pl.Utf8).str.slice(0, 10).neq(
          pl.lit(date),
        ).fillNull(true).alias("bad"),
      ));
      if (i >= 0) {
        throw new UserError(
          "input",
          `Cannot build rating histories: ${where(i)}: reporting_date ${
            JSON.stringify(df.getColumn("reporting_date").get(i))
          } is not ${date}, the date of the file's name: each snapshot holds the rows of its own date`,
        );
      }
    }
    const dup = first(df.select(
      pl.col("loan_id").isDuplicated().alias("bad"),
    ));
    if (dup >= 0) {
      const id = df.getColumn("loan_id").get(dup);
      const ids = df.getColumn("loan_id").toArray();
      const second = ids.findIndex((x, k) => k > dup && x === id);
      throw new UserError(
        "input",
        `Cannot build rating histories: ${file}: loan ${id} appears twice (${
          csv ? "lines" : "rows"
        } ${csv ? dup + 2 : dup + 1} and ${
          csv ? second + 2 : second + 1
        }): a snapshot holds one row per facility`,
      );
    }
    if (options.states !== undefined) {
      const bad = first(df.select(
        pl.col(RATING_COLUMN).cast(pl.Utf8).isIn([...options.states]).not()
          .fillNull(false).alias("bad"),
      ));
      if (bad >= 0) {
        throw new UserError(
          "input",
          `Cannot build rating histories: ${where(bad)}: rating ${
            JSON.stringify(df.getColumn(RATING_COLUMN).get(bad))
          } is not one of the states (${
            options.states.join(", ")
          }): correct it, or add it to --states in its place`,
        );
      }
    }
    out.push(df);
  }
  return out;
}
