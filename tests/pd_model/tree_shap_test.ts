/**
 * TreeSHAP (lib/pd_model/tree_shap.ts, gbtContributions in gbt.ts) against
 * the definition: exact Shapley values by enumerating every subset of
 * features, with v(S) the path-dependent expectation (follow the row at
 * splits on features in S, average the branches by cover elsewhere); and
 * local accuracy (expected value + contributions = margin) on every row.
 */
import assert from "node:assert/strict";
import { Rng } from "../../lib/generate/mod.ts";
import {
  type EncodedData,
  type FlatTree,
  gbtContributions,
  predictGbt,
  trainGbt,
} from "../../lib/mod.ts";
import { treeShap } from "../../lib/pd_model/tree_shap.ts";

/** v(S): the path-dependent expectation of the tree given the features in S. */
function conditional(tree: FlatTree, x: number[], inS: boolean[]): number {
  const walk = (j: number): number => {
    const f = tree.feature[j];
    if (f < 0) return tree.value[j];
    const l = tree.left[j], r = tree.right[j];
    if (inS[f]) {
      const left = Number.isNaN(x[f])
        ? tree.missing_left[j] === 1
        : x[f] < tree.threshold[j];
      return walk(left ? l : r);
    }
    return (tree.cover[l] * walk(l) + tree.cover[r] * walk(r)) /
      tree.cover[j];
  };
  return walk(0);
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

/** Exact Shapley values by enumeration of all 2^M subsets. */
function bruteShapley(tree: FlatTree, x: number[], M: number): number[] {
  const phi = new Array(M).fill(0);
  for (let mask = 0; mask < 1 << M; mask++) {
    const inS = Array.from({ length: M }, (_, f) => (mask & (1 << f)) !== 0);
    const size = inS.filter(Boolean).length;
    const vS = conditional(tree, x, inS);
    for (let i = 0; i < M; i++) {
      if (inS[i]) continue;
      const withI = [...inS];
      withI[i] = true;
      const w = factorial(size) * factorial(M - size - 1) / factorial(M);
      phi[i] += w * (conditional(tree, x, withI) - vS);
    }
  }
  return phi;
}

/**
 * A random tree of the given depth over M features (features may repeat on
 * a path), random thresholds, missing directions and leaf values; leaf
 * covers random, inner covers the sums of their children's.
 */
function randomTree(rng: Rng, depth: number, M: number): FlatTree {
  const t: FlatTree = {
    feature: [],
    threshold: [],
    missing_left: [],
    left: [],
    right: [],
    value: [],
    cover: [],
  };
  const grow = (d: number): number => {
    const j = t.feature.length;
    t.feature.push(-1);
    t.threshold.push(0);
    t.missing_left.push(0);
    t.left.push(-1);
    t.right.push(-1);
    t.value.push(0);
    t.cover.push(0);
    if (d === depth || (d > 0 && rng.chance(0.2))) {
      t.value[j] = rng.normal();
      t.cover[j] = rng.int(1, 50);
      return j;
    }
    t.feature[j] = rng.int(0, M - 1);
    t.threshold[j] = rng.int(-2, 2) / 2;
    t.missing_left[j] = rng.chance(0.5) ? 1 : 0;
    const l = grow(d + 1), r = grow(d + 1);
    t.left[j] = l;
    t.right[j] = r;
    t.cover[j] = t.cover[l] + t.cover[r];
    return j;
  };
  grow(0);
  return t;
}

Deno.test("treeShap() equals brute-force Shapley values of the path-dependent expectation on random trees", () => {
  const rng = new Rng(2018, 2);
  let checked = 0;
  for (let k = 0; k < 60; k++) {
    const M = rng.int(2, 5);
    const depth = rng.int(1, 5);
    const tree = randomTree(rng, depth, M);
    for (let r = 0; r < 5; r++) {
      // Values on the threshold grid (ties with thresholds) and missing ones.
      const x = Array.from(
        { length: M },
        () => (rng.chance(0.15) ? NaN : rng.int(-3, 3) / 2),
      );
      const want = bruteShapley(tree, x, M);
      const phi = new Float64Array(M);
      treeShap(tree, x, phi);
      for (let f = 0; f < M; f++) {
        assert.ok(
          Math.abs(phi[f] - want[f]) < 1e-10,
          `tree ${k}, row ${r}, feature ${f}: ${phi[f]} vs ${want[f]}`,
        );
      }
      checked++;
    }
  }
  assert.equal(checked, 300);
});

Deno.test("treeShap() gives a feature the whole change on a one-feature path and splits a pure interaction evenly", () => {
  // x0 < 0 ? (x1 < 0 ? 0 : 0) : (x1 < 0 ? 0 : 4), covers 1 each: f = 4 only
  // when both are >= 0; E f = 1. For x = (1, 1): f = 4, the interaction is
  // symmetric, so each feature gets (4 - 1) / 2 = 1.5.
  const t: FlatTree = {
    feature: [0, 1, -1, -1, 1, -1, -1],
    threshold: [0, 0, 0, 0, 0, 0, 0],
    missing_left: [0, 0, 0, 0, 0, 0, 0],
    left: [1, 2, -1, -1, 5, -1, -1],
    right: [4, 3, -1, -1, 6, -1, -1],
    value: [0, 0, 0, 0, 0, 0, 4],
    cover: [4, 2, 1, 1, 2, 1, 1],
  };
  const phi = new Float64Array(2);
  treeShap(t, [1, 1], phi);
  assert.deepEqual(Array.from(phi), [1.5, 1.5]);
});

Deno.test("gbtContributions(): expected value plus contributions is the margin on every row, and each tree's part is its Shapley values", () => {
  const rng = new Rng(9, 4);
  const rows = 1500;
  const cols = Array.from({ length: 4 }, () => new Float64Array(rows));
  const target = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const a = rng.normal(), b = rng.normal();
    const c = rng.chance(0.2) ? NaN : rng.uniform();
    cols[0][i] = a;
    cols[1][i] = b;
    cols[2][i] = c;
    cols[3][i] = rng.int(0, 3);
    const eta = -1.5 + a * b + (Number.isNaN(c) ? 0.7 : c) +
      0.3 * cols[3][i];
    target[i] = rng.chance(1 / (1 + Math.exp(-eta))) ? 1 : 0;
  }
  const data: EncodedData = {
    features: [
      { name: "a", kind: "number" },
      { name: "b", kind: "number" },
      { name: "c", kind: "number" },
      { name: "grade", kind: "category", categories: ["A", "B", "C", "D"] },
    ],
    columns: cols,
    target,
    rows,
  };
  const model = trainGbt(data, { trees: 40, subsample: 0.8 });
  const c = gbtContributions(model, data);
  const { margin } = predictGbt(model, data);
  for (let i = 0; i < rows; i++) {
    let s = c.expected;
    for (let f = 0; f < 4; f++) s += c.contributions[f][i];
    assert.ok(
      Math.abs(s - margin[i]) < 1e-9,
      `row ${i}: ${s} vs ${margin[i]}`,
    );
    assert.equal(c.margin[i], margin[i]);
  }
  // For a few rows, the ensemble's contributions are the sum of each
  // tree's brute-force Shapley values.
  for (const i of [0, 7, 123, 999]) {
    const x = cols.map((col) => col[i]);
    const want = new Array(4).fill(0);
    for (const t of model.trees) {
      bruteShapley(t, x, 4).forEach((v, f) => (want[f] += v));
    }
    for (let f = 0; f < 4; f++) {
      assert.ok(Math.abs(c.contributions[f][i] - want[f]) < 1e-9);
    }
  }
});
