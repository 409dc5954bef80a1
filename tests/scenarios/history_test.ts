/**
 * The default-rate history reader (docs/scenarios.md §2) and the generator
 * of a macro and default-rate history (lib/generate/macro_history.ts).
 */
import assert from "node:assert/strict";
import {
  binomial,
  defaultRateHistoryCsv,
  generateDefaultHistory,
  generateMacroHistory,
  HistoryError,
  parseDefaultRateHistory,
} from "../../lib/mod.ts";
import { Rng } from "../../lib/generate/mod.ts";
import { flatPaths } from "./_fixtures.ts";

Deno.test("parseDefaultRateHistory() lists every bad line with its column and the fix", () => {
  const text = [
    "segment,region,year,obligors,defaults",
    "sme_es,ES,2010,100,3",
    "sme_es,ES,2012,100,2", // a gap
    "sme_es,MX,2013,100,2", // another region
    "Card,ES,2010,100,1", // not a segment key
    "auto_es,ES,2010,0,0", // no obligors
    "auto_es,ES,2011,50,1.5", // not whole
    "auto_es,ES",
  ].join("\n");
  assert.throws(
    () => parseDefaultRateHistory(text, "h.csv"),
    (e: Error) => {
      assert.ok(e instanceof HistoryError);
      assert.deepEqual(e.problems, [
        "line 4, column region: segment sme_es is in region ES on an earlier line, got MX",
        'line 5, column segment: must be a segment key (a-z, 0-9, _), got "Card"',
        "line 6, column obligors: must be above 0",
        'line 7, column defaults: must be a whole number in 0..1000000000, got "1.5"',
        "line 8: 2 fields, the header has 5",
        "line 3: segment sme_es jumps from 2010 to 2012; years must be contiguous",
      ]);
      return /^Cannot read default-rate history h\.csv: 6 problems\n/.test(
        e.message,
      );
    },
  );
  assert.throws(
    () => parseDefaultRateHistory("segment,year,defaults\n", "h.csv"),
    /line 1: column region is missing/,
  );
});

Deno.test("defaultRateHistoryCsv() round-trips through parseDefaultRateHistory()", () => {
  const segments = [{
    segment: "sme_es",
    region: "ES",
    years: [2020, 2021],
    obligors: [1000, 1100],
    defaults: [20, 35],
  }];
  assert.deepEqual(
    parseDefaultRateHistory(defaultRateHistoryCsv(segments), "x.csv").segments,
    segments,
  );
});

Deno.test("binomial() has the mean and variance of a binomial in both of its regimes", () => {
  for (const [n, p] of [[200, 0.02], [100_000, 0.03]] as const) {
    const rng = new Rng(9, 1);
    const draws = Array.from({ length: 20_000 }, () => binomial(rng, n, p));
    const mean = draws.reduce((a, v) => a + v, 0) / draws.length;
    const variance = draws.reduce((a, v) => a + (v - mean) ** 2, 0) /
      (draws.length - 1);
    // Standard error of the mean sqrt(np(1-p)/20000); of the variance about
    // np(1-p) sqrt(2/20000): within 4 of each.
    const v = n * p * (1 - p);
    assert.ok(
      Math.abs(mean - n * p) < 4 * Math.sqrt(v / 20_000),
      `mean ${mean}`,
    );
    assert.ok(
      Math.abs(variance - v) < 4 * v * Math.sqrt(2 / 20_000),
      `variance ${variance}`,
    );
  }
  assert.equal(binomial(new Rng(1), 10, 0), 0);
  assert.equal(binomial(new Rng(1), 10, 1), 10);
});

Deno.test("generateDefaultHistory() centres Z on the history and is the same for the same seed", () => {
  const macro = generateMacroHistory({
    seed: 4,
    regions: ["ES"],
    years: [1991, 2025],
  });
  const options = {
    seed: 4,
    segments: [{
      segment: "sme_es",
      region: "ES",
      pd_ttc: 0.03,
      rho: 0.1,
      obligors: 5000,
    }],
    terms: [{ variable: "gdp_growth", lag: 1, coefficient: 0.3 }],
    noiseSd: 0,
    years: [1992, 2025] as [number, number],
  };
  const h = generateDefaultHistory(macro, options);
  assert.deepEqual(h, generateDefaultHistory(macro, options));
  // Without noise, Z_t = a + 0.3 gdp(t-1) with a = -0.3 * mean(gdp(t-1)).
  const gdp = macro.ES.gdp_growth.values.slice(0, 34);
  const mean = gdp.reduce((a, v) => a + v, 0) / gdp.length;
  assert.ok(Math.abs(h.intercepts.ES + 0.3 * mean) < 1e-12);
  h.z.ES.forEach((z, i) =>
    assert.ok(Math.abs(z - (0.3 * gdp[i] - 0.3 * mean)) < 1e-12)
  );
  assert.throws(
    () =>
      generateDefaultHistory(
        flatPaths(["ES"], [2024, 2025], { gdp_growth: 1 }),
        options,
      ),
    /the macro history has no gdp_growth in ES for 1991/,
  );
});

Deno.test("binomial() near p = 1 does not underflow to n: n = 2000, p = 0.99 has mean 1980 and variance 19.8", () => {
  // (1 - p)^n = 0.01^2000 underflows to 0: the inversion alone returned n.
  const n = 2000, p = 0.99;
  const rng = new Rng(3, 1);
  const draws = Array.from({ length: 20_000 }, () => binomial(rng, n, p));
  const mean = draws.reduce((a, v) => a + v, 0) / draws.length;
  const variance = draws.reduce((a, v) => a + (v - mean) ** 2, 0) /
    (draws.length - 1);
  const v = n * p * (1 - p); // 19.8
  assert.ok(Math.abs(mean - n * p) < 4 * Math.sqrt(v / 20_000), `mean ${mean}`);
  assert.ok(
    Math.abs(variance - v) < 4 * v * Math.sqrt(2 / 20_000),
    `variance ${variance}`,
  );
  assert.ok(draws.some((d) => d < n));
});

Deno.test("parseDefaultRateHistory() reports a bad row once, not also as a gap; reads quoted fields", () => {
  const text = [
    "segment,region,year,obligors,defaults",
    "sme_es,ES,2010,100,3",
    "sme_es,ES,2011,100,3.5", // refused: not also 'jumps from 2010 to 2012'
    "sme_es,ES,2012,100,2",
    '"auto_es",ES,2010,100,1', // a quoted field is read as its content
    "auto_es,ES,2011,100,1",
  ].join("\n");
  assert.throws(
    () => parseDefaultRateHistory(text, "h.csv"),
    (e: Error) => {
      assert.ok(e instanceof HistoryError);
      assert.deepEqual(e.problems, [
        'line 3, column defaults: must be a whole number in 0..1000000000, got "3.5"',
      ]);
      return true;
    },
  );
  const ok = parseDefaultRateHistory(
    text.replace("100,3.5", "100,3"),
    "h.csv",
  );
  assert.deepEqual(ok.segments.map((s) => s.segment), ["sme_es", "auto_es"]);
});
