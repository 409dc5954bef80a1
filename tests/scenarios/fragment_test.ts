/**
 * The rules fragment (docs/scenarios.md §5): merged into the sample rules
 * file it is read by the existing rules loader as it is, and its
 * `scenario_source` reaches the parameters a run's manifest records.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  fitSatellite,
  generateDefaultHistory,
  loadScenarioFile,
  mergeRulesFragmentText,
  parseRules,
  RulesError,
  rulesFragment,
  rulesFragmentYaml,
  SAMPLE_NOISE_SD,
  SAMPLE_TERMS,
  sampleSegments,
  scenarioAdjustments,
} from "../../lib/mod.ts";
import { rulesParameters } from "../../lib/run_folder/mod.ts";

const SHA = "ab".repeat(32);

/** The sample's fragment: generated history, fitted, projected. */
async function sampleFragment() {
  const file = await loadScenarioFile("config/scenarios_2025-12-31.yaml");
  const history = generateDefaultHistory(file.history, {
    seed: 5,
    segments: sampleSegments(),
    terms: SAMPLE_TERMS,
    noiseSd: SAMPLE_NOISE_SD,
    years: [2006, 2025],
  });
  const fit = fitSatellite(
    { file: "gen.csv", sha256: "", segments: history.segments },
    file,
  );
  const adjustments = scenarioAdjustments(fit, file);
  return { file, fit, adjustments };
}

Deno.test("rulesFragmentYaml() merged into config/sample_rules.yaml is accepted by parseRules unchanged", async () => {
  const { file, adjustments } = await sampleFragment();
  const fragment = rulesFragment(adjustments, {
    fit: "out/fit.json",
    sha256: SHA,
  });
  const text = rulesFragmentYaml(fragment, ["test"]);
  const merged = mergeRulesFragmentText(
    await Deno.readTextFile("config/sample_rules.yaml"),
    text,
  );
  // out/fit.json is not written here: the provenance check is
  // task_test.ts's; the loader's other checks accept the merge unchanged.
  const rules = parseRules(merged, "merged.yaml", { scenarioSource: false });
  assert.equal(rules.scenario_adjustment, "z_shift");
  assert.deepEqual(rules.scenario_source, { fit: "out/fit.json", sha256: SHA });
  assert.deepEqual(
    rules.scenarios.map((s) => [s.name, s.weight, s.z?.length]),
    file.scenarios.map((s) => [s.name, s.weight, 5]),
  );
  // The fitted rho of each segment replaces the file's; the file's other
  // keys of the segment (its PD shape, its recovery lag) stay.
  assert.equal(
    rules.segments.mortgage_es.rho,
    adjustments.segments.mortgage_es.rho,
  );
  assert.equal(rules.segments.mortgage_es.pd_curve, "shape");
  assert.equal(rules.segments.mortgage_es.recovery_lag_months, 24);
  // mortgage_mx is a YAML alias of mortgage_es's entry in the file: it
  // takes its own fitted rho, not mortgage_es's.
  assert.equal(
    rules.segments.mortgage_mx.rho,
    adjustments.segments.mortgage_mx.rho,
  );
  assert.notEqual(
    rules.segments.mortgage_mx.rho,
    rules.segments.mortgage_es.rho,
  );
  assert.equal(rules.segments.mortgage_mx.pd_curve, "shape");
  assert.equal(rules.scenario_reversion_years, 2);
  // The fragment's figures are those of the projection, as the file reads them.
  assert.deepEqual(parse(text).scenarios[2].z, adjustments.scenarios[2].z);
  // What a run's manifest records (lib/run_folder rulesParameters).
  const params = rulesParameters(rules);
  assert.equal(params["scenario_source.fit"], "out/fit.json");
  assert.equal(params["scenario_source.sha256"], SHA);
});

Deno.test("parseRules() checks scenario_source: a SHA-256 in hex, no other key", () => {
  const base =
    "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]\n";
  assert.throws(
    () =>
      parseRules(
        `${base}scenario_source: {fit: f.json, sha256: abc}\n`,
        "r.yaml",
      ),
    (e: Error) =>
      e instanceof RulesError &&
      /key scenario_source\.sha256: must be a SHA-256 in 64 lower-case hex digits/
        .test(e.message),
  );
  assert.throws(
    () =>
      parseRules(
        `${base}scenario_source: {fit: f.json, sha256: ${SHA}, by: me}\n`,
        "r.yaml",
      ),
    /key scenario_source\.by: unknown key \(allowed: fit, sha256\)/,
  );
  assert.equal(parseRules(base, "r.yaml").scenario_source, undefined);
});
