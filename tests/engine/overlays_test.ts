/**
 * Tests of overlays (post-model adjustments, methodology v2 §8): multiplier,
 * `add` in the reporting currency shared pro rata to ECL (to EAD when the
 * ECL sums to 0) across currencies, each filter key, their conjunction,
 * file order, the floor at 0, and the per-facility record of each
 * overlay's impact. Every expected figure is worked out in the comments.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  applyOverlayPlan,
  applyOverlays,
  mergeOverlayCells,
  overlayCells,
  overlayPlan,
} from "../../lib/engine/overlays.ts";
import { computeEcl } from "../../lib/engine/ecl.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import { FxError, parseFx } from "../../lib/fx.ts";
import type { Overlay } from "../../lib/rules.ts";
import { portfolio, relErr, rulesFrom, rulesYaml } from "./_helpers.ts";

/** 0.05 EUR per MXN, 0.049 EUR per MXN in the second table. */
const FX = parseFx(
  "base: EUR\nas_of: 2025-12-31\nrates: { EUR: 1, MXN: 0.05, USD: 0.92 }",
  "test/fx.yaml",
);
const OPTS = { fx: FX, reportingCurrency: "EUR" };

/** Hand-made loan results: the columns applyOverlays reads. */
function results(): pl.LazyDataFrame {
  return pl.DataFrame({
    loan_id: ["A", "B", "C", "D"],
    segment: ["retail", "retail", "corporate", "corporate"],
    product: ["mortgage", "consumer", "sme", "sme"],
    stage: pl.Series("stage", [1, 2, 3, 2], pl.Int32),
    region: ["north", null, "south", "north"],
    currency: ["EUR", "EUR", "EUR", "EUR"],
    ead: [1000, 2000, 3000, 4000],
    ecl_model: [100, 200, 300, 400],
  }).lazy();
}

interface Out {
  ecl: number[];
  model: number[];
  applied: string[][];
  impacts: number[][];
  floor: number[];
}

async function apply(
  overlays: Overlay[],
  input = results(),
  opts: Parameters<typeof applyOverlays>[2] = OPTS,
): Promise<Out> {
  const df = await (await applyOverlays(input, overlays, opts)).collect();
  const lists = (c: string) =>
    (df.getColumn(c).toArray() as unknown as Iterable<unknown>[])
      .map((x) => [...x]);
  return {
    ecl: df.getColumn("ecl").toArray() as number[],
    model: df.getColumn("ecl_model").toArray() as number[],
    applied: lists("overlays_applied") as string[][],
    impacts: lists("overlay_impacts") as number[][],
    floor: df.getColumn("overlay_floor").toArray() as number[],
  };
}

/** ecl = ecl_model + impacts (in list order) + floor, bit for bit. */
function assertRecordAddsUp(out: Out) {
  out.ecl.forEach((ecl, i) => {
    const sum = out.impacts[i].reduce((a, x) => a + x, out.model[i]) +
      out.floor[i];
    assert.equal(sum, ecl, `facility ${i}: ${sum} != ${ecl}`);
    assert.equal(out.impacts[i].length, out.applied[i].length);
  });
}

/** Two EUR facilities of ECL 30 and 10, one MXN facility of ECL 60 MXN. */
function threeFacilities(): pl.LazyDataFrame {
  return pl.DataFrame({
    loan_id: ["E1", "E2", "M1"],
    segment: ["sme", "sme", "sme"],
    product: ["sme", "sme", "sme"],
    stage: pl.Series("stage", [2, 2, 2], pl.Int32),
    region: ["north", "north", "south"],
    currency: ["EUR", "EUR", "MXN"],
    ead: [1000, 500, 4000],
    ecl_model: [30, 10, 60],
  }).lazy();
}

const addAll = (add: number, name = "add"): Overlay => ({
  name,
  filter: {},
  add,
  reason: "r",
});

Deno.test("applyOverlays() without overlays copies ecl_model and records nothing", async () => {
  const out = await apply([]);
  assert.deepEqual(out.ecl, [100, 200, 300, 400]);
  assert.deepEqual(out.applied, [[], [], [], []]);
  assert.deepEqual(out.impacts, [[], [], [], []]);
  assert.deepEqual(out.floor, [0, 0, 0, 0]);
});

Deno.test("applyOverlays() shares an add in the reporting currency pro rata to ECL across currencies", async () => {
  // ECL in EUR: 30, 10 and 60 MXN * 0.05 = 3; together 43. EUR 100 is
  // shared 30 : 10 : 3: EUR 3000/43, 1000/43 and 300/43, the last being
  // 300/43 / 0.05 = 6000/43 MXN. In each facility's currency the share is
  // its ECL times 100/43.
  const out = await apply([addAll(100)], threeFacilities());
  const expected = [30 + 3000 / 43, 10 + 1000 / 43, 60 + 6000 / 43];
  out.ecl.forEach((e, i) => assert.ok(relErr(e, expected[i]) < 1e-14, `${i}`));
  assert.ok(relErr(out.impacts[2][0], 6000 / 43) < 1e-14);
  // The shares add up to EUR 100 in the reporting currency.
  const eur = out.impacts[0][0] + out.impacts[1][0] + out.impacts[2][0] * 0.05;
  assert.ok(relErr(eur, 100) < 1e-14, `${eur}`);
  assert.deepEqual(out.applied, [["add"], ["add"], ["add"]]);
  assertRecordAddsUp(out);
});

Deno.test("applyOverlays() releases -100 in the reporting currency on an MXN loan, not -100 MXN (v1 bug)", async () => {
  // One MXN loan of ECL 5000 MXN at 0.049 EUR per MXN = EUR 245. Version 1
  // added -100 MXN (EUR -4.90); the release is EUR 100 = 100/0.049 MXN,
  // leaving EUR 145 = 145/0.049 MXN.
  const fx = parseFx(
    "base: EUR\nas_of: 2025-12-31\nrates: { EUR: 1, MXN: 0.049 }",
    "test/fx.yaml",
  );
  const loan = pl.DataFrame({
    loan_id: ["M"],
    segment: ["sme"],
    product: ["sme"],
    stage: pl.Series("stage", [2], pl.Int32),
    region: ["south"],
    currency: ["MXN"],
    ead: [100000],
    ecl_model: [5000],
  }).lazy();
  const out = await apply([addAll(-100, "release")], loan, {
    fx,
    reportingCurrency: "EUR",
  });
  assert.ok(relErr(out.ecl[0], 145 / 0.049) < 1e-14, `${out.ecl[0]}`);
  assert.ok(relErr(out.ecl[0] * 0.049, 145) < 1e-14);
  assert.ok(relErr(out.impacts[0][0], -100 / 0.049) < 1e-14);
});

Deno.test("applyOverlays() keeps a -60 release then x1.1 at (100 - 60) * 1.1 in total, not negative (v1 bug)", async () => {
  // ECL 50, 30, 20 (EUR 100 in all). Version 1 took 60 off each facility
  // and multiplied: (50-60 + 30-60 + 20-60) * 1.1 = -88. Shared pro rata,
  // -60 takes 30, 18 and 12, leaving 20, 12, 8; times 1.1: 22, 13.2, 8.8,
  // EUR 44 in total.
  const three = pl.DataFrame({
    loan_id: ["A", "B", "C"],
    segment: ["sme", "sme", "sme"],
    product: ["sme", "sme", "sme"],
    stage: pl.Series("stage", [1, 1, 2], pl.Int32),
    region: ["north", "north", "north"],
    currency: ["EUR", "EUR", "EUR"],
    ead: [1000, 1000, 1000],
    ecl_model: [50, 30, 20],
  }).lazy();
  const out = await apply([
    addAll(-60, "release"),
    { name: "uplift", filter: {}, multiplier: 1.1, reason: "r" },
  ], three);
  [22, 13.2, 8.8].forEach((e, i) =>
    assert.ok(relErr(out.ecl[i], e) < 1e-14, `${out.ecl[i]} != ${e}`)
  );
  assert.ok(relErr(out.ecl.reduce((a, b) => a + b, 0), 44) < 1e-14);
  assert.ok(relErr(out.impacts[0][0], -30) < 1e-14);
  assert.ok(relErr(out.impacts[0][1], 2) < 1e-14); // 20 * 0.1
  assert.deepEqual(out.floor, [0, 0, 0]);
  assertRecordAddsUp(out);
});

Deno.test("applyOverlays() floors each ECL at 0 after all overlays and records what the floor added", async () => {
  // A 10 and B 30 (EUR 40) lose EUR 150: 150/40 = 3.75 times their ECL,
  // leaving -27.5 and -82.5; the floor adds them back to 0. C (not
  // selected) keeps 50.
  const out = await apply(
    [{ name: "big_release", filter: { stage: [1] }, add: -150, reason: "r" }],
    pl.DataFrame({
      loan_id: ["A", "B", "C"],
      segment: ["sme", "sme", "sme"],
      product: ["sme", "sme", "sme"],
      stage: pl.Series("stage", [1, 1, 2], pl.Int32),
      region: ["north", "north", "north"],
      currency: ["EUR", "EUR", "EUR"],
      ead: [1000, 1000, 1000],
      ecl_model: [10, 30, 50],
    }).lazy(),
  );
  assert.deepEqual(out.ecl, [0, 0, 50]);
  assert.ok(relErr(out.impacts[0][0], -37.5) < 1e-14);
  assert.ok(relErr(out.impacts[1][0], -112.5) < 1e-14);
  assert.ok(relErr(out.floor[0], 27.5) < 1e-14);
  assert.ok(relErr(out.floor[1], 82.5) < 1e-14);
  assert.equal(out.floor[2], 0);
  assertRecordAddsUp(out);
});

Deno.test("applyOverlays() floors only after the last overlay: a later uplift sees the negative ECL", async () => {
  // A 10 loses 20 (-10), then the multiplier 2 on everything makes it -20;
  // the floor then adds 20. Flooring after each overlay would give 0 + 0.
  const out = await apply(
    [
      {
        name: "release",
        filter: { product: ["mortgage"] },
        add: -20,
        reason: "r",
      },
      { name: "double", filter: {}, multiplier: 2, reason: "r" },
    ],
    pl.DataFrame({
      loan_id: ["A"],
      segment: ["retail"],
      product: ["mortgage"],
      stage: pl.Series("stage", [1], pl.Int32),
      region: ["north"],
      currency: ["EUR"],
      ead: [1000],
      ecl_model: [10],
    }).lazy(),
  );
  assert.deepEqual(out.ecl, [0]);
  assert.deepEqual(out.impacts, [[-20, -10]]);
  assert.deepEqual(out.floor, [20]);
});

Deno.test("applyOverlays() multiplier then add differs from add then multiplier", async () => {
  // A 30 and B 10 (EUR); x2 on A, then EUR 40 on both, or the other way.
  const two = pl.DataFrame({
    loan_id: ["A", "B"],
    segment: ["sme", "sme"],
    product: ["sme", "consumer"],
    stage: pl.Series("stage", [2, 2], pl.Int32),
    region: ["north", "north"],
    currency: ["EUR", "EUR"],
    ead: [1000, 1000],
    ecl_model: [30, 10],
  }).lazy();
  const mult: Overlay = {
    name: "m",
    filter: { product: ["sme"] },
    multiplier: 2,
    reason: "r",
  };
  const add = addAll(40, "a");
  // x2 first: A 60, B 10 (70); 40 shared 60 : 10 gives A 60 + 240/7, B
  // 10 + 40/7: 94.29 and 15.71, 110 in all.
  const multThenAdd = await apply([mult, add], two);
  assert.ok(relErr(multThenAdd.ecl[0], 60 + 240 / 7) < 1e-14);
  assert.ok(relErr(multThenAdd.ecl[1], 10 + 40 / 7) < 1e-14);
  // Add first: 40 shared 30 : 10 gives A 60, B 20; x2 on A: 120, 20.
  const addThenMult = await apply([add, mult], two);
  assert.ok(relErr(addThenMult.ecl[0], 120) < 1e-14);
  assert.ok(relErr(addThenMult.ecl[1], 20) < 1e-14);
  assert.deepEqual(addThenMult.applied, [["a", "m"], ["a"]]);
  assert.deepEqual(multThenAdd.applied, [["m", "a"], ["a"]]);
  assertRecordAddsUp(multThenAdd);
  assertRecordAddsUp(addThenMult);
});

Deno.test("applyOverlays() shares an add pro rata to EAD in the reporting currency when the selection's ECL is 0", async () => {
  // A: ECL 0, EAD EUR 1000; B: ECL 0, EAD 20000 MXN = EUR 1000. EUR 50 is
  // shared 1000 : 1000: EUR 25 each, that is 25 / 0.05 = 500 MXN for B.
  // C (ECL 7, another product) is not selected.
  const book = pl.DataFrame({
    loan_id: ["A", "B", "C"],
    segment: ["sme", "sme", "sme"],
    product: ["sme", "sme", "mortgage"],
    stage: pl.Series("stage", [1, 1, 1], pl.Int32),
    region: ["north", "south", "north"],
    currency: ["EUR", "MXN", "EUR"],
    ead: [1000, 20000, 3000],
    ecl_model: [0, 0, 7],
  }).lazy();
  const out = await apply(
    [{ name: "new_risk", filter: { product: ["sme"] }, add: 50, reason: "r" }],
    book,
  );
  assert.ok(relErr(out.ecl[0], 25) < 1e-14, `${out.ecl[0]}`);
  assert.ok(relErr(out.ecl[1], 500) < 1e-14, `${out.ecl[1]}`);
  assert.equal(out.ecl[2], 7);
  assert.deepEqual(out.applied, [["new_risk"], ["new_risk"], []]);
});

Deno.test("applyOverlays() multiplies on the facilities its filter matches and requires every key", async () => {
  const out = await apply([
    {
      name: "retail_uplift",
      filter: { segment: ["retail"] },
      multiplier: 1.5,
      reason: "r",
    },
    {
      name: "north_stage2",
      filter: { region: ["north"], stage: [2] },
      multiplier: 2,
      reason: "r",
    },
  ]);
  // B has a null region: no region filter matches it.
  assert.deepEqual(out.ecl, [150, 300, 300, 800]);
  assert.deepEqual(out.model, [100, 200, 300, 400]);
  assert.deepEqual(out.applied, [["retail_uplift"], ["retail_uplift"], [], [
    "north_stage2",
  ]]);
  assert.deepEqual(out.impacts, [[50], [100], [], [400]]);
  assertRecordAddsUp(out);
});

Deno.test("applyOverlays() records impacts that add up to ecl exactly, whatever the figures", async () => {
  // Awkward binary fractions: the per-facility record must still add up
  // bit for bit (the List(Float64) keeps every bit).
  const n = 200;
  const book = pl.DataFrame({
    loan_id: Array.from({ length: n }, (_, i) => `L${i}`),
    segment: Array.from({ length: n }, (_, i) => i % 3 ? "a" : "b"),
    product: Array.from({ length: n }, (_, i) => i % 2 ? "sme" : "mortgage"),
    stage: pl.Series(
      "stage",
      Array.from({ length: n }, (_, i) => 1 + i % 3),
      pl.Int32,
    ),
    region: Array.from({ length: n }, (_, i) => i % 5 ? "north" : "south"),
    currency: Array.from({ length: n }, (_, i) => ["EUR", "MXN", "USD"][i % 3]),
    ead: Array.from({ length: n }, (_, i) => 1000 / 3 + i * 7.1),
    ecl_model: Array.from({ length: n }, (_, i) => (i * 0.1 + 1 / 7) ** 1.5),
  }).lazy();
  const out = await apply([
    { name: "m1", filter: { segment: ["a"] }, multiplier: 1.13, reason: "r" },
    { name: "a1", filter: { product: ["sme"] }, add: 123.456, reason: "r" },
    { name: "a2", filter: { stage: [2, 3] }, add: -1e6, reason: "r" },
    { name: "m2", filter: { region: ["south"] }, multiplier: 0.7, reason: "r" },
  ], book);
  assertRecordAddsUp(out);
  assert.ok(out.floor.some((f) => f > 0), "the release floors some facility");
});

Deno.test("applyOverlays() names the overlay and the currency the FX table lacks", async () => {
  const noMxn = parseFx(
    "base: EUR\nas_of: 2025-12-31\nrates: { EUR: 1 }",
    "test/eur_only.yaml",
  );
  await assert.rejects(
    () =>
      apply([addAll(100, "mgmt_add")], threeFacilities(), {
        fx: noMxn,
        reportingCurrency: "EUR",
      }),
    (e: Error) =>
      e instanceof FxError && /overlay mgmt_add/.test(e.message) &&
      /MXN/.test(e.message) && /test\/eur_only\.yaml/.test(e.message),
  );
  // A multiplier needs no rate.
  const out = await apply(
    [{ name: "m", filter: {}, multiplier: 2, reason: "r" }],
    threeFacilities(),
    {},
  );
  assert.deepEqual(out.ecl, [60, 20, 120]);
  // An add without the FX table is refused, naming the overlay.
  await assert.rejects(
    () => apply([addAll(100, "mgmt_add")], threeFacilities(), {}),
    /overlay mgmt_add.*FX table/,
  );
});

Deno.test("applyOverlays() refuses an add with nothing to share it by, and two overlays of one name", async () => {
  const empty = pl.DataFrame({
    loan_id: ["Z"],
    segment: ["sme"],
    product: ["sme"],
    stage: pl.Series("stage", [3], pl.Int32),
    region: ["north"],
    currency: ["EUR"],
    ead: [0],
    ecl_model: [0],
  }).lazy();
  await assert.rejects(
    () => apply([addAll(10, "legal")], empty),
    /overlay legal.*1 facilities it selects have an ECL and an EAD of 0/,
  );
  await assert.rejects(
    () => apply([addAll(10, "x"), addAll(5, "x")], threeFacilities()),
    // Checked on entry like the overlays of a rules file (§10).
    /applyOverlays\(\) refuses the overlays it was given: 1 problem\n {2}- key overlays\[1\]\.name: duplicate overlay name x/,
  );
  // An add that selects nothing changes nothing.
  const none = await apply(
    [{ name: "east", filter: { region: ["east"] }, add: 10, reason: "r" }],
    threeFacilities(),
  );
  assert.deepEqual(none.ecl, [30, 10, 60]);
  assert.deepEqual(none.applied, [[], [], []]);
});

Deno.test("overlayPlan() of merged slices applies like one pass over the whole book", async () => {
  // The add is shared over the whole selection, not slice by slice: E1
  // alone in one slice still gets 30/43 of EUR 100.
  const book = await threeFacilities().collect();
  const overlays = [
    { name: "m", filter: { region: ["north"] }, multiplier: 1.5, reason: "r" },
    addAll(100),
  ];
  const slices = [book.slice(0, 1), book.slice(1, 2)];
  const cells = mergeOverlayCells(
    await Promise.all(
      slices.map((s) => overlayCells(s.lazy(), overlays).collect()),
    ),
  );
  const plan = overlayPlan(overlays, cells, OPTS);
  const parts = await Promise.all(
    slices.map((s) => applyOverlayPlan(s.lazy(), plan).collect()),
  );
  const whole = await (await applyOverlays(book.lazy(), overlays, OPTS))
    .collect();
  // x1.5 on E1 and E2: 45, 15, plus M1 at EUR 3: EUR 63; 100 shared
  // 45 : 15 : 3.
  const ecl = pl.concat(parts).getColumn("ecl").toArray() as number[];
  const one = whole.getColumn("ecl").toArray() as number[];
  const expected = [45 + 4500 / 63, 15 + 1500 / 63, 60 + 6000 / 63];
  ecl.forEach((e, i) => {
    assert.ok(relErr(e, expected[i]) < 1e-14, `${i}: ${e}`);
    assert.ok(relErr(one[i], expected[i]) < 1e-14, `${i}: ${one[i]}`);
  });
});

Deno.test("computeEcl() applies the rules file's overlays after weighting with the run's FX table", async () => {
  const rules = rulesFrom(rulesYaml({
    scenarios: `  - { name: base, weight: 0.5, pd_multiplier: [1] }
  - { name: stress, weight: 0.5, pd_multiplier: [2] }`,
    overlays:
      `  - { name: cards_x2, filter: { product: credit_card }, multiplier: 2, reason: "Model gap on cards" }
  - { name: defaulted_add, filter: { stage: 3 }, add: 10, reason: "Legal costs" }`,
  }));
  const staged = stageFacilities(
    portfolio([
      { product: "credit_card", maturity_date: null, default_flag: true },
      { product: "sme", default_flag: true },
    ]).lazy(),
    rules,
  );
  const df = await computeEcl(staged, rules, { fx: FX });
  const [card, sme] = df.toRecords();
  // Stage 3, no collateral: ECL = 0.45 * EAD = 450 in both scenarios. The
  // card doubles to 900; EUR 10 is shared 900 : 450 over the two.
  assert.equal(card.ecl_model, 450);
  assert.ok(relErr(card.ecl as number, 900 + 10 * 900 / 1350) < 1e-14);
  assert.ok(relErr(sme.ecl as number, 450 + 10 * 450 / 1350) < 1e-14);
  assert.equal(card.ecl_base, 450);
  assert.deepEqual([...(card.overlays_applied as unknown as string[])], [
    "cards_x2",
    "defaulted_add",
  ]);
  assert.equal((card.overlay_impacts as unknown as number[]).length, 2);
  assert.equal(card.overlay_floor, 0);
  // Both facilities are in EUR, the reporting currency: the add needs no
  // FX table to be shared, so a notebook's plain call gives the same.
  const noFx = await computeEcl(staged, rules);
  assert.deepEqual(
    noFx.getColumn("ecl").toArray(),
    df.getColumn("ecl").toArray(),
  );
  // Without overlays the model ECL comes back alone, for a caller that
  // applies them over a wider population.
  const model = await computeEcl(staged, rules, { overlays: false });
  assert.deepEqual(model.getColumn("ecl").toArray(), [450, 450]);
  assert.ok(!model.columns.includes("overlays_applied"));
});

Deno.test("overlayPlan() warns when an add is shared over ECL an earlier release made negative", async () => {
  // A (stage 1) 100 and B (stage 2) 200. A release of 150 on stage 1
  // leaves A at -50; a top-up of 30 on stages 1-2 is then shared by the
  // ECL at that point, -50 : 200, so A takes 30 * -50 / 150 = -10 and B
  // +40, before the floor brings A back to 0 (methodology §8).
  const overlays: Overlay[] = [
    {
      name: "release",
      filter: { stage: [1] },
      add: -150,
      reason: "test",
    },
    { name: "topup", filter: { stage: [1, 2] }, add: 30, reason: "test" },
  ];
  const input = results().filter(pl.col("loan_id").isIn(["A", "B"]));
  const warnings: string[] = [];
  const out = await apply(overlays, input, {
    ...OPTS,
    onWarning: (w) => warnings.push(w),
  });
  assert.deepEqual(out.impacts, [[-150, -10], [40]]);
  assert.deepEqual(out.floor, [60, 0]);
  assert.deepEqual(out.ecl, [0, 240]);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    /^Overlay topup is shared pro rata to ECL that overlay release made negative/,
  );
  // The same overlays the other way round: nothing is negative when the
  // top-up is shared, so no warning.
  const quiet: string[] = [];
  await apply([overlays[1], overlays[0]], input, {
    ...OPTS,
    onWarning: (w) => quiet.push(w),
  });
  assert.deepEqual(quiet, []);
});

Deno.test("applyOverlays() keeps ecl_rc in step with ecl on results that carry it", async () => {
  // Two facilities at 0.05 EUR per MXN: ECL 100 and 300 MXN, so ecl_rc 5
  // and 15 EUR. Doubling the second gives 600 MXN, 30 EUR; left as it was,
  // ecl_rc would still say 15.
  const input = pl.DataFrame({
    loan_id: ["A", "B"],
    segment: ["s", "s"],
    product: ["sme", "sme"],
    stage: pl.Series("stage", [1, 2], pl.Int32),
    region: ["north", "north"],
    currency: ["MXN", "MXN"],
    ead: [1000, 2000],
    ecl_model: [100, 300],
    fx_rate: [0.05, 0.05],
    ecl_rc: [5, 15],
  }).lazy();
  const out = await (await applyOverlays(input, [
    { name: "x2", filter: { stage: [2] }, multiplier: 2, reason: "test" },
  ], OPTS)).collect();
  assert.deepEqual(out.getColumn("ecl").toArray(), [100, 600]);
  assert.deepEqual(out.getColumn("ecl_rc").toArray(), [5, 30]);
});
