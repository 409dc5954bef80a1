import assert from "node:assert/strict";
import {
  checkProductsCovered,
  loadRules,
  parseRules,
  requireValidRules,
  RulesError,
  segmentRules,
  withRules,
} from "../lib/rules.ts";

const REFERENCE = "config/ifrs9_rules.yaml";

/** The reference file's text with one line replaced, for negative cases. */
async function referenceWith(from: string, to: string): Promise<string> {
  const text = await Deno.readTextFile(REFERENCE);
  assert.ok(text.includes(from), `fixture text not found: ${from}`);
  return text.replace(from, to);
}

/** Parses and returns the issues of a file that must be refused. */
function refused(text: string, file = "bad.yaml"): RulesError {
  try {
    parseRules(text, file);
  } catch (e) {
    assert.ok(e instanceof RulesError, `expected RulesError, got ${e}`);
    return e;
  }
  assert.fail("the rules file was accepted");
}

Deno.test("loadRules() reads the reference configuration of methodology §10", async () => {
  const rules = await loadRules(REFERENCE);
  assert.equal(rules.reporting_currency, "EUR");
  assert.deepEqual(rules.staging, {
    dpd_default: 90,
    dpd_sicr: 30,
    low_credit_risk_pd: 0.003,
    pd_relative_threshold: 2.0,
    pd_absolute_threshold: 0.005,
    probation_exit_via_stage2: false,
  });
  assert.deepEqual(rules.products.credit_card, {
    repayment: "revolving",
    approach: "general",
    ccf: 0.75,
    behavioural_life_months: 36,
  });
  assert.equal(rules.products.sme.repayment, "bullet");
  assert.deepEqual(rules.scenarios.map((s) => [s.name, s.weight]), [
    ["base", 0.5],
    ["upside", 0.2],
    ["downside", 0.3],
  ]);
  assert.deepEqual(rules.scenarios[2].pd_multiplier, [1.6, 1.4, 1.2]);
  assert.equal(rules.scenarios[1].collateral_haircut, 0.15);
  assert.equal(rules.validation.max_reject_rate, 0.05);
});

Deno.test("parseRules() accepts the minimal file and fills every default", () => {
  const rules = parseRules(
    "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]\n",
    "min.yaml",
  );
  assert.equal(rules.staging.dpd_default, 90);
  assert.equal(rules.staging.dpd_sicr, 30);
  assert.equal(rules.segments.default.lgd_unsecured, 0.45);
  assert.equal(rules.segments.default.lgd_floor, 0.05);
  assert.equal(rules.scenarios[0].collateral_haircut, 0);
  assert.equal(rules.scenario_adjustment, "multiplier");
  assert.deepEqual(rules.overlays, []);
});

Deno.test("parseRules() merges a segment entry over the default key by key (§10)", () => {
  const rules = parseRules(
    `reporting_currency: EUR
products: {mortgage: {repayment: annuity}}
segments:
  default: { pd_curve: flat, lgd_unsecured: 0.45, lgd_floor: 0.05, rho: 0.15 }
  mortgage: { lgd_floor: 0.10, pd_curve: shape, pd_shape: [1.0, 1.3, 1.1] }
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
`,
    "seg.yaml",
  );
  assert.deepEqual(segmentRules(rules, "mortgage"), {
    pd_curve: "shape",
    pd_shape: [1.0, 1.3, 1.1],
    lgd_unsecured: 0.45,
    lgd_floor: 0.10,
    rho: 0.15,
    recovery_lag_months: 0,
  });
  assert.equal(segmentRules(rules, "unlisted").lgd_floor, 0.05);
});

Deno.test("parseRules() reads scenario_reversion_years and recovery_lag_months (methodology v2 §4, §6)", () => {
  const rules = parseRules(
    `reporting_currency: EUR
products: {mortgage: {repayment: annuity}, sme: {repayment: bullet}}
segments:
  default: { recovery_lag_months: 6 }
  mortgage: { recovery_lag_months: 24 }
  sme: { lgd_floor: 0.1 }
scenario_reversion_years: 2
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
`,
    "v2.yaml",
  );
  assert.equal(rules.scenario_reversion_years, 2);
  assert.equal(segmentRules(rules, "mortgage").recovery_lag_months, 24);
  // Inherited from default, like every other segment key.
  assert.equal(segmentRules(rules, "sme").recovery_lag_months, 6);
  const plain = parseRules(
    "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]\n",
    "plain.yaml",
  );
  assert.equal(plain.scenario_reversion_years, undefined);
  assert.equal(plain.segments.default.recovery_lag_months, 0);
  const e = refused(
    `reporting_currency: EUR
products: {sme: {repayment: bullet}}
segments: { default: { recovery_lag_months: -3 }, sme: { recovery_lag_months: 1.5 } }
scenario_reversion_years: two
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
`,
  );
  assert.deepEqual(e.issues.map((i) => i.path).sort(), [
    "scenario_reversion_years",
    "segments.default.recovery_lag_months",
    "segments.sme.recovery_lag_months",
  ]);
});

Deno.test("parseRules() refuses scenario names whose column collides with another (issue: ecl_model)", () => {
  for (
    const name of [
      "model",
      "lifetime",
      "rc",
      "stress_rc",
      "from",
      "to",
      "local",
    ]
  ) {
    const e = refused(
      `reporting_currency: EUR
products: {sme: {repayment: bullet}}
scenarios: [{name: ${name}, weight: 1, pd_multiplier: [1]}]
`,
    );
    assert.equal(e.issues.length, 1, name);
    assert.equal(e.issues[0].path, "scenarios[0].name");
    assert.match(e.message, new RegExp(`${name} cannot name a scenario`));
  }
  // "12m" is refused by the name pattern already (ecl_12m).
  assert.match(
    refused(
      "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: 12m, weight: 1, pd_multiplier: [1]}]\n",
    ).message,
    /scenarios\[0\]\.name/,
  );
  // Names that merely contain a reserved word are fine.
  parseRules(
    "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: model_risk, weight: 1, pd_multiplier: [1]}]\n",
    "ok.yaml",
  );
});

Deno.test("parseRules() refuses weights that do not sum to 1, naming scenarios", async () => {
  const e = refused(
    await referenceWith("weight: 0.5", "weight: 0.6"),
  );
  assert.match(e.message, /bad\.yaml/);
  assert.ok(
    e.issues.some((i) => i.path === "scenarios" && /sum to 1/.test(i.message)),
  );
  assert.match(e.message, /1\.1/);
});

Deno.test("parseRules() refuses an unknown repayment type with its key path", async () => {
  const e = refused(
    await referenceWith(
      "consumer: { repayment: linear }",
      "consumer: { repayment: balloon }",
    ),
  );
  assert.deepEqual(e.issues.map((i) => i.path), [
    "products.consumer.repayment",
  ]);
  assert.match(e.issues[0].message, /balloon/);
});

Deno.test("parseRules() refuses a negative LGD", async () => {
  const e = refused(
    await referenceWith("lgd_unsecured: 0.45", "lgd_unsecured: -0.45"),
  );
  assert.deepEqual(e.issues.map((i) => i.path), [
    "segments.default.lgd_unsecured",
  ]);
  assert.match(e.issues[0].message, /-0\.45/);
});

Deno.test("parseRules() refuses an LGD floor above 1", async () => {
  const e = refused(await referenceWith("lgd_floor: 0.05", "lgd_floor: 1.5"));
  assert.deepEqual(e.issues.map((i) => i.path), ["segments.default.lgd_floor"]);
});

Deno.test("parseRules() refuses wrong types with what it got", async () => {
  const e = refused(
    await referenceWith("dpd_default: 90", 'dpd_default: "ninety"'),
  );
  assert.deepEqual(e.issues.map((i) => i.path), ["staging.dpd_default"]);
  assert.match(e.issues[0].message, /must be a number, got "ninety"/);
});

Deno.test("parseRules() refuses unknown keys at every level", async () => {
  let text = await referenceWith(
    "dpd_sicr: 30",
    "dpd_sicr: 30\n  dpd_sirc: 31",
  );
  text = text.replace("overlays: []", "overlays: []\nscenario_weights: 1");
  const e = refused(text);
  assert.deepEqual(e.issues.map((i) => i.path).sort(), [
    "scenario_weights",
    "staging.dpd_sirc",
  ]);
});

Deno.test("parseRules() reports every violation together, not just the first", async () => {
  let text = await referenceWith("lgd_unsecured: 0.45", "lgd_unsecured: -1");
  text = text.replace("repayment: linear", "repayment: balloon");
  text = text.replace("weight: 0.2", "weight: 0.3");
  const e = refused(text, "config/broken.yaml");
  assert.deepEqual(e.issues.map((i) => i.path).sort(), [
    "products.consumer.repayment",
    "scenarios",
    "segments.default.lgd_unsecured",
  ]);
  assert.match(
    e.message,
    /^Cannot load rules file config\/broken\.yaml: 3 problems/,
  );
});

Deno.test("parseRules() checks scenario vectors against the adjustment chosen", () => {
  const e = refused(`reporting_currency: EUR
products: {sme: {repayment: bullet}}
scenario_adjustment: z_shift
scenarios:
  - { name: base, weight: 1, pd_multiplier: [1.0] }
`);
  assert.deepEqual(e.issues.map((i) => i.path).sort(), [
    "scenarios[0].pd_multiplier",
    "scenarios[0].z",
  ]);
});

Deno.test("parseRules() requires ccf and behavioural life on revolving products", () => {
  const e = refused(`reporting_currency: EUR
products: {card: {repayment: revolving}, sme: {repayment: bullet, ccf: 0.5}}
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
`);
  assert.deepEqual(e.issues.map((i) => i.path).sort(), [
    "products.card.behavioural_life_months",
    "products.card.ccf",
    "products.sme.ccf",
  ]);
});

Deno.test("parseRules() checks provision matrices of simplified products", () => {
  const e = refused(`reporting_currency: EUR
products:
  receivables:
    repayment: bullet
    approach: simplified
    provision_matrix:
      upper_bound: inclusive
      buckets:
        - { max_dpd: 30, loss_rate: 0.01 }
        - { max_dpd: 10, loss_rate: 1.2 }
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
`);
  assert.deepEqual(e.issues.map((i) => i.path).sort(), [
    "products.receivables.provision_matrix.buckets[1].loss_rate",
    "products.receivables.provision_matrix.buckets[1].max_dpd",
    "products.receivables.provision_matrix.buckets[1].max_dpd",
  ]);
});

Deno.test("parseRules() refuses overlays with both or neither adjustment", () => {
  const e = refused(`reporting_currency: EUR
products: {sme: {repayment: bullet}}
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
overlays:
  - { name: a, filter: { product: sme }, multiplier: 1.1, add: 5, reason: x }
  - { name: b, filter: { stage: 4 }, reason: y }
`);
  assert.deepEqual(e.issues.map((i) => i.path).sort(), [
    "overlays[0]",
    "overlays[1]",
    "overlays[1].filter.stage",
  ]);
});

Deno.test("parseRules() names the line of a YAML syntax error", () => {
  const e = refused(
    "reporting_currency: EUR\nproducts: {sme: [\n",
    "syntax.yaml",
  );
  assert.equal(e.issues[0].path, "(syntax)");
  assert.match(e.issues[0].message, /line \d+/);
});

Deno.test("loadRules() names a file that cannot be read", async () => {
  await assert.rejects(
    () => loadRules("config/does_not_exist.yaml"),
    /Cannot load rules file config\/does_not_exist\.yaml.*\n.*cannot be read/,
  );
});

Deno.test("checkProductsCovered() names each product the data uses but the file lacks", async () => {
  const rules = await loadRules(REFERENCE);
  const issues = checkProductsCovered(rules, [
    "mortgage",
    "leasing",
    "sme",
    "factoring",
  ]);
  assert.deepEqual(issues.map((i) => i.path), [
    "products.leasing",
    "products.factoring",
  ]);
});

Deno.test("the sample book's rules keep §10 and add a mortgage PD shape, reversion and recovery lags", async () => {
  const sample = await loadRules("config/sample_rules.yaml");
  const reference = await loadRules(REFERENCE);
  assert.deepEqual(sample.staging, reference.staging);
  assert.deepEqual(sample.products, reference.products);
  assert.deepEqual(sample.scenarios, reference.scenarios);
  assert.equal(sample.scenario_reversion_years, 2);
  for (const country of ["es", "mx", "br", "co", "cl", "pe"]) {
    const mortgage = segmentRules(sample, `mortgage_${country}`);
    assert.equal(mortgage.pd_curve, "shape");
    // Declining after year 1: no 30-year flat curve at the current PD.
    const g = mortgage.pd_shape!;
    assert.ok(g.every((x, i) => i === 0 || x < g[i - 1]));
    assert.ok(mortgage.recovery_lag_months > 0);
    assert.ok(segmentRules(sample, `auto_${country}`).recovery_lag_months > 0);
  }
  assert.equal(segmentRules(sample, "consumer_es").recovery_lag_months, 0);
});

Deno.test("parseRules() refuses two overlays of one name", () => {
  const e = refused(`reporting_currency: EUR
products: {sme: {repayment: bullet}}
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
overlays:
  - { name: covid, multiplier: 1.1, reason: a }
  - { name: covid, add: 100, reason: b }
`);
  assert.deepEqual(e.issues.map((i) => [i.path, i.message]), [
    ["overlays[1].name", "duplicate overlay name covid"],
  ]);
});

const MINIMAL = `reporting_currency: EUR
products: {sme: {repayment: bullet}}
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
`;

Deno.test("parseRules() reads a key written without a value as not written: its default, or no setting", () => {
  const rules = parseRules(
    `${MINIMAL}staging:\n  dpd_default:\n  probation_exit_via_stage2:\nscenario_reversion_years:\noverlays:\n  - { name: a, filter: { stage: }, multiplier: 1.1, reason: r }\n`,
    "blank.yaml",
  );
  assert.equal(rules.staging.dpd_default, 90);
  assert.equal(rules.staging.probation_exit_via_stage2, false);
  assert.equal(rules.scenario_reversion_years, undefined);
  assert.deepEqual(rules.overlays[0].filter, {});
  // A required key left blank is required, not "null".
  const e = refused("reporting_currency:\nproducts: {sme: {repayment:}}\n");
  assert.deepEqual(e.issues.map((i) => [i.path, i.message]), [
    ["reporting_currency", "is required"],
    ["products.sme.repayment", "is required"],
    ["scenarios", "is required"],
  ]);
});

Deno.test("parseRules() checks a rule across keys once the keys it reads are valid, not on a guess", () => {
  // A weight that is not a number: no misleading sum of the others.
  const weights = refused(
    "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: half, pd_multiplier: [1]}]\n",
  );
  assert.deepEqual(weights.issues.map((i) => i.path), ["scenarios[0].weight"]);
  assert.match(weights.message, /must be a number, got "half"/);
  // An unknown repayment: whether ccf applies is not known, so not reported.
  const product = refused(
    "reporting_currency: EUR\nproducts: {card: {repayment: revolver, ccf: 0.5}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]\n",
  );
  assert.deepEqual(product.issues.map((i) => i.path), [
    "products.card.repayment",
  ]);
});

Deno.test("parseRules() names the entry of a list that is wrong and what it holds", () => {
  const e = refused(`${MINIMAL}overlays:
  - { name: a, filter: { product: [sme, 3], stage: [1, 4] }, multiplier: 1.1, reason: r }
`);
  assert.deepEqual(e.issues.map((i) => [i.path, i.message]), [
    ["overlays[0].filter.product[1]", "must be a string, got 3"],
    [
      "overlays[0].filter.stage[1]",
      "unknown value 4 (expected one of: 1, 2, 3)",
    ],
  ]);
});

Deno.test("parseRules() lists a misspelt key before the problem it causes, with the keys allowed", () => {
  const e = refused(
    "reporting_currency: EUR\nproducts: {card: {repayment: revolving, cff: 0.5, behavioural_life_months: 36}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]\n",
  );
  assert.deepEqual(e.issues, [
    {
      path: "products.card.cff",
      message:
        "unknown key (allowed: repayment, ccf, behavioural_life_months, approach, provision_matrix)",
    },
    {
      path: "products.card.ccf",
      message: "is required for repayment: revolving",
    },
  ]);
});

Deno.test("parseRules() refuses a file that is not a mapping in one problem, saying what it holds", () => {
  const e = refused("- reporting_currency: EUR\n");
  assert.equal(e.issues.length, 1);
  assert.equal(e.issues[0].path, "(root)");
  assert.match(
    e.issues[0].message,
    /^must be a mapping \(keys: reporting_currency, staging, products, .*\), got \[\{"reporting_currency":"EUR"\}\]$/,
  );
});

/** A simplified product whose matrix is written with exclusive bounds. */
const EXCLUSIVE = `reporting_currency: EUR
products:
  receivable:
    repayment: bullet
    approach: simplified
    provision_matrix:
      upper_bound: exclusive
      buckets:
        - { below_dpd: 1, loss_rate: 0.003 }
        - { below_dpd: 31, loss_rate: 0.016 }
        - { loss_rate: 0.106 }
      segments:
        large: [{ below_dpd: 61, loss_rate: 0.01 }, { loss_rate: 0.05 }]
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
`;

Deno.test("requireValidRules() passes every committed rules file's rules unchanged, and a copy checks to the same rules", async () => {
  const files = ["config/ifrs9_rules.yaml", "config/sample_rules.yaml"];
  files.push("config/example12_rules.yaml");
  const loaded = await Promise.all(files.map((f) => loadRules(f)));
  loaded.push(parseRules(EXCLUSIVE, "exclusive.yaml"));
  for (const rules of loaded) {
    assert.equal(requireValidRules(rules, "test"), rules);
    // A copy is not known to the loader: checked again as a rules file
    // (an exclusive matrix read back with its below_dpd bounds).
    const copy = structuredClone(rules);
    const checked = requireValidRules(copy, "test");
    assert.notEqual(checked, copy);
    assert.deepEqual(checked, rules);
  }
  assert.deepEqual(
    loaded.at(-1)!.products.receivable.provision_matrix!.buckets,
    [
      { max_dpd: 0, loss_rate: 0.003 },
      { max_dpd: 30, loss_rate: 0.016 },
      { max_dpd: undefined, loss_rate: 0.106 },
    ],
  );
});

Deno.test("withRules() changes the keys given and checks the result like a file", async () => {
  const rules = await loadRules(REFERENCE);
  const later = withRules(rules, {
    staging: { dpd_sicr: 60 },
    scenario_reversion_years: 2,
  });
  assert.equal(later.staging.dpd_sicr, 60);
  assert.equal(later.staging.dpd_default, 90);
  assert.equal(later.scenario_reversion_years, 2);
  assert.deepEqual(later.products, rules.products);
  // The original is untouched, and a key given as undefined goes back to
  // its default.
  assert.equal(rules.staging.dpd_sicr, 30);
  const back = withRules(later, { scenario_reversion_years: undefined });
  assert.equal(back.scenario_reversion_years, undefined);
  assert.deepEqual(back.staging, later.staging);

  assert.throws(
    () =>
      withRules(rules, {
        staging: { dpd_sicr: 95 },
        scenarios: rules.scenarios.map((s) => ({ ...s, weight: 0.5 })),
      }),
    (e: unknown) => {
      assert.ok(e instanceof RulesError);
      assert.equal(e.file, REFERENCE);
      assert.equal(
        e.message,
        `Cannot change the rules of ${REFERENCE} with withRules(): 2 problems
  - key staging.dpd_sicr: must be below staging.dpd_default (90), got 95
  - key scenarios: weights must sum to 1 (methodology §8), got 1.5`,
      );
      return true;
    },
  );
});

Deno.test("withRules() applies a change of segments.default as the file would: to every segment without its own value", async () => {
  const rules = await loadRules("config/sample_rules.yaml");
  assert.ok(Object.keys(rules.segments).length > 2);
  const lgd = withRules(rules, {
    segments: { default: { lgd_unsecured: 0.6 } },
  });
  for (const [name, segment] of Object.entries(lgd.segments)) {
    assert.equal(segment.lgd_unsecured, 0.6, name);
    assert.deepEqual(
      { ...segment, lgd_unsecured: rules.segments[name].lgd_unsecured },
      rules.segments[name],
    );
  }
  // Rules built by hand have their segments merged already: the default
  // segment alone changes.
  const copy = { ...rules, segments: { ...rules.segments } };
  const byHand = withRules(copy, { segments: { default: { rho: 0.2 } } });
  assert.equal(byHand.segments.default.rho, 0.2);
  assert.equal(byHand.segments.mortgage_es.rho, rules.segments.mortgage_es.rho);
});

Deno.test("parseRules() refuses a relative PD threshold below 1", () => {
  // p1 / p0 >= 0.5 would stage a facility whose PD halved (§3, §5.5.9).
  const e = refused(`reporting_currency: EUR
staging: { pd_relative_threshold: 0.5 }
products: {sme: {repayment: bullet}}
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
`);
  assert.deepEqual(e.issues.map((i) => i.path), [
    "staging.pd_relative_threshold",
  ]);
  assert.match(e.issues[0].message, />= 1/);
});
