/**
 * The data side of training (lib/pd_model/train_data.ts): the one rule
 * reading a text cell as a number (missing words, stray tokens refused
 * naming file, column, row and value), reserved feature names refused at
 * feature selection and at ONNX export (scorecard and trees), the one
 * data-file reader (non-UTF-8 bytes, an unclosed quote, a quoted header),
 * and the option checks (seed range, a held-out part with enough of each
 * class).
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  checkHeldOutPart,
  checkSeed,
  MIN_HELD_OUT_CLASS,
  numberCell,
  parseNumberText,
  readDataFile,
  readTrainingData,
  selectFeatures,
  stratifiedSplit,
} from "../../lib/pd_model/train_data.ts";
import { buildPdModel } from "../../lib/pd_model/onnx_build.ts";
import { gbtToOnnx, trainGbt } from "../../lib/pd_model/gbt.ts";
import { UserError } from "../../lib/errors.ts";

const refused = (kind: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
  assert.equal(e.kind, kind, e.message);
  assert.match(e.message, pattern);
  return true;
};

/** A 0–80 integer column as CSV text, with `stray` at row `at` (1-based). */
function ages(n: number, stray: string, at: number) {
  return Array.from(
    { length: n },
    (_, i) => i + 1 === at ? stray : String(i % 81),
  );
}

Deno.test("parseNumberText() reads missing words as missing and refuses what is not a finite number", () => {
  for (
    const w of ["", "  ", "NA", "na", "N/A", "n.a.", "null", "NaN", "none", "-"]
  ) {
    assert.ok(Number.isNaN(parseNumberText(w)!), JSON.stringify(w));
  }
  assert.ok(Number.isNaN(parseNumberText(null)!));
  assert.equal(parseNumberText("12"), 12);
  assert.equal(parseNumberText(" -0.5 "), -0.5);
  assert.equal(parseNumberText("1e3"), 1000);
  for (const w of ["abc", "Infinity", "-Infinity", "1,5", "12abc"]) {
    assert.equal(parseNumberText(w), undefined, w);
  }
  assert.equal(numberCell("7", { source: "f.csv", column: "age", row: 3 }), 7);
  assert.throws(
    () => numberCell("abc", { source: "f.csv", column: "age", row: 3 }),
    refused("input", /^f\.csv: column age, row 3: "abc" is not a number/),
  );
});

Deno.test("selectFeatures() keeps a numeric column with one n.a. as a number, not 82 categories", () => {
  const n = 2100;
  const df = pl.DataFrame({ age: ages(n, "n.a.", 17), y: ages(n, "0", 0) });
  const { features } = selectFeatures(df, "y", undefined, "dev.csv");
  assert.deepEqual(features, [{ name: "age", kind: "number" }]);
});

Deno.test("selectFeatures() refuses a stray token in a numeric column, naming file, column, row and value", () => {
  const n = 1561;
  for (const stray of ["abc", "Infinity"]) {
    const df = pl.DataFrame({
      income: ages(n, stray, 40).map((v) => v === stray ? v : `${v}.5`),
      y: ages(n, "0", 0),
    });
    for (const named of [undefined, ["income"]]) {
      assert.throws(
        () => selectFeatures(df, "y", named, "dev.csv"),
        refused(
          "input",
          new RegExp(
            `^dev\\.csv: column income, row 40: "${stray}" is not a number`,
          ),
        ),
      );
    }
  }
  // Below 90% numbers the column is a category, as before.
  const grades = Array.from({ length: 100 }, (_, i) => i < 80 ? "1" : "X");
  const df = pl.DataFrame({ grade: grades, y: ages(100, "0", 0) });
  assert.deepEqual(selectFeatures(df, "y", undefined, "d.csv").features, [
    { name: "grade", kind: "category", categories: ["1", "X"] },
  ]);
});

Deno.test("selectFeatures() refuses a column named as a graph value (features, pd, score, sc_*), naming it", () => {
  for (const name of ["features", "pd", "score", "points", "sc_total"]) {
    const df = pl.DataFrame({ [name]: ["1", "2", "3"], ltv: ["1", "2", "4"] });
    for (const named of [undefined, [name, "ltv"]]) {
      assert.throws(
        () => selectFeatures(df, "y", named, "dev.csv"),
        refused(
          "input",
          new RegExp(`^dev\\.csv: column "${name}" cannot be a characteristic`),
        ),
        name,
      );
    }
  }
});

Deno.test("buildPdModel() refuses reserved or colliding feature names, and so does the trees' export", () => {
  const sigmoid = (name: string) => ({
    features: [{ name, kind: "number" as const }],
    nodes: [
      { op: "Sigmoid", inputs: ["features"], outputs: ["tmp"] },
      { op: "Identity", inputs: ["tmp"], outputs: ["pd"] },
    ],
  });
  assert.ok(buildPdModel(sigmoid("x")).length > 0);
  assert.throws(
    () => buildPdModel(sigmoid("tmp")),
    refused(
      "usage",
      /^feature "tmp" cannot be a model input: the graph defines/,
    ),
  );
  assert.throws(
    () => buildPdModel(sigmoid("features")),
    refused(
      "usage",
      /^feature "features" cannot be a model input: the name "features" is reserved/,
    ),
  );
  // The trees: a model trained on a column named `features` is refused at
  // export, naming it (ONNX Runtime would fail on a duplicate name).
  const n = 400;
  const x = Float64Array.from({ length: n }, (_, i) => i % 20);
  const target = Uint8Array.from(
    { length: n },
    (_, i) => (i % 20 > 14 || i % 7 === 0 ? 1 : 0),
  );
  const model = trainGbt({
    features: [{ name: "features", kind: "number" }],
    columns: [x],
    target,
    rows: n,
  }, { trees: 2, validationShare: 0 });
  assert.throws(
    () => gbtToOnnx(model),
    refused("usage", /^feature "features" cannot be a model input/),
  );
});

Deno.test("readDataFile() refuses non-UTF-8 bytes and an unclosed quote as input errors naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const latin1 = `${dir}/latin1.csv`;
    await Deno.writeFile(
      latin1,
      new Uint8Array([
        ...new TextEncoder().encode("a,y\nEspa"),
        0xf1,
        ...new TextEncoder().encode("a,1\n"),
      ]),
    );
    await assert.rejects(
      () => readDataFile(latin1, "training data"),
      refused(
        "input",
        new RegExp(`^Cannot read training data ${latin1}: .*UTF-8`, "i"),
      ),
    );
    const quote = `${dir}/quote.csv`;
    await Deno.writeTextFile(quote, 'a,y\n"open,1\nb,0\n');
    await assert.rejects(
      () => readTrainingData(quote),
      refused("input", new RegExp(`^Cannot read training data ${quote}: `)),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readTrainingData() undoes doubled quotes in a CSV header", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/h.csv`;
    await Deno.writeTextFile(
      path,
      '"empleo ""tipo"" Ñ ☃",y\nfijo,0\ntemporal,1\n',
    );
    const df = await readTrainingData(path);
    assert.deepEqual(df.columns, ['empleo "tipo" Ñ ☃', "y"]);
    const { features } = selectFeatures(df, "y", undefined, path);
    assert.equal(features[0].name, 'empleo "tipo" Ñ ☃');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkSeed() takes whole numbers 0..2^32-1 and refuses others, naming the flag", () => {
  assert.equal(checkSeed(0, "--seed"), 0);
  assert.equal(checkSeed(2 ** 32 - 1, "--seed"), 2 ** 32 - 1);
  for (const bad of [-1, 2 ** 32, 1.5, 99999999999999999999, NaN]) {
    assert.throws(
      () => checkSeed(bad, "--seed"),
      refused("usage", /^--seed: must be a whole number from 0 to 4294967295/),
      String(bad),
    );
  }
});

Deno.test("checkHeldOutPart() refuses a held-out part with fewer than 20 defaults or non-defaults", () => {
  // 10,000 rows, 5% defaults: a share of 1e-9 holds out one of each class.
  const target = Uint8Array.from(
    { length: 10000 },
    (_, i) => (i % 20 === 0 ? 1 : 0),
  );
  const tiny = stratifiedSplit(target, 1e-9, 1);
  assert.equal(tiny.heldOut.length, 2);
  assert.throws(
    () => checkHeldOutPart(target, tiny.heldOut, "--held-out"),
    refused(
      "usage",
      /^--held-out: the held-out part has 1 default and 1 non-default; validation needs at least 20 of each/,
    ),
  );
  // 0.08 of 500 defaults = 40 and of 9,500 non-defaults = 760: enough.
  const fair = stratifiedSplit(target, 0.08, 1);
  checkHeldOutPart(target, fair.heldOut, "--held-out");
  // Exactly MIN_HELD_OUT_CLASS defaults passes; one fewer does not.
  const rows = (bads: number) =>
    Uint32Array.from({ length: 100 }, (_, i) => i < bads ? i * 20 : i * 20 + 1);
  checkHeldOutPart(target, rows(MIN_HELD_OUT_CLASS));
  assert.throws(
    () => checkHeldOutPart(target, rows(MIN_HELD_OUT_CLASS - 1)),
    refused("usage", /19 defaults/),
  );
});
