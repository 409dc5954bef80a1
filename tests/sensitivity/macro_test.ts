/**
 * A macro stress of the sensitivity table (lib/sensitivity/macro.ts): the
 * macro paths shifted and turned into `z` and collateral haircuts by the
 * fitted satellite model of the rules' `scenario_source`. The fit here is
 * written by hand (one segment, `Z = a + b × gdp_growth`, weight 1), so
 * the shifted `z` and haircuts are computed in the test from the
 * documented formulas (docs/scenarios.md §4); the stress line must equal a
 * separate run with those scenarios typed in, to the cent.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import { DEFAULT_FX, runPortfolio } from "../../lib/run/mod.ts";
import { parseRules } from "../../lib/rules.ts";
import { writePortfolio } from "../run/_portfolio.ts";
import { flatPaths, scenarioDoc } from "../scenarios/_fixtures.ts";

const A = 0.1, B = 0.2;
const YEARS = [2026, 2027];
const GDP = { base: [2, 1.5], downside: [-1, 0.5] };
const HPG = 2; // house-price growth, % a year, both scenarios

/**
 * `z = b × (gdp - 2) + c(p_T)` per forecast year, rounded as the fragment
 * is (6 dp): measured from the reporting year's fitted index
 * `a + b × 2` (docs/scenarios.md §4), `c(p_T) = PhiInv(p_T) (1 - sqrt(0.85))
 * / sqrt(0.15)` at the reporting-year PD
 * `p_T = Phi((PhiInv(0.02) - sqrt(0.15) × 0.5) / sqrt(0.85))`
 * (scipy.stats.norm: p_T 0.007391632393099224, c -0.4912166534047823).
 */
const C_T = -0.4912166534047823;
const zOf = (gdp: number[]) =>
  gdp.map((g) => Math.round((B * (g - 2) + C_T) * 1e6) / 1e6);

/** Haircut `min(0.9, 0.2 + 1 × peak-to-trough fall)` of a growth path. */
function haircutOf(growth: number[]): number {
  let index = 1, peak = 1, fall = 0;
  for (const g of growth) {
    index *= 1 + g / 100;
    peak = Math.max(peak, index);
    fall = Math.max(fall, 1 - index / peak);
  }
  return Math.round(Math.min(0.9, 0.2 + fall) * 1e6) / 1e6;
}

/** The rules with `scenarios` (YAML lines), the source and a section. */
function rulesText(scenarios: string, extra = ""): string {
  return `reporting_currency: EUR
products:
  mortgage: { repayment: annuity }
  auto: { repayment: annuity }
  consumer: { repayment: linear }
  sme: { repayment: bullet }
  credit_card: { repayment: revolving, ccf: 0.75, behavioural_life_months: 36 }
segments:
  default: { pd_curve: flat, lgd_unsecured: 0.45, lgd_floor: 0.05, rho: 0.15 }
scenario_adjustment: z_shift
scenarios:
${scenarios}
${extra}
`;
}

const scenarioLines = (
  s: Record<string, { z: number[]; haircut: number }>,
) =>
  [["base", 0.6], ["downside", 0.4]].map(([name, weight]) =>
    `  - { name: ${name}, weight: ${weight}, z: ${
      JSON.stringify(s[name as string].z)
    }, collateral_haircut: ${s[name as string].haircut} }`
  ).join("\n");

/** Writes the scenario file and the fit report; returns the source keys. */
async function writeModel(dir: string) {
  const history = flatPaths(["ES"], [2020, 2021, 2022, 2023, 2024, 2025], {
    gdp_growth: 2,
    unemployment_rate: 10,
    house_price_growth: 3,
    policy_rate: 2,
  });
  const paths = (gdp: number[]) =>
    flatPaths(["ES"], YEARS, {
      gdp_growth: gdp,
      unemployment_rate: 10,
      house_price_growth: HPG,
      policy_rate: 2,
    });
  const scenarioPath = `${dir}/scenarios.yaml`;
  const text = stringify(scenarioDoc(history, [
    { name: "base", weight: 0.6, paths: paths(GDP.base) },
    { name: "downside", weight: 0.4, paths: paths(GDP.downside) },
  ], "2025-12-31"));
  await Deno.writeTextFile(scenarioPath, text);
  const sha = (t: string) => createHash("sha256").update(t).digest("hex");
  const coefficient = (c: number) => ({
    coefficient: c,
    std_error: 0.01,
    t: c / 0.01,
    p_value: 0,
  });
  const fit = {
    report_version: 1,
    fit: {
      fit_version: 1,
      method: "vasicek_ols",
      history: { file: "hand", sha256: "0".repeat(64) },
      scenario_file: { file: scenarioPath, sha256: sha(text) },
      reporting_date: "2025-12-31",
      options: { max_lag: 0, alpha: 0.05, candidates: ["gdp_growth"] },
      segments: [{
        segment: "retail_es",
        region: "ES",
        pd_ttc: 0.02,
        rho: 0.15,
        estimated: { pd_ttc: false, rho: false },
        weight: 1,
        years: [],
        default_rate: [],
        z: [],
        fitted: [],
        intercept: coefficient(A),
        terms: [{
          variable: "gdp_growth",
          lag: 0,
          ...coefficient(B),
          expected_sign: 1,
          sign_ok: true,
          significant: true,
        }],
        n: 0,
        r2: 1,
        adj_r2: 1,
        sigma: 0,
        durbin_watson: 2,
        jarque_bera: 0,
        jarque_bera_p: 1,
        selection: [],
        warnings: [],
      }],
    },
    adjustments: {
      haircut: { base: 0.2, sensitivity: 1, max_haircut: 0.9 },
      anchor_year: 2025,
      // The scenarios the fit wrote (checked at rules load, lib/scenario_source.ts).
      scenarios: [["base", 0.6], ["downside", 0.4]].map(([name, weight]) => ({
        name,
        weight,
        z: zOf(GDP[name as "base" | "downside"]),
        collateral_haircut: haircutOf([HPG, HPG]),
      })),
    },
  };
  const fitText = JSON.stringify(fit);
  await Deno.writeTextFile(`${dir}/fit.json`, fitText);
  return `scenario_source: { fit: ${
    JSON.stringify(`${dir}/fit.json`)
  }, sha256: ${sha(fitText)} }`;
}

Deno.test("sensitivity: a macro stress is a separate run with the z and haircuts of the shifted paths through the fitted model", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = writePortfolio(`${tmp}/book.parquet`, 150);
    const source = await writeModel(tmp);
    const base = {
      base: { z: zOf(GDP.base), haircut: haircutOf([HPG, HPG]) },
      downside: { z: zOf(GDP.downside), haircut: haircutOf([HPG, HPG]) },
    };
    const section = `sensitivity:
  scenarios: false
  stresses:
    - name: recession
      macro:
        - { variable: gdp_growth, delta: -2 }
        - { variable: house_price_growth, delta: -10, region: ES }`;
    await Deno.writeTextFile(
      `${tmp}/rules.yaml`,
      rulesText(scenarioLines(base), `${source}\n${section}`),
    );
    const main = await runPortfolio({
      portfolio,
      rules: `${tmp}/rules.yaml`,
      fx: DEFAULT_FX,
      out: `${tmp}/runs`,
      runId: "main",
      report: false,
    });
    // By hand: GDP 2 points lower, house prices 10 points lower each year.
    const shifted = {
      base: {
        z: zOf(GDP.base.map((g) => g - 2)),
        haircut: haircutOf([HPG - 10, HPG - 10]),
      },
      downside: {
        z: zOf(GDP.downside.map((g) => g - 2)),
        haircut: haircutOf([HPG - 10, HPG - 10]),
      },
    };
    assert.ok(Math.abs(shifted.base.haircut - 0.3536) < 1e-9);
    await Deno.writeTextFile(
      `${tmp}/shifted.yaml`,
      rulesText(scenarioLines(shifted)),
    );
    const other = await runPortfolio({
      portfolio,
      rules: `${tmp}/shifted.yaml`,
      fx: DEFAULT_FX,
      out: `${tmp}/runs`,
      runId: "shifted",
      report: false,
    });
    const line = main.summary.sensitivity!.lines.find((l) =>
      l.name === "recession"
    )!;
    assert.equal(line.staging, "run");
    assert.match(
      line.variant,
      /gdp_growth − 2 pp, house_price_growth − 10 pp in ES/,
    );
    assert.ok(Math.abs(line.ecl - other.summary.totals.ecl) < 0.005);
    for (const g of other.summary.by_stage) {
      const mine = line.by_stage.find((x) => x.key === g.key)!;
      assert.equal(mine.count, g.count);
      assert.ok(Math.abs(mine.ecl - g.ecl) < 0.005, `stage ${g.key}`);
    }
    assert.ok(line.ecl > main.summary.totals.ecl);
    // The fit's one term is GDP: the house-price shift moves the haircuts only.
    assert.deepEqual(main.summary.sensitivity!.warnings, [
      "sensitivity.stresses[0].macro: house_price_growth is in no segment's fitted model (dropped by the selection in all 1): shifting it moves only the collateral haircuts",
    ]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sensitivity: a macro stress is refused without z_shift rules and a scenario_source, and when the fit does not give the rules' scenarios", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const stress =
      "sensitivity: { stresses: [{ name: m, macro: [{ variable: gdp_growth, delta: -2 }] }] }";
    const lines = scenarioLines({
      base: { z: [0.5], haircut: 0.2 },
      downside: { z: [-0.1], haircut: 0.2 },
    });
    assert.throws(
      () => parseRules(rulesText(lines, stress), "r.yaml"),
      /key sensitivity\.stresses\[0\]\.macro: needs the rules' scenario_source/,
    );
    assert.throws(
      () =>
        parseRules(
          rulesText(lines, stress).replace("z_shift", "multiplier"),
          "r.yaml",
        ),
      /key sensitivity\.stresses\[0\]\.macro: only applies to scenario_adjustment: z_shift/,
    );
    assert.throws(
      () =>
        parseRules(
          rulesText(
            lines,
            "sensitivity: { stresses: [{ name: m, macro: [{ variable: gdp_growth, delta: -200 }] }] }",
          ),
          "r.yaml",
        ),
      /key sensitivity\.stresses\[0\]\.macro\[0\]\.delta: must be >= -50/,
    );
    // Typed-in z that the fit does not give: refused, naming the stress.
    const portfolio = writePortfolio(`${tmp}/book.parquet`, 20);
    const source = await writeModel(tmp);
    await Deno.writeTextFile(
      `${tmp}/rules.yaml`,
      rulesText(lines, `${source}\n${stress}`),
    );
    await assert.rejects(
      () =>
        runPortfolio({
          portfolio,
          rules: `${tmp}/rules.yaml`,
          fx: DEFAULT_FX,
          out: `${tmp}/runs`,
          runId: "bad",
          report: false,
        }),
      /key scenarios\[0\]\.z: has 1 years, the fit .*fit\.json has 2/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
