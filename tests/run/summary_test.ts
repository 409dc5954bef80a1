/**
 * Tests of summarize() (lib/run/summary.ts) on hand-made loan results whose
 * totals are worked out by hand below: three facilities in EUR, USD and MXN
 * converted with the rates EUR 1, USD 0.92, MXN 0.051; coverage on the
 * gross carrying amount and the loss allowance / provision split (IFRS 7
 * B8E, methodology v2 §9); overlay attribution read from the engine's
 * per-facility record (§8).
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { FxError, parseFx } from "../../lib/fx.ts";
import { parseRules } from "../../lib/rules.ts";
import {
  mergeSummaryCells,
  summarize,
  summaryCells,
  summaryFromCells,
} from "../../lib/run/mod.ts";
import {
  attachCarryingAmounts,
  overlayWarnings,
} from "../../lib/run_folder/mod.ts";
import { computeEcl } from "../../lib/engine/ecl.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import { portfolio } from "../engine/_helpers.ts";

const FX_TEXT =
  "base: EUR\nas_of: 2025-12-31\nrates: { EUR: 1, USD: 0.92, MXN: 0.051 }\n";
const fx = parseFx(FX_TEXT, "test/fx.yaml", "ab".repeat(32));

function rulesWith(overlays: string): ReturnType<typeof parseRules> {
  return parseRules(
    `reporting_currency: EUR
products:
  mortgage: { repayment: annuity }
  sme: { repayment: bullet }
  consumer: { repayment: linear }
scenarios:
  - { name: base, weight: 0.5, pd_multiplier: [1.0] }
  - { name: upside, weight: 0.2, pd_multiplier: [0.8] }
  - { name: downside, weight: 0.3, pd_multiplier: [1.6] }
overlays: ${overlays}
`,
    "test/rules.yaml",
  );
}

/**
 * A: EUR, stage 1, ECL 10 (scenarios 8 / 6 / 16: 0.5*8 + 0.2*6 + 0.3*16 = 10).
 * B: USD, stage 2, model ECL 100 (90 / 50 / 150), times 1.5 by an overlay =
 *    150 (recorded impact 50); EAD 2500 on a gross carrying amount of 2000.
 * C: MXN, stage 3, ECL 4500 in every scenario.
 */
function results(
  eclB = 150,
  overlaysB = ["sme_uplift"],
  impactsB = [50],
  a: { ecl: number; applied: string[]; impacts: number[]; floor: number } = {
    ecl: 10,
    applied: [],
    impacts: [],
    floor: 0,
  },
) {
  return pl.DataFrame({
    loan_id: ["A", "B", "C"],
    reporting_date: ["2025-12-31", "2025-12-31", "2025-12-31"],
    product: ["mortgage", "sme", "consumer"],
    segment: ["mortgage", "sme", "consumer"],
    region: ["north", "south", null],
    currency: ["EUR", "USD", "MXN"],
    stage: pl.Series("stage", [1, 2, 3], pl.Int32),
    stage_reason: ["PERFORMING", "WATCHLIST", "DPD_90"],
    stage_triggers: [[], ["WATCHLIST"], ["DPD_90"]],
    remaining_term_months: pl.Series(
      "remaining_term_months",
      [240, 24, 12],
      pl.Int32,
    ),
    ead: [1000, 2500, 10000],
    pd_12m: [0.01, 0.05, 1],
    pd_lifetime: [0.2, 0.1, 1],
    lgd: [0.1, 0.45, 0.45],
    ecl_12m: [10, 60, 4500],
    ecl_lifetime: [150, 100, 4500],
    ecl_model: [10, 100, 4500],
    ecl: [a.ecl, eclB, 4500],
    ecl_base: [8, 90, 4500],
    ecl_upside: [6, 50, 4500],
    ecl_downside: [16, 150, 4500],
    overlays_applied: pl.Series(
      "overlays_applied",
      [a.applied, overlaysB, []],
      pl.List(pl.Utf8),
    ),
    overlay_impacts: pl.Series(
      "overlay_impacts",
      [a.impacts, impactsB, []],
      pl.List(pl.Float64),
    ),
    overlay_floor: [a.floor, 0, 0],
  });
}

const carrying = pl.DataFrame({
  loan_id: ["C", "B", "A"],
  currency: ["MXN", "USD", "EUR"],
  gross_carrying_amount: [10000, 2000, 1000],
  write_off_amount: [0, 0, 0],
});

const close = (actual: number, expected: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} != ${expected}`,
  );

const OVERLAY_15 =
  "[{ name: sme_uplift, filter: { product: sme }, multiplier: 1.5, reason: sector stress }]";

Deno.test("summarize() converts mixed-currency totals with the FX table", async () => {
  const s = await summarize(attachCarryingAmounts(results(), carrying).lazy(), {
    runId: "r1",
    reportingDate: "2025-12-31",
    rules: rulesWith(OVERLAY_15),
    fx,
  });
  assert.equal(s.reporting_currency, "EUR");
  assert.deepEqual(s.fx, {
    file: "test/fx.yaml",
    sha256: "ab".repeat(32),
    base: "EUR",
    as_of: "2025-12-31",
    rates: { EUR: 1, MXN: 0.051, USD: 0.92 },
  });
  // 1000 + 2000*0.92 + 10000*0.051 = 1000 + 1840 + 510
  close(s.totals.gross_carrying_amount, 3350, "gross carrying amount");
  // 1000 + 2500*0.92 + 510
  close(s.totals.ead, 3810, "ead");
  // 10 + 150*0.92 + 4500*0.051 = 10 + 138 + 229.5
  close(s.totals.ecl, 377.5, "ecl");
  // 10 + 100*0.92 + 229.5
  close(s.totals.ecl_model, 331.5, "ecl_model");
  // Coverage on the gross carrying amount (methodology v2 §9), not on EAD
  // (377.5 / 3810).
  close(s.totals.coverage!, 377.5 / 3350, "coverage");
  // No facility's ECL exceeds its gross carrying amount: all allowance.
  close(s.totals.loss_allowance, 377.5, "loss allowance");
  assert.equal(s.totals.provision, 0);
  assert.equal(s.totals.count, 3);

  // base 8 + 90*0.92 + 229.5; upside 6 + 50*0.92 + 229.5; downside 16 + 150*0.92 + 229.5
  assert.deepEqual(s.scenarios.map((x) => [x.name, x.weight]), [
    ["base", 0.5],
    ["upside", 0.2],
    ["downside", 0.3],
  ]);
  close(s.scenarios[0].ecl, 320.3, "base");
  close(s.scenarios[1].ecl, 281.5, "upside");
  close(s.scenarios[2].ecl, 383.5, "downside");
  close(
    s.scenarios.reduce((a, x) => a + x.weight * x.ecl, 0),
    s.totals.ecl_model,
    "weighted scenarios",
  );

  assert.deepEqual(s.by_stage.map((g) => [g.key, g.count]), [
    ["1", 1],
    ["2", 1],
    ["3", 1],
  ]);
  close(s.by_stage[1].ead, 2300, "stage 2 ead");
  close(s.by_stage[1].gross_carrying_amount, 1840, "stage 2 gca");
  close(s.by_stage[1].ecl, 138, "stage 2 ecl");
  close(s.by_stage[1].coverage!, 138 / 1840, "stage 2 coverage");
  close(s.by_stage[2].ecl, 229.5, "stage 3 ecl");

  assert.deepEqual(s.by_region.map((g) => g.key), ["(none)", "north", "south"]);
  close(s.by_region[0].gross_carrying_amount, 510, "no region");

  const mxn = s.by_currency.find((g) => g.key === "MXN")!;
  assert.equal(mxn.ead_local, 10000);
  assert.equal(mxn.ecl_local, 4500);
  close(mxn.ead, 510, "MXN ead");
  close(mxn.ecl, 229.5, "MXN ecl");
  assert.deepEqual(s.by_currency.map((g) => g.key), ["EUR", "MXN", "USD"]);
  assert.deepEqual(s.by_product.map((g) => g.key), [
    "consumer",
    "mortgage",
    "sme",
  ]);
  assert.equal(s.by_segment.length, 3);

  assert.equal(s.overlays.length, 1);
  assert.equal(s.overlays[0].name, "sme_uplift");
  assert.equal(s.overlays[0].reason, "sector stress");
  assert.equal(s.overlays[0].facilities, 1);
  close(s.overlays[0].ecl_impact, 50 * 0.92, "overlay impact");
  assert.equal(s.overlays[0].multiplier, 1.5);
  assert.deepEqual(s.overlay_floor, { facilities: 0, ecl_impact: 0 });
  assert.deepEqual(overlayWarnings(s), []);
});

Deno.test("summarize() attributes the impacts the engine recorded, and the floor, in the reporting currency", async () => {
  // B (USD): 100 * 1.5 = 150 (impact 50), then its share of add_on, 10 as
  // recorded: 160. A (EUR): its share of add_on was -25, taking 10 to -15,
  // and the floor added 15 back: ECL 0. The summary sums these records; it
  // does not apply `add: 10` again (which would give +10 to each).
  const rules = rulesWith(`
  - { name: sme_uplift, filter: { product: sme }, multiplier: 1.5, reason: stress }
  - { name: add_on, filter: { stage: [1, 2] }, add: 10, reason: model gap }
  - { name: unused, filter: { region: east }, multiplier: 2, reason: never hits }`);
  const s = await summarize(
    attachCarryingAmounts(
      results(160, ["sme_uplift", "add_on"], [50, 10], {
        ecl: 0,
        applied: ["add_on"],
        impacts: [-25],
        floor: 15,
      }),
      carrying,
    ).lazy(),
    { runId: "r2", reportingDate: "2025-12-31", rules, fx },
  );
  assert.deepEqual(
    s.overlays.map((o) => [o.name, o.facilities, o.floored_facilities]),
    [
      ["sme_uplift", 1, 0],
      ["add_on", 2, 1],
      ["unused", 0, 0],
    ],
  );
  close(s.overlays[0].ecl_impact, 50 * 0.92, "first overlay");
  // 10 USD * 0.92 - 25 EUR
  close(s.overlays[1].ecl_impact, 9.2 - 25, "second overlay");
  assert.equal(s.overlays[1].add, 10);
  assert.equal(s.overlays[2].ecl_impact, 0);
  assert.deepEqual(s.overlay_floor, { facilities: 1, ecl_impact: 15 });
  // ECL: 0 + 160 * 0.92 + 229.5; model: 10 + 92 + 229.5; difference 45.2.
  close(s.totals.ecl - s.totals.ecl_model, 147.2 - 102, "ecl - ecl_model");
  close(
    s.overlays.reduce((a, o) => a + o.ecl_impact, 0) +
      s.overlay_floor.ecl_impact,
    s.totals.ecl - s.totals.ecl_model,
    "impacts and floor add up to ecl - ecl_model",
  );
  assert.deepEqual(overlayWarnings(s), [
    "Overlay add_on took the ECL of 1 facility below 0: the floor at 0 (methodology §8) added 15.00 EUR back",
  ]);
});

Deno.test("summarize() splits ECL above a facility's gross carrying amount into a provision (IFRS 7 B8E)", async () => {
  // K1: a card with 100 drawn and ECL 130: allowance 100, provision 30.
  // K2: a card with 500 drawn and ECL 20: allowance 20. Stage 1 together
  //     has ECL 150 below its 600 drawn, yet 30 of it is a provision: the
  //     split is per facility.
  // K3: USD, stage 2, nothing drawn, ECL 50 USD = 46 EUR: all provision;
  //     its stage has no coverage ratio (ECL over a gross carrying amount
  //     of 0).
  const book = pl.DataFrame({
    loan_id: ["K1", "K2", "K3"],
    product: ["card", "card", "card"],
    segment: ["card", "card", "card"],
    region: ["north", "north", "south"],
    currency: ["EUR", "EUR", "USD"],
    stage: pl.Series("stage", [1, 1, 2], pl.Int32),
    gross_carrying_amount: [100, 500, 0],
    ead: [175, 600, 1500],
    ecl_model: [130, 20, 50],
    ecl: [130, 20, 50],
    ecl_base: [130, 20, 50],
    ecl_upside: [130, 20, 50],
    ecl_downside: [130, 20, 50],
  });
  const opts = { runId: "b8e", reportingDate: "2025-12-31", fx };
  const s = await summarize(book.lazy(), { ...opts, rules: rulesWith("[]") });
  close(s.totals.ecl, 196, "ecl");
  close(s.totals.loss_allowance, 120, "loss allowance");
  close(s.totals.provision, 76, "provision");
  close(s.totals.coverage!, 196 / 600, "coverage");
  const [one, two] = s.by_stage;
  close(one.loss_allowance, 120, "stage 1 allowance");
  close(one.provision, 30, "stage 1 provision");
  close(one.coverage!, 150 / 600, "stage 1 coverage");
  assert.equal(two.loss_allowance, 0);
  close(two.provision, 46, "stage 2 provision");
  assert.equal(two.coverage, null);
  // The cells of two slices merge into the same figures.
  const rules = rulesWith("[]");
  const merged = summaryFromCells(
    mergeSummaryCells([
      await summaryCells(book.head(1).lazy(), rules),
      await summaryCells(book.tail(2).lazy(), rules),
    ]),
    { ...opts, rules },
  );
  assert.deepEqual(merged.totals, s.totals);
  assert.deepEqual(merged.by_stage, s.by_stage);
});

Deno.test("summarize() of computeEcl results: each overlay's impact in the reporting currency, adding up to ecl - ecl_model", async () => {
  // Two stage 3 loans without collateral, ECL = 0.45 * balance: EUR 450
  // and 20000 MXN * 0.45 = 9000 MXN (EUR 459 at 0.051). An add of EUR 100
  // on both is EUR 100 in the summary, whatever its currencies; the x2 on
  // the MXN loan before it adds EUR 459; a release of EUR 2000 on the EUR
  // loan then takes it below 0 and the floor adds the excess back.
  const rules = parseRules(
    `reporting_currency: EUR
products:
  sme: { repayment: bullet }
scenarios:
  - { name: base, weight: 1, pd_multiplier: [1.0] }
overlays:
  - { name: mxn_x2, filter: { region: south }, multiplier: 2, reason: r }
  - { name: legal, filter: { stage: 3 }, add: 100, reason: r }
  - { name: release, filter: { region: north }, add: -2000, reason: r }
`,
    "test/rules.yaml",
  );
  const book = portfolio([
    { default_flag: true, balance: 1000, region: "north" },
    { default_flag: true, balance: 20000, currency: "MXN", region: "south" },
  ]);
  const results = await computeEcl(stageFacilities(book.lazy(), rules), rules, {
    fx,
  });
  const carryingAmounts = book.select(
    pl.col("loan_id"),
    pl.col("balance").alias("gross_carrying_amount"),
  );
  const s = await summarize(
    attachCarryingAmounts(results, carryingAmounts).lazy(),
    { runId: "e2e", reportingDate: "2025-12-31", rules, fx },
  );
  close(s.totals.ecl_model, 450 + 459, "model");
  close(s.overlays[0].ecl_impact, 459, "x2");
  close(s.overlays[1].ecl_impact, 100, "legal");
  // The EUR loan holds 450 + 100 * 450 / (450 + 918) before the release.
  const before = 450 + 100 * 450 / 1368;
  close(s.overlays[2].ecl_impact, -2000, "release");
  close(s.overlay_floor.ecl_impact, 2000 - before, "floor");
  close(s.totals.ecl, 918 + 100 * 918 / 1368, "ecl");
  close(
    s.overlays.reduce((a, o) => a + o.ecl_impact, 0) +
      s.overlay_floor.ecl_impact,
    s.totals.ecl - s.totals.ecl_model,
    "impacts and floor add up",
  );
  assert.match(
    overlayWarnings(s)[0],
    /^Overlay release took the ECL of 1 facility below 0/,
  );
});

Deno.test("summarize() names a currency missing from the FX table", async () => {
  const gbp = results().withColumns(
    pl.when(pl.col("loan_id").eq(pl.lit("B"))).then(pl.lit("GBP"))
      .otherwise(pl.col("currency")).alias("currency"),
  );
  await assert.rejects(
    () =>
      summarize(attachCarryingAmounts(gbp, carrying).lazy(), {
        runId: "r3",
        reportingDate: "2025-12-31",
        rules: rulesWith("[]"),
        fx,
      }),
    (e: Error) =>
      e instanceof FxError && /test\/fx\.yaml/.test(e.message) &&
      /no rate for GBP/.test(e.message),
  );
});

Deno.test("summarize() gives zero coverage to an empty portfolio", async () => {
  const s = await summarize(
    attachCarryingAmounts(results().head(0), carrying).lazy(),
    {
      runId: "r4",
      reportingDate: "2025-12-31",
      rules: rulesWith("[]"),
      fx,
    },
  );
  assert.equal(s.totals.count, 0);
  assert.equal(s.totals.ecl, 0);
  assert.equal(s.totals.coverage, 0);
  assert.deepEqual(s.by_stage, []);
  assert.deepEqual(s.fx.rates, {});
});

Deno.test("attachCarryingAmounts() matches by loan_id in either order", () => {
  const sorted = carrying.sort("loan_id");
  const aligned = attachCarryingAmounts(results(), sorted);
  const joined = attachCarryingAmounts(results(), carrying);
  const expected = [1000, 2000, 10000];
  assert.deepEqual(
    aligned.getColumn("gross_carrying_amount").toArray(),
    expected,
  );
  assert.deepEqual(
    joined.getColumn("gross_carrying_amount").toArray(),
    expected,
  );
  assert.deepEqual(aligned.getColumn("loan_id").toArray(), ["A", "B", "C"]);
});

Deno.test("summarize() totals 100,001 facilities of very different sizes to the cent", async () => {
  // One facility of 1e11 EAD and 1e9 ECL, and 100,000 of one cent of each:
  // adding them one after another drifts by about 0.3, as Polars' group-by
  // does on some of its paths. The totals must be the exact 1e11 + 1000 and
  // 1e9 + 1000, whichever path Polars takes.
  const n = 100_000;
  const amounts = (first: number) =>
    Float64Array.from({ length: n + 1 }, (_, i) => i === 0 ? first : 0.01);
  const same = <T>(v: T) => Array.from({ length: n + 1 }, () => v);
  const book = pl.DataFrame({
    loan_id: Array.from({ length: n + 1 }, (_, i) => `L${i}`),
    product: same("mortgage"),
    segment: same("mortgage"),
    region: same("north"),
    currency: same("EUR"),
    stage: pl.Series("stage", same(1), pl.Int32),
    gross_carrying_amount: amounts(1e11),
    ead: amounts(1e11),
    ecl_model: amounts(1e9),
    ecl: amounts(1e9),
    ecl_base: amounts(1e9),
    ecl_upside: amounts(1e9),
    ecl_downside: amounts(1e9),
  });
  const s = await summarize(book.lazy(), {
    runId: "r1",
    reportingDate: "2025-12-31",
    rules: rulesWith("[]"),
    fx,
  });
  assert.equal(s.totals.count, n + 1);
  assert.ok(Math.abs(s.totals.ead - (1e11 + 1000)) < 1e-6, `${s.totals.ead}`);
  assert.ok(
    Math.abs(s.totals.gross_carrying_amount - (1e11 + 1000)) < 1e-6,
  );
  assert.ok(Math.abs(s.totals.ecl - (1e9 + 1000)) < 1e-7, `${s.totals.ecl}`);
});

Deno.test("summarize() lists overlays a plugin applied (no overlays in the rules), in order of first appearance, adding up to ecl - ecl_model", async () => {
  // A (EUR): model 10, a plugin overlay management:3 of -4 -> ECL 6.
  // B (USD): model 100, management:2 +30 then management:3 +20 -> ECL 150.
  // By hand in EUR: ECL - model ECL = (6 - 10) + (150 - 100) * 0.92 = 42;
  // management:3 = -4 + 20 * 0.92 = 14.4 on 2 facilities; management:2 =
  // 30 * 0.92 = 27.6 on 1. management:3 appears first (alphabetically it
  // would come second).
  const book = attachCarryingAmounts(
    results(150, ["management:2", "management:3"], [30, 20], {
      ecl: 6,
      applied: ["management:3"],
      impacts: [-4],
      floor: 0,
    }),
    carrying,
  );
  const rules = rulesWith("[]");
  const opts = { runId: "r1", reportingDate: "2025-12-31", rules, fx };
  const whole = await summarize(book.lazy(), opts);
  const merged = summaryFromCells(
    mergeSummaryCells([
      await summaryCells(book.head(1).lazy(), rules),
      await summaryCells(book.tail(2).lazy(), rules),
    ]),
    opts,
  );
  for (const s of [whole, merged]) {
    close(s.totals.ecl - s.totals.ecl_model, 42, "ecl - ecl_model");
    assert.deepEqual(
      s.overlays.map((o) => [o.name, o.facilities, o.floored_facilities]),
      [["management:3", 2, 0], ["management:2", 1, 0]],
    );
    close(s.overlays[0].ecl_impact, 14.4, "management:3");
    close(s.overlays[1].ecl_impact, 27.6, "management:2");
    assert.match(s.overlays[0].reason, /applied by a plugin/);
    assert.deepEqual(s.overlay_floor, { facilities: 0, ecl_impact: 0 });
    close(
      s.overlays.reduce((a, o) => a + o.ecl_impact, 0) +
        s.overlay_floor.ecl_impact,
      s.totals.ecl - s.totals.ecl_model,
      "bridge",
    );
  }
});
