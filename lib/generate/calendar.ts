/**
 * Calendar arithmetic for the generator, on dates held as whole days since
 * 1970-01-01 (the physical representation of a Polars `Date`). nodejs-polars
 * 0.25 has no month offsets (`dt.offsetBy`, `monthEnd`, `dateRange`), so
 * month steps are done here in TypeScript.
 *
 * @module
 */

const MS_PER_DAY = 86_400_000;

/**
 * Parses `YYYY-MM-DD` into days since the epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIsoDay } from "./calendar.ts";
 * assert.equal(parseIsoDay("1970-01-02", "--reporting-date"), 1);
 * assert.throws(() => parseIsoDay("2025-02-30", "--reporting-date"));
 * ```
 */
export function parseIsoDay(text: string, what: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const ms = Date.UTC(y, mo - 1, d);
    const back = new Date(ms);
    if (back.getUTCMonth() === mo - 1 && back.getUTCDate() === d) {
      return ms / MS_PER_DAY;
    }
  }
  throw new RangeError(
    `Cannot read ${what}: ${
      JSON.stringify(text)
    } is not a calendar date YYYY-MM-DD`,
  );
}

/** Formats days since the epoch as `YYYY-MM-DD`. */
export function isoDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

// Integer civil-calendar conversions (H. Hinnant, "chrono-Compatible
// Low-Level Date Algorithms"): the generator does millions of month steps
// and `Date` objects cost about a microsecond each.

/** Year, month (1-12) and day of month of a day number. */
export function ymd(day: number): [number, number, number] {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) -
      Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** Day number of a year, month (1-12) and day of month. */
export function dayOf(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in month `m` (1-12) of year `y`. */
export function daysInMonth(y: number, m: number): number {
  if (m !== 2) return MONTH_DAYS[m - 1];
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
}

/**
 * Adds `months` calendar months. The day of month is kept and clamped to
 * the target month's length; a month-end date stays month-end when
 * `keepMonthEnd` is set (so 2025-12-31 + 3 months is 2026-03-31, and
 * 2026-03-31 + 3 months is 2026-06-30).
 */
export function addMonths(
  day: number,
  months: number,
  keepMonthEnd = false,
): number {
  const [y, m, d] = ymd(day);
  const idx = y * 12 + (m - 1) + months;
  const ty = Math.floor(idx / 12);
  const tm = idx - ty * 12 + 1;
  const last = daysInMonth(ty, tm);
  const td = keepMonthEnd && d === daysInMonth(y, m) ? last : Math.min(d, last);
  return dayOf(ty, tm, td);
}

/**
 * Remaining term in months from `from` to `to` as methodology §2 counts it:
 * `12*(year(M)-year(R)) + (month(M)-month(R)) + (day(M) > day(R) ? 1 : 0)`,
 * without the floor at 1 (callers need to see 0 and negatives).
 */
export function monthsBetween(from: number, to: number): number {
  const [yr, mr, dr] = ymd(from);
  const [ym, mm, dm] = ymd(to);
  return 12 * (ym - yr) + (mm - mr) + (dm > dr ? 1 : 0);
}

/** The reporting dates of `periods` quarterly snapshots from `first`. */
export function quarterlyDates(first: number, periods: number): number[] {
  return Array.from(
    { length: periods },
    (_, p) => addMonths(first, 3 * p, true),
  );
}
