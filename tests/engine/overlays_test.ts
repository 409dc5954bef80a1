/**
 * Tests of overlays (post-model adjustments, methodology §8): multiplier,
 * add, each filter key, their conjunction, and file order.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { applyOverlays } from "../../lib/engine/overlays.ts";
import { computeEcl } from "../../lib/engine/ecl.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import type { Overlay } from "../../lib/rules.ts";
import { portfolio, relErr, rulesFrom, rulesYaml } from "./_helpers.ts";

/** Hand-made loan results: the columns applyOverlays reads. */
function results(): pl.LazyDataFrame {
  return pl.DataFrame({
    loan_id: ["A", "B", "C", "D"],
    segment: ["retail", "retail", "corporate", "corporate"],
    product: ["mortgage", "consumer", "sme", "sme"],
    stage: pl.Series("stage", [1, 2, 3, 2], pl.Int32),
    region: ["north", null, "south", "north"],
    ecl_model: [100, 200, 300, 400],
  }).lazy();
}

async function apply(overlays: Overlay[]) {
  const df = await applyOverlays(results(), overlays).collect();
  return {
    ecl: df.getColumn("ecl").toArray() as number[],
    applied:
      (df.getColumn("overlays_applied").toArray() as unknown as string[][])
        .map((x) => [...x]),
    model: df.getColumn("ecl_model").toArray() as number[],
  };
}

Deno.test("applyOverlays() without overlays copies ecl_model and lists nothing", async () => {
  const out = await apply([]);
  assert.deepEqual(out.ecl, [100, 200, 300, 400]);
  assert.deepEqual(out.applied, [[], [], [], []]);
});

Deno.test("applyOverlays() multiplies or adds on the facilities its filter matches", async () => {
  const out = await apply([
    {
      name: "retail_uplift",
      filter: { segment: ["retail"] },
      multiplier: 1.5,
      reason: "r",
    },
    {
      name: "sme_add",
      filter: { product: ["sme"], stage: [3] },
      add: 25,
      reason: "r",
    },
  ]);
  assert.deepEqual(out.ecl, [150, 300, 325, 400]);
  assert.deepEqual(out.model, [100, 200, 300, 400]);
  assert.deepEqual(out.applied, [["retail_uplift"], ["retail_uplift"], [
    "sme_add",
  ], []]);
});

Deno.test("applyOverlays() requires every filter key to match; a null region matches no region filter", async () => {
  const out = await apply([
    {
      name: "north_stage2",
      filter: { region: ["north"], stage: [2] },
      multiplier: 2,
      reason: "r",
    },
    { name: "all", filter: {}, add: 1, reason: "r" },
  ]);
  assert.deepEqual(out.ecl, [101, 201, 301, 801]);
  assert.deepEqual(out.applied, [["all"], ["all"], ["all"], [
    "north_stage2",
    "all",
  ]]);
});

Deno.test("applyOverlays() applies overlays in file order, each on the previous result", async () => {
  const mult: Overlay = { name: "m", filter: {}, multiplier: 1.1, reason: "r" };
  const add: Overlay = { name: "a", filter: {}, add: 50, reason: "r" };
  const multThenAdd = await apply([mult, add]);
  const addThenMult = await apply([add, mult]);
  assert.ok(relErr(multThenAdd.ecl[0], 100 * 1.1 + 50) < 1e-15);
  assert.ok(relErr(addThenMult.ecl[0], (100 + 50) * 1.1) < 1e-15);
  assert.deepEqual(addThenMult.applied[0], ["a", "m"]);
});

Deno.test("computeEcl() applies the rules file's overlays after weighting and keeps ecl_model", async () => {
  const rules = rulesFrom(rulesYaml({
    scenarios: `  - { name: base, weight: 0.5, pd_multiplier: [1] }
  - { name: stress, weight: 0.5, pd_multiplier: [2] }`,
    overlays:
      `  - { name: cards_x2, filter: { product: credit_card }, multiplier: 2, reason: "Model gap on cards" }
  - { name: defaulted_add, filter: { stage: 3 }, add: 10, reason: "Legal costs" }`,
  }));
  const df = await computeEcl(
    stageFacilities(
      portfolio([
        { product: "credit_card", maturity_date: null, default_flag: true },
        { product: "sme", default_flag: true },
      ]).lazy(),
      rules,
    ),
    rules,
  );
  const [card, sme] = df.toRecords();
  // Stage 3, no collateral: ECL = 0.45 * EAD in both scenarios.
  assert.equal(card.ecl_model, 0.45 * 1000);
  assert.equal(card.ecl, 0.45 * 1000 * 2 + 10);
  assert.equal(card.ecl_base, 450);
  assert.deepEqual([...(card.overlays_applied as unknown as string[])], [
    "cards_x2",
    "defaulted_add",
  ]);
  assert.equal(sme.ecl, 450 + 10);
});
