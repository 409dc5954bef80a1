/**
 * Projection of macro paths to scenario adjustments (docs/scenarios.md §4)
 * against hand arithmetic.
 */
import assert from "node:assert/strict";
import {
  peakToTroughFall,
  type SatelliteFit,
  scenarioAdjustments,
  type SegmentFit,
} from "../../lib/mod.ts";
import { flatPaths, scenarioDoc, scenarioFile } from "./_fixtures.ts";

const coef = (coefficient: number) => ({
  coefficient,
  std_error: 0.01,
  t_stat: coefficient / 0.01,
  p_value: 0,
});

/** A fitted segment with the given intercept and terms. */
function segment(
  name: string,
  weight: number,
  intercept: number,
  terms: { variable: string; lag: number; coefficient: number }[],
): SegmentFit {
  return {
    segment: name,
    region: "ES",
    pd_ttc: 0.02,
    rho: 0.15,
    estimated: { pd_ttc: true, rho: true },
    weight,
    years: [],
    default_rate: [],
    z: [],
    fitted: [],
    intercept: coef(intercept),
    terms: terms.map((t) => ({
      ...t,
      ...coef(t.coefficient),
      expected_sign: t.coefficient > 0 ? 1 : -1,
      sign_ok: true,
      significant: true,
    })),
    n: 20,
    r2: 0.5,
    adj_r2: 0.4,
    sigma: 0.5,
    durbin_watson: 2,
    jarque_bera: 0,
    jarque_bera_p: 1,
    selection: [],
    warnings: [],
  };
}

/**
 * History 2023-2025 (unemployment 11, 10.5, 10), two scenarios 2026-2027:
 * base (0.6): GDP 2, -1; unemployment 12, 14; house prices +5%, -10%;
 * down (0.4): GDP 0, 0; unemployment 10, 10; house prices -20%, +10%.
 */
function handCase() {
  const history = flatPaths(["ES"], [2023, 2024, 2025], {
    gdp_growth: 2,
    unemployment_rate: [11, 10.5, 10],
    house_price_growth: 0,
    policy_rate: 2,
  });
  const years = [2026, 2027];
  const base = flatPaths(["ES"], years, {
    gdp_growth: [2, -1],
    unemployment_rate: [12, 14],
    house_price_growth: [5, -10],
    policy_rate: 2,
  });
  const down = flatPaths(["ES"], years, {
    gdp_growth: 0,
    unemployment_rate: 10,
    house_price_growth: [-20, 10],
    policy_rate: 2,
  });
  const file = scenarioFile(scenarioDoc(history, [
    { name: "base", weight: 0.6, paths: base },
    { name: "down", weight: 0.4, paths: down },
  ], "2025-12-31"));
  // Segment A: Z = 0.1 + 0.2 gdp(t) - 0.1 unemployment(t-1), weight 0.75;
  // segment B: Z = -0.2 + 0.1 gdp(t), weight 0.25.
  const fit: SatelliteFit = {
    fit_version: 1,
    method: "vasicek_ols",
    history: { file: "h.csv", sha256: "" },
    scenario_file: { file: file.file, sha256: file.sha256 },
    reporting_date: file.reporting_date,
    options: { max_lag: 2, alpha: 0.05, candidates: file.variables },
    segments: [
      segment("mortgage_es", 0.75, 0.1, [
        { variable: "gdp_growth", lag: 0, coefficient: 0.2 },
        { variable: "unemployment_rate", lag: 1, coefficient: -0.1 },
      ]),
      segment("sme_es", 0.25, -0.2, [
        { variable: "gdp_growth", lag: 0, coefficient: 0.1 },
      ]),
    ],
  };
  return { file, fit };
}

const close = (actual: number[], expected: number[], tol = 1e-6) =>
  actual.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]) < tol, `${actual} vs ${expected}`)
  );

Deno.test("scenarioAdjustments() measures z from the reporting year's fitted index (docs/scenarios.md §4)", () => {
  const { file, fit } = handCase();
  const adj = scenarioAdjustments(fit, file);
  assert.equal(adj.anchor_year, 2025);
  // Zhat[2025]: A = 0.1 + 0.2*2 - 0.1*10.5 (2024) = -0.55; B = -0.2 + 0.2 = 0.
  // p_T = Phi((PhiInv(0.02) - sqrt(0.15) Zhat[T]) / sqrt(0.85)) and
  // c(p) = PhiInv(p) (1 - sqrt(0.85)) / sqrt(0.15), by scipy.stats.norm:
  // A: p_T 0.02293665074534551, c -0.4023317498568375;
  // B: p_T 0.012953484965745448, c -0.448890508858142.
  close(
    [adj.reporting_year_pd.mortgage_es, adj.reporting_year_pd.sme_es],
    [0.02293665074534551, 0.012953484965745448],
  );
  // anchors = Zhat[T] - c: A -0.55 + 0.40233..., B 0 + 0.44889...
  close([adj.anchors.mortgage_es, adj.anchors.sme_es], [
    -0.14766825014316254,
    0.448890508858142,
  ]);
  // Base: 0.75 (-0.5 - aA) + 0.25 (0 - aB), 0.75 (-1.3 - aA) + 0.25 (-0.3 - aB).
  close(adj.scenarios[0].z, [-0.376471, -1.051471]);
  close(adj.detail[0].segments.mortgage_es, [
    -0.5 + 0.14766825014316254,
    -1.3 + 0.14766825014316254,
  ]);
  // Down: 0.75 (-0.9 - aA) + 0.25 (-0.2 - aB) both years.
  close(adj.scenarios[1].z, [-0.726471, -0.726471]);
  // PD ratio at the down z, at each segment's p_T (scipy): 1.3696, 1.3422.
  assert.ok(Math.abs(adj.detail[1].pd_ratio.mortgage_es[0] - 1.369646) < 1e-5);
  assert.ok(Math.abs(adj.detail[1].pd_ratio.sme_es[0] - 1.342212) < 1e-5);
  assert.ok(
    Math.abs(
      adj.detail[1].pd_ratio_weighted[0] - (0.75 * 1.369646 + 0.25 * 1.342212),
    ) < 1e-5,
  );
  // A scenario that keeps the reporting year's economy leaves a segment's
  // reporting-year PD as it is: one segment, its paths at 2025's values.
  const one = { ...fit, segments: [{ ...fit.segments[1], weight: 1 }] };
  const still = scenarioAdjustments(one, {
    ...file,
    scenarios: file.scenarios.map((s) => ({
      ...s,
      paths: {
        ES: {
          ...s.paths.ES,
          gdp_growth: { ...s.paths.ES.gdp_growth, values: [2, 2] },
        },
      },
    })),
  });
  close(still.detail[0].pd_ratio.sme_es, [1, 1]);
  // z = c(p_T) there: PhiInv(0.012953...) (1 - sqrt(0.85)) / sqrt(0.15).
  close(still.scenarios[0].z, [-0.448891, -0.448891]);
});

Deno.test("scenarioAdjustments() projects a hand-made path to z and haircut as by hand", () => {
  const { file, fit } = handCase();
  const adj = scenarioAdjustments(fit, file, { anchor: "long_run" });
  assert.equal(adj.scenario_adjustment, "z_shift");
  assert.deepEqual(adj.years, [2026, 2027]);
  const [base, down] = adj.scenarios;
  // A: 2026 = 0.1 + 0.2*2 - 0.1*10 (2025, observed) = -0.5;
  //    2027 = 0.1 + 0.2*(-1) - 0.1*12 (2026, the path) = -1.3.
  // B: 2026 = -0.2 + 0.1*2 = 0; 2027 = -0.2 - 0.1 = -0.3.
  close(adj.detail[0].segments.mortgage_es, [-0.5, -1.3]);
  close(adj.detail[0].segments.sme_es, [0, -0.3]);
  // Combined: 0.75*(-0.5) + 0.25*0 = -0.375; 0.75*(-1.3) + 0.25*(-0.3) = -1.05.
  close(base.z, [-0.375, -1.05]);
  assert.equal(base.weight, 0.6);
  // House prices 1.05 then 0.945: fall 1 - 0.945/1.05 = 0.1; 0.2 + 0.1.
  assert.ok(Math.abs(base.collateral_haircut - 0.3) < 1e-9);
  // Down: A 2026 = 0.1 - 1 = -0.9, 2027 = 0.1 - 1 = -0.9; B -0.2, -0.2:
  // combined 0.75*(-0.9) + 0.25*(-0.2) = -0.725 both years.
  close(down.z, [-0.725, -0.725]);
  // 0.8 then 0.88: the fall is 20% (the rise after the trough does not undo it).
  assert.ok(Math.abs(down.collateral_haircut - 0.4) < 1e-9);
  assert.deepEqual(adj.segments, {
    mortgage_es: { rho: 0.15 },
    sme_es: { rho: 0.15 },
  });
});

Deno.test("scenarioAdjustments() with a shifted path moves the forecast years only", () => {
  const { file, fit } = handCase();
  const adj = scenarioAdjustments(fit, file, {
    shift: [
      { variable: "gdp_growth", region: "ES", delta: -1 },
      { variable: "unemployment_rate", delta: 2, scenario: "base" },
    ],
    haircut: { base: 0.1, sensitivity: 0.5 },
  });
  // GDP -1 everywhere: A -0.2, B -0.1 in both years. Unemployment +2 in
  // base's forecast years: A's 2027 reads 2026's 14 instead of 12 (-0.2);
  // 2026 reads the observed 2025, which no shift touches.
  // base A: -0.7, -1.7; B: -0.1, -0.4 -> -0.55, -1.375 before the
  // anchors (unshifted: 2025 is observed), 0.75 aA + 0.25 aB =
  // 0.75 (-0.1476683) + 0.25 (0.4488905) = 0.0014714 subtracted.
  close(adj.scenarios[0].z, [-0.551471, -1.376471]);
  // down A: -1.1, -1.1; B: -0.3, -0.3 -> -0.9 - 0.0014714.
  close(adj.scenarios[1].z, [-0.901471, -0.901471]);
  // Haircuts with base 0.1 and sensitivity 0.5: 0.1 + 0.05, 0.1 + 0.1.
  assert.ok(Math.abs(adj.scenarios[0].collateral_haircut - 0.15) < 1e-9);
  assert.ok(Math.abs(adj.scenarios[1].collateral_haircut - 0.2) < 1e-9);
  assert.throws(
    () =>
      scenarioAdjustments(fit, file, { shift: { variable: "gdp", delta: 1 } }),
    /shift: variable gdp is not in test\.yaml/,
  );
  assert.throws(
    () =>
      scenarioAdjustments(fit, file, {
        shift: { variable: "gdp_growth", region: "XX", delta: 1 },
      }),
    /shift: region XX is not in test\.yaml/,
  );
});

Deno.test("scenarioAdjustments() refuses a z beyond the rules' bound of 10", () => {
  const { file, fit } = handCase();
  assert.throws(
    () =>
      scenarioAdjustments(fit, file, {
        shift: { variable: "gdp_growth", delta: -60 },
      }),
    /scenario base: projected z .* in 2026 is beyond the rules' bound ±10 \(MAX_Z_SHIFT\)/,
  );
});

Deno.test("peakToTroughFall() measures from the running peak, 0 when prices only rise", () => {
  assert.equal(peakToTroughFall([3, 4, 5]), 0);
  // 0.9, 0.99, 0.792: the peak is the start (1), the trough 0.792.
  assert.ok(Math.abs(peakToTroughFall([-10, 10, -20]) - 0.208) < 1e-12);
});
