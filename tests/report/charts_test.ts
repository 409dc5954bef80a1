/**
 * Chart functions on a tiny hand-made book: each returns an SVG with the
 * marks expected for it, and the figures the labels carry are the ones a
 * reader can work out by hand.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  type ChartSource,
  dataQualityChart,
  eclByChart,
  inReportingCurrency,
  parameterDistributionChart,
  scenarioEclChart,
  stageDistributionChart,
  topExposuresChart,
} from "../../lib/report/mod.ts";
import {
  migrationHeatmap,
  type ReconciliationLineKey,
  waterfallSteps,
} from "../../lib/movement/mod.ts";
import { parseMarkup } from "./_markup.ts";

/**
 * Three facilities: L1 EUR stage 1 (EAD 1000, ECL 10, PD 1%, LGD 0.3),
 * L2 USD stage 2 (EAD 500 USD = 450 EUR on a gross carrying amount of 400
 * USD = 360 EUR, ECL 300 USD = 270 EUR, PD 20%, LGD 1), L3 EUR stage 1
 * (EAD 800, ECL 5, PD 1.1%, LGD 0.45). Gross carrying amounts attached as
 * `attachCarryingAmounts` does.
 */
function source(): ChartSource {
  const results = pl.DataFrame({
    loan_id: ["L1", "L2", "L3"],
    product: ["sme", "mortgage", "sme"],
    region: ["north", "south", "north"],
    currency: ["EUR", "USD", "EUR"],
    stage: pl.Series("stage", [1, 2, 1], pl.Int32),
    ead: [1000, 500, 800],
    gross_carrying_amount: [1000, 400, 800],
    pd_12m: [0.01, 0.2, 0.011],
    lgd: [0.3, 1.0, 0.45],
    ecl_model: [10, 300, 5],
    ecl: [10, 300, 5],
    ecl_base: [10, 300, 5],
    ecl_downside: [20, 600, 10],
  }).lazy();
  return { results, rates: { EUR: 1, USD: 0.9 }, currency: "EUR" };
}

/** The elements inside Plot's `<g aria-label="NAME">` group. */
function markElements(svg: string, name: string, tag: string): string[] {
  const start = svg.indexOf(`aria-label="${name}"`);
  if (start < 0) return [];
  const end = svg.indexOf("</g>", start);
  return svg.slice(start, end).match(new RegExp(`<${tag}\\b[^>]*>`, "g")) ??
    [];
}

function texts(svg: string, name = "text"): string[] {
  const start = svg.indexOf(`aria-label="${name}"`);
  const end = svg.indexOf("</g>", start);
  return [...svg.slice(start, end).matchAll(/<text[^>]*>([^<]*)<\/text>/g)]
    .map((m) => m[1]);
}

Deno.test("inReportingCurrency() converts amounts with the run's rates", async () => {
  const df = await inReportingCurrency(source().results, { EUR: 1, USD: 0.9 })
    .select("loan_id", "ead_rc", "ecl_rc").collect();
  assert.deepEqual(df.getColumn("ecl_rc").toArray(), [10, 270, 5]);
  assert.deepEqual(df.getColumn("ead_rc").toArray(), [1000, 450, 800]);
});

Deno.test("stageDistributionChart() draws one bar per stage and measure with shares", async () => {
  const fig = await stageDistributionChart(source());
  assert.ok(fig.svg?.startsWith("<svg"));
  assert.equal(markElements(fig.html, "bar", "rect").length, 4);
  // 2 of 3 facilities and 1800 of 2250 EAD in stage 1; the 20% segment is
  // too narrow for the full label and shows its share alone.
  assert.deepEqual(texts(fig.html).sort(), [
    "20.00%",
    "S1 66.67% (2)",
    "S1 80.00% (1.8K)",
    "S2 33.33% (1)",
  ]);
});

Deno.test("eclByChart() draws one bar per group labelled with ECL and coverage on the gross carrying amount", async () => {
  const byStage = await eclByChart(source(), "stage");
  assert.equal(markElements(byStage.html, "bar", "rect").length, 2);
  // Stage 1: 15 / 1800 = 0.83%; stage 2: 270 / 360 = 75% (not 270 / 450
  // of EAD, methodology v2 §9).
  assert.deepEqual(texts(byStage.html), ["15 · 0.83%", "270 · 75.00%"]);
  const byProduct = await eclByChart(source(), "product");
  assert.deepEqual(texts(byProduct.html), ["270 · 75.00%", "15 · 0.83%"]);
  const byRegion = await eclByChart(source(), "region");
  assert.equal(markElements(byRegion.html, "bar", "rect").length, 2);
  // Without gross carrying amounts there is no ratio to show.
  const bare = source();
  bare.results = bare.results.drop("gross_carrying_amount");
  assert.deepEqual(texts((await eclByChart(bare, "stage")).html), [
    "15",
    "270",
  ]);
});

Deno.test("eclByChart() takes its groups from the run's summary when the source has one", async () => {
  // The summary's figures, not the results': the chart matches the
  // report's tables by construction.
  const group = (key: string, ecl: number, coverage: number | null) => ({
    key,
    count: 1,
    gross_carrying_amount: 0,
    ead: 0,
    ecl,
    loss_allowance: 0,
    provision: 0,
    coverage,
  });
  const src = source();
  src.summary = {
    by_stage: [group("1", 40, 0.02), group("2", 120, null)],
  } as unknown as ChartSource["summary"];
  const fig = await eclByChart(src, "stage");
  assert.deepEqual(texts(fig.html), ["40 · 2.00%", "120"]);
});

Deno.test("scenarioEclChart() shows each scenario, the weighted and the final ECL", async () => {
  const fig = await scenarioEclChart(source());
  assert.equal(markElements(fig.html, "bar", "rect").length, 4);
  // base 10 + 270 + 5; downside twice that; weighted = ecl_model.
  assert.deepEqual(texts(fig.html), ["285", "570", "285", "285"]);
  assert.match(fig.html, />downside</);
});

Deno.test("parameterDistributionChart() bins PDs on a log axis and LGDs by 0.05", async () => {
  const pd = await parameterDistributionChart(source(), "pd_12m");
  // 1% and 1.1% share the bin [10^-2, 10^-1.8); 20% is alone.
  assert.equal(markElements(pd!.html, "rect", "rect").length, 2);
  const lgd = await parameterDistributionChart(source(), "lgd");
  // 0.3, 0.45 and 1.0 (clipped into the last bin [0.95, 1]).
  assert.equal(markElements(lgd!.html, "rect", "rect").length, 3);
  // Receivables on the simplified approach have no PD or LGD model (their
  // lgd is null): left out, and no chart at all when nothing is left.
  const onlySimplified = {
    ...source(),
    results: source().results.withColumns(
      pl.lit(null).cast(pl.Float64).alias("lgd"),
    ),
  };
  assert.equal(
    await parameterDistributionChart(onlySimplified, "pd_12m"),
    null,
  );
  assert.equal(await parameterDistributionChart(onlySimplified, "lgd"), null);
});

Deno.test("topExposuresChart() lists the largest ECLs first, at most n", async () => {
  const fig = await topExposuresChart(source(), 2);
  assert.equal(markElements(fig.html, "bar", "rect").length, 2);
  assert.deepEqual(texts(fig.html), ["270 of 450", "10 of 1K"]);
  assert.match(fig.html, /L2 · mortgage · S2/);
  assert.doesNotMatch(fig.html, /L3 ·/);
});

Deno.test("dataQualityChart() draws failed rules only, largest first", () => {
  const dq = {
    file: "x.csv",
    reporting_date: "2025-12-31",
    rows_read: 10,
    rows_valid: 7,
    rows_rejected: 3,
    reject_rate: 0.3,
    max_reject_rate: 0.5,
    passed: true,
    warnings: [],
    rules: [
      {
        code: "A_RULE",
        description: "",
        rows_checked: 10,
        rows_failed: 1,
        examples: [],
      },
      {
        code: "B_RULE",
        description: "",
        rows_checked: 10,
        rows_failed: 0,
        examples: [],
      },
      {
        code: "C_RULE",
        description: "",
        rows_checked: 10,
        rows_failed: 2,
        examples: [],
      },
    ],
  };
  const fig = dataQualityChart(dq);
  assert.equal(markElements(fig.html, "bar", "rect").length, 2);
  assert.deepEqual(texts(fig.html), ["2", "1"]);
  assert.doesNotMatch(fig.html, /B_RULE/);
  const clean = dataQualityChart({
    ...dq,
    rules: dq.rules.map((r) => ({ ...r, rows_failed: 0 })),
  });
  assert.match(clean.html, /No validation rule failed/);
});

Deno.test("waterfallSteps() floats each movement from the running balance", () => {
  const line = (key: ReconciliationLineKey, s1: number, s2: number) => ({
    key,
    label: "",
    by_stage: { "1": s1, "2": s2, "3": 0, simplified: 0 },
    total: s1 + s2,
  });
  const r = {
    measure: "allowance" as const,
    lines: [
      line("opening", 100, 40),
      line("transfer_to_stage_2", -10, 10),
      line("new_originated", 30, 0),
      line("derecognised", -50, 0),
      line("closing", 70, 50),
    ],
  };
  assert.deepEqual(waterfallSteps(r, "1").map((s) => [s.y1, s.y2, s.kind]), [
    [0, 100, "balance"],
    [100, 90, "transfer"],
    [90, 120, "increase"],
    [120, 70, "decrease"],
    [0, 70, "balance"],
  ]);
  // The total leaves out the transfers, which net to zero.
  assert.deepEqual(
    waterfallSteps(r).map((s) => [s.line, s.y1, s.y2]),
    [
      ["opening", 0, 140],
      ["new_originated", 140, 170],
      ["derecognised", 170, 120],
      ["closing", 0, 120],
    ],
  );
});

Deno.test("migrationHeatmap() draws one cell per migration with count labels", () => {
  const fig = migrationHeatmap([
    { from: "1", to: "1", count: 7, gross_opening: 700, gross_closing: 690 },
    { from: "1", to: "2", count: 3, gross_opening: 300, gross_closing: 290 },
    { from: "new", to: "1", count: 1, gross_opening: 0, gross_closing: 50 },
  ]);
  assert.ok(fig.svg?.startsWith("<svg"));
  assert.equal(markElements(fig.html, "cell", "rect").length, 3);
  // Shares 0.7, 0.3 and 1.0 fall in three different threshold classes.
  const fills = new Set(
    markElements(fig.html, "cell", "rect").map((r) =>
      /fill="([^"]+)"/.exec(r)![1]
    ),
  );
  assert.equal(fills.size, 3);
  assert.match(fig.html, /<tspan[^>]*>7<\/tspan>/);
});

Deno.test("charts draw a product or region named like markup as text: Plot escapes what it draws", async () => {
  const src = source();
  const script = "<script>alert(1)</script>";
  const img = '"><img src=x onerror=alert(2)>';
  src.results = src.results.withColumns(
    pl.lit(script).alias("product"),
    pl.lit(img).alias("region"),
  );
  const figures = [
    await eclByChart(src, "product"),
    await eclByChart(src, "region"),
    await topExposuresChart(src),
  ];
  for (const fig of figures) {
    const svg = fig.html;
    assert.doesNotMatch(svg, /<script|<img/);
    const parsed = parseMarkup(svg);
    assert.equal(parsed.count("script, img"), 0);
    // The names are there, as the text of the tick labels and bar labels.
    const drawn = parsed.texts("svg text").join("\n");
    assert.ok(drawn.includes(script) || drawn.includes(img), drawn);
  }
  assert.match(figures[0].html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(figures[1].html, /"&gt;&lt;img src=x onerror=alert\(2\)&gt;/);
});
