/**
 * Training a PD model (lib/pd_model/train.ts, train_data.ts): which
 * columns become characteristics and with which kind, the target's checks,
 * the stratified seeded split, and trainPdModel end to end on data drawn
 * from a known logistic model (the folder it writes, whole or not at all).
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  MAX_AUTO_CATEGORIES,
  readTarget,
  readTrainingData,
  selectFeatures,
  stratifiedSplit,
} from "../../lib/pd_model/train_data.ts";
import { UserError } from "../../lib/errors.ts";
import type { DataFrame } from "../../lib/frame.ts";
import {
  subsetRows,
  trainPdModel,
  type TrainPdOptions,
  writePdModelFolder,
} from "../../lib/pd_model/train.ts";
import { encodeFeatures } from "../../lib/pd_model/contract.ts";
import { loadPdModel, scorePd } from "../../lib/pd_model/onnx_score.ts";
import { devData } from "./_dev_data.ts";
import { Rng } from "../../lib/generate/mod.ts";
import {
  buildDevelopmentSample,
  facilitySplit,
  type GbtModel,
  gbtValidationSplit,
  generatePortfolio,
  latestDateSplit,
} from "../../lib/mod.ts";
import { parseMarkup } from "../report/_markup.ts";

/** Asserts that `fn` throws a UserError of `kind` whose message matches. */
function refuses(fn: () => unknown, kind: string, message: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.equal(e.kind, kind);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("selectFeatures() keeps characteristics and skips ids, dates, run columns, constants and free text, each with its reason", () => {
  const n = 4;
  const df = pl.DataFrame({
    loan_id: ["a", "b", "c", "d"],
    customer_id: ["c1", "c2", "c3", "c4"],
    branch_id: [1, 2, 3, 4],
    reporting_date: ["2025-12-31", "2025-12-31", "2025-12-31", "2025-12-31"],
    opened: ["2020-01-31", "2021-03-31", "2019-02-28", "2022-05-31"],
    stage: [1, 1, 2, 3],
    ecl_base: [1.5, 2.5, 3, 4],
    credit_score: [700, 650, 600, 550],
    dti: ["0.3", "0.45", "", "0.2"].map((v) => v === "" ? null : v),
    employment_type: ["salaried", "self_employed", "salaried", "retired"],
    // A spreadsheet's words for missing among numbers.
    ltv: ["0.8", "NA", "0.7", "n/a"],
    currency: ["EUR", "EUR", "EUR", "EUR"],
    defaulted: [0, 1, 0, 1],
  });
  assert.equal(df.height, n);
  const { features, skipped } = selectFeatures(df, "defaulted", undefined, "d");
  assert.deepEqual(features, [
    { name: "credit_score", kind: "number" },
    // Text that reads as numbers (a CSV column) is a number.
    { name: "dti", kind: "number" },
    // Categories sorted, so codes do not depend on row order.
    {
      name: "employment_type",
      kind: "category",
      categories: ["retired", "salaried", "self_employed"],
    },
    { name: "ltv", kind: "number" },
  ]);
  assert.deepEqual(skipped, [
    { column: "loan_id", reason: "an identifier" },
    { column: "customer_id", reason: "an identifier" },
    { column: "branch_id", reason: "an identifier" },
    { column: "reporting_date", reason: "a date" },
    { column: "opened", reason: "a date (text YYYY-MM-DD)" },
    { column: "stage", reason: "computed by a run" },
    { column: "ecl_base", reason: "computed by a run" },
    { column: "currency", reason: "one value throughout" },
  ]);
});

Deno.test("selectFeatures() skips a text column of more than MAX_AUTO_CATEGORIES values unless named, then refuses it", () => {
  const values = Array.from(
    { length: MAX_AUTO_CATEGORIES + 1 },
    (_, i) => `v${i}`,
  );
  const df = pl.DataFrame({
    note: values,
    x: values.map((_, i) => i),
    y: values.map((_, i) => i % 2),
  });
  const { features, skipped } = selectFeatures(df, "y", undefined, "d");
  assert.deepEqual(features.map((f) => f.name), ["x"]);
  assert.equal(skipped[0].column, "note");
  assert.match(skipped[0].reason, /101 distinct values, more than 100/);
  refuses(
    () => selectFeatures(df, "y", ["note"], "d.csv"),
    "input",
    /^d\.csv: feature column note cannot be a characteristic: it is text with 101 distinct values/,
  );
});

Deno.test("selectFeatures() refuses a missing feature column, the target as a feature and a date, naming the column", () => {
  const df = pl.DataFrame({
    a: [1, 2],
    d: ["2025-01-31", "2025-02-28"],
    y: [0, 1],
  });
  refuses(
    () => selectFeatures(df, "y", ["a", "ltv"], "book.csv"),
    "input",
    /^book\.csv: no feature column "ltv" \(the columns are a, d, y\)$/,
  );
  refuses(
    () => selectFeatures(df, "y", ["a", "y"], "book.csv"),
    "usage",
    /feature y is the target column/,
  );
  refuses(
    () => selectFeatures(df, "y", ["d"], "book.csv"),
    "input",
    /feature column d cannot be a characteristic: it is a date/,
  );
  assert.deepEqual(selectFeatures(df, "y", ["a"], "x").features, [
    { name: "a", kind: "number" },
  ]);
});

Deno.test("readTarget() reads 0/1, booleans and their text, and refuses a missing column, a non-binary value, a missing value and one class", () => {
  const t = (values: unknown[]) => pl.DataFrame({ y: values as number[] });
  assert.deepEqual([...readTarget(t([0, 1, 1]), "y", "d")], [0, 1, 1]);
  assert.deepEqual([...readTarget(t([true, false]), "y", "d")], [1, 0]);
  assert.deepEqual(
    [...readTarget(t(["1", "0", "true", "FALSE"]), "y", "d")],
    [1, 0, 1, 0],
  );
  refuses(
    () => readTarget(t([0, 1]), "default_12m", "s.parquet"),
    "input",
    /^s\.parquet: no target column "default_12m" \(the columns are y\)$/,
  );
  refuses(
    () => readTarget(t([0, 1, 2, 1]), "y", "s.csv"),
    "input",
    /^s\.csv: target column y is not binary: row 3 holds 2 /,
  );
  refuses(
    () => readTarget(t(["0", "yes"]), "y", "s.csv"),
    "input",
    /target column y is not binary: row 2 holds "yes"/,
  );
  refuses(
    () => readTarget(t([0, null, 1, null]), "y", "s.csv"),
    "input",
    /target column y has no value in 2 rows \(the first is row 2\)/,
  );
  refuses(
    () => readTarget(t([0, 0, 0]), "y", "s.csv"),
    "input",
    /target column y has one class only \(every one of 3 rows is 0\)/,
  );
});

Deno.test("stratifiedSplit() holds out the share of each class, is seeded, and covers every row once", () => {
  // 1000 rows, 50 defaults: 30% held out is 285 of the 950 and 15 of the 50.
  const target = new Uint8Array(1000);
  for (let i = 0; i < 50; i++) target[i * 20] = 1;
  const a = stratifiedSplit(target, 0.3, 11);
  assert.equal(a.heldOut.length, 300);
  assert.equal([...a.heldOut].filter((i) => target[i] === 1).length, 15);
  const all = [...a.train, ...a.heldOut].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 1000 }, (_, i) => i));
  // The same seed, the same split; another seed, another one.
  assert.deepEqual(stratifiedSplit(target, 0.3, 11), a);
  assert.notDeepEqual(stratifiedSplit(target, 0.3, 12).heldOut, a.heldOut);
  refuses(() => stratifiedSplit(target, 1, 1), "usage", /between 0 and 1/);
  refuses(
    () => stratifiedSplit(new Uint8Array([0, 0, 1]), 0.5, 1),
    "input",
    /only 1 row has target 1/,
  );
});

Deno.test("readTrainingData() reads CSV and Parquet and names the file it cannot read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/d.csv`, "x,y\n1.5,0\n2,1\n");
    const df = await readTrainingData(`${dir}/d.csv`);
    assert.deepEqual(df.columns, ["x", "y"]);
    pl.DataFrame({ x: [1.5, 2], y: [0, 1] }).writeParquet(`${dir}/d.parquet`);
    assert.equal((await readTrainingData(`${dir}/d.parquet`)).height, 2);
    await assert.rejects(
      () => readTrainingData(`${dir}/missing.csv`),
      (e: unknown) =>
        e instanceof UserError && e.kind === "input" &&
        e.message ===
          `Cannot read training data ${dir}/missing.csv: no such file`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// trainPdModel end to end, on data drawn from a known logistic model.

/** AUC by its definition: the share of (default, non-default) pairs ranked right, ties one half. */
function bruteAuc(pd: ArrayLike<number>, y: ArrayLike<number>): number {
  let right = 0, pairs = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < y.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      right += pd[i] > pd[j] ? 1 : pd[i] === pd[j] ? 0.5 : 0;
    }
  }
  return right / pairs;
}

Deno.test("trainPdModel() fits a scorecard whose held-out AUC is within 0.01 of the true model's, and writes the folder", async () => {
  const df = devData(40000, 3, { withTruePd: true });
  const dir = await Deno.makeTempDir();
  try {
    const data = `${dir}/dev.parquet`;
    df.drop("true_pd").writeParquet(data);
    const trained = await trainPdModel({
      data,
      target: "default_12m",
      seed: 5,
      out: `${dir}/model`,
    });
    const { heldOut } = trained.split;
    const y = df.getColumn("default_12m").toArray() as number[];
    const truth = df.getColumn("true_pd").toArray() as number[];
    const yHeld = [...heldOut].map((i) => y[i]);
    const trueAuc = bruteAuc([...heldOut].map((i) => truth[i]), yHeld);
    const m = trained.metrics;
    // The statistics of metrics.json, checked against their definitions.
    assert.ok(
      Math.abs(m.held_out.auc - bruteAuc(trained.heldOutPd, yHeld)) < 1e-12,
    );
    assert.ok(Math.abs(m.held_out.gini - (2 * m.held_out.auc - 1)) < 1e-12);
    assert.ok(
      Math.abs(m.held_out.auc - trueAuc) < 0.01,
      `held-out AUC ${m.held_out.auc}, true model's ${trueAuc}`,
    );
    assert.equal(m.held_out.rows, 12000);
    assert.equal(m.train.rows + m.held_out.rows, 40000);
    assert.equal(
      m.train.defaults + m.held_out.defaults,
      y.reduce((a, b) => a + b, 0),
    );
    assert.deepEqual(m.features, [
      "credit_score",
      "debt_to_income",
      "employment_type",
    ]);
    assert.deepEqual(trained.skipped.map((s) => s.column), [
      "loan_id",
      "reporting_date",
    ]);
    // The folder, whole.
    const files = [...Deno.readDirSync(`${dir}/model`)].map((e) => e.name)
      .sort();
    assert.deepEqual(files, [
      "metrics.json",
      "model.json",
      "model.onnx",
      "scorecard.csv",
      "validation.html",
    ]);
    const file = JSON.parse(await Deno.readTextFile(`${dir}/model/model.json`));
    assert.equal(file.format, "ifrs9-pd-model");
    assert.equal(file.kind, "scorecard");
    assert.deepEqual(file.training.rows, { train: 28000, held_out: 12000 });
    assert.equal(file.training.data, data);
    assert.match(file.training.data_sha256, /^[0-9a-f]{64}$/);
    assert.equal(file.features[2].kind, "category");
    assert.deepEqual(file.reference.master_scale.at(-1).upper_pd, 1);
    const csv = await Deno.readTextFile(`${dir}/model/scorecard.csv`);
    assert.match(csv, /^characteristic,bin,range,/);
    // model.onnx, loaded and scored independently, gives the held-out PDs.
    const model = await loadPdModel(`${dir}/model/model.onnx`);
    const encoded = encodeFeatures(df, model.features).data;
    const pd = (await scorePd(model, subsetRows(encoded, heldOut))).pd;
    for (let i = 0; i < pd.length; i++) {
      assert.ok(Math.abs(pd[i] - trained.heldOutPd[i]) <= 1e-6, `row ${i}`);
    }
    const page = await Deno.readTextFile(`${dir}/model/validation.html`);
    // The page shows the figures of metrics.json.
    const parsed = parseMarkup(page);
    const cards = parsed.texts(".card-value");
    assert.equal(cards[0], m.held_out.auc.toFixed(3));
    assert.equal(cards[3], "40,000");
    const grades = parsed.texts("#calibration tbody tr td:first-child");
    assert.deepEqual(grades, m.held_out.calibration.map((r) => r.grade));
    assert.equal(
      parsed.count("#scorecard tbody tr"),
      JSON.parse(await Deno.readTextFile(`${dir}/model/model.json`)).model
        .characteristics.reduce(
          (n: number, c: { bins: unknown[] }) => n + c.bins.length,
          0,
        ),
    );
    for (
      const id of [
        "chart-roc",
        "chart-ks",
        "chart-calibration",
        "chart-distribution",
        "chart-iv",
        "scorecard",
      ]
    ) {
      assert.match(page, new RegExp(`id="${id}"`));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainPdModel() trains the trees from a CSV with named features; the same seed gives the same model", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = `${dir}/dev.csv`;
    devData(4000, 9).writeCSV(data);
    const opts = {
      data,
      target: "default_12m",
      model: "gbt" as const,
      features: ["debt_to_income", "credit_score"],
      seed: 3,
      gbt: { trees: 30 },
    };
    const a = await trainPdModel({ ...opts, out: `${dir}/gbt` });
    const files = [...Deno.readDirSync(`${dir}/gbt`)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      "metrics.json",
      "model.json",
      "model.onnx",
      "validation.html",
    ]);
    assert.deepEqual(a.file.features, [
      { name: "debt_to_income", kind: "number" },
      { name: "credit_score", kind: "number" },
    ]);
    assert.equal(a.skipped.length, 0);
    assert.ok(a.metrics.held_out.auc > 0.7, String(a.metrics.held_out.auc));
    assert.ok(a.metrics.onnx_check.max_abs_difference <= 1e-6);
    assert.match(a.page, /id="chart-importance"/);
    const b = await trainPdModel(opts);
    assert.deepEqual(b.file.model, a.file.model);
    assert.deepEqual(b.metrics, a.metrics);
    assert.equal(b.dir, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainPdModel() refuses a missing feature column, a non-binary target and a target of one class, naming the column, and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const df = devData(500, 2);
    const cases: [DataFrame, Partial<TrainPdOptions>, RegExp][] = [
      [df, { features: ["credit_score", "ltv"] }, /no feature column "ltv"/],
      [
        df.withColumn(
          pl.Series(
            "default_12m",
            df.getColumn("default_12m").toArray().map((v, i) =>
              i === 7 ? 2 : v
            ),
          ),
        ),
        {},
        /target column default_12m is not binary: row 8 holds 2/,
      ],
      [
        df.withColumn(pl.Series("default_12m", new Array(500).fill(0))),
        {},
        /target column default_12m has one class only/,
      ],
    ];
    for (const [frame, extra, message] of cases) {
      const data = `${dir}/dev.parquet`;
      frame.writeParquet(data);
      await assert.rejects(
        () =>
          trainPdModel({
            data,
            target: "default_12m",
            out: `${dir}/model`,
            ...extra,
          }),
        (e: unknown) =>
          e instanceof UserError && e.kind === "input" &&
          message.test(e.message),
      );
      assert.equal(await exists(`${dir}/model`), false);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writePdModelFolder() replaces an earlier model folder whole, and refuses a folder holding other files, leaving it as it was", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = `${dir}/dev.parquet`;
    devData(2000, 4).writeParquet(data);
    const sc = await trainPdModel({
      data,
      target: "default_12m",
      out: `${dir}/model`,
    });
    assert.ok(await exists(`${dir}/model/scorecard.csv`));
    // A gbt model over the scorecard: the scorecard's csv goes with it.
    await trainPdModel({
      data,
      target: "default_12m",
      model: "gbt",
      out: `${dir}/model`,
      gbt: { trees: 10 },
    });
    assert.equal(await exists(`${dir}/model/scorecard.csv`), false);
    assert.equal(
      JSON.parse(await Deno.readTextFile(`${dir}/model/model.json`)).kind,
      "gbt",
    );
    // A folder of other work is not replaced.
    await Deno.mkdir(`${dir}/mine`);
    await Deno.writeTextFile(`${dir}/mine/notes.md`, "keep");
    await assert.rejects(
      () => writePdModelFolder(sc, `${dir}/mine`),
      (e: unknown) =>
        e instanceof UserError && e.kind === "usage" &&
        /holds notes\.md/.test(e.message),
    );
    assert.deepEqual([...Deno.readDirSync(`${dir}/mine`)].map((e) => e.name), [
      "notes.md",
    ]);
    // Nor the data's own folder.
    await assert.rejects(
      () => trainPdModel({ data, target: "default_12m", out: dir }),
      (e: unknown) => e instanceof UserError && e.kind === "usage",
    );
    // No staging folder is left behind.
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
        n.startsWith(".")
      ),
      [],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Whether a path exists. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** A development sample of a generated 8-quarter book (`loans` facilities). */
async function generatedSample(loans: number, seed: number) {
  const dir = await Deno.makeTempDir();
  try {
    const book = await generatePortfolio({
      loans,
      seed,
      reportingDate: "2024-12-31",
      periods: 8,
      out: `${dir}/book`,
    });
    return await buildDevelopmentSample(book.snapshots.map((s) => s.path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Distinct strings of `values` at `rows`. */
function valuesAt(values: unknown[], rows: ArrayLike<number>): Set<string> {
  return new Set(Array.from(rows, (r) => String(values[r])));
}

Deno.test("facilitySplit() with one row per facility is stratifiedSplit row for row; with repeats it holds out whole facilities, stratified on ever defaulting", () => {
  const target = new Uint8Array(1000);
  for (let i = 0; i < 50; i++) target[i * 20] = 1;
  const ids = Array.from({ length: 1000 }, (_, i) => `L${i}`);
  assert.deepEqual(
    facilitySplit(target, ids, 0.3, 11),
    stratifiedSplit(target, 0.3, 11),
  );
  assert.deepEqual(
    facilitySplit(target, undefined, 0.3, 11),
    stratifiedSplit(target, 0.3, 11),
  );
  // 400 facilities of 4 rows each (dates); 40 of them default at their
  // last date: 30% held out is 108 of the 360 that never do, 12 of the 40.
  const loans = Array.from({ length: 1600 }, (_, i) => `F${i >> 2}`);
  const y = Uint8Array.from(
    loans,
    (_, i) => ((i >> 2) % 10 === 0 && i % 4 === 3 ? 1 : 0),
  );
  const s = facilitySplit(y, loans, 0.3, 5, "loan_id");
  const held = valuesAt(loans, s.heldOut), fitted = valuesAt(loans, s.train);
  assert.equal(held.size, 120);
  assert.equal(fitted.size, 280);
  for (const l of held) assert.ok(!fitted.has(l), `${l} on both sides`);
  assert.equal(s.heldOut.length, 480); // every row of a held-out facility
  const everHeld = [...held].filter((l) => Number(l.slice(1)) % 10 === 0);
  assert.equal(everHeld.length, 12);
  assert.deepEqual(facilitySplit(y, loans, 0.3, 5, "loan_id"), s);
  refuses(
    () =>
      facilitySplit(
        Uint8Array.of(0, 1, 0, 0),
        ["a", "a", "b", "c"],
        0.3,
        1,
        "loan_id",
      ),
    "input",
    /only 1 facility \(by loan_id\) ever defaults/,
  );
});

Deno.test("latestDateSplit() holds out exactly the rows of the last date, as Date values or text", () => {
  const day = (s: string) => new Date(`${s}T00:00:00Z`);
  const dates = [
    "2024-03-31",
    "2024-12-31",
    "2024-06-30",
    "2024-12-31",
    "2024-03-31",
    "2024-06-30",
  ];
  const y = Uint8Array.of(1, 0, 0, 1, 0, 1);
  for (const values of [dates, dates.map(day)]) {
    const s = latestDateSplit(values, y, "reporting_date");
    assert.deepEqual([...s.heldOut], [1, 3]);
    assert.deepEqual([...s.train], [0, 2, 4, 5]);
    assert.equal(s.date, "2024-12-31");
  }
  refuses(
    () =>
      latestDateSplit(
        ["2024-03-31", "2024-03-31"],
        Uint8Array.of(0, 1),
        "reporting_date",
      ),
    "input",
    /at least two observation dates, found 1 \(2024-03-31\)/,
  );
  refuses(
    () =>
      latestDateSplit(
        ["2024-03-31", null, "2024-06-30"],
        Uint8Array.of(0, 1, 0),
        "reporting_date",
      ),
    "input",
    /reporting_date: row 2 has no date/,
  );
  refuses(
    () =>
      latestDateSplit(
        ["2024-03-31", "2024-03-31", "2024-06-30"],
        Uint8Array.of(0, 1, 0),
        "reporting_date",
      ),
    "input",
    /last date \(2024-06-30\) have no default/,
  );
});

Deno.test("trainPdModel() on a generated book: no facility on both sides, the trees stop early, Hosmer-Lemeshow with G - 2 fitted and G held out", async () => {
  const sample = await generatedSample(2000, 5);
  const loans = sample.frame.getColumn("loan_id").toArray() as unknown[];
  for (const model of ["scorecard", "gbt"] as const) {
    const trained = await trainPdModel({
      data: sample.frame,
      target: sample.target,
      model,
      seed: 3,
    });
    const held = valuesAt(loans, trained.split.heldOut);
    const fitted = valuesAt(loans, trained.split.train);
    const shared = [...held].filter((l) => fitted.has(l));
    assert.deepEqual(shared, [], `${model}: facilities on both sides`);
    const m = trained.metrics;
    assert.deepEqual(m.split, {
      hold_out: "facility",
      group: "loan_id",
      facilities: { train: fitted.size, held_out: held.size },
      shared_facilities: 0,
    });
    // About 30% of the facilities.
    const share = held.size / (held.size + fitted.size);
    assert.ok(Math.abs(share - 0.3) < 0.01, `${share}`);
    // Degrees of freedom: grades with facilities, less 2 on the fitted rows.
    const grades = (c: typeof m.train.calibration) =>
      c.filter((r) => r.count > 0).length;
    assert.equal(m.train.hosmer_lemeshow!.df, grades(m.train.calibration) - 2);
    assert.equal(
      m.held_out.hosmer_lemeshow!.df,
      grades(m.held_out.calibration),
    );
    if (model === "gbt") {
      // Early stopping on held-out facilities fires well before 200 trees.
      const t = (trained.file.model as GbtModel).training!;
      assert.ok(t.stopped_early, `${t.iterations} trees`);
      // The trees' validation split, drawn again from the same stream
      // (trainGbt's: seed 3, stream 0x6b7): as many rows as the model
      // records, and no facility on both sides of it either.
      const fittedLoans = Array.from(trained.split.train, (r) => loans[r]);
      const rng = new Rng(3, 0x6b7);
      const v = gbtValidationSplit(
        fittedLoans.length,
        0.2,
        () => rng.uniform(),
        fittedLoans,
      );
      assert.equal(v.validation.length, t.rows.validation);
      const vLoans = valuesAt(fittedLoans, v.validation);
      const tLoans = valuesAt(fittedLoans, v.train);
      assert.deepEqual([...vLoans].filter((l) => tLoans.has(l)), []);
      assert.ok(t.iterations < 150, `${t.iterations} trees`);
    }
  }
  // Split by row (group: null), most held-out rows have their facility in
  // the fitted part: the leak the facility split removes.
  const byRow = await trainPdModel({
    data: sample.frame,
    target: sample.target,
    model: "scorecard",
    seed: 3,
    group: null,
  });
  const fittedLoans = valuesAt(loans, byRow.split.train);
  const leaked =
    [...byRow.split.heldOut].filter((r) => fittedLoans.has(String(loans[r])))
      .length;
  assert.ok(leaked / byRow.split.heldOut.length > 0.5, `${leaked}`);
  assert.equal(byRow.metrics.split.group, null);
});

Deno.test("trainPdModel() out of time holds out exactly the rows of the last observation date", async () => {
  const sample = await generatedSample(1500, 8);
  const dates =
    (sample.frame.getColumn("reporting_date").toArray() as unknown as Date[])
      .map((d) => d.toISOString().slice(0, 10));
  const last = [...dates].sort().at(-1)!;
  const trained = await trainPdModel({
    data: sample.frame,
    target: sample.target,
    model: "gbt",
    seed: 2,
    holdOut: "out-of-time",
  });
  const expected = dates.flatMap((d, i) => (d === last ? [i] : []));
  assert.deepEqual([...trained.split.heldOut], expected);
  assert.ok([...trained.split.train].every((r) => dates[r] < last));
  assert.equal(trained.metrics.split.date?.held_out, last);
  assert.equal(trained.metrics.split.hold_out, "out-of-time");
  assert.ok(trained.metrics.split.shared_facilities > 0);
  await assert.rejects(
    () =>
      trainPdModel({
        data: sample.frame,
        target: sample.target,
        holdOut: "out-of-time",
        dateColumn: "as_of",
      }),
    (e: unknown) =>
      e instanceof UserError && e.kind === "input" &&
      /no column "as_of"/.test(e.message),
  );
});
