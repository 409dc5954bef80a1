/**
 * The fact sheet's guards and the narrative's last resort: a movement is
 * taken only into its own run (the later run's id, and a closing ECL equal
 * to the run's total), else refused naming both; a template paragraph that
 * fails says why instead of failing the narrative; `safeNarrative` turns
 * any error into a minimal text with the reason.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  buildFactSheet,
  fallbackNarrative,
  type MovementFacts,
  safeNarrative,
  templateNarrative,
} from "../../lib/narrative/mod.ts";
import { smallSheet, smallSummary } from "./_facts.ts";

/** A movement from q3 into the small sheet's run q4, closing at `closing`. */
function movementInto(runId: string, closing: number): MovementFacts {
  return {
    reporting_currency: "EUR",
    from: { run_id: "q3", reporting_date: "2025-09-30" },
    to: { run_id: runId, reporting_date: "2025-12-31" },
    facilities: {
      stayed: 300,
      new: 0,
      derecognised: 0,
      written_off: 0,
      transferred: 0,
    },
    allowance: {
      lines: [
        { key: "opening", label: "Opening", total: 1_000_000 },
        {
          key: "remeasurement",
          label: "Remeasurement",
          total: closing - 1_000_000,
        },
        { key: "closing", label: "Closing", total: closing },
      ],
    },
    by_product: [],
    warnings: [],
  };
}

Deno.test("buildFactSheet() takes a movement only into its own run: same run id, closing ECL equal to the run's", () => {
  const summary = smallSummary(); // run q4, ECL 1,250,000.00
  const ok = buildFactSheet({
    summary,
    movement: movementInto("q4", 1_250_000),
  });
  assert.equal(ok.facts["movement.change"].value, 250_000);
  assert.equal(ok.facts["movement.change"].change, true);
  // Another run of the same date.
  assert.throws(
    () =>
      buildFactSheet({
        summary,
        movement: movementInto("q4-rerun", 1_250_000),
      }),
    (e: Error) =>
      e instanceof RangeError && e.message.includes("run q4-rerun") &&
      e.message.includes("this run q4"),
  );
  // The same id, another version of the run (its ECL differs).
  assert.throws(
    () => buildFactSheet({ summary, movement: movementInto("q4", 1_249_000) }),
    (e: Error) =>
      e instanceof RangeError && e.message.includes("1,249,000.00") &&
      e.message.includes("1,250,000.00"),
  );
  // A cent of rounding is the same run.
  assert.doesNotThrow(() =>
    buildFactSheet({ summary, movement: movementInto("q4", 1_250_000.004) })
  );
});

Deno.test("templateNarrative() words a share and a coverage of nothing instead of failing", () => {
  const summary = smallSummary();
  // Stage 2 all undrawn: no gross carrying amount, so no coverage.
  summary.by_stage[1] = {
    ...summary.by_stage[1],
    gross_carrying_amount: 0,
    coverage: null as unknown as number,
  };
  const paragraphs = templateNarrative(buildFactSheet({ summary }));
  const stages = paragraphs.find((p) => p.topic === "stages")!;
  assert.match(
    stages.text,
    /stage 2 holds 0\.00% of the gross carrying amount and 80\.00% of the ECL \(1\.00 million, coverage not defined: no gross carrying amount, 50 facilities\)/,
  );
  assert.ok(!stages.facts.includes("stage.2.coverage"));
});

Deno.test("templateNarrative() loses only the paragraph a broken sheet breaks, saying why", () => {
  const sheet = smallSheet();
  delete sheet.facts["totals.count"];
  const paragraphs = templateNarrative(sheet);
  assert.equal(paragraphs[0].topic, "headline");
  assert.match(
    paragraphs[0].text,
    /^The headline paragraph could not be written \(no fact totals\.count in the fact sheet\)/,
  );
  assert.ok(paragraphs.some((p) => p.topic === "stages"));
});

Deno.test("safeNarrative() turns any error into a minimal text with the reason", async () => {
  const n = await safeNarrative(() => {
    throw new RangeError("no fact stage.2.coverage");
  }, {
    run_id: "q4",
    reporting_date: "2025-12-31",
    reporting_currency: "EUR",
    ecl: 1_028_449.75,
  });
  assert.equal(n.provider, "template");
  assert.equal(
    n.fallback_reason,
    "the narrative could not be written: no fact stage.2.coverage",
  );
  assert.equal(
    n.text,
    "At 2025-12-31 the expected credit loss is EUR 1.03 million. The narrative could not be written (no fact stage.2.coverage); the figures are in the tables of the report and in summary.json.",
  );
  assert.deepEqual(n.facts.facts, {});
  // Without the ECL, still a text.
  assert.match(
    fallbackNarrative("x").text,
    /^The narrative could not be written \(x\)/,
  );
  // What works is returned as it is.
  const good = fallbackNarrative("kept");
  assert.equal(await safeNarrative(() => Promise.resolve(good)), good);
});
