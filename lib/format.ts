/**
 * The number formats of every page, chart label and console table, so a
 * figure reads the same in the run report, the movement page, the
 * dashboard and the terminal: counts, percentages with two decimals, and
 * amounts in one of two ways:
 *
 * - to the cent ({@link formatAmount}) in the console tables, where an
 *   analyst ties a figure to the files;
 * - on pages, in thousands or millions of the reporting currency with one
 *   decimal ({@link formatInUnit}), one unit per page chosen from its largest
 *   amount ({@link amountUnit}) and stated in every heading and axis label
 *   that shows amounts ({@link unitLabel}): a finance reader compares
 *   `1,028.4` with `364.5`, not `1,028,449.75` with `364,451.01`. Full
 *   precision stays in the run folder's Parquet and JSON files.
 *
 * A missing value (null or undefined) shows as an en dash. A number that is
 * not finite (NaN, Infinity) shows as `n/a`, never as `NaN` or `∞`, and
 * never as the dash, which would pass it off as a figure that is simply
 * not there: no complete run holds one (a run fails before it is published
 * when a figure is not finite, `lib/run/finite.ts`), so `n/a` on a page
 * means a computation went wrong and says so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   amountUnit,
 *   formatAmount,
 *   formatCount,
 *   formatInUnit,
 *   formatPercent,
 *   formatPointChange,
 *   unitLabel,
 * } from "./format.ts";
 *
 * assert.equal(formatAmount(1234567.891), "1,234,567.89");
 * assert.equal(formatAmount(-0.004), "0.00");
 * assert.equal(formatCount(10_000_000), "10,000,000");
 * assert.equal(formatPercent(0.0083), "0.83%");
 * assert.equal(formatPercent(null), "–");
 * assert.equal(formatAmount(NaN), "n/a");
 * // A page whose largest amount is 99.5 million shows thousands.
 * const unit = amountUnit([99_544_147.88, 1_028_449.75]);
 * assert.equal(unitLabel("EUR", unit), "EUR thousands");
 * assert.equal(formatInUnit(1_028_449.75, unit), "1,028.4");
 * assert.equal(formatInUnit(-25_300, unit, { signed: true }), "-25.3");
 * assert.equal(formatPointChange(0.0123 - 0.0100), "+0.23 pp");
 * ```
 *
 * @module
 */

/** Intl formats, en-US: a comma between thousands, a point before decimals. */
const AMOUNT = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
  // An amount that rounds to zero is "0.00", not "-0.00".
  signDisplay: "negative",
});
const COUNT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const PERCENT = new Intl.NumberFormat("en-US", {
  style: "percent",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
  signDisplay: "negative",
});
/** Percentage points with two decimals, like the percentages. */
const POINTS = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
  signDisplay: "negative",
});
/** One decimal in the page's unit: 100 EUR in thousands, 0.1 M in millions. */
const IN_UNIT = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
  signDisplay: "negative",
});
/** Axis ticks in the page's unit: `250`, `1,500`, `0.5`. */
const TICK = new Intl.NumberFormat("en-US", {
  maximumFractionDigits: 1,
  signDisplay: "negative",
});

/** What every format shows for a missing value (null or undefined). */
const MISSING = "–";

/**
 * What every format shows for a number that is not finite (NaN, Infinity):
 * not the dash of a missing value, and not `NaN` or `∞`.
 */
export const NOT_FINITE = "n/a";

/** Whether `v` is a number that can be shown. */
function isShown(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

/**
 * Formats `v` with `format`; {@link MISSING} when there is no number,
 * {@link NOT_FINITE} when it is not finite.
 */
function orMissing(
  format: Intl.NumberFormat,
  v: number | null | undefined,
): string {
  if (isShown(v)) return format.format(v);
  return typeof v === "number" ? NOT_FINITE : MISSING;
}

/**
 * A leading `+` on a positive change, so that a column of changes reads
 * as such; a change that rounds to zero has no sign.
 */
function withSign(text: string, signed: boolean): string {
  return signed && text !== MISSING && !text.startsWith("-") &&
      /[1-9]/.test(text)
    ? `+${text}`
    : text;
}

/** Options of the formats of changes. */
export interface SignOptions {
  /** Write `+` before a positive figure (a change). @default false */
  signed?: boolean;
}

/**
 * An amount with thousands separators and cents: `1,234,567.89`. For the
 * console tables; pages show amounts with {@link formatInUnit}.
 */
export function formatAmount(v: number | null | undefined): string {
  return orMissing(AMOUNT, v);
}

/** A whole number with thousands separators: `10,000,000`. */
export function formatCount(
  v: number | null | undefined,
  opts: SignOptions = {},
): string {
  return withSign(orMissing(COUNT, v), opts.signed ?? false);
}

/** A ratio as a percentage with two decimals: `0.0123` is `1.23%`. */
export function formatPercent(
  v: number | null | undefined,
  opts: SignOptions = {},
): string {
  return withSign(orMissing(PERCENT, v), opts.signed ?? false);
}

/**
 * A change of a ratio in percentage points, always signed: coverage going
 * from 1.00% to 1.23% is `+0.23 pp` (a relative change would be 23%).
 */
export function formatPointChange(delta: number | null | undefined): string {
  if (!isShown(delta)) return orMissing(POINTS, delta);
  return `${withSign(orMissing(POINTS, delta * 100), true)} pp`;
}

/** The unit a page shows its amounts in. */
export interface AmountUnit {
  /** The amount one shown unit stands for: 1,000 or 1,000,000. */
  readonly divisor: 1_000 | 1_000_000;
  /** Its name after the currency code: `EUR thousands`. */
  readonly name: "thousands" | "millions";
}

/** Amounts in thousands of the currency. */
export const THOUSANDS: AmountUnit = { divisor: 1_000, name: "thousands" };
/** Amounts in millions of the currency. */
export const MILLIONS: AmountUnit = { divisor: 1_000_000, name: "millions" };

/**
 * The unit of a page from the amounts it shows (its totals are enough):
 * millions once the largest reaches a billion, thousands below, so the
 * largest figure keeps at most six digits before the decimal point in
 * thousands (`999,999.9`) and a book of hundreds of billions reads
 * `203,456.8` in millions.
 */
export function amountUnit(
  amounts: Iterable<number | null | undefined>,
): AmountUnit {
  let largest = 0;
  for (const a of amounts) {
    if (isShown(a)) largest = Math.max(largest, Math.abs(a));
  }
  return largest >= 1e9 ? MILLIONS : THOUSANDS;
}

/** The unit after the currency, for headings and axes: `EUR thousands`. */
export function unitLabel(currency: string, unit: AmountUnit): string {
  return `${currency} ${unit.name}`;
}

/**
 * An amount in a page's unit with one decimal: 1,028,449.75 in thousands
 * is `1,028.4`. The unit is said once, in the heading of the table,
 * card or axis ({@link unitLabel}).
 */
export function formatInUnit(
  v: number | null | undefined,
  unit: AmountUnit,
  opts: SignOptions = {},
): string {
  return withSign(
    orMissing(IN_UNIT, isShown(v) ? v / unit.divisor : v),
    opts.signed ?? false,
  );
}

/**
 * An axis tick of a chart drawn in a page's unit (the values already
 * divided): separators, and a decimal only where the tick has one
 * (`1,500`, `0.5`).
 */
export function formatTick(v: number | null | undefined): string {
  return orMissing(TICK, v);
}

/**
 * A ratio as a short percentage for a chart's tick: `0.005` is `0.5%`,
 * `0.2` is `20%`. A function rather than a d3 format string, which on a
 * log axis leaves the labels of some ticks empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTickPercent } from "./format.ts";
 * assert.deepEqual(
 *   [0.002, 0.005, 0.05, 0.2, 0.5].map(formatTickPercent),
 *   ["0.2%", "0.5%", "5%", "20%", "50%"],
 * );
 * ```
 */
export function formatTickPercent(v: number): string {
  if (!Number.isFinite(v)) return NOT_FINITE;
  return `${Number((v * 100).toPrecision(3))}%`;
}

/** Longest name a message quotes whole; longer ones are cut with `…`. */
const MESSAGE_NAME_CHARS = 64;

/**
 * A name as a message quotes it: cut to 64 characters with `…`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageName } from "./format.ts";
 * assert.equal(messageName("L1"), "L1");
 * assert.equal(messageName("x".repeat(100)).length, 64);
 * ```
 */
export function messageName(name: string): string {
  return name.length > MESSAGE_NAME_CHARS
    ? `${name.slice(0, MESSAGE_NAME_CHARS - 1)}…`
    : name;
}

/**
 * A list of names for a one-line message, bounded whatever the input: at
 * most `max` names, each cut to 64 characters, then how many more there
 * are. A hostile header of a million columns must not become a message
 * of hundreds of megabytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageList } from "./format.ts";
 * assert.equal(messageList(["a", "b"]), "a, b");
 * assert.equal(messageList(["a", "b", "c", "d"], 2), "a, b and 2 more");
 * assert.equal(messageList(["x".repeat(100)]), `${"x".repeat(63)}…`);
 * ```
 */
export function messageList(
  names: readonly string[],
  max = 10,
  separator = ", ",
): string {
  const cut = (n: string) =>
    n.length > MESSAGE_NAME_CHARS
      ? `${n.slice(0, MESSAGE_NAME_CHARS - 1)}…`
      : n;
  const shown = names.slice(0, max).map(cut).join(separator);
  return names.length > max
    ? `${shown}${separator === ", " ? " and" : separator + "and"} ${
      formatCount(names.length - max)
    } more`
    : shown;
}
