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
      "At 2025-12-31 (31 December 2025, Q4, in 2025) stage 2 and stages 1 and 3 under IFRS 9 §5.5.3, IFRS 7 §35H, B8E, IAS 21 and methodology §8; 12-month ECL, 30 days past due, 90 days past due.",
    ),
    [],
  );
});

const cite = (id: string) => `[fact:${id}]`;

Deno.test("checkNarrative() keeps figures written as a form of the fact cited after them, and strips the citations", () => {
  const sheet = smallSheet();
  const text = `The ECL of EUR 1.25 million ${
    cite("totals.ecl")
  } (1,250,000.00 ${cite("totals.ecl")}) covers 2.50% ${
    cite("totals.coverage")
  } of a gross carrying amount of EUR 50.00 million ${
    cite("totals.gross_carrying_amount")
  }; stage 2 holds 80.00 per cent ${
    cite("stage.2.ecl_share")
  } of it. Overlay energy adds EUR 50,000.00 ${
    cite("overlay.energy.ecl_impact")
  } on 100 ${cite("overlay.energy.facilities")} facilities.`;
  const check = checkNarrative(text, sheet);
  assert.deepEqual(check.unknown, []);
  assert.deepEqual(check.figures.map((f) => f.fact), [
    "totals.ecl",
    "totals.ecl",
    "totals.coverage",
    "totals.gross_carrying_amount",
    "stage.2.ecl_share",
    "overlay.energy.ecl_impact",
    "overlay.energy.facilities",
  ]);
  assert.equal(
    check.text,
    "The ECL of EUR 1.25 million (1,250,000.00) covers 2.50% of a gross carrying amount of EUR 50.00 million; stage 2 holds 80.00 per cent of it. Overlay energy adds EUR 50,000.00 on 100 facilities.",
  );
  // A release written as its size with its direction word.
  const summary = smallSummary();
  summary.overlays[0].ecl_impact = -50_000;
  assert.deepEqual(
    checkNarrative(
      `Overlay energy releases EUR 50,000.00 ${
        cite("overlay.energy.ecl_impact")
      }.`,
      buildFactSheet({ summary }),
    ).unknown,
    [],
  );
});

Deno.test("checkNarrative() refuses figures that are no fact's form, or cite nothing, or an unknown fact", () => {
  const sheet = smallSheet();
  const check = checkNarrative(
    `ECL of EUR 1.26 million ${cite("totals.ecl")}, 1.3 million ${
      cite("totals.ecl")
    }, 2.5% ${cite("totals.coverage")} coverage, 12 facilities, 80.00 ${
      cite("stage.2.ecl_share")
    } of it, 1,250,001.00 ${cite("totals.ecl")}, EUR1.4m and 3.00% ${
      cite("stage.9.coverage")
    }.`,
    sheet,
  );
  assert.deepEqual(check.unknown, [
    "[fact:stage.9.coverage] (no such fact)",
    "1.26 million (not a form of totals.ecl)",
    // A form of the fact, but only 2 significant digits.
    "1.3 million (fewer than 3 significant digits)",
    "2.5% (fewer than 3 significant digits)",
    "12 (no fact cited)",
    "80.00 (not a form of stage.2.ecl_share)",
    "1,250,001.00 (not a form of totals.ecl)",
    "1.4m (no fact cited)",
  ]);
});

/**
 * The reviewer's sheet (issue 14): ECL 1,028,449.75 on a gross carrying
 * amount of 8,227,000.00; a segment named "1"; a movement from an opening
 * ECL of 500,000.00, so the ECL rose by 528,449.75.
 */
function reviewerSheet() {
  const g = (key: string, gca: number, ecl: number, count = 10) => ({
    key,
    count,
    gross_carrying_amount: gca,
    ead: gca,
    ecl,
    loss_allowance: ecl,
    provision: 0,
    coverage: ecl / gca,
  });
  const summary = {
    ...smallSummary(),
    totals: { ...g("", 8_227_000, 1_028_449.75, 30), ecl_model: 1_028_449.75 },
    by_stage: [g("1", 7_000_000, 500_000), g("2", 1_227_000, 528_449.75)],
    by_product: [
      g("P1", 5_000_000, 600_000),
      g("mortgage", 3_227_000, 428_449.75),
    ],
    by_segment: [g("1", 8_227_000, 1_028_449.75)],
    overlays: [],
  };
  const lines = (opening: number, closing: number) => [
    { key: "opening", label: "Opening", total: opening },
    { key: "remeasurement", label: "Remeasurement", total: closing - opening },
    { key: "closing", label: "Closing", total: closing },
  ];
  return buildFactSheet({
    summary,
    movement: {
      reporting_currency: "EUR",
      from: { run_id: "q3", reporting_date: "2025-09-30" },
      to: { run_id: "q4", reporting_date: "2025-12-31" },
      facilities: {
        stayed: 30,
        new: 0,
        derecognised: 0,
        written_off: 0,
        transferred: 2,
      },
      allowance: { lines: lines(500_000, 1_028_449.75) },
      by_product: [],
      warnings: [],
    },
  });
}

Deno.test("checkNarrative() refuses a figure used in another sense than its fact's", () => {
  const sheet = reviewerSheet();
  // 8.23 million is the gross carrying amount, not the ECL.
  assert.deepEqual(
    checkNarrative("The ECL is EUR 8.23 million.", sheet).unknown,
    [
      "8.23 million (no fact cited)",
    ],
  );
  assert.deepEqual(
    checkNarrative(
      `The ECL is EUR 8.23 million ${cite("totals.gross_carrying_amount")}.`,
      sheet,
    ).unknown,
    [
      "8.23 million (said of the ecl, cited as totals.gross_carrying_amount)",
    ],
  );
  assert.deepEqual(
    checkNarrative(`The ECL is EUR 8.23 million ${cite("totals.ecl")}.`, sheet)
      .unknown,
    ["8.23 million (not a form of totals.ecl)"],
  );
  // A stage's figure said of another stage.
  assert.deepEqual(
    checkNarrative(
      `In stage 1 the ECL is EUR 528,449.75 ${cite("stage.2.ecl")}.`,
      sheet,
    ).unknown,
    ["528,449.75 (said of stage 1, cited as stage.2.ecl)"],
  );
  // In its own sense it is kept.
  assert.deepEqual(
    checkNarrative(
      `The gross carrying amount is EUR 8.23 million ${
        cite("totals.gross_carrying_amount")
      } and the ECL EUR 1.03 million ${cite("totals.ecl")}.`,
      sheet,
    ).unknown,
    [],
  );
});

Deno.test("checkNarrative() refuses a dropped sign, a wrong direction word and a change without one", () => {
  const sheet = reviewerSheet();
  // The ECL rose by 528,449.75 (closing 1,028,449.75 - opening 500,000).
  assert.equal(sheet.facts["movement.change"].value, 528_449.75);
  assert.deepEqual(
    checkNarrative(
      `Since 2025-09-30 the ECL rose by EUR 528,449.75 ${
        cite("movement.change")
      }.`,
      sheet,
    ).unknown,
    [],
  );
  for (const word of ["fell by", "decreased by", "released", "was down"]) {
    assert.deepEqual(
      checkNarrative(
        `Since 2025-09-30 the ECL ${word} EUR 528,449.75 ${
          cite("movement.change")
        }.`,
        sheet,
      ).unknown,
      ["528,449.75 (movement.change rose, the text says otherwise)"],
      word,
    );
  }
  assert.deepEqual(
    checkNarrative(
      `The change in ECL was EUR 528,449.75 ${cite("movement.change")}.`,
      sheet,
    ).unknown,
    ["528,449.75 (a change of movement.change with no direction)"],
  );
  assert.deepEqual(
    checkNarrative(`The ECL is EUR -1,028,449.75 ${cite("totals.ecl")}.`, sheet)
      .unknown,
    ["-1,028,449.75 (a sign: write the size and the direction)"],
  );
  assert.deepEqual(
    checkNarrative("The ECL is EUR -1,028,449.75.", sheet).unknown,
    ["-1,028,449.75 (no fact cited)"],
  );
});

Deno.test("checkNarrative() refuses figures whose precision says nothing, and numbers in words", () => {
  const sheet = reviewerSheet();
  assert.deepEqual(
    checkNarrative(`The ECL is EUR 1 million ${cite("totals.ecl")}.`, sheet)
      .unknown,
    ["1 million (not a form of totals.ecl)"],
  );
  assert.deepEqual(
    checkNarrative("The ECL is EUR 1 million.", sheet).unknown,
    ["1 million (no fact cited)"],
  );
  assert.deepEqual(
    checkNarrative(
      "Coverage is twelve per cent and the ECL rose by one hundred per cent across three products.",
      sheet,
    ).unknown,
    [
      "twelve (a number in words)",
      "one (a number in words)",
      "hundred (a number in words)",
      "three (a number in words)",
    ],
  );
  // Counts are whole and exact.
  assert.deepEqual(
    checkNarrative(
      `Stage 2 holds 10 ${cite("stage.2.count")} facilities.`,
      sheet,
    )
      .unknown,
    [],
  );
  assert.deepEqual(
    checkNarrative(
      `Stage 2 holds 10 facilities and 7,000,000 of ECL.`,
      sheet,
    ).unknown,
    ["10 (no fact cited)", "7,000,000 (no fact cited)"],
  );
});

Deno.test("checkNarrative() takes names out only as whole tokens: a segment named 1 hides no digit 1", () => {
  const sheet = reviewerSheet();
  for (
    const figure of [
      "11.1 million",
      "17.9 million",
      "1 million",
      "1.10 million",
    ]
  ) {
    assert.deepEqual(
      checkNarrative(`The ECL is EUR ${figure}.`, sheet).unknown,
      [`${figure} (no fact cited)`],
      figure,
    );
  }
  assert.deepEqual(
    checkNarrative(
      `Segment 1 carries EUR 1.03 million ${cite("segment.1.ecl")}.`,
      sheet,
    ).unknown,
    [],
  );
});

Deno.test("checkNarrative() allows names with digits and the texts the sheet quotes, copied whole", () => {
  const summary = smallSummary();
  summary.by_product[1].key = "sme_2024";
  summary.overlays[0].reason = "energy prices up 40% in 2022-23";
  const warning =
    "FX table fx.yaml is as of 2025-11-30, not 2025-12-31: 3 rates";
  const sheet = buildFactSheet({ summary, warnings: [warning] });
  assert.deepEqual(
    checkNarrative(
      `Product sme_2024 carries 72.00% ${
        cite("product.sme_2024.ecl_share")
      } of the ECL; overlay energy (energy prices up 40% in 2022-23) applies. ${warning}.`,
      sheet,
    ).unknown,
    [],
  );
  // A number of a quoted text, out of it, is a figure like any other.
  assert.deepEqual(
    checkNarrative("The FX warning names 3 rates.", sheet).unknown,
    ["3 (no fact cited)"],
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
