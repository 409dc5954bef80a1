/**
 * The figure check of a model's narrative, on the small hand-made sheet
 * (tests/narrative/_facts.ts: ECL 1,250,000.00, gross carrying amount
 * 50,000,000.00, coverage 2.50%, stage 2 ECL 1,000,000.00 = 80.00% of the
 * ECL, overlay energy +50,000.00 on 100 facilities): which numbers are
 * read, how they are normalised, what is allowed that is not a figure,
 * and what is refused.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  buildFactSheet,
  checkNarrative,
  formsOf,
  quotedFigures,
} from "../../lib/narrative/mod.ts";
import { smallSheet, smallSummary } from "./_facts.ts";

Deno.test("quotedFigures() normalises separators, percentages and scale words", () => {
  const got = quotedFigures(
    "1,250,000.00 and 1.25 million and 1.3m, 1,250.0 thousand, 0.05 bn, 2.50%, 2.5 per cent, 300",
  ).map((f) => [f.value, f.percent]);
  assert.deepEqual(got, [
    [1_250_000, false],
    [1_250_000, false],
    [1_300_000, false],
    [1_250_000, false],
    [50_000_000, false],
    [0.025, true],
    [0.025, true],
    [300, false],
  ]);
  // Half a unit of the last digit, scaled: 1.25 million is 1,245,000 to
  // 1,255,000; 2.5% is 2.45% to 2.55%.
  const [m, p] = quotedFigures("1.25 million 2.5%");
  assert.ok(Math.abs(m.tolerance - 5_000) < 1e-3);
  assert.ok(Math.abs(p.tolerance - 0.0005) < 1e-9);
});

Deno.test("quotedFigures() leaves out dates, years, stages and references to standards", () => {
  assert.deepEqual(
    quotedFigures(
      "At 2025-12-31 (31 December 2025, Q4, in 2025) stage 2 and stages 1 and 3 under IFRS 9 §5.5.3, IFRS 7 §35H, B8E, IAS 21 and methodology §8.",
    ),
    [],
  );
});

Deno.test("checkNarrative() accepts every written form of the facts, and sizes of negative changes", () => {
  const sheet = smallSheet();
  const text =
    "The ECL of EUR 1.25 million (1,250,000.00; 1.3 million) covers 2.50% (2.5%) of EUR 50.00 million; stage 2 holds 80.00% of it. Overlay energy adds 50,000.00 on 100 facilities.";
  const check = checkNarrative(text, sheet);
  assert.deepEqual(check.unknown, []);
  // Each figure is matched to a fact of its value (80.00% is also stage
  // 1's share of the gross carrying amount, 40 of 50 million; 50,000.00
  // also the overlays' total change): the value is what is checked.
  const value = (id: string) => sheet.facts[id].value;
  assert.deepEqual(
    check.figures.map((f) => value(f.fact!)),
    [
      1_250_000,
      1_250_000,
      1_250_000,
      0.025,
      0.025,
      50_000_000,
      0.8,
      50_000,
      100,
    ],
  );
  // A release written as its size: overlays releasing 50,000.00.
  const summary = smallSummary();
  summary.overlays[0].ecl_impact = -50_000;
  assert.deepEqual(
    checkNarrative("releases EUR 50,000.00", buildFactSheet({ summary }))
      .unknown,
    [],
  );
});

Deno.test("checkNarrative() refuses figures that are no fact: made up, mis-rounded, or a ratio written as an amount", () => {
  const sheet = smallSheet();
  assert.deepEqual(
    checkNarrative(
      "ECL of EUR 1.26 million, 1.1 million, 2.6% coverage, 12 facilities, 80.00 of it, 1,250,001.00 and EUR1.4m.",
      sheet,
    ).unknown,
    [
      "1.26 million",
      "1.1 million",
      "2.6%",
      "12",
      "80.00",
      "1,250,001.00",
      "1.4m",
    ],
  );
});

Deno.test("checkNarrative() allows names with digits and the numbers of the texts the sheet quotes", () => {
  const summary = smallSummary();
  summary.by_product[1].key = "sme_2024";
  summary.overlays[0].reason = "energy prices up 40% in 2022-23";
  const sheet = buildFactSheet({
    summary,
    warnings: ["FX table fx.yaml is as of 2025-11-30, not 2025-12-31: 3 rates"],
  });
  assert.deepEqual(
    checkNarrative(
      "Product sme_2024 carries 72.00% of the ECL; overlay energy (energy prices up 40%) applies; the FX warning names 3 rates.",
      sheet,
    ).unknown,
    [],
  );
});

Deno.test("formsOf() writes amounts, ratios and counts in the forms a reader uses", () => {
  assert.deepEqual(formsOf(999.994, "amount"), ["999.99", "1,000"]);
  assert.deepEqual(formsOf(-2_345_678_901.5, "amount"), [
    "2,345,678,901.50",
    "2,345,678,902",
    "2,345,678.9 thousand",
    "2,345.68 million",
    "2,345.7 million",
    "2.35 billion",
    "2.35 bn",
  ]);
  assert.deepEqual(formsOf(0.8, "ratio"), ["80.00%", "80.0%"]);
  assert.deepEqual(formsOf(4960, "count"), ["4,960"]);
});
