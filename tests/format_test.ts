/**
 * The number formats of `lib/format.ts`, shared by the pages, the chart
 * labels and the console tables.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  amountUnit,
  formatAmount,
  formatCount,
  formatInUnit,
  formatPercent,
  formatPointChange,
  formatTick,
  formatTickPercent,
  MILLIONS,
  NOT_FINITE,
  THOUSANDS,
  unitLabel,
} from "../lib/format.ts";

Deno.test("every format shows a missing value as a dash and a non-finite number as n/a, never NaN or ∞", () => {
  for (
    const format of [
      formatAmount,
      formatCount,
      formatPercent,
      formatPointChange,
      formatTick,
      (v: number | null | undefined) => formatInUnit(v, THOUSANDS),
      (v: number | null | undefined) => formatPercent(v, { signed: true }),
      (v: number | null | undefined) =>
        formatInUnit(v, MILLIONS, { signed: true }),
    ]
  ) {
    for (const v of [null, undefined]) {
      assert.equal(format(v), "–", `${format.name}(${v})`);
    }
    // Not the dash: a figure that went wrong is not a figure that is not
    // there (lib/format.ts).
    for (const v of [NaN, Infinity, -Infinity]) {
      assert.equal(format(v), NOT_FINITE, `${format.name}(${v})`);
    }
  }
  assert.equal(NOT_FINITE, "n/a");
  for (const v of [NaN, Infinity, -Infinity]) {
    assert.equal(formatTickPercent(v), "n/a");
  }
});

Deno.test("formatAmount() rounds to cents with thousands separators and never shows -0.00", () => {
  assert.equal(formatAmount(45827.255), "45,827.26");
  assert.equal(formatAmount(-1234.5), "-1,234.50");
  assert.equal(formatAmount(-0.004), "0.00");
  assert.equal(formatAmount(-0), "0.00");
  assert.equal(formatAmount(203_456_789_012.34), "203,456,789,012.34");
});

Deno.test("formatCount() and formatPercent() read like the tables and labels of the pages", () => {
  assert.equal(formatCount(1_234_567.4), "1,234,567");
  assert.equal(formatPercent(0.0083), "0.83%");
  assert.equal(formatPercent(0.75), "75.00%");
  assert.equal(formatPercent(-0.00001), "0.00%");
  // Changes carry their sign; one that rounds to zero has none.
  assert.equal(formatPercent(0.0123, { signed: true }), "+1.23%");
  assert.equal(formatPercent(-0.0123, { signed: true }), "-1.23%");
  assert.equal(formatPercent(0.00001, { signed: true }), "0.00%");
  assert.equal(formatCount(12, { signed: true }), "+12");
});

Deno.test("amountUnit() shows thousands below a billion and millions from a billion up", () => {
  assert.equal(amountUnit([999_999_999.99]), THOUSANDS);
  assert.equal(amountUnit([12, -1_000_000_000]), MILLIONS);
  assert.equal(amountUnit([]), THOUSANDS);
  assert.equal(amountUnit([null, NaN, 5]), THOUSANDS);
  assert.equal(unitLabel("EUR", MILLIONS), "EUR millions");
});

Deno.test("formatInUnit() shows an amount in the page's unit with one decimal", () => {
  // 99,544,147.88 in thousands: 99,544.1; 203,456,789,012.34 in millions:
  // 203,456.8.
  assert.equal(formatInUnit(99_544_147.88, THOUSANDS), "99,544.1");
  assert.equal(formatInUnit(203_456_789_012.34, MILLIONS), "203,456.8");
  assert.equal(formatInUnit(-25_349.99, THOUSANDS), "-25.3");
  assert.equal(formatInUnit(-49.99, THOUSANDS), "0.0");
  assert.equal(formatInUnit(155_000, THOUSANDS, { signed: true }), "+155.0");
  assert.equal(formatInUnit(40, THOUSANDS, { signed: true }), "0.0");
});

Deno.test("formatPointChange() and formatTick() read like changes of ratios and axis ticks", () => {
  // Coverage 4.00% -> 10.75%: +6.75 percentage points.
  assert.equal(formatPointChange(0.1075 - 0.04), "+6.75 pp");
  assert.equal(formatPointChange(-0.5), "-50.00 pp");
  assert.equal(formatPointChange(1e-17), "0.00 pp");
  assert.equal(formatTick(1500), "1,500");
  assert.equal(formatTick(0.5), "0.5");
});
