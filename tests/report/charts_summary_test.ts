/**
 * What the report's charts read (issue 17, lib/report/charts.ts): with the
 * run's summary, the stage distribution, the scenario chart and the
 * missing-rate check take their figures from it (no scan of the loan
 * results); both parameter distributions come from one pass, counted here
 * by hand.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  type ChartSource,
  missingRateCurrencies,
  parameterBins,
  scenarioEclChart,
  stageDistributionChart,
} from "../../lib/report/charts.ts";

/** A source whose results cannot be scanned: any read fails. */
function summaryOnly(): ChartSource {
  const group = (key: string, count: number, ead: number) => ({
    key,
    count,
    gross_carrying_amount: ead,
    ead,
    ecl: 0,
    loss_allowance: 0,
    provision: 0,
    coverage: null,
  });
  return {
    results: pl.scanParquet("/nonexistent/loan_results.parquet"),
    rates: { EUR: 1, USD: 0.9 },
    currency: "EUR",
    summary: {
      totals: { ecl_model: 285_000, ecl: 300_000 },
      scenarios: [
        { name: "base", weight: 0.6, ecl: 200_000 },
        { name: "downside", weight: 0.4, ecl: 400_000 },
      ],
      by_stage: [group("1", 3, 1_500_000), group("2", 1, 500_000)],
      by_currency: [group("EUR", 3, 0), group("GBP", 1, 0)],
    } as unknown as ChartSource["summary"],
  };
}

function texts(svg: string): string[] {
  const start = svg.indexOf(`aria-label="text"`);
  const end = svg.indexOf("</g>", start);
  return [...svg.slice(start, end).matchAll(/<text[^>]*>([^<]*)<\/text>/g)]
    .map((m) => m[1]);
}

Deno.test("with the run's summary, the stage and scenario charts and the missing rates need no scan of the results", async () => {
  const src = summaryOnly();
  // 3 of 4 facilities, 1,500 of 2,000 thousand EAD in stage 1.
  assert.deepEqual(texts((await stageDistributionChart(src)).html).sort(), [
    "S1 75.00% (1,500.0)",
    "S1 75.00% (3)",
    "S2 25.00% (1)",
    "S2 25.00% (500.0)",
  ]);
  // base, downside, weighted (ecl_model), after overlays (ecl), thousands.
  assert.deepEqual(texts((await scenarioEclChart(src)).html), [
    "200.0",
    "400.0",
    "285.0",
    "300.0",
  ]);
  assert.deepEqual(await missingRateCurrencies(src), ["GBP"]);
});

Deno.test("parameterBins() counts both distributions in one pass, as counted by hand", async () => {
  // PD bins of a fifth of a decade (log10(pd) / 0.2, floored, at most -1),
  // LGD bins of 0.05 (at most 19); no LGD: in neither; PD 0 or none: LGD
  // only.
  const results = pl.DataFrame({
    stage: pl.Series("stage", [1, 1, 2, 3, 1, 2], pl.Int32),
    pd_12m: pl.Series("pd_12m", [0.01, 0.011, 0.2, 1, 0, null], pl.Float64),
    lgd: pl.Series("lgd", [0.3, 0.31, 1, 0.45, 0.5, null], pl.Float64),
  }).lazy();
  // Read whole, and two rows at a time (the report reads slices of the
  // loan results so that its memory does not grow with the book): the same
  // counts.
  const bins = await parameterBins({
    results,
    rates: {},
    currency: "EUR",
  });
  assert.deepEqual(
    await parameterBins({ results, rates: {}, currency: "EUR", sliceRows: 2 }),
    bins,
  );
  const pdBin = (pd: number) => Math.min(-1, Math.floor(Math.log10(pd) / 0.2));
  assert.deepEqual(bins.pd_12m, [
    { bin: pdBin(0.01), stage: "1", count: 2 },
    { bin: pdBin(0.2), stage: "2", count: 1 },
    { bin: -1, stage: "3", count: 1 },
  ]);
  assert.deepEqual(bins.lgd, [
    { bin: 6, stage: "1", count: 2 },
    { bin: 9, stage: "3", count: 1 },
    { bin: 10, stage: "1", count: 1 },
    { bin: 19, stage: "2", count: 1 },
  ]);
});
