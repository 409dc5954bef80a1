/**
 * The library's entry points take only rules that pass the checks of a
 * rules file (methodology §10): rules changed in code are checked again on
 * entry, so scenario weights summing to 1.5 are refused with their key
 * path instead of being computed (issue 9, "a library that cannot be
 * misused quietly"), and `withRules` derives changed rules that are checked
 * when they are made.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  applyOverlays,
  computeEcl,
  projectFacility,
  stageFacilities,
  stagingRules,
} from "../../lib/engine/mod.ts";
import { validatePortfolio } from "../../lib/validation/mod.ts";
import { summarize } from "../../lib/run/summary.ts";
import { parseFx } from "../../lib/fx.ts";
import {
  loadRules,
  type Rules,
  RulesError,
  withRules,
} from "../../lib/rules.ts";
import { portfolio } from "./_helpers.ts";

const REFERENCE = "config/ifrs9_rules.yaml";

/** The message every entry point gives for weights summing to 1.5. */
const weights = (caller: string) =>
  new RegExp(
    `^${
      caller.replace(/[()]/g, "\\$&")
    } refuses the rules it was given: 1 problem\\n  - key scenarios: weights must sum to 1 \\(methodology §8\\), got 1\\.5$`,
  );

/** The reference rules with every scenario weighted 0.5: 1.5 in all. */
async function heavy(): Promise<Rules> {
  const rules = await loadRules(REFERENCE);
  assert.equal(rules.scenarios.length, 3);
  return {
    ...rules,
    scenarios: rules.scenarios.map((s) => ({ ...s, weight: 0.5 })),
  };
}

const BOOK = portfolio([
  { pd_12m_origination: 0.01, pd_12m_current: 0.12 },
  // PD 2.5 times its origination PD: stage 2 at the reference relative
  // threshold (2), stage 1 at 3 (methodology §3).
  { pd_12m_origination: 0.01, pd_12m_current: 0.025 },
  { product: "mortgage", balance: 90_000, collateral_value: 120_000 },
]);

/** A RulesError whose message matches `re`, for assert.rejects/throws. */
const rulesError = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof RulesError, `expected RulesError, got ${e}`);
  assert.match(e.message, re);
  return true;
};

Deno.test("computeEcl() refuses scenario weights summing to 1.5 set in code, naming the key", async () => {
  const rules = await loadRules(REFERENCE);
  const staged = stageFacilities(BOOK.lazy(), rules);
  const bad = await heavy();
  await assert.rejects(
    () => computeEcl(staged, bad),
    rulesError(weights("computeEcl()")),
  );
});

Deno.test("every entry point taking rules refuses weights summing to 1.5", async () => {
  const bad = await heavy();
  assert.throws(
    () => stageFacilities(BOOK.lazy(), bad),
    rulesError(weights("stageFacilities()")),
  );
  assert.throws(
    () => stagingRules(bad),
    rulesError(weights("stagingRules()")),
  );
  await assert.rejects(
    () => validatePortfolio(BOOK.lazy(), bad, { file: "book" }),
    rulesError(weights("validatePortfolio()")),
  );
  await assert.rejects(
    () => projectFacility(BOOK.head(1), bad),
    rulesError(weights("projectFacility()")),
  );
  const fx = parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1}", "fx");
  await assert.rejects(
    () =>
      summarize(pl.DataFrame({}).lazy(), {
        runId: "r",
        reportingDate: "2025-12-31",
        rules: bad,
        fx,
      }),
    rulesError(weights("summarize()")),
  );
});

Deno.test("loaded rules changed in place are checked again, naming their file", async () => {
  const rules = await loadRules(REFERENCE);
  const staged = stageFacilities(BOOK.lazy(), rules);
  rules.scenarios[0].weight = 1;
  await assert.rejects(
    () => computeEcl(staged, rules),
    rulesError(
      /^computeEcl\(\) refuses the rules it was given \(read from config\/ifrs9_rules\.yaml, changed since\): 1 problem\n {2}- key scenarios: weights must sum to 1 \(methodology §8\), got 1\.5$/,
    ),
  );
  // Every problem at once, each with its key path, as for a file.
  rules.staging.dpd_sicr = 120;
  rules.products.sme.ccf = 0.5;
  assert.throws(() => stageFacilities(BOOK.lazy(), rules), (e: unknown) => {
    assert.ok(e instanceof RulesError);
    assert.deepEqual(e.issues.map((i) => i.path).sort(), [
      "products.sme.ccf",
      "scenarios",
      "staging.dpd_sicr",
    ]);
    return true;
  });
});

Deno.test("rules changed in code that pass the checks compute as the same file would", async () => {
  const rules = await loadRules(REFERENCE);
  // A notebook's spread copy (notebook 04's threshold sweep) and withRules.
  const spread = {
    ...rules,
    staging: { ...rules.staging, pd_relative_threshold: 3 },
  };
  const derived = withRules(rules, { staging: { pd_relative_threshold: 3 } });
  const text = (await Deno.readTextFile(REFERENCE)).replace(
    "pd_relative_threshold: 2.0",
    "pd_relative_threshold: 3",
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/rules.yaml`, text);
    const edited = await loadRules(`${dir}/rules.yaml`);
    const ecl = async (r: Rules) =>
      (await computeEcl(stageFacilities(BOOK.lazy(), r), r))
        .getColumn("ecl").toArray();
    const expected = await ecl(edited);
    assert.deepEqual(await ecl(spread), expected);
    assert.deepEqual(await ecl(derived), expected);
    // The threshold matters to the second facility only.
    const reference = await ecl(rules);
    assert.equal(reference[0], expected[0]);
    assert.ok((reference[1] as number) > (expected[1] as number));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("applyOverlays() refuses overlays built in code that a rules file could not hold", async () => {
  const results = pl.DataFrame({
    product: ["sme"],
    segment: ["sme"],
    region: ["north"],
    stage: [2],
    currency: ["EUR"],
    ead: [1000],
    ecl_model: [30],
  }).lazy();
  await assert.rejects(
    () =>
      applyOverlays(results, [
        { name: "both", filter: {}, multiplier: 1.1, add: 5, reason: "r" },
        { name: "", filter: { stage: [4 as 1] }, multiplier: -1, reason: "" },
      ]),
    (e: unknown) => {
      assert.ok(e instanceof RulesError);
      assert.match(
        e.message,
        /^applyOverlays\(\) refuses the overlays it was given: 5 problems\n/,
      );
      assert.deepEqual(e.issues.map((i) => i.path), [
        "overlays[0]",
        "overlays[1].name",
        "overlays[1].filter.stage[0]",
        "overlays[1].multiplier",
        "overlays[1].reason",
      ]);
      return true;
    },
  );
});
