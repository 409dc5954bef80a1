/**
 * Per-row feature contributions of a tree ensemble: path-dependent TreeSHAP,
 * Algorithm 2 of Lundberg, Erion and Lee, "Consistent Individualized
 * Feature Attribution for Tree Ensembles" (arXiv:1802.03888, 2018), as in
 * the `shap` package's `tree_shap_recursive`.
 *
 * The contributions are exact Shapley values of the game
 * v(S) = E[f(x) | x_S], where the conditional expectation is the
 * path-dependent one: at a split on a feature in S the row's own branch is
 * followed (a missing value takes the split's default direction), at a split
 * on any other feature both branches are averaged, weighted by the training
 * rows that reached each (`cover`). So, for every row,
 * `expected + sum(contributions) = margin` (local accuracy), with `expected`
 * the cover-weighted mean of the leaves.
 *
 * Cost: O(leaves x depth²) per row and tree; meant for explaining the rows
 * one asks about (thousands), not for a whole 1M-row book at once.
 *
 * @module
 */

/**
 * One binary tree in flat arrays; node 0 is the root. A node is a leaf when
 * its `feature` is negative. An inner node sends a row left when its value
 * is below `threshold` (`x < threshold`), right when it is not, and a
 * missing value (NaN) left when `missing_left` is 1.
 */
export interface FlatTree {
  /** Feature index of each inner node's split; -1 for a leaf. */
  feature: number[];
  /** Split value of each inner node (`x < threshold` goes left); 0 for a leaf. */
  threshold: number[];
  /** 1 when a missing value goes left at the node, else 0. */
  missing_left: number[];
  /** Index of the left child; -1 for a leaf. */
  left: number[];
  /** Index of the right child; -1 for a leaf. */
  right: number[];
  /** Each leaf's contribution to the margin (already scaled); 0 for an inner node. */
  value: number[];
  /** Training rows that reached each node (the weights of the path-dependent expectation). */
  cover: number[];
}

/** Whether a row with feature value `x` goes left at inner node `j`. */
export function goesLeft(tree: FlatTree, j: number, x: number): boolean {
  return Number.isNaN(x) ? tree.missing_left[j] === 1 : x < tree.threshold[j];
}

/**
 * The tree's expected value: its leaves weighted by the share of training
 * rows (cover) that reach each, i.e. v(empty set).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { treeExpectedValue } from "./tree_shap.ts";
 * // A stump: 30 rows go left (value 1), 10 go right (value -1).
 * const stump = {
 *   feature: [0, -1, -1], threshold: [0.5, 0, 0], missing_left: [1, 0, 0],
 *   left: [1, -1, -1], right: [2, -1, -1], value: [0, 1, -1],
 *   cover: [40, 30, 10],
 * };
 * assert.equal(treeExpectedValue(stump), 0.5); // (30 - 10) / 40
 * ```
 */
export function treeExpectedValue(tree: FlatTree): number {
  const walk = (j: number): number => {
    if (tree.feature[j] < 0) return tree.value[j];
    const l = tree.left[j], r = tree.right[j];
    const c = tree.cover[j];
    return c > 0
      ? (tree.cover[l] * walk(l) + tree.cover[r] * walk(r)) / c
      : 0.5 * (walk(l) + walk(r));
  };
  return walk(0);
}

/**
 * The path of unique features TreeSHAP carries down the tree, in flat
 * arrays with one slot per depth (Algorithm 2's `m`): feature, zero
 * fraction, one fraction and permutation weight of each element.
 */
class Path {
  d: Int32Array;
  z: Float64Array;
  o: Float64Array;
  w: Float64Array;
  constructor(size: number) {
    this.d = new Int32Array(size);
    this.z = new Float64Array(size);
    this.o = new Float64Array(size);
    this.w = new Float64Array(size);
  }
}

/** EXTEND: adds (pi, pz, po) at position `l` of the path starting at `s`. */
function extend(
  m: Path,
  s: number,
  l: number,
  pz: number,
  po: number,
  pi: number,
): void {
  m.d[s + l] = pi;
  m.z[s + l] = pz;
  m.o[s + l] = po;
  m.w[s + l] = l === 0 ? 1 : 0;
  for (let i = l - 1; i >= 0; i--) {
    m.w[s + i + 1] += po * m.w[s + i] * (i + 1) / (l + 1);
    m.w[s + i] = pz * m.w[s + i] * (l - i) / (l + 1);
  }
}

/** UNWIND: removes element `k` from the path of length `l + 1` at `s`. */
function unwind(m: Path, s: number, l: number, k: number): void {
  const o = m.o[s + k], z = m.z[s + k];
  let n = m.w[s + l];
  for (let j = l - 1; j >= 0; j--) {
    if (o !== 0) {
      const t = m.w[s + j];
      m.w[s + j] = n * (l + 1) / ((j + 1) * o);
      n = t - m.w[s + j] * z * (l - j) / (l + 1);
    } else {
      m.w[s + j] = m.w[s + j] * (l + 1) / (z * (l - j));
    }
  }
  for (let j = k; j < l; j++) {
    m.d[s + j] = m.d[s + j + 1];
    m.z[s + j] = m.z[s + j + 1];
    m.o[s + j] = m.o[s + j + 1];
  }
}

/** Sum of the weights after unwinding element `k` (without changing the path). */
function unwoundSum(m: Path, s: number, l: number, k: number): number {
  const o = m.o[s + k], z = m.z[s + k];
  let n = m.w[s + l];
  let total = 0;
  for (let j = l - 1; j >= 0; j--) {
    if (o !== 0) {
      const t = n * (l + 1) / ((j + 1) * o);
      total += t;
      n = m.w[s + j] - t * z * (l - j) / (l + 1);
    } else if (z !== 0) {
      total += m.w[s + j] / z / ((l - j) / (l + 1));
    }
  }
  return total;
}

/** Depth of a tree (edges on its longest root-to-leaf path). */
export function treeDepth(tree: FlatTree): number {
  const walk = (j: number): number =>
    tree.feature[j] < 0
      ? 0
      : 1 + Math.max(walk(tree.left[j]), walk(tree.right[j]));
  return walk(0);
}

/** Path buffers, reused between calls (one per path length needed). */
const workspaces = new Map<number, Path>();

function workspace(size: number): Path {
  let m = workspaces.get(size);
  if (!m) {
    m = new Path(size * (size + 1));
    workspaces.set(size, m);
  }
  return m;
}

/** RECURSE of Algorithm 2 over the path segments of `m` (`size` slots each). */
function recurse(
  tree: FlatTree,
  x: ArrayLike<number>,
  phi: Float64Array,
  m: Path,
  size: number,
  j: number,
  level: number,
  l: number,
  pz: number,
  po: number,
  pi: number,
): void {
  const s = level * size;
  if (level > 0) {
    // Each level works on its own copy of its parent's path.
    const p = s - size;
    for (let i = 0; i < l; i++) {
      m.d[s + i] = m.d[p + i];
      m.z[s + i] = m.z[p + i];
      m.o[s + i] = m.o[p + i];
      m.w[s + i] = m.w[p + i];
    }
  }
  extend(m, s, l, pz, po, pi);
  const f = tree.feature[j];
  if (f < 0) {
    const v = tree.value[j];
    for (let i = 1; i <= l; i++) {
      const w = unwoundSum(m, s, l, i);
      phi[m.d[s + i]] += w * (m.o[s + i] - m.z[s + i]) * v;
    }
    return;
  }
  const left = goesLeft(tree, j, x[f]);
  const hot = left ? tree.left[j] : tree.right[j];
  const cold = left ? tree.right[j] : tree.left[j];
  const c = tree.cover[j];
  const hz = c > 0 ? tree.cover[hot] / c : 0.5;
  const cz = c > 0 ? tree.cover[cold] / c : 0.5;
  let iz = 1, io = 1;
  let len = l;
  let k = 0;
  for (; k <= l; k++) if (m.d[s + k] === f) break;
  if (k <= l) {
    // The feature was split on above: undo that split, redo it here.
    iz = m.z[s + k];
    io = m.o[s + k];
    unwind(m, s, l, k);
    len = l - 1;
  }
  recurse(tree, x, phi, m, size, hot, level + 1, len + 1, hz * iz, io, f);
  recurse(tree, x, phi, m, size, cold, level + 1, len + 1, cz * iz, 0, f);
}

/**
 * Adds one row's TreeSHAP values for one tree to `phi` (indexed by
 * feature). `x` holds the row's value of each feature (NaN when missing);
 * `depth` is the tree's depth, computed when not given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { treeShap } from "./tree_shap.ts";
 * // The stump of treeExpectedValue: a row going left (x = 0) moves the
 * // margin from the expected 0.5 to 1, all due to feature 0.
 * const stump = {
 *   feature: [0, -1, -1], threshold: [0.5, 0, 0], missing_left: [1, 0, 0],
 *   left: [1, -1, -1], right: [2, -1, -1], value: [0, 1, -1],
 *   cover: [40, 30, 10],
 * };
 * const phi = new Float64Array(1);
 * treeShap(stump, [0], phi);
 * assert.equal(phi[0], 0.5);
 * ```
 */
export function treeShap(
  tree: FlatTree,
  x: ArrayLike<number>,
  phi: Float64Array,
  depth: number = treeDepth(tree),
): void {
  // One path segment per recursion level, each depth + 2 slots long.
  const size = depth + 2;
  recurse(tree, x, phi, workspace(size), size, 0, 0, 0, 1, 1, -1);
}
