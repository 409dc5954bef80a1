/**
 * The gradient-boosted challenger (lib/pd_model/gbt.ts): splits checked
 * against an exhaustive search on the raw rows, learning a known non-linear
 * signal, early stopping, the depth limit, determinism, missing-value
 * directions, the JSON form and the ONNX export scored by ONNX Runtime.
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { Rng } from "../../lib/generate/mod.ts";
import {
  auc,
  type EncodedData,
  gbtFromJson,
  gbtImportance,
  type GbtModel,
  gbtToOnnx,
  type GbtTree,
  gbtValidationSplit,
  MARGIN_OUTPUT,
  pdModelFromBytes,
  predictGbt,
  scorePd,
  sha256Hex,
  trainGbt,
  UserError,
} from "../../lib/mod.ts";

/**
 * Rows from a known model with an interaction and a threshold effect that
 * a logistic model without them cannot express:
 * logit = -2.5 + 1.2 x1 x2 + 0.9 [x3 > 0.6] + 0.5 x4, with x4 missing for
 * 15% of rows (a missing x4 adds 0.8 instead), x5 noise.
 */
function interaction(rows: number, seed: number) {
  const rng = new Rng(seed, 5);
  const cols = Array.from({ length: 5 }, () => new Float64Array(rows));
  const target = new Uint8Array(rows);
  const truth = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const x1 = rng.normal(), x2 = rng.normal(), x3 = rng.uniform();
    const x4 = rng.chance(0.15) ? NaN : rng.normal();
    cols[0][i] = x1;
    cols[1][i] = x2;
    cols[2][i] = x3;
    cols[3][i] = x4;
    cols[4][i] = rng.normal();
    const eta = -2.5 + 1.2 * x1 * x2 + (x3 > 0.6 ? 0.9 : 0) +
      (Number.isNaN(x4) ? 0.8 : 0.5 * x4);
    truth[i] = 1 / (1 + Math.exp(-eta));
    target[i] = rng.uniform() < truth[i] ? 1 : 0;
  }
  const data: EncodedData = {
    features: ["x1", "x2", "x3", "x4", "x5"].map((name) => ({
      name,
      kind: "number" as const,
    })),
    columns: cols,
    target,
    rows,
  };
  return { data, truth };
}

/** Small data whose features take few distinct values (each its own bin). */
function coarse(rows: number, seed: number): EncodedData {
  const rng = new Rng(seed, 9);
  const cols = Array.from({ length: 3 }, () => new Float64Array(rows));
  const target = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const a = rng.int(0, 9), b = rng.int(0, 4);
    const c = rng.chance(0.2) ? NaN : rng.int(0, 6) / 2;
    cols[0][i] = a;
    cols[1][i] = b;
    cols[2][i] = c;
    const eta = -1 + 0.3 * (a - 5) + (b === 2 ? 1 : 0) +
      (Number.isNaN(c) ? 1 : -0.2 * c);
    target[i] = rng.uniform() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
  }
  return {
    features: ["a", "b", "c"].map((name) => ({ name, kind: "number" })),
    columns: cols,
    target,
    rows,
  };
}

function depthOf(t: GbtTree, j = 0): number {
  return t.feature[j] < 0
    ? 0
    : 1 + Math.max(depthOf(t, t.left[j]), depthOf(t, t.right[j]));
}

/**
 * The best split of `rows` found by trying every distinct value (of all
 * the data) of every feature as a threshold and both sides for missing values, from the raw
 * gradients (no histograms), with the XGBoost gain.
 */
function bruteSplit(
  data: EncodedData,
  rows: number[],
  g: Float64Array,
  h: Float64Array,
  lambda: number,
  mcw: number,
) {
  let G = 0, H = 0;
  for (const r of rows) {
    G += g[r];
    H += h[r];
  }
  const score = (a: number, b: number) => (a * a) / (b + lambda);
  type Split = { f: number; thr: number; gain: number; ml: boolean };
  let best: Split | null = null;
  data.columns.forEach((col, f) => {
    // Candidate thresholds: every distinct training value but the least
    // (a node may split "missing or below t" from the rest even when none
    // of its own rows is below t).
    const values = [...new Set(col.filter((x) => !Number.isNaN(x)))].sort((
      a,
      b,
    ) => a - b);
    for (const thr of values.slice(1)) {
      for (const ml of [false, true]) {
        let gl = 0, hl = 0;
        let anyNan = false;
        for (const r of rows) {
          const x = col[r];
          if (Number.isNaN(x)) anyNan = true;
          if (Number.isNaN(x) ? ml : x < thr) {
            gl += g[r];
            hl += h[r];
          }
        }
        if (ml && !anyNan) continue;
        if (hl < mcw || H - hl < mcw) continue;
        const gain = 0.5 *
          (score(gl, hl) + score(G - gl, H - hl) - score(G, H));
        if (!best || gain > best.gain + 1e-9) best = { f, thr, gain, ml };
      }
    }
  });
  // (TypeScript does not see the assignments inside the callback.)
  return { best: best as Split | null, G, H };
}

Deno.test("trainGbt() grows the first tree exactly as an exhaustive split search on the raw rows does", () => {
  const data = coarse(3000, 1);
  const lambda = 1.5, mcw = 5, lr = 0.3;
  const model = trainGbt(data, {
    trees: 1,
    maxDepth: 3,
    lambda,
    minChildWeight: mcw,
    learningRate: lr,
    validationShare: 0,
  });
  const y = data.target!;
  let pos = 0;
  for (const v of y) pos += v;
  const rate = pos / data.rows;
  assert.ok(
    Math.abs(model.base_score - Math.log(rate / (1 - rate))) < 1e-12,
  );
  const p = rate;
  const g = Float64Array.from(y, (v) => p - v);
  const h = new Float64Array(data.rows).fill(p * (1 - p));
  const tree = model.trees[0];
  const check = (j: number, rows: number[], depth: number) => {
    assert.equal(tree.cover[j], rows.length, `cover of node ${j}`);
    const { best, G, H } = bruteSplit(data, rows, g, h, lambda, mcw);
    if (depth === 3 || !best || best.gain <= 0) {
      assert.equal(tree.feature[j], -1, `node ${j} should be a leaf`);
      assert.ok(Math.abs(tree.value[j] - -lr * G / (H + lambda)) < 1e-12);
      return;
    }
    assert.equal(tree.feature[j], best.f, `feature of node ${j}`);
    assert.equal(tree.threshold[j], best.thr, `threshold of node ${j}`);
    assert.ok(Math.abs(tree.gain[j] - best.gain) < 1e-9, `gain of ${j}`);
    const col = data.columns[best.f];
    const hasNan = rows.some((r) => Number.isNaN(col[r]));
    if (hasNan) assert.equal(tree.missing_left[j], best.ml ? 1 : 0);
    const left = rows.filter((r) =>
      Number.isNaN(col[r]) ? tree.missing_left[j] === 1 : col[r] < best.thr
    );
    const right = rows.filter((r) => !left.includes(r));
    check(tree.left[j], left, depth + 1);
    check(tree.right[j], right, depth + 1);
  };
  check(0, Array.from({ length: data.rows }, (_, i) => i), 0);
});

Deno.test("trainGbt() learns a known interaction: held-out AUC within 0.015 of the true model's", () => {
  const { data } = interaction(40_000, 11);
  const test = interaction(20_000, 12);
  const model = trainGbt(data, { trees: 300, seed: 3 });
  const pd = predictGbt(model, test.data).pd;
  const got = auc(pd, test.data.target!);
  const best = auc(test.truth, test.data.target!);
  assert.ok(best - got < 0.015, `AUC ${got} vs true ${best}`);
  // The interaction is what it learned: x1 and x2 carry most of the gain,
  // the noise x5 the least.
  const imp = gbtImportance(model);
  assert.deepEqual(imp.slice(0, 2).map((i) => i.feature).sort(), [
    "x1",
    "x2",
  ]);
  assert.equal(imp[imp.length - 1].feature, "x5");
  const total = model.trees.reduce(
    (s, t) => s + t.gain.reduce((a, b) => a + b, 0),
    0,
  );
  assert.ok(
    Math.abs(imp.reduce((s, i) => s + i.gain, 0) - total) < 1e-9 * total,
  );
});

Deno.test("trainGbt() stops early when the validation loss rises and keeps the best iteration", () => {
  // Pure noise: every tree after the first few overfits.
  const rng = new Rng(7, 1);
  const rows = 4000;
  const cols = Array.from(
    { length: 4 },
    () => Float64Array.from({ length: rows }, () => rng.normal()),
  );
  const data: EncodedData = {
    features: ["a", "b", "c", "d"].map((name) => ({ name, kind: "number" })),
    columns: cols,
    target: Uint8Array.from({ length: rows }, () => rng.chance(0.3) ? 1 : 0),
    rows,
  };
  const model = trainGbt(data, {
    trees: 200,
    maxDepth: 6,
    learningRate: 0.5,
    minChildWeight: 0,
    earlyStoppingRounds: 10,
  });
  const t = model.training!;
  assert.ok(t.stopped_early);
  assert.ok(t.iterations < 200, `grew ${t.iterations} trees`);
  const losses = t.validation_loss;
  assert.equal(losses.length, t.iterations);
  // Kept trees = the iteration with the lowest validation loss, and the
  // patience was used up after it.
  const best = losses.indexOf(Math.min(...losses)) + 1;
  const kept = model.trees.length;
  if (Math.min(...losses) < t.validation_loss_base!) {
    assert.equal(kept, best);
  } else assert.equal(kept, 0);
  assert.equal(t.iterations - kept, 10);
  // Without early stopping every tree is grown.
  const full = trainGbt(data, {
    trees: 60,
    maxDepth: 6,
    learningRate: 0.5,
    minChildWeight: 0,
    earlyStoppingRounds: 0,
  });
  assert.equal(full.training!.iterations, 60);
  assert.ok(!full.training!.stopped_early);
});

Deno.test("trainGbt() respects the depth limit, and the limit binds", () => {
  const { data } = interaction(5000, 21);
  for (const maxDepth of [1, 2, 3, 5]) {
    const model = trainGbt(data, {
      trees: 15,
      maxDepth,
      minChildWeight: 0.1,
      validationShare: 0,
    });
    const depths = model.trees.map((t) => depthOf(t));
    assert.ok(Math.max(...depths) === maxDepth, `depths ${depths}`);
    for (const t of model.trees) {
      assert.ok(t.feature.length <= 2 ** (maxDepth + 1) - 1);
    }
  }
});

Deno.test("trainGbt() is deterministic for a seed (with subsampling and a validation split)", () => {
  const { data } = interaction(6000, 31);
  const opts = { trees: 30, subsample: 0.7, validationShare: 0.25 };
  const a = trainGbt(data, { ...opts, seed: 5 });
  const b = trainGbt(data, { ...opts, seed: 5 });
  assert.deepEqual(a, b);
  const c = trainGbt(data, { ...opts, seed: 6 });
  assert.notDeepEqual(a.trees, c.trees);
  // Subsampling: the root covers about 70% of the training rows.
  const share = a.trees[0].cover[0] / a.training!.rows.train;
  assert.ok(Math.abs(share - 0.7) < 0.03, `root cover share ${share}`);
});

Deno.test("trainGbt() learns where missing values go", () => {
  // Risk steps up at x = 0.5; missing values are as risky as the low side
  // in one book and as the high side in the other.
  for (const missingLike of ["low", "high"] as const) {
    const rng = new Rng(3, 3);
    const rows = 6000;
    const x = new Float64Array(rows);
    const y = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      x[i] = rng.chance(0.2) ? NaN : rng.uniform();
      const high = Number.isNaN(x[i]) ? missingLike === "high" : x[i] >= 0.5;
      y[i] = rng.chance(high ? 0.4 : 0.05) ? 1 : 0;
    }
    const data: EncodedData = {
      features: [{ name: "x", kind: "number" }],
      columns: [x],
      target: y,
      rows,
    };
    const model = trainGbt(data, { trees: 1, maxDepth: 1, validationShare: 0 });
    const t = model.trees[0];
    assert.ok(Math.abs(t.threshold[0] - 0.5) < 0.01, `split ${t.threshold[0]}`);
    assert.equal(t.missing_left[0], missingLike === "low" ? 1 : 0);
    const pd = predictGbt(model, {
      ...data,
      columns: [Float64Array.of(0.1, NaN, 0.9)],
      rows: 3,
    }).pd;
    assert.ok(pd[2] > pd[0]);
    assert.equal(pd[1], missingLike === "low" ? pd[0] : pd[2]);
  }
});

Deno.test("gbtToOnnx(): ONNX Runtime gives the TypeScript pd and margin (within 1e-6) on every row, NaN and values at thresholds included", async () => {
  const { data } = interaction(8000, 41);
  const model = trainGbt(data, { trees: 80, subsample: 0.8 });
  const test = interaction(2000, 42).data;
  // Rows exactly at each split value and just below it, and rows with each
  // feature missing.
  const extra: number[][] = [];
  for (const t of model.trees) {
    t.feature.forEach((f, j) => {
      if (f < 0) return;
      for (const v of [t.threshold[j], t.threshold[j] - 1e-12]) {
        const row = [0.1, -0.2, 0.5, 0.3, 0];
        row[f] = v;
        extra.push(row);
      }
    });
  }
  for (let f = 0; f < 5; f++) {
    const row = [0.4, 0.4, 0.7, -1, 1];
    row[f] = NaN;
    extra.push(row);
  }
  extra.push([NaN, NaN, NaN, NaN, NaN]);
  const rows = test.rows + extra.length;
  const columns = test.columns.map((c, f) => {
    const out = new Float64Array(rows);
    out.set(c);
    extra.forEach((r, i) => (out[test.rows + i] = r[f]));
    return out;
  });
  const all: EncodedData = { features: test.features, columns, rows };
  const ts = predictGbt(model, all);
  const session = await ort.InferenceSession.create(gbtToOnnx(model));
  try {
    const feeds: Record<string, ort.Tensor> = {};
    all.features.forEach((f, i) => {
      feeds[f.name] = new ort.Tensor("float64", columns[i], [rows, 1]);
    });
    const out = await session.run(feeds);
    assert.equal(out.pd.type, "float64");
    assert.deepEqual(out.pd.dims, [rows, 1]);
    const pd = out.pd.data as Float64Array;
    const margin = out[MARGIN_OUTPUT].data as Float64Array;
    for (let i = 0; i < rows; i++) {
      assert.ok(
        Math.abs(pd[i] - ts.pd[i]) <= 1e-6,
        `row ${i}: onnx ${pd[i]}, ts ${ts.pd[i]}`,
      );
      assert.ok(Math.abs(margin[i] - ts.margin[i]) <= 1e-9, `margin ${i}`);
    }
  } finally {
    await session.release();
  }
});

Deno.test("gbtToOnnx(): the pipeline's ONNX scoring (pdModelFromBytes, scorePd) reads the file's contract and gives the TypeScript pd", async () => {
  const { data } = interaction(3000, 43);
  const model = trainGbt(data, { trees: 30 });
  const bytes = gbtToOnnx(model);
  const loaded = await pdModelFromBytes({
    path: "gbt.onnx",
    bytes,
    sha256: sha256Hex(bytes),
  });
  assert.deepEqual(
    loaded.features.map((f) => [f.name, f.kind]),
    model.features.map((f) => [f.name, f.kind]),
  );
  const { pd } = await scorePd(loaded, data, { batchSize: 700 });
  const ts = predictGbt(model, data).pd;
  for (let i = 0; i < data.rows; i++) {
    assert.ok(Math.abs(pd[i] - ts[i]) <= 1e-6, `row ${i}`);
  }
});

Deno.test("gbtToOnnx() writes a model of single-leaf trees (or none) that ONNX Runtime scores", async () => {
  const one: GbtModel = {
    format: "gbt",
    version: 1,
    features: [{ name: "x", kind: "number" }],
    base_score: -1,
    trees: [{
      feature: [-1],
      threshold: [0],
      missing_left: [0],
      left: [-1],
      right: [-1],
      value: [0.25],
      cover: [10],
      gain: [0],
    }],
  };
  const none: GbtModel = { ...one, trees: [] };
  const cases: [GbtModel, number][] = [[one, -0.75], [none, -1]];
  for (const [model, margin] of cases) {
    const s = await ort.InferenceSession.create(gbtToOnnx(model));
    const out = await s.run({
      x: new ort.Tensor("float64", Float64Array.of(3, NaN), [2, 1]),
    });
    const pd = out.pd.data as Float64Array;
    for (const v of pd) {
      assert.ok(Math.abs(v - 1 / (1 + Math.exp(-margin))) < 1e-15);
    }
    await s.release();
  }
});

Deno.test("gbtFromJson() round-trips a model and names the key at fault", () => {
  const { data } = interaction(3000, 51);
  const model = trainGbt(data, { trees: 10 });
  const back = gbtFromJson(JSON.parse(JSON.stringify(model)), "m/model.json");
  assert.deepEqual(predictGbt(back, data), predictGbt(model, data));
  const broken = JSON.parse(JSON.stringify(model));
  broken.trees[2].left[0] = 0;
  assert.throws(
    () => gbtFromJson(broken, "m/model.json"),
    (e: unknown) =>
      e instanceof UserError && e.kind === "input" &&
      /m\/model\.json: trees\[2\]: node 0 has child 0/.test(e.message),
  );
  const badFeature = JSON.parse(JSON.stringify(model));
  badFeature.trees[0].feature[0] = 9;
  assert.throws(
    () => gbtFromJson(badFeature, "m/model.json"),
    /trees\[0\]\.feature\[0\]: 9 is not a feature index/,
  );
  const badValue = JSON.parse(JSON.stringify(model));
  badValue.trees[1].value[3] = "x";
  assert.throws(
    () => gbtFromJson(badValue, "m/model.json"),
    /m\/model\.json: trees\[1\]\.value\[3\]/,
  );
});

Deno.test("trainGbt() and predictGbt() refuse a one-class target and data that do not follow the model's features", () => {
  const { data } = interaction(500, 61);
  assert.throws(
    () => trainGbt({ ...data, target: new Uint8Array(500) }),
    (e: unknown) =>
      e instanceof UserError && e.kind === "input" &&
      /one class only \(no defaults/.test(e.message),
  );
  assert.throws(
    () => trainGbt(data, { maxDepth: 0 }),
    (e: unknown) => e instanceof UserError && /maxDepth is 0/.test(e.message),
  );
  const model = trainGbt(data, { trees: 3, validationShare: 0 });
  const swapped = {
    ...data,
    features: [...data.features].reverse(),
    columns: [...data.columns].reverse(),
  };
  assert.throws(
    () => predictGbt(model, swapped),
    /feature 1 is "x5"; the model expects "x1"/,
  );
});

/**
 * Facilities observed at several dates: `facilities` of them, `dates` rows
 * each with nearly the same characteristics (a fixed profile plus a little
 * noise) and one outcome per facility drawn at random: nothing to learn
 * that carries over to another facility.
 */
function repeatedFacilities(facilities: number, dates: number, seed: number) {
  const rng = new Rng(seed, 9);
  const rows = facilities * dates;
  const cols = Array.from({ length: 3 }, () => new Float64Array(rows));
  const target = new Uint8Array(rows);
  const loans: string[] = [];
  for (let f = 0; f < facilities; f++) {
    const profile = [rng.normal(), rng.normal(), rng.normal()];
    const y = rng.chance(0.3) ? 1 : 0;
    for (let d = 0; d < dates; d++) {
      const i = f * dates + d;
      for (let k = 0; k < 3; k++) cols[k][i] = profile[k] + 0.01 * rng.normal();
      target[i] = y;
      loans.push(`L${f}`);
    }
  }
  const data: EncodedData = {
    features: ["a", "b", "c"].map((name) => ({ name, kind: "number" })),
    columns: cols,
    target,
    rows,
  };
  return { data, loans };
}

/** Uniform draws of a seeded stream. */
function draws(seed: number): () => number {
  const rng = new Rng(seed, 0x6b7);
  return () => rng.uniform();
}

Deno.test("gbtValidationSplit() with groups puts no group on both sides, covers every row once, and is seeded", () => {
  const loans = Array.from({ length: 3000 }, (_, i) => `L${i % 700}`);
  const s = gbtValidationSplit(3000, 0.2, draws(4), loans);
  const valid = new Set([...s.validation].map((r) => loans[r]));
  const train = new Set([...s.train].map((r) => loans[r]));
  for (const l of valid) assert.ok(!train.has(l), `${l} on both sides`);
  assert.equal(valid.size + train.size, 700);
  assert.deepEqual(
    [...s.train, ...s.validation].sort((a, b) => a - b),
    Array.from({ length: 3000 }, (_, i) => i),
  );
  // About a fifth of the facilities (binomial sd ~10.6 around 140).
  assert.ok(valid.size > 100 && valid.size < 180, `${valid.size}`);
  assert.deepEqual(gbtValidationSplit(3000, 0.2, draws(4), loans), s);
  // By row, the same facilities fall on both sides.
  const byRow = gbtValidationSplit(3000, 0.2, draws(4));
  const v2 = new Set([...byRow.validation].map((r) => loans[r]));
  assert.ok([...byRow.train].some((r) => v2.has(loans[r])));
  assert.throws(
    () => gbtValidationSplit(3, 0.5, draws(1), ["a", null, "b"]),
    (e: unknown) => e instanceof UserError && /row 2/.test(e.message),
  );
});

Deno.test("trainGbt() with groups stops early on facilities seen at many dates; split by row it is fooled by the repeats", () => {
  const { data, loans } = repeatedFacilities(600, 8, 3);
  const opts = { trees: 150, maxDepth: 4, learningRate: 0.3, seed: 5 };
  const grouped = trainGbt(data, { ...opts, groups: loans }).training!;
  // Held-out facilities are noise to the trees: the loss stops improving
  // within a few trees and early stopping fires.
  assert.ok(grouped.stopped_early, `${grouped.iterations} trees`);
  assert.ok(grouped.iterations < 60, `${grouped.iterations} trees`);
  assert.equal(grouped.rows.validation % 8, 0); // whole facilities
  // By row, the validation rows' facilities are in training: their loss
  // keeps falling far below the base rate's (the leak the groups prevent).
  const byRow = trainGbt(data, opts).training!;
  const minRow = Math.min(...byRow.validation_loss);
  const minGrouped = Math.min(...grouped.validation_loss);
  assert.ok(
    minRow < 0.5 * byRow.validation_loss_base!,
    `by row: ${minRow} against base ${byRow.validation_loss_base}`,
  );
  assert.ok(
    minGrouped > 0.95 * grouped.validation_loss_base!,
    `grouped: ${minGrouped} against base ${grouped.validation_loss_base}`,
  );
});
