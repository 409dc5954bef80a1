/**
 * The satellite model (docs/scenarios.md §3): OLS against a hand-solved
 * normal equation, Vasicek estimates against a pure Vasicek simulation,
 * and the fit recovering the known coefficients of a generated history.
 */
import assert from "node:assert/strict";
import {
  creditCycleIndex,
  fitSatellite,
  generateDefaultHistory,
  generateMacroHistory,
  type KnownTerm,
  ols,
  vasicekMle,
} from "../../lib/mod.ts";
import { normCdf, normInv } from "../../lib/engine/mod.ts";
import { flatPaths, scenarioDoc, scenarioFile } from "./_fixtures.ts";

Deno.test("ols() equals the hand-solved normal equations of a four-point line", () => {
  // y = [1, 3, 2, 5] on x = [0, 1, 2, 3]: Sx = 6, Sxx = 14, Sy = 11,
  // Sxy = 22; slope = (4*22 - 6*11) / (4*14 - 36) = 22/20 = 1.1,
  // intercept = (11 - 1.1*6) / 4 = 1.1; residuals -0.1, 0.8, -1.3, 0.6,
  // SSR = 2.7, s^2 = 2.7/2 = 1.35, se(slope) = sqrt(1.35 / 5),
  // se(intercept) = sqrt(1.35 * 14 / (4 * 5)); SST = 39 - 121/4 = 8.75;
  // DW = (0.81 + 4.41 + 3.61) / 2.7. t(2) two-sided p = 1 - |t| / sqrt(t^2 + 2).
  const fit = ols([1, 3, 2, 5], [[0, 1, 2, 3]]);
  const [a, b] = fit.coefficients;
  const close = (x: number, y: number) =>
    assert.ok(Math.abs(x - y) < 1e-12, `${x} vs ${y}`);
  close(b.coefficient, 1.1);
  close(a.coefficient, 1.1);
  close(b.std_error, Math.sqrt(1.35 / 5));
  close(a.std_error, Math.sqrt(1.35 * 14 / 20));
  close(fit.r2, 1 - 2.7 / 8.75);
  close(fit.adj_r2, 1 - (2.7 / 8.75) * 3 / 2);
  close(fit.durbin_watson, 8.83 / 2.7);
  const t = 1.1 / Math.sqrt(1.35 / 5);
  close(b.t_stat, t);
  assert.ok(Math.abs(b.p_value - (1 - t / Math.sqrt(t * t + 2))) < 1e-10);
  fit.residuals.forEach((e, i) => close(e, [-0.1, 0.8, -1.3, 0.6][i]));
});

Deno.test("vasicekMle() recovers PD and rho of a simulated Vasicek default-rate series", () => {
  // Pure Vasicek: Z ~ N(0, 1), no macro terms; 400 years, 1e6 obligors so
  // the binomial noise is negligible beside the systematic one.
  const years: [number, number] = [1601, 2000];
  const macro = flatPaths(
    ["ES"],
    Array.from({ length: 400 }, (_, i) => 1601 + i),
    {
      gdp_growth: 2,
    },
  );
  const h = generateDefaultHistory(macro, {
    seed: 7,
    segments: [{
      segment: "sme_es",
      region: "ES",
      pd_ttc: 0.03,
      rho: 0.12,
      obligors: 1_000_000,
    }],
    terms: [],
    noiseSd: 1,
    years,
  });
  const s = h.segments[0];
  const { pd, rho } = vasicekMle(s.defaults.map((d, i) => d / s.obligors[i]));
  // Sampling error of rho: var of a variance estimate, 2 s^4 / n, s^2 =
  // 0.136; sd(s^2) ~ 0.0096, so rho within 0.03; PD's mean within 0.004.
  assert.ok(Math.abs(rho - 0.12) < 0.03, `rho ${rho}`);
  assert.ok(Math.abs(pd - 0.03) < 0.004, `pd ${pd}`);
});

Deno.test("creditCycleIndex() inverts the Vasicek conditional PD of methodology §4", () => {
  const pd = 0.02, rho = 0.15, z = -1.7;
  const dr = normCdf((normInv(pd) - Math.sqrt(rho) * z) / Math.sqrt(1 - rho));
  assert.ok(Math.abs(creditCycleIndex(dr, pd, rho) - z) < 1e-9);
});

/** A generated history with known terms, and its scenario file. */
function knownHistory(seed: number) {
  const terms: KnownTerm[] = [
    { variable: "gdp_growth", lag: 0, coefficient: 0.2 },
    { variable: "unemployment_rate", lag: 1, coefficient: -0.15 },
    { variable: "house_price_growth", lag: 1, coefficient: 0.05 },
    { variable: "policy_rate", lag: 2, coefficient: -0.15 },
  ];
  const macro = generateMacroHistory({
    seed,
    regions: ["ES", "MX"],
    years: [1926, 2025],
  });
  const segments = [
    {
      segment: "mortgage_es",
      region: "ES",
      pd_ttc: 0.012,
      rho: 0.15,
      obligors: 50_000,
    },
    {
      segment: "sme_mx",
      region: "MX",
      pd_ttc: 0.03,
      rho: 0.12,
      obligors: 20_000,
    },
  ];
  const generated = generateDefaultHistory(macro, {
    seed,
    segments,
    terms,
    noiseSd: 0.3,
    years: [1928, 2025],
  });
  const horizon = [2026, 2027];
  const path = flatPaths(["ES", "MX"], horizon, {
    gdp_growth: 2,
    unemployment_rate: 10,
    house_price_growth: 3,
    policy_rate: 4,
  });
  const file = scenarioFile(
    scenarioDoc(
      macro,
      [{ name: "base", weight: 1, paths: path }],
      "2025-12-31",
    ),
  );
  return { terms, segments, generated, file };
}

Deno.test("fitSatellite() recovers the generator's known coefficients within 3 standard errors", () => {
  const { terms, segments, generated, file } = knownHistory(11);
  const fit = fitSatellite(
    { file: "generated.csv", sha256: "", segments: generated.segments },
    file,
    {
      spec: terms.map(({ variable, lag }) => ({ variable, lag })),
      pdTtc: Object.fromEntries(segments.map((s) => [s.segment, s.pd_ttc])),
      rho: Object.fromEntries(segments.map((s) => [s.segment, s.rho])),
    },
  );
  for (const seg of fit.segments) {
    seg.terms.forEach((t, k) => {
      const truth = terms[k].coefficient;
      assert.ok(
        Math.abs(t.coefficient - truth) < 3 * t.std_error,
        `${seg.segment} ${t.variable}: ${t.coefficient} vs ${truth} (se ${t.std_error})`,
      );
      assert.ok(t.sign_ok && t.significant, `${seg.segment} ${t.variable}`);
    });
    const a = generated.intercepts[seg.region];
    assert.ok(
      Math.abs(seg.intercept.coefficient - a) < 3 * seg.intercept.std_error,
      `${seg.segment} intercept ${seg.intercept.coefficient} vs ${a}`,
    );
    // The residual s.e. is the generator's noise (0.3) within sampling error.
    assert.ok(Math.abs(seg.sigma - 0.3) < 0.08, `sigma ${seg.sigma}`);
    assert.deepEqual(
      seg.warnings.filter((w) => /sign|significant/.test(w)),
      [],
    );
  }
});

Deno.test("fitSatellite() selects the generating variables and lags on its own", () => {
  const { terms, generated, file } = knownHistory(11);
  const fit = fitSatellite(
    { file: "generated.csv", sha256: "", segments: generated.segments },
    file,
  );
  for (const seg of fit.segments) {
    assert.deepEqual(
      seg.terms.map(({ variable, lag }) => ({ variable, lag })),
      terms.map(({ variable, lag }) => ({ variable, lag })),
      seg.selection.join("\n"),
    );
    assert.ok(seg.estimated.rho && seg.estimated.pd_ttc);
  }
});

Deno.test("fitSatellite() warns of a wrong sign and an insignificant term", () => {
  const { generated, file } = knownHistory(3);
  // Policy rate at lag 0 plays no part in the generator: forced in, it is
  // insignificant (or of either sign); GDP at lag 2 likewise.
  const fit = fitSatellite(
    { file: "generated.csv", sha256: "", segments: generated.segments },
    file,
    { spec: [{ variable: "gdp_growth", lag: 2 }] },
  );
  const w = fit.segments.flatMap((s) => s.warnings).join("\n");
  assert.match(
    w,
    /gdp_growth\(t-2\) (is not significant|has sign -, expected \+)/,
  );
});
