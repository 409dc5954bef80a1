/**
 * The number formats of `lib/format.ts`, shared by the pages, the chart
 * labels and the console tables.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  formatAmount,
  formatCompact,
  formatCount,
  formatPercent,
} from "../lib/format.ts";

Deno.test("every format shows a missing or non-finite value as a dash", () => {
  for (
    const format of [
      formatAmount,
      formatCount,
      formatPercent,
      formatCompact,
    ]
  ) {
    for (const v of [null, undefined, NaN, Infinity, -Infinity]) {
      assert.equal(format(v), "–", `${format.name}(${v})`);
    }
  }
});

Deno.test("formatAmount() rounds to cents with thousands separators and never shows -0.00", () => {
  assert.equal(formatAmount(45827.255), "45,827.26");
  assert.equal(formatAmount(-1234.5), "-1,234.50");
  assert.equal(formatAmount(-0.004), "0.00");
  assert.equal(formatAmount(-0), "0.00");
  assert.equal(formatAmount(203_456_789_012.34), "203,456,789,012.34");
});

Deno.test("formatCount(), formatPercent() and formatCompact() read like the tables and labels of the pages", () => {
  assert.equal(formatCount(1_234_567.4), "1,234,567");
  assert.equal(formatPercent(0.0083), "0.83%");
  assert.equal(formatPercent(0.75), "75.00%");
  assert.equal(formatPercent(-0.00001), "0.00%");
  assert.equal(formatCompact(1_234_567), "1.23M");
  assert.equal(formatCompact(1_500_000_000), "1.5B");
  assert.equal(formatCompact(-1234), "-1.23K");
  assert.equal(formatCompact(950), "950");
});
