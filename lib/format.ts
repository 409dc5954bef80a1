/**
 * The number formats of every page, chart label and console table, so a
 * figure reads the same in the run report, the movement page, the
 * dashboard and the terminal: amounts with cents, counts, percentages with
 * two decimals, and compact figures where a chart has little room.
 * A missing or non-finite value shows as an en dash, never as `NaN`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   formatAmount,
 *   formatCompact,
 *   formatCount,
 *   formatPercent,
 * } from "./format.ts";
 *
 * assert.equal(formatAmount(1234567.891), "1,234,567.89");
 * assert.equal(formatAmount(-0.004), "0.00");
 * assert.equal(formatCount(10_000_000), "10,000,000");
 * assert.equal(formatPercent(0.0083), "0.83%");
 * assert.equal(formatPercent(null), "–");
 * assert.equal(formatCompact(28_936.4), "28.9K");
 * ```
 *
 * @module
 */

/** Intl formats, en-US: a comma between thousands, a point before cents. */
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
const COMPACT = new Intl.NumberFormat("en-US", {
  notation: "compact",
  maximumSignificantDigits: 3,
});

/** What every format shows for a missing or non-finite value. */
const MISSING = "–";

/** Formats `v` with `format`, or {@link MISSING} when there is no number. */
function orMissing(
  format: Intl.NumberFormat,
  v: number | null | undefined,
): string {
  return v === null || v === undefined || !Number.isFinite(v)
    ? MISSING
    : format.format(v);
}

/** An amount with thousands separators and cents: `1,234,567.89`. */
export function formatAmount(v: number | null | undefined): string {
  return orMissing(AMOUNT, v);
}

/** A whole number with thousands separators: `10,000,000`. */
export function formatCount(v: number | null | undefined): string {
  return orMissing(COUNT, v);
}

/** A ratio as a percentage with two decimals: `0.0123` is `1.23%`. */
export function formatPercent(v: number | null | undefined): string {
  return orMissing(PERCENT, v);
}

/**
 * A number in three significant figures with a thousand (K), million (M)
 * or billion (B) suffix, for chart labels and axes where there is little
 * room: `1.23M`, `28.9K`, `950`.
 */
export function formatCompact(v: number | null | undefined): string {
  return orMissing(COMPACT, v);
}
