/**
 * The feature contract (lib/pd_model/contract.ts): its schema, the
 * encoding of a frame's columns, and the check of a contract against an
 * ONNX model's signature, on models built here by hand with onnx-proto
 * (`_foreign_model.ts`), so each mismatch is one the checker did not make.
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  contractDifferences,
  encodeFeatures,
  missingShareWarnings,
  parseFeatureContract,
} from "../../lib/pd_model/contract.ts";
import { pdModelFromBytes, sha256Hex } from "../../lib/pd_model/onnx_score.ts";
import type { FeatureSpec } from "../../lib/pd_model/types.ts";
import { parseRules } from "../../lib/rules.ts";
import { foreignModel, type ForeignModelSpec } from "./_foreign_model.ts";

const CONTRACT: FeatureSpec[] = [
  { name: "ltv", kind: "number" },
  { name: "income", kind: "number", transform: "log1p" },
  { name: "job", kind: "category", categories: ["employed", "retired"] },
];

const LOGISTIC: Omit<ForeignModelSpec, "inputs"> = {
  weights: [1, 0.5, -0.2],
  intercept: -3,
  op: "matmul",
};

/**
 * Loading a hand-built model against `features` (null: none, the model's
 * own): the error message, or "" when it loads.
 */
async function refusal(
  spec: ForeignModelSpec,
  features: FeatureSpec[] | null = CONTRACT,
  output?: string,
): Promise<string> {
  const bytes = foreignModel(spec);
  try {
    await pdModelFromBytes(
      { path: "models/elsewhere.onnx", bytes, sha256: sha256Hex(bytes) },
      {
        features: features ?? undefined,
        output,
        where: "rules.yaml: segments.retail.pd_source",
      },
    );
    return "";
  } catch (e) {
    assert.equal((e as Error).name, "UserError");
    return (e as Error).message;
  }
}

const inputs = (names: string[]) => names.map((name) => ({ name }));

Deno.test("parseFeatureContract() fills transform, and lists every problem with its path", () => {
  assert.deepEqual(parseFeatureContract(CONTRACT.slice(0, 1), "x"), [
    { name: "ltv", kind: "number", transform: "identity" },
  ]);
  assert.throws(
    () =>
      parseFeatureContract([
        { name: "a", kind: "number" },
        { name: "a", kind: "number", categories: ["x"] },
        { name: "b", kind: "category", categories: ["x", "x"] },
        { name: "c", kind: "category", transform: "log1p", categories: ["y"] },
        { name: "d", kind: "ordinal" },
      ], "model.json"),
    (e: Error) => {
      const lines = e.message.replace(/^UserError: /, "").split("\n");
      for (
        const expected of [
          'model.json: features[4].kind: must be number or category, got "ordinal"',
          "model.json: features[1].categories: applies to category features only (a is a number)",
          'model.json: features[2].categories[1]: "x" is listed twice',
          "model.json: features[3].transform: applies to number features only (c is a category)",
        ]
      ) {
        assert.ok(
          lines.includes(expected),
          `${expected}\nin\n${lines.join("\n")}`,
        );
      }
      return true;
    },
  );
  assert.throws(
    () => parseFeatureContract([], "x"),
    /must list at least one feature/,
  );
});

Deno.test("encodeFeatures() reads numbers (text too), log1p, categories as codes, NaN for missing and unknown, counted", () => {
  const df = pl.DataFrame({
    ltv: [0.5, null, 0.8, NaN],
    income: [" 0 ", "9", "n.a.", "-1"],
    job: ["retired", "employed", "pilot", null],
  });
  const { data, missing, unknown } = encodeFeatures(df, CONTRACT);
  assert.equal(data.rows, 4);
  assert.deepEqual([...data.columns[0]], [0.5, NaN, 0.8, NaN]);
  // ln(1 + 0) = 0, ln(1 + 9) = ln 10; "n.a." is a missing word; -1 is
  // outside log1p's domain (x > -1).
  assert.deepEqual([...data.columns[1]], [0, Math.log(10), NaN, NaN]);
  assert.deepEqual([...data.columns[2]], [1, 0, NaN, NaN]);
  assert.deepEqual(missing, { ltv: 2, income: 2, job: 1 });
  assert.deepEqual(unknown, { job: 1 });
});

Deno.test("encodeFeatures() refuses a frame without a feature column, naming it", () => {
  const df = pl.DataFrame({ ltv: [0.5], job: ["retired"] });
  assert.throws(
    () => encodeFeatures(df, CONTRACT, { data: "book.csv", model: "m.onnx" }),
    /^UserError: book\.csv: missing feature column income that PD model m\.onnx reads/,
  );
});

Deno.test("contractDifferences() names each feature that differs in kind, categories, transform or place", () => {
  const other: FeatureSpec[] = [
    { name: "income", kind: "number" },
    { name: "ltv", kind: "category", categories: ["a"] },
    { name: "job", kind: "category", categories: ["retired", "employed"] },
    { name: "age", kind: "number" },
  ];
  assert.deepEqual(
    contractDifferences(CONTRACT, other, "the rules", "the model"),
    [
      "feature ltv: position 1 in the rules, 2 in the model",
      "feature ltv: number in the rules, category in the model",
      "feature income: position 2 in the rules, 1 in the model",
      "feature income: transform log1p in the rules, identity in the model",
      'feature job: categories ["employed","retired"] in the rules, ["retired","employed"] in the model (a category\'s code is its index, so the lists must be equal, in order)',
      "feature age: in the model, not in the rules",
    ],
  );
  assert.deepEqual(contractDifferences(CONTRACT, CONTRACT, "a", "b"), []);
});

Deno.test("a model matching its contract loads", async () => {
  assert.equal(
    await refusal({ ...LOGISTIC, inputs: inputs(["ltv", "income", "job"]) }),
    "",
  );
});

Deno.test("a model without an input for a feature is refused before scoring, naming the feature and the model", async () => {
  const message = await refusal({
    ...LOGISTIC,
    weights: [1, 0.5],
    inputs: inputs(["ltv", "job"]),
  });
  assert.match(
    message,
    /^rules\.yaml: segments\.retail\.pd_source: PD model models\/elsewhere\.onnx does not match its feature contract; nothing was scored:/,
  );
  assert.match(
    message,
    /- feature income: the model has no input of that name \(its inputs: ltv, job\)/,
  );
});

Deno.test("a model reading the features in another order is refused, naming them", async () => {
  const message = await refusal({
    ...LOGISTIC,
    inputs: inputs(["income", "ltv", "job"]),
  });
  assert.match(
    message,
    /- feature ltv: input 2 of the model, feature 1 of the contract/,
  );
  assert.match(
    message,
    /- feature income: input 1 of the model, feature 2 of the contract/,
  );
});

Deno.test("a float32 input is refused, naming the feature", async () => {
  const message = await refusal({
    ...LOGISTIC,
    inputs: [{ name: "ltv" }, { name: "income", type: "float" }, {
      name: "job",
    }],
  });
  assert.match(
    message,
    /- feature income: the model's input is float32, the convention is float64/,
  );
  assert.doesNotMatch(message, /feature ltv/);
});

Deno.test("an input that is not a feature of the contract is refused, naming it", async () => {
  const message = await refusal({
    ...LOGISTIC,
    weights: [1, 0.5, -0.2, 0.1],
    inputs: inputs(["ltv", "income", "job", "age"]),
  });
  assert.match(
    message,
    /- input age: the model reads it, but it is not a feature of the contract/,
  );
});

Deno.test("an embedded contract with other categories than the rules' is refused, naming the feature", async () => {
  const embedded = [
    CONTRACT[0],
    CONTRACT[1],
    { name: "job", kind: "category", categories: ["employed", "unemployed"] },
  ];
  const message = await refusal({
    ...LOGISTIC,
    inputs: inputs(["ltv", "income", "job"]),
    contract: embedded,
  });
  assert.match(
    message,
    /- feature job: categories \["employed","retired"\] in the contract given, \["employed","unemployed"\] in the model's embedded contract/,
  );
  // The same contract embedded: accepted.
  assert.equal(
    await refusal({
      ...LOGISTIC,
      inputs: inputs(["ltv", "income", "job"]),
      contract: CONTRACT,
    }),
    "",
  );
});

Deno.test("a model without the PD output, or without any contract, is refused", async () => {
  const spec = { ...LOGISTIC, inputs: inputs(["ltv", "income", "job"]) };
  assert.match(
    await refusal({ ...spec, output: "probability" }),
    /- output pd: the model has no output of that name \(its outputs: probability\)/,
  );
  // Another output name, given in the rules: accepted.
  assert.equal(
    await refusal({ ...spec, output: "probability" }, CONTRACT, "probability"),
    "",
  );
  assert.match(
    await refusal(spec, null),
    /PD model models\/elsewhere\.onnx carries no feature contract/,
  );
});

Deno.test("a rules file's pd_source is checked with the other keys, each problem at its key path", () => {
  const base =
    "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]\n";
  const rules = parseRules(
    base +
      "segments:\n  default: {pd_source: {onnx: m.onnx}}\n  sme_es: {pd_source: column}\n",
    "r.yaml",
  );
  // `default`'s source reaches every segment that gives none (§10).
  assert.deepEqual(rules.segments.default.pd_source, { onnx: "m.onnx" });
  assert.equal(rules.segments.sme_es.pd_source, "column");
  assert.throws(
    () =>
      parseRules(
        base +
          "segments:\n  retail: {pd_source: {onnx: m.onnx, features: [{name: job, kind: category}]}}\n  sme_es: {pd_source: model}\n",
        "r.yaml",
      ),
    (e: Error) => {
      assert.match(
        e.message,
        /key segments\.retail\.pd_source\.features\[0\]\.categories: is required for a category feature \(job\)/,
      );
      assert.match(
        e.message,
        /key segments\.sme_es\.pd_source: must be column, or a mapping \{ onnx: PATH, features\?: \[\.\.\.\], output\?: NAME \}/,
      );
      return true;
    },
  );
});

Deno.test("encodeFeatures() refuses a word in a numeric column, naming the column, the row with its loan_id and the value; and an infinite number", () => {
  const contract = [{ name: "credit_score", kind: "number" as const }];
  const df = pl.DataFrame({
    loan_id: ["A1", "A2", "A3"],
    credit_score: ["700", "NA", "high"],
  });
  assert.throws(
    () => encodeFeatures(df, contract, { data: "book.csv" }),
    /^UserError: book\.csv: column credit_score, row 3 \(loan_id A3\): "high" is not a number/,
  );
  const inf = pl.DataFrame({ credit_score: [700, Infinity] });
  assert.throws(
    () => encodeFeatures(inf, contract, { data: "book.parquet" }),
    /^UserError: book\.parquet: column credit_score, row 2: Infinity is not a number/,
  );
  // The missing words of the one rule are missing, not refused.
  const ok = encodeFeatures(
    pl.DataFrame({ credit_score: ["n.a.", " 650 ", "-", "null", ""] }),
    contract,
  );
  assert.deepEqual([...ok.data.columns[0]], [NaN, 650, NaN, NaN, NaN]);
  assert.equal(ok.missing.credit_score, 4);
});

Deno.test("encodeFeatures() with refuseAllMissing refuses a feature missing on every row, unless development had it missing on 5% or more", () => {
  const contract = [
    { name: "credit_score", kind: "number" as const },
    { name: "ltv", kind: "number" as const },
  ];
  const df = pl.DataFrame({
    credit_score: [null, null] as (number | null)[],
    ltv: [0.5, 0.7],
  });
  // Not asked: counted only.
  assert.equal(encodeFeatures(df, contract).missing.credit_score, 2);
  assert.throws(
    () =>
      encodeFeatures(df, contract, {
        data: "book.csv",
        model: "m.onnx",
        refuseAllMissing: true,
      }),
    /^UserError: book\.csv: feature credit_score of PD model m\.onnx is missing on every one of the 2 rows to score/,
  );
  const reference = (missingShare: number) => ({
    credit_score: {
      edges: [600],
      shares: [0.5, 0.5 - missingShare, missingShare],
    },
  });
  assert.throws(
    () =>
      encodeFeatures(df, contract, {
        refuseAllMissing: true,
        reference: reference(0.049),
      }),
    /credit_score .* missing on every one/,
  );
  encodeFeatures(df, contract, {
    refuseAllMissing: true,
    reference: reference(0.05),
  });
});

Deno.test("missingShareWarnings(): a share 5 points above development's and at least twice it warns, naming the feature and both shares", () => {
  const ref = {
    a: { edges: [1], shares: [0.5, 0.5, 0] },
    b: { edges: [1], shares: [0.4, 0.5, 0.1] },
    c: { categories: ["x"], shares: [0.9, 0, 0.1] },
  };
  // a: 5/100 against 0: +5 points, warns; b: 19/100 against 10%: +9
  // points but under twice, no warning; c: 20/100 against 10%: +10 points
  // and twice, warns; d: not in the reference, skipped.
  const w = missingShareWarnings(
    { a: 5, b: 19, c: 20, d: 100 },
    100,
    ref,
    "book.csv",
  );
  assert.deepEqual(w, [
    "book.csv: feature a: missing on 5 of 100 facilities (5.0%) against 0.0% of the development sample, scored from the missing bin",
    "book.csv: feature c: missing on 20 of 100 facilities (20.0%) against 10.0% of the development sample, scored from the missing bin",
  ]);
  assert.deepEqual(missingShareWarnings({ a: 4 }, 100, ref, "x"), []);
  assert.deepEqual(missingShareWarnings({ a: 5 }, 100, undefined, "x"), []);
});
