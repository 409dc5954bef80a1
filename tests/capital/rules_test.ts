/** The rules' `capital:` section (lib/capital/rules.ts through checkRules). */
import assert from "node:assert/strict";
import { checkRules } from "../../lib/rules.ts";

const BASE = {
  reporting_currency: "EUR",
  products: { sme: { repayment: "bullet" } },
  scenarios: [{ name: "base", weight: 1, pd_multiplier: [1] }],
};

Deno.test("checkRules() reads a capital section with its defaults", () => {
  const { rules, issues } = checkRules({
    ...BASE,
    capital: {
      asset_classes: { products: { sme: "corporate" } },
      lgd: { regulatory: 0.45 },
    },
  });
  assert.deepEqual(issues, []);
  assert.deepEqual(rules!.capital, {
    asset_classes: { products: { sme: "corporate" }, segments: {} },
    lgd: { regulatory: 0.45 },
    maturity: 2.5,
    pd_floor: 0.0005,
    lgd_floor: 0,
  });
  assert.equal(checkRules(BASE).rules!.capital, undefined);
});

Deno.test("checkRules() refuses a capital section out of bounds, naming each key", () => {
  const { issues } = checkRules({
    ...BASE,
    capital: {
      asset_classes: { products: { sme: "sovereign" } },
      lgd: { downturn_add_on: 1.5 },
      maturity: 7,
      pd_floor: 1,
      lgd_floor: -0.1,
      extra: 1,
    },
  });
  const paths = issues.map((i) => i.path);
  for (
    const p of [
      "capital.asset_classes.products.sme",
      "capital.maturity",
      "capital.pd_floor",
      "capital.lgd_floor",
    ]
  ) assert(paths.includes(p), `${p} in ${JSON.stringify(issues)}`);
  assert(
    paths.some((p) => p.startsWith("capital.lgd")),
    JSON.stringify(issues),
  );
  assert(issues.some((i) => /extra/.test(i.path + i.message)));
  const empty = checkRules({
    ...BASE,
    capital: { asset_classes: {}, lgd: { regulatory: 0.4 } },
  });
  assert.deepEqual(empty.issues.map((i) => i.path), ["capital.asset_classes"]);
});

Deno.test("checkRules() refuses a capital section naming an unknown product or scenario", () => {
  const { issues } = checkRules({
    ...BASE,
    capital: {
      asset_classes: { products: { smee: "corporate" } },
      lgd: { downturn_add_on: 0.1 },
      lgd_scenario: "stress",
    },
  });
  assert.deepEqual(issues.map((i) => i.path), [
    "capital.asset_classes.products.smee",
    "capital.lgd_scenario",
  ]);
  assert.match(
    issues[0].message,
    /not a product of the rules \(products: sme\)/,
  );
  assert.match(issues[1].message, /names no scenario \(scenarios: base\)/);
});
