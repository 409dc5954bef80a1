/**
 * Tests of summarize() (lib/run/summary.ts) on hand-made loan results whose
 * totals are worked out by hand below: three facilities in EUR, USD and MXN
 * converted with the rates EUR 1, USD 0.92, MXN 0.051.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { FxError, parseFx } from "../../lib/fx.ts";
import { parseRules } from "../../lib/rules.ts";
import { attachCarryingAmounts, summarize } from "../../lib/run/summary.ts";

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
 * B: USD, stage 2, model ECL 100 (90 / 50 / 150), times 1.5 by an overlay = 150.
 * C: MXN, stage 3, ECL 4500 in every scenario.
 */
function results(eclB = 150, overlaysB = ["sme_uplift"]) {
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
    ead: [1000, 2000, 10000],
    pd_12m: [0.01, 0.05, 1],
    pd_lifetime: [0.2, 0.1, 1],
    lgd: [0.1, 0.45, 0.45],
    ecl_12m: [10, 60, 4500],
    ecl_lifetime: [150, 100, 4500],
    ecl_model: [10, 100, 4500],
    ecl: [10, eclB, 4500],
    ecl_base: [8, 90, 4500],
    ecl_upside: [6, 50, 4500],
    ecl_downside: [16, 150, 4500],
    overlays_applied: pl.Series(
      "overlays_applied",
      [[], overlaysB, []],
      pl.List(pl.Utf8),
    ),
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
  close(s.totals.ead, 3350, "ead");
  // 10 + 150*0.92 + 4500*0.051 = 10 + 138 + 229.5
  close(s.totals.ecl, 377.5, "ecl");
  // 10 + 100*0.92 + 229.5
  close(s.totals.ecl_model, 331.5, "ecl_model");
  close(s.totals.coverage, 377.5 / 3350, "coverage");
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
  close(s.by_stage[1].ead, 1840, "stage 2 ead");
  close(s.by_stage[1].ecl, 138, "stage 2 ecl");
  close(s.by_stage[1].coverage, 138 / 1840, "stage 2 coverage");
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
});

Deno.test("summarize() attributes stacked overlays in configuration order", async () => {
  // B: 100 * 1.5 = 150 (impact 50), then + 10 = 160 (impact 10), in USD.
  const rules = rulesWith(`
  - { name: sme_uplift, filter: { product: sme }, multiplier: 1.5, reason: stress }
  - { name: add_on, filter: { stage: 2 }, add: 10, reason: model gap }
  - { name: unused, filter: { region: east }, multiplier: 2, reason: never hits }`);
  const s = await summarize(
    attachCarryingAmounts(results(160, ["sme_uplift", "add_on"]), carrying)
      .lazy(),
    { runId: "r2", reportingDate: "2025-12-31", rules, fx },
  );
  assert.deepEqual(s.overlays.map((o) => [o.name, o.facilities]), [
    ["sme_uplift", 1],
    ["add_on", 1],
    ["unused", 0],
  ]);
  close(s.overlays[0].ecl_impact, 50 * 0.92, "first overlay");
  close(s.overlays[1].ecl_impact, 10 * 0.92, "second overlay");
  assert.equal(s.overlays[2].ecl_impact, 0);
  close(
    s.overlays.reduce((a, o) => a + o.ecl_impact, 0),
    s.totals.ecl - s.totals.ecl_model,
    "impacts add up to ecl - ecl_model",
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
