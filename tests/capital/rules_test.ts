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
    // Basel III (2017) final floors by asset class, typed in from the
    // framework (docs/capital.md), not from the code.
    pd_floor: {
      corporate: 0.0005,
      residential_mortgage: 0.0005,
      qualifying_revolving_retail: 0.001,
      other_retail: 0.0005,
    },
    lgd_floor: {
      corporate: 0.25,
      residential_mortgage: 0.05,
      qualifying_revolving_retail: 0.5,
      other_retail: 0.3,
    },
  });
  assert.equal(checkRules(BASE).rules!.capital, undefined);
});

Deno.test("checkRules() reads the floors as one number for every class or per class, the rest by default", () => {
  const read = (capital: Record<string, unknown>) =>
    checkRules({
      ...BASE,
      capital: {
        asset_classes: { products: { sme: "corporate" } },
        lgd: { regulatory: 0.45 },
        ...capital,
      },
    });
  const one = read({ pd_floor: 0.001, lgd_floor: 0 }).rules!.capital!;
  assert.deepEqual(one.pd_floor, {
    corporate: 0.001,
    residential_mortgage: 0.001,
    qualifying_revolving_retail: 0.001,
    other_retail: 0.001,
  });
  assert.deepEqual(Object.values(one.lgd_floor), [0, 0, 0, 0]);
  const some = read({ lgd_floor: { corporate: 0.4 } }).rules!.capital!;
  assert.deepEqual(some.lgd_floor, {
    corporate: 0.4,
    residential_mortgage: 0.05,
    qualifying_revolving_retail: 0.5,
    other_retail: 0.3,
  });
  const bad = read({ pd_floor: { sovereign: 0.001 } });
  assert(bad.issues.some((i) => i.path.startsWith("capital.pd_floor")));
});

Deno.test("checkRules() bounds a fixed maturity to 1-5 years", () => {
  const read = (maturity: unknown) =>
    checkRules({
      ...BASE,
      capital: {
        asset_classes: { products: { sme: "corporate" } },
        lgd: { regulatory: 0.45 },
        maturity,
      },
    });
  assert.deepEqual(read(1).issues, []);
  assert.deepEqual(read(5).issues, []);
  for (const m of [0.5, 0.99, 5.01]) {
    assert.deepEqual(
      read(m).issues.map((i) => i.path),
      ["capital.maturity"],
      String(m),
    );
  }
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

Deno.test("checkRules() refuses an asset class for a simplified-approach product: its facilities have no PD", () => {
  const { issues } = checkRules({
    ...BASE,
    products: {
      ...BASE.products,
      trade_receivable: {
        repayment: "bullet",
        approach: "simplified",
        provision_matrix: {
          buckets: [{ max_dpd: 30, loss_rate: 0.01 }, { loss_rate: 0.5 }],
        },
      },
    },
    capital: {
      asset_classes: {
        products: { sme: "corporate", trade_receivable: "corporate" },
      },
      lgd: { regulatory: 0.45 },
    },
  });
  const capital = issues.filter((i) => i.path.startsWith("capital"));
  assert.deepEqual(capital.map((i) => i.path), [
    "capital.asset_classes.products.trade_receivable",
  ]);
  assert.match(capital[0].message, /simplified approach \(IFRS 9 §5\.5\.15\)/);
});
