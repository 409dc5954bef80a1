/**
 * The development sample of a PD model: from a multi-period book (quarterly
 * snapshots, as `deno task generate` writes them), one row per facility and
 * observation date with its characteristics at that date and the target
 * `default_12m`: whether it defaulted at any later snapshot within the
 * outcome window `(t, t + 12 months]`.
 *
 * Definitions (docs/generator.md, "Development sample"):
 * - **default** at a snapshot: `default_flag` true or `days_past_due` at
 *   least 90, the two stage-3 triggers of methodology §3 (rules 1 and 2;
 *   the 90-days-past-due backstop of IFRS 9 §B5.5.37 and CRR Art. 178(1));
 *   the generator's credit-impaired state shows exactly so;
 * - **excluded**, each row under the first reason it meets, counted:
 *   `defaulted_at_observation` (in default at `t`: it cannot default
 *   again, and its PD is 1), then `outcome_window_too_short` (`t` plus the
 *   horizon falls after the last snapshot, so the window is not observed
 *   in full);
 * - **facilities that leave the book** (repaid, matured, prepaid) before
 *   the window ends without a default seen are kept with target 0, as the
 *   one-year default rate counts them (CRR Art. 4(1)(78); Commission
 *   Delegated Regulation (EU) 2022/439 Art. 46(1): the denominator is every
 *   exposure not in default at the start of the one-year period, the
 *   numerator those of them that defaulted within it); they are counted
 *   (`left_book`), and `leavers: "exclude"` drops them instead, under
 *   `left_book_before_window_end`. A facility written off leaves only after
 *   a snapshot that shows it in default, so no default is missed.
 *
 * @module
 */
import pl from "nodejs-polars";
import { dirname } from "node:path";
import type { DataFrame, DataType, LazyFrame } from "../frame.ts";
import { UserError } from "../errors.ts";
import { scanPortfolio } from "../io/scan_portfolio.ts";
import { CHARACTERISTIC_COLUMNS, COL, POLARS_TYPE } from "../schema.ts";
import { addMonths, isoDay, parseIsoDay } from "../generate/calendar.ts";
import { snapshotFiles } from "../generate/generate.ts";

/** One snapshot of the book: a file, or a frame with its reporting date. */
export interface BookSnapshot {
  /** A portfolio file (Parquet, CSV, Arrow IPC). */
  path?: string;
  /** The snapshot as a frame (a `generateBook` element). */
  frame?: DataFrame;
  /**
   * `YYYY-MM-DD`: checked against the frame's `reporting_date`, which must
   * hold this one date.
   */
  reportingDate?: string;
}

/**
 * A multi-period book: the folder `deno task generate` wrote (its
 * `portfolio_<date>` files), or its snapshots as paths, frames (each with
 * one `reporting_date`) or {@link BookSnapshot}s, in any order.
 */
export type BookInput = string | (string | DataFrame | BookSnapshot)[];

/** Options of {@link buildDevelopmentSample}. */
export interface DevelopmentSampleOptions {
  /** Outcome window in months after the observation date. @default 12 */
  horizonMonths?: number;
  /**
   * Observation dates (`YYYY-MM-DD`, each a snapshot's): the rows' `t`.
   * @default every snapshot's date (those without a full window are
   * counted as `outcome_window_too_short`)
   */
  observationDates?: string[];
  /**
   * The characteristic columns taken at `t`, in this order.
   * @default `CHARACTERISTIC_COLUMNS` (credit_score, debt_to_income,
   * months_on_book, employment_type, ltv, rating)
   */
  features?: string[];
  /** The target column's name. @default "default_12m" */
  target?: string;
  /** Days past due from which a facility is in default. @default 90 */
  defaultDpd?: number;
  /**
   * Facilities that leave the book before the window ends without a
   * default: `keep` (target 0) or `exclude`. @default "keep"
   */
  leavers?: "keep" | "exclude";
}

/** The reasons a row is excluded, in the order they are tested. */
export const EXCLUSION_REASONS = [
  "defaulted_at_observation",
  "outcome_window_too_short",
  "left_book_before_window_end",
] as const;

/** Why a row is not in the sample. */
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/** Counts of one observation date. */
export interface ObservationCount {
  /** The observation date, `YYYY-MM-DD`. */
  date: string;
  /** Facilities in the snapshot. */
  facilities: number;
  /** Rows kept. */
  rows: number;
  /** Kept rows with target 1. */
  defaults: number;
}

/** What {@link buildDevelopmentSample} reports besides the frame. */
export interface DevelopmentSampleReport {
  /** Rows in the sample. */
  rows: number;
  /** Rows with target 1. */
  defaults: number;
  /** `defaults / rows` (0 for an empty sample). */
  default_rate: number;
  /** Rows left out, by reason (every reason listed, 0 when none). */
  excluded: Record<ExclusionReason, number>;
  /**
   * Rows whose facility left the book before its window ended without a
   * default: kept with target 0 (`leavers: "keep"`) or excluded.
   */
  left_book: number;
  /** Per observation date. */
  by_date: ObservationCount[];
  /** Every snapshot date of the book, oldest first. */
  snapshot_dates: string[];
  /** The outcome window in months. */
  horizon_months: number;
  /** The target column. */
  target: string;
  /** The feature columns, in order. */
  features: string[];
  /** The default definition applied, in words. */
  default_definition: string;
}

/** The sample and its report. */
export interface DevelopmentSample extends DevelopmentSampleReport {
  /**
   * One row per kept facility and observation date: `loan_id`,
   * `reporting_date` (the observation date `t`), the features as at `t`,
   * then the target (Int32, 1 for a default in `(t, t + horizon]`).
   */
  frame: DataFrame;
}

interface Snap {
  source: string;
  day: number;
  lf: LazyFrame;
  schema: Record<string, DataType>;
}

/**
 * The column types of a lazy frame (reads no rows): the one helper of the
 * PD-model area (`pd_source.ts` uses it too).
 *
 * @param source How a failure names the data; without it, the Polars
 *   error is thrown as it is.
 * @throws {UserError} of kind `input` naming `source` when the frame's
 *   schema cannot be resolved.
 */
export function schemaOf(
  lf: LazyFrame,
  source?: string,
): Record<string, DataType> {
  try {
    return lf.head(0).collectSync().schema as Record<string, DataType>;
  } catch (e) {
    if (source === undefined) throw e;
    throw new UserError(
      "input",
      `${source}: cannot be read (${(e as Error).message})`,
      {
        cause: e,
      },
    );
  }
}

const bad = (message: string) => new UserError("input", message);

/** The snapshots of a book, each with its reporting day, oldest first. */
async function readBook(book: BookInput): Promise<Snap[]> {
  let items: (string | DataFrame | BookSnapshot)[];
  if (typeof book === "string") {
    items = await snapshotFiles(book);
    if (items.length === 0) {
      throw bad(
        `Cannot build a development sample from ${book}: no portfolio_<YYYY-MM-DD>.parquet or .csv snapshot in it (deno task generate --periods P writes them)`,
      );
    }
  } else items = book;
  const snaps: Snap[] = [];
  for (const [k, item] of items.entries()) {
    const s: BookSnapshot = typeof item === "string"
      ? { path: item }
      : typeof (item as DataFrame).lazy === "function"
      ? { frame: item as DataFrame }
      : item as BookSnapshot;
    const source = s.path ?? `snapshot ${k + 1}`;
    let lf: LazyFrame;
    if (s.frame) lf = s.frame.lazy();
    else if (s.path) lf = scanPortfolio(s.path);
    else throw bad(`${source}: give a path or a frame`);
    lf = typed(lf, source);
    const dates = (await lf.select(pl.col(COL.reportingDate)).unique()
      .collect()).getColumn(COL.reportingDate).toArray() as unknown as (
        | Date
        | null
      )[];
    const days = dates.filter((d) => d !== null).map((d) =>
      Math.round(d!.getTime() / 86_400_000)
    );
    if (days.length !== 1 || dates.length !== 1) {
      throw bad(
        `${source}: column reporting_date must hold one date in a snapshot, found ${
          dates.map((d) =>
            d ? isoDay(Math.round(d.getTime() / 86_400_000)) : "null"
          )
            .slice(0, 5).join(", ") || "none"
        }`,
      );
    }
    if (s.reportingDate && isoDay(days[0]) !== s.reportingDate) {
      throw bad(
        `${source}: reporting_date is ${
          isoDay(days[0])
        }, not ${s.reportingDate} as given`,
      );
    }
    snaps.push({ source, day: days[0], lf, schema: schemaOf(lf, source) });
  }
  snaps.sort((a, b) => a.day - b.day);
  for (let k = 1; k < snaps.length; k++) {
    if (snaps[k].day === snaps[k - 1].day) {
      throw bad(
        `${snaps[k].source} and ${
          snaps[k - 1].source
        } are both the snapshot of ${
          isoDay(snaps[k].day)
        }: give each date once`,
      );
    }
  }
  return snaps;
}

/**
 * The columns the sample reads, typed: text from a CSV parsed (dates
 * `YYYY-MM-DD`, flags `true`/`false`, numbers), stored types kept.
 */
function typed(lf: LazyFrame, source: string): LazyFrame {
  const schema = schemaOf(lf, source);
  const isText = (c: string) =>
    ["Utf8", "String"].includes(schema[c].variant as string);
  for (const c of [COL.loanId, COL.reportingDate]) {
    if (!(c in schema)) throw bad(`${source}: no column ${c}`);
  }
  const exprs = [];
  if (isText(COL.reportingDate)) {
    exprs.push(
      pl.col(COL.reportingDate).str.strip().str.strptime(pl.Date, "%Y-%m-%d")
        .alias(COL.reportingDate),
    );
  }
  if (COL.defaultFlag in schema && isText(COL.defaultFlag)) {
    exprs.push(
      pl.col(COL.defaultFlag).str.strip().str.toLowerCase().eq(pl.lit("true"))
        .alias(COL.defaultFlag),
    );
  }
  if (COL.daysPastDue in schema && isText(COL.daysPastDue)) {
    exprs.push(
      pl.col(COL.daysPastDue).str.strip().cast(pl.Float64, false).alias(
        COL.daysPastDue,
      ),
    );
  }
  for (const { name, kind } of CHARACTERISTIC_COLUMNS) {
    if (name in schema && isText(name) && kind !== "string") {
      exprs.push(
        pl.col(name).str.strip().cast(POLARS_TYPE[kind], false).alias(name),
      );
    }
  }
  return exprs.length > 0 ? lf.withColumns(...exprs) : lf;
}

/**
 * Builds a PD development sample from a multi-period book: characteristics
 * at each observation date `t`, target 1 when the facility is in default
 * (`default_flag`, or `days_past_due >= 90`) at any snapshot in
 * `(t, t + horizon]`; the exclusions counted by reason (module doc).
 *
 * @throws {UserError} `input` for a book without snapshots, a snapshot
 *   without a needed column or with several reporting dates, two
 *   snapshots of one date, a duplicated `loan_id` in a snapshot, an
 *   observation date that is no snapshot's; `usage` for a bad option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildDevelopmentSample } from "./sample.ts";
 * import { generateBook } from "../generate/mod.ts";
 * // Six quarters: the first two dates have a full 12-month window.
 * const book = generateBook({ loans: 2000, seed: 1, reportingDate: "2024-12-31", periods: 6 });
 * const s = await buildDevelopmentSample(book);
 * assert.equal(s.by_date.filter((d) => d.rows > 0).length, 2);
 * assert.equal(s.frame.height, s.rows);
 * assert.ok(s.excluded.outcome_window_too_short > 0 && s.excluded.defaulted_at_observation > 0);
 * assert.deepEqual(s.frame.columns.slice(-2), ["rating", "default_12m"]);
 * ```
 */
export async function buildDevelopmentSample(
  book: BookInput,
  options: DevelopmentSampleOptions = {},
): Promise<DevelopmentSample> {
  const horizon = options.horizonMonths ?? 12;
  const target = options.target ?? "default_12m";
  const dpd = options.defaultDpd ?? 90;
  const leavers = options.leavers ?? "keep";
  const features = options.features ??
    CHARACTERISTIC_COLUMNS.map((c) => c.name);
  const usage = (m: string) => new UserError("usage", m);
  if (!Number.isInteger(horizon) || horizon < 1 || horizon > 120) {
    throw usage(
      `horizonMonths ${horizon} must be a whole number from 1 to 120`,
    );
  }
  if (!(Number.isInteger(dpd) && dpd >= 1)) {
    throw usage(`defaultDpd ${dpd} must be a whole number >= 1`);
  }
  if (leavers !== "keep" && leavers !== "exclude") {
    throw usage(`leavers ${leavers} must be keep or exclude`);
  }
  const reserved = [COL.loanId, COL.reportingDate, target];
  for (const f of features) {
    if (reserved.includes(f as typeof reserved[number])) {
      throw usage(`feature ${f} is the identifier, the date or the target`);
    }
  }
  if (new Set(features).size !== features.length) {
    throw usage(`features ${features.join(", ")} name a column twice`);
  }

  const snaps = await readBook(book);
  const days = snaps.map((s) => s.day);
  const last = days.at(-1)!;
  const obsDays = options.observationDates
    ? options.observationDates.map((d) => {
      const day = parseIsoDay(d, "observation date");
      if (!days.includes(day)) {
        throw bad(
          `observation date ${d} is not the date of a snapshot of the book (${
            days.map(isoDay).join(", ")
          })`,
        );
      }
      return day;
    })
    : days;

  // Each snapshot reduced to: loan_id, its day, whether in default.
  const defaultExpr = (schema: Record<string, unknown>, source: string) => {
    const parts = [];
    if (COL.defaultFlag in schema) {
      parts.push(pl.col(COL.defaultFlag).fillNull(false));
    }
    if (COL.daysPastDue in schema) {
      parts.push(pl.col(COL.daysPastDue).fillNull(0).gtEq(dpd));
    }
    if (parts.length === 0) {
      throw bad(
        `${source}: no column default_flag or days_past_due, so no default can be seen`,
      );
    }
    return parts.reduce((a, b) => a.or(b)).alias("__default");
  };
  const panel: DataFrame[] = [];
  for (const s of snaps) {
    const schema = s.schema;
    const df = await s.lf.select(
      pl.col(COL.loanId),
      pl.lit(s.day).cast(pl.Int32).alias("__day"),
      defaultExpr(schema, s.source),
    ).collect();
    const dup = df.filter(
      pl.col(COL.loanId).isDuplicated().or(pl.col(COL.loanId).isNull()),
    );
    if (dup.height > 0) {
      const id = dup.getColumn(COL.loanId).get(0);
      throw bad(
        id === null
          ? `${s.source}: a row has no loan_id`
          : `${s.source}: loan_id ${id} appears more than once; a snapshot holds each facility once`,
      );
    }
    panel.push(df);
  }
  const all = pl.concat(panel, { how: "vertical" });

  const excluded = Object.fromEntries(
    EXCLUSION_REASONS.map((r) => [r, 0]),
  ) as Record<ExclusionReason, number>;
  let leftBook = 0;
  const byDate: ObservationCount[] = [];
  const parts: DataFrame[] = [];
  for (const t of obsDays) {
    const k = days.indexOf(t);
    const snap = snaps[k];
    const schema = snap.schema;
    for (const f of features) {
      if (!(f in schema)) {
        throw bad(
          `${snap.source}: no column ${f} (a feature); generate the book again with characteristics or give features`,
        );
      }
    }
    const rows = await snap.lf.select(
      pl.col(COL.loanId),
      pl.col(COL.reportingDate),
      ...features.map((f) => pl.col(f)),
      defaultExpr(schema, snap.source),
    ).collect();
    const count: ObservationCount = {
      date: isoDay(t),
      facilities: rows.height,
      rows: 0,
      defaults: 0,
    };
    byDate.push(count);
    const live = rows.filter(pl.col("__default").not());
    excluded.defaulted_at_observation += rows.height - live.height;
    const end = addMonths(t, horizon, true);
    if (end > last) {
      excluded.outcome_window_too_short += live.height;
      continue;
    }
    // The last snapshot inside the window: a facility seen there has not
    // left the book.
    const lastInWindow = Math.max(...days.filter((d) => d > t && d <= end));
    const outcome = all.filter(
      pl.col("__day").gt(t).and(pl.col("__day").ltEq(end)),
    ).groupBy(COL.loanId).agg(
      pl.col("__default").max().alias("__any"),
      pl.col("__day").max().alias("__seen"),
    );
    let joined = live.drop("__default").join(outcome, {
      on: COL.loanId,
      how: "left",
    }).withColumns(
      pl.col("__any").fillNull(false).cast(pl.Int32).alias(target),
      pl.col("__any").fillNull(false).not().and(
        pl.col("__seen").isNull().or(pl.col("__seen").lt(lastInWindow)),
      ).alias("__left"),
    );
    const left = joined.filter(pl.col("__left")).height;
    leftBook += left;
    if (leavers === "exclude") {
      excluded.left_book_before_window_end += left;
      joined = joined.filter(pl.col("__left").not());
    }
    const kept = joined.select(
      pl.col(COL.loanId),
      pl.col(COL.reportingDate),
      ...features.map((f) => pl.col(f)),
      pl.col(target),
    );
    count.rows = kept.height;
    count.defaults = (kept.getColumn(target).sum() as number) ?? 0;
    parts.push(kept);
  }
  let frame: DataFrame;
  if (parts.length > 0) frame = pl.concat(parts, { how: "vertical" });
  else {
    // An empty sample keeps the columns (and their types) of the snapshot.
    const s = snaps[days.indexOf(obsDays[0] ?? days[0])];
    frame = (await s.lf.select(
      pl.col(COL.loanId),
      pl.col(COL.reportingDate),
      ...features.map((f) => pl.col(f)),
    ).head(0).collect()).withColumns(pl.lit(0).cast(pl.Int32).alias(target));
  }
  const rowsTotal = byDate.reduce((a, d) => a + d.rows, 0);
  const defaults = byDate.reduce((a, d) => a + d.defaults, 0);
  return {
    frame,
    rows: rowsTotal,
    defaults,
    default_rate: rowsTotal > 0 ? defaults / rowsTotal : 0,
    excluded,
    left_book: leftBook,
    by_date: byDate,
    snapshot_dates: days.map(isoDay),
    horizon_months: horizon,
    target,
    features,
    default_definition:
      `default_flag true or days_past_due >= ${dpd} at any snapshot in (t, t + ${horizon} months] (methodology §3 rules 1-2)`,
  };
}

/** Options of {@link writeDevelopmentSample}. */
export interface WriteDevelopmentSampleOptions
  extends DevelopmentSampleOptions {
  /** The book: a `deno task generate` folder, or its snapshots. */
  book: BookInput;
  /** The file to write: `.parquet` or `.csv`. */
  out: string;
  /** Replace `out` when it exists. @default false */
  replace?: boolean;
}

/**
 * Builds the development sample of a book ({@link buildDevelopmentSample})
 * and writes it to one Parquet (or CSV) file, complete or not at all (a
 * temporary file renamed). For the notebook and `deno task train-pd`:
 * `deno task generate --periods 8 --out DIR`, then this, then train on
 * `out` with target `default_12m`.
 *
 * @returns the report (the frame is in the file)
 * @throws {UserError} `usage` for an `out` of another extension, one that
 *   exists without `replace`, or one that is a snapshot of the book;
 *   `output` when it cannot be written; as {@link buildDevelopmentSample}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { writeDevelopmentSample } from "./sample.ts";
 * import { generatePortfolio } from "../generate/mod.ts";
 * const dir = Deno.makeTempDirSync();
 * await generatePortfolio({ loans: 1000, seed: 5, reportingDate: "2024-12-31", periods: 5, out: dir });
 * const r = await writeDevelopmentSample({ book: dir, out: `${dir}/sample.parquet` });
 * // Only the first date has its whole 12-month window in a 5-quarter book.
 * assert.equal(r.by_date[0].rows, r.rows);
 * assert.equal(pl.readParquet(`${dir}/sample.parquet`).height, r.rows);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function writeDevelopmentSample(
  options: WriteDevelopmentSampleOptions,
): Promise<DevelopmentSampleReport> {
  const { book, out, replace = false, ...rest } = options;
  const ext = out.toLowerCase().match(/\.(parquet|csv)$/)?.[1];
  if (!ext) {
    throw new UserError(
      "usage",
      `Cannot write the development sample to ${out}: give a .parquet or .csv file`,
    );
  }
  if (Array.isArray(book)) {
    for (const b of book) {
      const p = typeof b === "string" ? b : (b as BookSnapshot).path;
      if (p && await samePath(p, out)) {
        throw new UserError(
          "usage",
          `Cannot write the development sample to ${out}: it is a snapshot of the book`,
        );
      }
    }
  }
  const exists = await Deno.lstat(out).then(() => true, () => false);
  if (exists && !replace) {
    throw new UserError(
      "usage",
      `Cannot write the development sample to ${out}: it exists; pass replace: true or give another file`,
    );
  }
  const { frame, ...report } = await buildDevelopmentSample(book, rest);
  const tmp = `${dirname(out)}/.${out.split("/").pop()}.partial-${Deno.pid}`;
  try {
    await Deno.mkdir(dirname(out), { recursive: true });
    if (ext === "csv") frame.writeCSV(tmp);
    else frame.writeParquet(tmp);
    await Deno.rename(tmp, out);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new UserError(
      "output",
      `Cannot write the development sample to ${out}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return report;
}

async function samePath(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([Deno.realPath(a), Deno.realPath(b)]);
    return x === y;
  } catch {
    return false;
  }
}
