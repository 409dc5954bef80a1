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
 * Three facilities: L1 EUR stage 1 (EAD 1,000,000, ECL 10,000, PD 1%, LGD
 * 0.3), L2 USD stage 2 (EAD 500,000 USD = 450,000 EUR on a gross carrying
 * amount of 400,000 USD = 360,000 EUR, ECL 300,000 USD = 270,000 EUR, PD
 * 20%, LGD 1), L3 EUR stage 1 (EAD 800,000, ECL 5,000, PD 1.1%, LGD 0.45).
 * Gross carrying amounts attached as `attachCarryingAmounts` does. Every
 * amount is below a billion, so the charts draw them in EUR thousands.
 */
function source(): ChartSource {
  const results = pl.DataFrame({
    loan_id: ["L1", "L2", "L3"],
    product: ["sme", "mortgage", "sme"],
    region: ["north", "south", "north"],
    currency: ["EUR", "USD", "EUR"],
    stage: pl.Series("stage", [1, 2, 1], pl.Int32),
    ead: [1_000_000, 500_000, 800_000],
    gross_carrying_amount: [1_000_000, 400_000, 800_000],
    pd_12m: [0.01, 0.2, 0.011],
    lgd: [0.3, 1.0, 0.45],
    ecl_model: [10_000, 300_000, 5_000],
    ecl: [10_000, 300_000, 5_000],
    ecl_base: [10_000, 300_000, 5_000],
    ecl_downside: [20_000, 600_000, 10_000],
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
  assert.deepEqual(df.getColumn("ecl_rc").toArray(), [10_000, 270_000, 5_000]);
  assert.deepEqual(df.getColumn("ead_rc").toArray(), [
    1_000_000,
    450_000,
    800_000,
  ]);
});

Deno.test("stageDistributionChart() draws one bar per stage and measure with shares", async () => {
  const fig = await stageDistributionChart(source());
  // With its legend, a figure: the legend's swatches and the chart.
  assert.ok(fig.html.startsWith("<figure"));
  assert.equal(markElements(fig.html, "bar", "rect").length, 4);
  // 2 of 3 facilities and 1,800,000 of 2,250,000 EAD in stage 1 (EUR
  // thousands); the 20% segment is too narrow for the full label and shows
  // its share alone.
  assert.deepEqual(texts(fig.html).sort(), [
    "20.00%",
    "S1 66.67% (2)",
    "S1 80.00% (1,800.0)",
    "S2 33.33% (1)",
  ]);
  assert.match(fig.html, />EAD \(EUR thousands\)</);
});

Deno.test("eclByChart() draws one bar per group labelled with ECL and coverage on the gross carrying amount", async () => {
  const byStage = await eclByChart(source(), "stage");
  assert.equal(markElements(byStage.html, "bar", "rect").length, 2);
  // Stage 1: 15,000 / 1,800,000 = 0.83%; stage 2: 270,000 / 360,000 = 75%
  // (not 270 / 450 of EAD, methodology v2 §9); ECL in EUR thousands.
  assert.deepEqual(texts(byStage.html), ["15.0 · 0.83%", "270.0 · 75.00%"]);
  assert.match(byStage.html, />↑ ECL \(EUR thousands\)</);
  const byProduct = await eclByChart(source(), "product");
  assert.deepEqual(texts(byProduct.html), ["270.0 · 75.00%", "15.0 · 0.83%"]);
  const byRegion = await eclByChart(source(), "region");
  assert.equal(markElements(byRegion.html, "bar", "rect").length, 2);
  // Without gross carrying amounts there is no ratio to show.
  const bare = source();
  bare.results = bare.results.drop("gross_carrying_amount");
  assert.deepEqual(texts((await eclByChart(bare, "stage")).html), [
    "15.0",
    "270.0",
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
    totals: { gross_carrying_amount: 2_000_000, ead: 2_000_000, ecl: 160_000 },
    by_stage: [group("1", 40_000, 0.02), group("2", 120_000, null)],
  } as unknown as ChartSource["summary"];
  const fig = await eclByChart(src, "stage");
  assert.deepEqual(texts(fig.html), ["40.0 · 2.00%", "120.0"]);
});

Deno.test("scenarioEclChart() shows each scenario, the weighted and the final ECL", async () => {
  const fig = await scenarioEclChart(source());
  assert.equal(markElements(fig.html, "bar", "rect").length, 4);
  // base 10,000 + 270,000 + 5,000; downside twice that; weighted =
  // ecl_model; in EUR thousands.
  assert.deepEqual(texts(fig.html), ["285.0", "570.0", "285.0", "285.0"]);
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

Deno.test("topExposuresChart() lists the largest ECLs first, at most n, whether the results are read whole or a row at a time", async () => {
  for (const sliceRows of [undefined, 1]) {
    const fig = await topExposuresChart({ ...source(), sliceRows }, 2);
    assert.equal(markElements(fig.html, "bar", "rect").length, 2);
    assert.deepEqual(texts(fig.html), [
      "270.0 of EAD 450.0",
      "10.0 of EAD 1,000.0",
    ]);
    assert.match(fig.html, /L2 · mortgage · S2/);
    assert.doesNotMatch(fig.html, /L3 ·/);
  }
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
  const fig = dataQualityChart(dq)!;
  assert.equal(markElements(fig.html, "bar", "rect").length, 2);
  assert.deepEqual(texts(fig.html), ["2", "1"]);
  assert.doesNotMatch(fig.html, /B_RULE/);
  // Rows come whole: ticks at 0, 1 and 2 rows, none at half a row.
  assert.deepEqual(texts(fig.html, "x-axis tick label"), ["0", "1", "2"]);
  // Nothing failed: no chart, the page says so in a sentence.
  const clean = dataQualityChart({
    ...dq,
    rules: dq.rules.map((r) => ({ ...r, rows_failed: 0 })),
  });
  assert.equal(clean, null);
});

/** The labels of a Plot swatch legend, in order. */
function legend(html: string): string[] {
  return [
    ...html.matchAll(
      /<span class="plot-[0-9a-z]+-swatch"><svg[^>]*>.*?<\/svg>([^<]*)<\/span>/g,
    ),
  ].map((m) => m[1]);
}

Deno.test("every chart coloured by stage carries the stage legend", async () => {
  const stages = ["Stage 1", "Stage 2", "Stage 3"];
  const figures = {
    stages: await stageDistributionChart(source()),
    eclByStage: await eclByChart(source(), "stage"),
    pd: (await parameterDistributionChart(source(), "pd_12m"))!,
    lgd: (await parameterDistributionChart(source(), "lgd"))!,
    top: await topExposuresChart(source()),
  };
  for (const [name, fig] of Object.entries(figures)) {
    assert.deepEqual(legend(fig.html), stages, name);
  }
});

Deno.test("the PD and LGD histograms count facilities in whole numbers", async () => {
  // At most two facilities in a bin: ticks 0, 1, 2, never 0.5.
  const pd = (await parameterDistributionChart(source(), "pd_12m"))!;
  assert.deepEqual(texts(pd.html, "y-axis tick label"), ["0", "1", "2"]);
});

Deno.test("the band charts make room for long names and loan ids", async () => {
  const src = source();
  src.results = src.results.withColumns(
    pl.lit("Comunidad Foral de Navarra y La Rioja").alias("region"),
    pl.concatString([
      pl.lit("ES-MADRID-2025-0000000001234567-"),
      pl.col("loan_id"),
    ], "")
      .alias("loan_id"),
  );
  // The x of the tick labels is the left margin: Plot ends each label 9 px
  // left of the axis. Chromium draws the region in 195.4 px and the
  // longest bar's label, "ES-MADRID-2025-0000000001234567-L2 · mortgage ·
  // S2", in 287.7 px (measured with DejaVu Sans at 10 px, the widest
  // common sans-serif face).
  const margin = (html: string) =>
    Number(
      /aria-label="y-axis tick label"><text transform="translate\(([\d.]+),/
        .exec(html)![1],
    );
  const region = await eclByChart(src, "region");
  assert.ok(margin(region.html) - 9 >= 195.4, `${margin(region.html)}`);
  const top = await topExposuresChart(src);
  assert.ok(margin(top.html) - 9 >= 287.7, `${margin(top.html)}`);
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
  assert.ok(fig.html.startsWith("<figure")); // the shades have a legend
  assert.equal(markElements(fig.html, "cell", "rect").length, 3);
  // Shares 0.7, 0.3 and 1.0 fall in three different threshold classes.
  const fills = new Set(
    markElements(fig.html, "cell", "rect").map((r) =>
      /fill="([^"]+)"/.exec(r)![1]
    ),
  );
  assert.equal(fills.size, 3);
  // Each cell: the count with its share of the row, and the amount
  // (EUR thousands here: 0.7 of 700).
  assert.match(
    fig.html,
    /<tspan[^>]*>7 · 70\.00%<\/tspan><tspan[^>]*>0\.7<\/tspan>/,
  );
  assert.match(fig.html, /<tspan[^>]*>3 · 30\.00%<\/tspan>/);
  // The legend of the shades.
  assert.match(
    fig.html,
    /share of the opening state&#39;s facilities|share of the opening state's facilities/,
  );
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
