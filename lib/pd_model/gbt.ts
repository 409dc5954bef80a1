/**
 * The challenger PD model: gradient-boosted decision trees for binary
 * log-loss, trained in TypeScript over typed arrays, with its `model.json`
 * form, scoring, per-facility contributions (TreeSHAP, `tree_shap.ts`),
 * feature importance and ONNX export.
 *
 * Training follows the second-order boosting of Chen and Guestrin,
 * "XGBoost: A Scalable Tree Boosting System" (KDD 2016), §2-§3:
 *
 * - the margin starts at the log-odds of the training default rate; each
 *   iteration fits a tree to the gradients g = p - y and hessians
 *   h = p(1 - p) of the log-loss at the current margin;
 * - a leaf's weight is -G / (H + lambda) times the learning rate; a split's
 *   gain is ½ [G_L²/(H_L + λ) + G_R²/(H_R + λ) - G²/(H + λ)] and must exceed
 *   `minSplitGain`, each child must hold a hessian of at least
 *   `minChildWeight`;
 * - splits are searched over histograms: every feature is quantised once
 *   into at most `maxBins` bins (quantiles of the finite values, each
 *   distinct value its own bin when there are few; NaN in a bin of its own),
 *   and a split learns the side missing values take (§3.4, sparsity-aware
 *   split finding: both sides are tried). When a node saw no missing value,
 *   missing values follow the child with the larger hessian sum (the
 *   summed weights p(1 - p) of its training rows, XGBoost's "cover"; not
 *   the child with more rows);
 * - trees grow level by level to `maxDepth`; the histogram of the larger
 *   child is its parent's minus the smaller child's (histogram subtraction,
 *   as in LightGBM, Ke et al. 2017);
 * - optional row subsampling per tree (`subsample`), seeded;
 * - early stopping: the log-loss on a validation split is tracked after
 *   each tree, training stops when it has not improved for
 *   `earlyStoppingRounds` trees, and the model keeps the trees up to the
 *   best iteration. With `groups` (the facility of each row) the
 *   validation split holds out whole facilities: a development sample has
 *   one row per facility and date, and validation rows whose facility is
 *   also among the training rows flatter every later tree, so early
 *   stopping would not fire (`split.ts`).
 *
 * A split sends a row left when `x < threshold` (the threshold is the
 * smallest training value of the upper bins, so the quantised and the raw
 * comparisons agree on every row) and a missing value (NaN) to its learned
 * side. Categories enter as their codes and are split as ordered numbers.
 *
 * Why no npm trainer: the registry's candidates are `ml-xgboost` (an
 * Emscripten build of XGBoost: it trains for a fixed number of iterations
 * with no validation set or early stopping, takes rows as float32 arrays,
 * predicts one row per call and saves the model as an opaque binary, so the
 * trees are out of reach of the ONNX export and of TreeSHAP) and
 * `decision-tree` (its booster trains on arrays of row objects, predicts a
 * class rather than a probability for a binary target and saves the
 * training data inside the model). Writing the trainer here keeps every tree in the JSON form
 * below, exactly as ONNX Runtime scores it.
 *
 * @module
 */
import { z } from "zod";
import { UserError } from "../errors.ts";
import { Rng } from "../generate/mod.ts";
import { quantileEdges } from "./metrics.ts";
import { buildPdModel, FEATURE_MATRIX } from "./onnx_build.ts";
import { groupCodes } from "./split.ts";
import {
  type FlatTree,
  treeDepth,
  treeExpectedValue,
  treeShap,
} from "./tree_shap.ts";
import { type EncodedData, type FeatureSpec, PD_OUTPUT } from "./types.ts";

/** Options of {@link trainGbt}; every field has a default. */
export interface GbtOptions {
  /** Most trees (boosting iterations). @default 200 */
  trees?: number;
  /** Depth limit of each tree (edges from root to leaf). @default 4 */
  maxDepth?: number;
  /** Shrinkage applied to every leaf weight. @default 0.1 */
  learningRate?: number;
  /** L2 regularisation of the leaf weights (lambda). @default 1 */
  lambda?: number;
  /** Least hessian sum in a child. @default 1 */
  minChildWeight?: number;
  /** Least gain (loss reduction) for a split (gamma). @default 0 */
  minSplitGain?: number;
  /** Share of rows drawn (without replacement, per tree) to grow each tree. @default 1 */
  subsample?: number;
  /** Most histogram bins per feature, the missing-value bin included (3-256). @default 255 */
  maxBins?: number;
  /**
   * Share of the rows set aside (at random, seeded) as the validation split
   * for early stopping when `validation` is not given; 0 for none.
   * @default 0.2
   */
  validationShare?: number;
  /** A validation set for early stopping instead of a share of `data`. */
  validation?: EncodedData;
  /**
   * The group (facility, e.g. `loan_id`) of each row of `data`: the
   * validation split then draws whole groups, each with probability
   * `validationShare`, so no facility is on both sides. Without it the
   * split draws rows.
   */
  groups?: ArrayLike<unknown>;
  /**
   * Stop when the validation log-loss has not improved for this many trees;
   * 0 to grow every tree (the model still keeps the best iteration).
   * @default 20
   */
  earlyStoppingRounds?: number;
  /** Seed of the validation split and the row subsampling. @default 42 */
  seed?: number;
}

/** The options a model was trained with, all resolved. */
export interface GbtParams {
  /** Most trees. */
  trees: number;
  /** Depth limit. */
  max_depth: number;
  /** Learning rate. */
  learning_rate: number;
  /** L2 regularisation (lambda). */
  lambda: number;
  /** Least hessian sum in a child. */
  min_child_weight: number;
  /** Least split gain. */
  min_split_gain: number;
  /** Row subsampling share. */
  subsample: number;
  /** Most bins per feature, missing bin included. */
  max_bins: number;
  /** Validation share (0 when a validation set was given or none was used). */
  validation_share: number;
  /** Early-stopping patience. */
  early_stopping_rounds: number;
  /** Seed. */
  seed: number;
}

/** One tree of the ensemble (see {@link FlatTree}), with each split's gain. */
export interface GbtTree extends FlatTree {
  /** Gain (loss reduction) of each inner node's split; 0 for a leaf. */
  gain: number[];
}

/**
 * A trained ensemble: the `model` field of `model.json` for kind `gbt`.
 * The margin (log-odds) of a row is `base_score` plus the leaf values its
 * trees send it to; the PD is the logistic function of the margin.
 */
export interface GbtModel {
  /** Always `gbt`. */
  format: "gbt";
  /** Version of this form. */
  version: 1;
  /** The feature contract; tree `feature` indices point into it. */
  features: FeatureSpec[];
  /** Starting margin: log-odds of the training default rate. */
  base_score: number;
  /** The trees up to the best iteration. */
  trees: GbtTree[];
  /** The resolved training options (absent in a model written by hand). */
  params?: GbtParams;
  /** How training went (absent in a model written by hand). */
  training?: {
    /** Trees grown before stopping (the model keeps `trees.length` of them). */
    iterations: number;
    /** Whether early stopping ended training before `params.trees`. */
    stopped_early: boolean;
    /** Training and validation rows. */
    rows: { train: number; validation: number };
    /** Validation log-loss after each tree (empty without validation). */
    validation_loss: number[];
    /** Validation log-loss of the base score alone (null without validation). */
    validation_loss_base: number | null;
  };
}

/** Scores of {@link predictGbt}, one per row. */
export interface GbtPrediction {
  /** Probability of default, the logistic function of the margin. */
  pd: Float64Array;
  /** Margin (log-odds of default). */
  margin: Float64Array;
}

/** One feature's importance, as {@link gbtImportance} gives it. */
export interface FeatureImportance {
  /** Feature name. */
  feature: string;
  /** Total gain of the splits on it. */
  gain: number;
  /** Its share of the total gain of all splits (0 when no split). */
  share: number;
  /** Number of splits on it. */
  splits: number;
}

/** Per-row feature contributions of {@link gbtContributions}. */
export interface GbtContributions {
  /** The expected margin (base score plus each tree's cover-weighted mean). */
  expected: number;
  /** One column per feature (contract order), `rows` long, in log-odds. */
  contributions: Float64Array[];
  /** The margin of each row: `expected` plus the row's contributions. */
  margin: Float64Array;
}

const DEFAULTS = {
  trees: 200,
  maxDepth: 4,
  learningRate: 0.1,
  lambda: 1,
  minChildWeight: 1,
  minSplitGain: 0,
  subsample: 1,
  maxBins: 255,
  validationShare: 0.2,
  earlyStoppingRounds: 20,
  seed: 42,
};

/** Rows sampled per feature to place the quantile cuts. */
const QUANTILE_SAMPLE = 200_000;
/** Stride of one feature in a histogram (bins, the missing bin included). */
const STRIDE = 256;

function checkOption(
  name: string,
  value: number,
  ok: boolean,
  want: string,
): void {
  if (!Number.isFinite(value) || !ok) {
    throw new UserError(
      "usage",
      `gbt options: ${name} is ${value}; it must be ${want}`,
    );
  }
}

function resolve(options: GbtOptions): GbtParams {
  const o = { ...DEFAULTS, ...options };
  checkOption(
    "trees",
    o.trees,
    Number.isInteger(o.trees) && o.trees >= 1,
    "a whole number >= 1",
  );
  checkOption(
    "maxDepth",
    o.maxDepth,
    Number.isInteger(o.maxDepth) && o.maxDepth >= 1 && o.maxDepth <= 16,
    "a whole number from 1 to 16",
  );
  checkOption(
    "learningRate",
    o.learningRate,
    o.learningRate > 0 && o.learningRate <= 1,
    "in (0, 1]",
  );
  checkOption("lambda", o.lambda, o.lambda >= 0, ">= 0");
  checkOption(
    "minChildWeight",
    o.minChildWeight,
    o.minChildWeight >= 0,
    ">= 0",
  );
  checkOption("minSplitGain", o.minSplitGain, o.minSplitGain >= 0, ">= 0");
  checkOption(
    "subsample",
    o.subsample,
    o.subsample > 0 && o.subsample <= 1,
    "in (0, 1]",
  );
  checkOption(
    "maxBins",
    o.maxBins,
    Number.isInteger(o.maxBins) && o.maxBins >= 3 && o.maxBins <= STRIDE,
    `a whole number from 3 to ${STRIDE}`,
  );
  checkOption(
    "validationShare",
    o.validationShare,
    o.validationShare >= 0 && o.validationShare < 1,
    "in [0, 1)",
  );
  checkOption(
    "earlyStoppingRounds",
    o.earlyStoppingRounds,
    Number.isInteger(o.earlyStoppingRounds) && o.earlyStoppingRounds >= 0,
    "a whole number >= 0",
  );
  checkOption("seed", o.seed, Number.isInteger(o.seed), "a whole number");
  return {
    trees: o.trees,
    max_depth: o.maxDepth,
    learning_rate: o.learningRate,
    lambda: o.lambda,
    min_child_weight: o.minChildWeight,
    min_split_gain: o.minSplitGain,
    subsample: o.subsample,
    max_bins: o.maxBins,
    validation_share: options.validation ? 0 : o.validationShare,
    early_stopping_rounds: o.earlyStoppingRounds,
    seed: o.seed,
  };
}

/** Checks that `data` follows `features` column by column. */
function checkData(
  data: EncodedData,
  features: FeatureSpec[],
  what: string,
): void {
  if (data.columns.length !== features.length) {
    throw new UserError(
      "input",
      `${what}: ${data.columns.length} columns for ${features.length} features (${
        features.map((f) => f.name).join(", ")
      })`,
    );
  }
  features.forEach((f, i) => {
    const got = data.features[i]?.name;
    if (got !== f.name) {
      throw new UserError(
        "input",
        `${what}: feature ${i + 1} is ${
          got === undefined ? "missing" : `"${got}"`
        }; the model expects "${f.name}"`,
      );
    }
    if (data.columns[i].length !== data.rows) {
      throw new UserError(
        "input",
        `${what}: column "${f.name}" has ${
          data.columns[i].length
        } values for ${data.rows} rows`,
      );
    }
  });
}

function checkTarget(data: EncodedData, what: string): Uint8Array {
  const y = data.target;
  if (!y) throw new UserError("input", `${what}: no target to train on`);
  if (y.length !== data.rows) {
    throw new UserError(
      "input",
      `${what}: the target has ${y.length} values for ${data.rows} rows`,
    );
  }
  for (let i = 0; i < y.length; i++) {
    if (y[i] > 1) {
      throw new UserError(
        "input",
        `${what}: target value ${y[i]} at row ${i + 1}; it must be 0 or 1`,
      );
    }
  }
  return y;
}

/**
 * Quantile cuts of one feature: ascending finite values; a value's bin is
 * the number of cuts at or below it, so `x < cuts[b]` is "bin <= b".
 */
function quantileCuts(
  col: Float64Array,
  rows: Int32Array,
  valueBins: number,
  rng: Rng,
): Float64Array {
  const n = rows.length;
  const take = Math.min(n, QUANTILE_SAMPLE);
  const sample = new Float64Array(take);
  let k = 0;
  if (take === n) {
    for (let i = 0; i < n; i++) {
      const x = col[rows[i]];
      if (Number.isFinite(x)) sample[k++] = x;
    }
  } else {
    for (let i = 0; i < take; i++) {
      const x = col[rows[Math.floor(rng.uniform() * n)]];
      if (Number.isFinite(x)) sample[k++] = x;
    }
  }
  const finite = sample.subarray(0, k);
  const sorted = Float64Array.from(finite).sort();
  const distinct: number[] = [];
  for (let i = 0; i < k; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]);
    if (distinct.length > valueBins) break;
  }
  // Few distinct values: each its own bin (quantile cuts could merge a
  // rare value into its neighbour).
  if (distinct.length <= valueBins) return Float64Array.from(distinct.slice(1));
  // Else the quantile edges of metrics.ts (the value with b/valueBins of
  // the sample below it, distinct, none at the minimum; a value equal to
  // an edge goes up, as `binOf` has it).
  return Float64Array.from(quantileEdges(finite, valueBins));
}

/** Bin of `x` for `cuts` (upper bound), the missing bin for NaN. */
function binOf(x: number, cuts: Float64Array): number {
  if (Number.isNaN(x)) return cuts.length + 1;
  let lo = 0, hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cuts[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Row-major bins of the given rows (`rows.length` x F). */
function binRows(
  columns: Float64Array[],
  rows: Int32Array,
  cuts: Float64Array[],
): Uint8Array {
  const F = columns.length;
  const out = new Uint8Array(rows.length * F);
  for (let f = 0; f < F; f++) {
    const col = columns[f], c = cuts[f];
    for (let i = 0; i < rows.length; i++) {
      out[i * F + f] = binOf(col[rows[i]], c);
    }
  }
  return out;
}

/** A tree while it grows, in the quantised form (split bins). */
interface GrowingTree {
  feature: number[];
  bin: number[];
  missingLeft: number[];
  left: number[];
  right: number[];
  value: number[];
  cover: number[];
  gain: number[];
}

/** Walks a growing tree on binned row `i` (F features) to its leaf value. */
function binnedLeafValue(
  t: GrowingTree,
  bins: Uint8Array,
  i: number,
  F: number,
  nanBin: Int32Array,
): number {
  let j = 0;
  while (t.feature[j] >= 0) {
    const f = t.feature[j];
    const b = bins[i * F + f];
    const left = b === nanBin[f] ? t.missingLeft[j] === 1 : b <= t.bin[j];
    j = left ? t.left[j] : t.right[j];
  }
  return t.value[j];
}

function logLoss(margin: Float64Array, y: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    // -log sigmoid(±m), stable for large |m|.
    const m = y[i] === 1 ? margin[i] : -margin[i];
    s += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
  }
  return s / y.length;
}

/**
 * The early-stopping split of {@link trainGbt}: each row (or, with
 * `groups`, each group in order of first appearance, all its rows with it)
 * goes to validation when a draw of `uniform` (in [0, 1)) falls below
 * `share`.
 * With groups no group has rows on both sides. `share` 0 puts every row
 * in training.
 *
 * @param groups the group (facility) of each of the `rows` rows.
 * @throws {UserError} `input` when `groups` is not `rows` long or a group
 *   is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "../generate/mod.ts";
 * import { gbtValidationSplit } from "./gbt.ts";
 * const loans = ["a", "a", "b", "b", "c", "c", "d", "d"];
 * const rng = new Rng(1);
 * const s = gbtValidationSplit(8, 0.5, () => rng.uniform(), loans);
 * const valid = new Set([...s.validation].map((r) => loans[r]));
 * assert.ok([...s.train].every((r) => !valid.has(loans[r])));
 * assert.equal(s.train.length + s.validation.length, 8);
 * ```
 */
export function gbtValidationSplit(
  rows: number,
  share: number,
  uniform: () => number,
  groups?: ArrayLike<unknown>,
): { train: Int32Array; validation: Int32Array } {
  const train: number[] = [];
  const validation: number[] = [];
  if (share > 0 && groups !== undefined) {
    if (groups.length !== rows) {
      throw new UserError(
        "input",
        `gbt options: groups has ${groups.length} values for ${rows} rows`,
      );
    }
    const { codes, groups: count } = groupCodes(groups, "gbt groups");
    const inValidation = new Uint8Array(count);
    for (let g = 0; g < count; g++) {
      inValidation[g] = uniform() < share ? 1 : 0;
    }
    for (let i = 0; i < rows; i++) {
      (inValidation[codes[i]] ? validation : train).push(i);
    }
  } else {
    for (let i = 0; i < rows; i++) {
      if (share > 0 && uniform() < share) validation.push(i);
      else train.push(i);
    }
  }
  return {
    train: Int32Array.from(train),
    validation: Int32Array.from(validation),
  };
}

/**
 * Trains gradient-boosted trees for binary log-loss on `data` (its
 * `target` is the 0/1 default flag). See the module documentation for the
 * method; `options` documents each setting and its default.
 *
 * Throws a `UserError` when the target is absent, not 0/1 or of one class,
 * when columns and features disagree, or when an option is out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictGbt, trainGbt } from "./gbt.ts";
 * // Default when x >= 5: one split learns it.
 * const x = Float64Array.from({ length: 200 }, (_, i) => i % 10);
 * const data = {
 *   features: [{ name: "x", kind: "number" as const }],
 *   columns: [x],
 *   target: Uint8Array.from(x, (v) => (v >= 5 ? 1 : 0)),
 *   rows: 200,
 * };
 * const model = trainGbt(data, { trees: 50, validationShare: 0 });
 * assert.equal(model.trees[0].threshold[0], 5);
 * const { pd } = predictGbt(model, data);
 * assert.ok(pd[9] > 0.9 && pd[0] < 0.1);
 * ```
 */
export function trainGbt(
  data: EncodedData,
  options: GbtOptions = {},
): GbtModel {
  const params = resolve(options);
  const features = data.features.map((f) => structuredClone(f));
  checkData(data, features, "gbt training data");
  const yAll = checkTarget(data, "gbt training data");
  const rng = new Rng(params.seed, 0x6b7);
  const F = features.length;
  if (F === 0) throw new UserError("input", "gbt training data: no features");

  // Training and validation rows: whole groups with `groups`, else rows.
  const { train: trainIdx, validation: validIdx } = gbtValidationSplit(
    data.rows,
    params.validation_share,
    () => rng.uniform(),
    options.groups,
  );
  const rows = trainIdx;
  const n = rows.length;
  const y = new Uint8Array(n);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i] = yAll[rows[i]];
  if (positives === 0 || positives === n) {
    throw new UserError(
      "input",
      `gbt training data: the target has one class only (${
        positives === 0 ? "no defaults" : "all defaults"
      } in ${n} training rows)`,
    );
  }

  // Quantise once.
  const valueBins = params.max_bins - 1;
  const cuts = data.columns.map((c) => quantileCuts(c, rows, valueBins, rng));
  const nanBin = Int32Array.from(cuts, (c) => c.length + 1);
  const bins = binRows(data.columns, rows, cuts);

  let vBins: Uint8Array | undefined, vY: Uint8Array | undefined;
  if (options.validation) {
    const v = options.validation;
    checkData(v, features, "gbt validation data");
    vY = checkTarget(v, "gbt validation data");
    vBins = binRows(
      v.columns,
      Int32Array.from({ length: v.rows }, (_, i) => i),
      cuts,
    );
  } else if (validIdx.length > 0) {
    const vr = validIdx;
    vBins = binRows(data.columns, vr, cuts);
    vY = Uint8Array.from(vr, (r) => yAll[r]);
  }
  const nv = vY?.length ?? 0;

  const rate = positives / n;
  const base = Math.log(rate / (1 - rate));
  const margin = new Float64Array(n).fill(base);
  const vMargin = new Float64Array(nv).fill(base);
  const gh = new Float64Array(2 * n);

  const grower = new TreeGrower(bins, gh, nanBin, F, n, params);
  const trees: GrowingTree[] = [];
  const validationLoss: number[] = [];
  const baseLoss = nv > 0 ? logLoss(vMargin, vY!) : null;
  let best = 0, bestLoss = baseLoss ?? Infinity;
  let stoppedEarly = false;
  const sampled = new Int32Array(n);

  for (let t = 0; t < params.trees; t++) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-margin[i]));
      gh[2 * i] = p - y[i];
      gh[2 * i + 1] = Math.max(p * (1 - p), 1e-16);
    }
    let m = n;
    if (params.subsample < 1) {
      m = 0;
      for (let i = 0; i < n; i++) {
        if (rng.uniform() < params.subsample) sampled[m++] = i;
      }
    } else {
      for (let i = 0; i < n; i++) sampled[i] = i;
    }
    const tree = grower.grow(sampled, m);
    trees.push(tree);
    if (m === n) grower.addLeafValues(tree, margin);
    else {
      for (let i = 0; i < n; i++) {
        margin[i] += binnedLeafValue(tree, bins, i, F, nanBin);
      }
    }
    if (nv > 0) {
      for (let i = 0; i < nv; i++) {
        vMargin[i] += binnedLeafValue(tree, vBins!, i, F, nanBin);
      }
      const loss = logLoss(vMargin, vY!);
      validationLoss.push(loss);
      if (loss < bestLoss) {
        bestLoss = loss;
        best = t + 1;
      } else if (
        params.early_stopping_rounds > 0 &&
        t + 1 - best >= params.early_stopping_rounds
      ) {
        stoppedEarly = t + 1 < params.trees;
        break;
      }
    } else best = t + 1;
  }

  return {
    format: "gbt",
    version: 1,
    features,
    base_score: base,
    trees: trees.slice(0, best).map((t) => ({
      feature: t.feature,
      threshold: t.feature.map((f, j) => (f < 0 ? 0 : cuts[f][t.bin[j]])),
      missing_left: t.missingLeft,
      left: t.left,
      right: t.right,
      value: t.value,
      cover: t.cover,
      gain: t.gain,
    })),
    params,
    training: {
      iterations: trees.length,
      stopped_early: stoppedEarly,
      rows: { train: n, validation: nv },
      validation_loss: validationLoss,
      validation_loss_base: baseLoss,
    },
  };
}

/** A node waiting to be split: its rows `idx[begin, end)` and histogram. */
interface Pending {
  node: number;
  begin: number;
  end: number;
  g: number;
  h: number;
  hist: Float64Array | null;
}

/** Grows one tree level by level over histograms. */
class TreeGrower {
  #hists: Float64Array[] = [];
  #idx: Int32Array;
  #tmp: Int32Array;
  #leaves: Pending[] = [];

  constructor(
    readonly bins: Uint8Array,
    readonly gh: Float64Array,
    readonly nanBin: Int32Array,
    readonly F: number,
    n: number,
    readonly p: GbtParams,
  ) {
    this.#idx = new Int32Array(n);
    this.#tmp = new Int32Array(n);
  }

  #takeHist(): Float64Array {
    const h = this.#hists.pop();
    if (h) return h.fill(0);
    return new Float64Array(this.F * STRIDE * 2);
  }

  #build(begin: number, end: number): Float64Array {
    const hist = this.#takeHist();
    const { bins, gh, F } = this;
    const idx = this.#idx;
    for (let i = begin; i < end; i++) {
      const r = idx[i];
      const g = gh[2 * r], h = gh[2 * r + 1];
      const o = r * F;
      for (let f = 0; f < F; f++) {
        const k = (f * STRIDE + bins[o + f]) << 1;
        hist[k] += g;
        hist[k + 1] += h;
      }
    }
    return hist;
  }

  grow(sampled: Int32Array, m: number): GrowingTree {
    const p = this.p;
    const idx = this.#idx;
    idx.set(sampled.subarray(0, m));
    const t: GrowingTree = {
      feature: [],
      bin: [],
      missingLeft: [],
      left: [],
      right: [],
      value: [],
      cover: [],
      gain: [],
    };
    const addNode = (cover: number): number => {
      t.feature.push(-1);
      t.bin.push(0);
      t.missingLeft.push(0);
      t.left.push(-1);
      t.right.push(-1);
      t.value.push(0);
      t.cover.push(cover);
      t.gain.push(0);
      return t.feature.length - 1;
    };
    let G = 0, H = 0;
    for (let i = 0; i < m; i++) {
      G += this.gh[2 * idx[i]];
      H += this.gh[2 * idx[i] + 1];
    }
    let level: Pending[] = [{
      node: addNode(m),
      begin: 0,
      end: m,
      g: G,
      h: H,
      hist: this.#build(0, m),
    }];
    const leaves: Pending[] = [];
    for (let depth = 0; depth < p.max_depth; depth++) {
      const next: Pending[] = [];
      const last = depth + 1 === p.max_depth;
      for (const nd of level) {
        const split = this.#bestSplit(nd);
        if (!split) {
          leaves.push(nd);
          if (nd.hist) this.#hists.push(nd.hist);
          continue;
        }
        const mid = this.#partition(
          nd,
          split.feature,
          split.bin,
          split.missingLeft,
        );
        const l = addNode(mid - nd.begin), r = addNode(nd.end - mid);
        t.feature[nd.node] = split.feature;
        t.bin[nd.node] = split.bin;
        t.missingLeft[nd.node] = split.missingLeft ? 1 : 0;
        t.left[nd.node] = l;
        t.right[nd.node] = r;
        t.gain[nd.node] = split.gain;
        const L: Pending = {
          node: l,
          begin: nd.begin,
          end: mid,
          g: split.gl,
          h: split.hl,
          hist: null,
        };
        const R: Pending = {
          node: r,
          begin: mid,
          end: nd.end,
          g: nd.g - split.gl,
          h: nd.h - split.hl,
          hist: null,
        };
        if (!last) {
          // Histogram subtraction: build the smaller child, derive the other.
          const [small, large] = mid - nd.begin <= nd.end - mid
            ? [L, R]
            : [R, L];
          small.hist = this.#build(small.begin, small.end);
          const parent = nd.hist!;
          const s = small.hist;
          for (let k = 0; k < parent.length; k++) parent[k] -= s[k];
          large.hist = parent;
        } else if (nd.hist) this.#hists.push(nd.hist);
        next.push(L, R);
      }
      level = next;
    }
    for (const nd of level) {
      leaves.push(nd);
      if (nd.hist) this.#hists.push(nd.hist);
    }
    for (const nd of leaves) {
      t.value[nd.node] = -p.learning_rate * nd.g / (nd.h + p.lambda);
    }
    this.#leaves = leaves;
    return t;
  }

  /**
   * Adds the last grown tree's leaf values to `margin` for the rows it was
   * grown on (each leaf holds its rows in `idx`), without walking the tree.
   */
  addLeafValues(t: GrowingTree, margin: Float64Array): void {
    const idx = this.#idx;
    for (const nd of this.#leaves) {
      const v = t.value[nd.node];
      for (let i = nd.begin; i < nd.end; i++) margin[idx[i]] += v;
    }
  }

  #bestSplit(nd: Pending): {
    feature: number;
    bin: number;
    missingLeft: boolean;
    gain: number;
    gl: number;
    hl: number;
  } | null {
    const { lambda, min_child_weight: mcw, min_split_gain } = this.p;
    const hist = nd.hist;
    if (!hist || nd.end - nd.begin < 2 || nd.h < 2 * mcw) return null;
    const G = nd.g, H = nd.h;
    const parentScore = (G * G) / (H + lambda);
    let best = min_split_gain;
    let found = false;
    let bf = -1, bb = -1, bml = false, bgl = 0, bhl = 0;
    for (let f = 0; f < this.F; f++) {
      const base = f * STRIDE * 2;
      const nan = this.nanBin[f];
      const gN = hist[base + 2 * nan], hN = hist[base + 2 * nan + 1];
      const hasNan = hN > 0 || gN !== 0;
      let gl = 0, hl = 0;
      for (let b = 0; b < nan - 1; b++) {
        gl += hist[base + 2 * b];
        hl += hist[base + 2 * b + 1];
        // Missing values right: left = bins <= b.
        {
          const hr = H - hl;
          if (hl >= mcw && hr >= mcw) {
            const gr = G - gl;
            const gain = 0.5 *
              ((gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) -
                parentScore);
            if (gain > best) {
              best = gain;
              found = true;
              bf = f;
              bb = b;
              bgl = gl;
              bhl = hl;
              // Without missing values here, they follow the child with the
              // larger hessian sum (not necessarily the one with more rows).
              bml = hasNan ? false : hl > hr;
            }
          }
        }
        if (hasNan) {
          const gl2 = gl + gN, hl2 = hl + hN;
          const hr = H - hl2;
          if (hl2 >= mcw && hr >= mcw) {
            const gr = G - gl2;
            const gain = 0.5 *
              ((gl2 * gl2) / (hl2 + lambda) + (gr * gr) / (hr + lambda) -
                parentScore);
            if (gain > best) {
              best = gain;
              found = true;
              bf = f;
              bb = b;
              bgl = gl2;
              bhl = hl2;
              bml = true;
            }
          }
        }
      }
    }
    if (!found) return null;
    return {
      feature: bf,
      bin: bb,
      missingLeft: bml,
      gain: best,
      gl: bgl,
      hl: bhl,
    };
  }

  /** Stable in-place partition of the node's rows; returns the split point. */
  #partition(
    nd: Pending,
    f: number,
    bin: number,
    missingLeft: boolean,
  ): number {
    const idx = this.#idx, tmp = this.#tmp, bins = this.bins, F = this.F;
    const nan = this.nanBin[f];
    let w = nd.begin, r = 0;
    for (let i = nd.begin; i < nd.end; i++) {
      const row = idx[i];
      const b = bins[row * F + f];
      if (b === nan ? missingLeft : b <= bin) idx[w++] = row;
      else tmp[r++] = row;
    }
    idx.set(tmp.subarray(0, r), w);
    return w;
  }
}

/** Trees flattened into typed arrays for fast scoring. */
interface Flat {
  offset: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

function flatten(trees: GbtTree[]): Flat {
  const total = trees.reduce((s, t) => s + t.feature.length, 0);
  const f: Flat = {
    offset: new Int32Array(trees.length),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    missingLeft: new Uint8Array(total),
    left: new Int32Array(total),
    right: new Int32Array(total),
    value: new Float64Array(total),
  };
  let o = 0;
  trees.forEach((t, k) => {
    f.offset[k] = o;
    for (let j = 0; j < t.feature.length; j++) {
      f.feature[o + j] = t.feature[j];
      f.threshold[o + j] = t.threshold[j];
      f.missingLeft[o + j] = t.missing_left[j];
      f.left[o + j] = t.left[j];
      f.right[o + j] = t.right[j];
      f.value[o + j] = t.value[j];
    }
    o += t.feature.length;
  });
  return f;
}

/**
 * Scores `data` with a model: each row's margin (base score plus the sum of
 * its leaf values) and PD = 1 / (1 + exp(-margin)). The columns must follow
 * the model's features by name and order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictGbt } from "./gbt.ts";
 * import { gbtFromJson } from "./gbt.ts";
 * // One stump: x < 1 (or missing) adds -1 to the margin, else +1.
 * const model = gbtFromJson({
 *   format: "gbt", version: 1,
 *   features: [{ name: "x", kind: "number" }],
 *   base_score: 0,
 *   trees: [{
 *     feature: [0, -1, -1], threshold: [1, 0, 0], missing_left: [1, 0, 0],
 *     left: [1, -1, -1], right: [2, -1, -1], value: [0, -1, 1],
 *     cover: [2, 1, 1], gain: [1, 0, 0],
 *   }],
 * }, "example");
 * const data = {
 *   features: model.features,
 *   columns: [Float64Array.of(0, 1, NaN)],
 *   rows: 3,
 * };
 * const { margin, pd } = predictGbt(model, data);
 * assert.deepEqual(Array.from(margin), [-1, 1, -1]);
 * assert.equal(pd[1], 1 / (1 + Math.exp(-1)));
 * ```
 */
export function predictGbt(model: GbtModel, data: EncodedData): GbtPrediction {
  checkData(data, model.features, "gbt scoring data");
  const flat = flatten(model.trees);
  const n = data.rows;
  const cols = data.columns;
  const margin = new Float64Array(n);
  const pd = new Float64Array(n);
  // Tree by tree (its nodes stay in cache), rows in order (columns are read
  // sequentially).
  for (let k = 0; k < model.trees.length; k++) {
    const o = flat.offset[k];
    const { feature, threshold, missingLeft, left, right, value } = flat;
    for (let i = 0; i < n; i++) {
      let j = o;
      let f = feature[j];
      while (f >= 0) {
        const x = cols[f][i];
        const goLeft = x !== x ? missingLeft[j] === 1 : x < threshold[j];
        j = o + (goLeft ? left[j] : right[j]);
        f = feature[j];
      }
      margin[i] += value[j];
    }
  }
  for (let i = 0; i < n; i++) {
    // The ONNX graph adds the base score after summing the trees; so here.
    const m = margin[i] + model.base_score;
    margin[i] = m;
    pd[i] = 1 / (1 + Math.exp(-m));
  }
  return { pd, margin };
}

/**
 * Feature importance by total gain: for each feature, the summed gain
 * (loss reduction) of the splits on it, its share of all gain and its
 * number of splits, largest first (ties in contract order).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gbtImportance, trainGbt } from "./gbt.ts";
 * // Only x drives the target; noise is a constant and never split on.
 * const x = Float64Array.from({ length: 100 }, (_, i) => i % 4);
 * const model = trainGbt({
 *   features: [{ name: "noise", kind: "number" }, { name: "x", kind: "number" }],
 *   columns: [new Float64Array(100), x],
 *   target: Uint8Array.from(x, (v) => (v >= 2 ? 1 : 0)),
 *   rows: 100,
 * }, { trees: 5, validationShare: 0 });
 * const [top, other] = gbtImportance(model);
 * assert.equal(top.feature, "x");
 * assert.equal(top.share, 1);
 * assert.equal(other.splits, 0);
 * ```
 */
export function gbtImportance(model: GbtModel): FeatureImportance[] {
  const gain = new Float64Array(model.features.length);
  const splits = new Int32Array(model.features.length);
  for (const t of model.trees) {
    t.feature.forEach((f, j) => {
      if (f >= 0) {
        gain[f] += t.gain[j];
        splits[f]++;
      }
    });
  }
  const total = gain.reduce((a, b) => a + b, 0);
  return model.features
    .map((f, i) => ({
      feature: f.name,
      gain: gain[i],
      share: total > 0 ? gain[i] / total : 0,
      splits: splits[i],
    }))
    .sort((a, b) => b.gain - a.gain);
}

/**
 * Per-row feature contributions to the margin by path-dependent TreeSHAP
 * (`tree_shap.ts`), summed over the trees: for every row,
 * `expected + sum over features of contributions[f][row] = margin[row]`.
 * Positive contributions raise the PD.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gbtContributions, trainGbt } from "./gbt.ts";
 * const x = Float64Array.from({ length: 120 }, (_, i) => i % 6);
 * const data = {
 *   features: [{ name: "x", kind: "number" as const }],
 *   columns: [x],
 *   target: Uint8Array.from(x, (v, i) => (v >= 3 || i % 7 === 0 ? 1 : 0)),
 *   rows: 120,
 * };
 * const model = trainGbt(data, { trees: 10, validationShare: 0 });
 * const c = gbtContributions(model, data);
 * const sum = c.expected + c.contributions[0][5];
 * assert.ok(Math.abs(sum - c.margin[5]) < 1e-12);
 * ```
 */
export function gbtContributions(
  model: GbtModel,
  data: EncodedData,
): GbtContributions {
  const { margin } = predictGbt(model, data);
  const F = model.features.length;
  const n = data.rows;
  const contributions = Array.from({ length: F }, () => new Float64Array(n));
  let expected = model.base_score;
  for (const t of model.trees) expected += treeExpectedValue(t);
  const phi = new Float64Array(F);
  const x = new Float64Array(F);
  const depths = model.trees.map(treeDepth);
  for (let i = 0; i < n; i++) {
    phi.fill(0);
    for (let f = 0; f < F; f++) x[f] = data.columns[f][i];
    for (let k = 0; k < model.trees.length; k++) {
      treeShap(model.trees[k], x, phi, depths[k]);
    }
    for (let f = 0; f < F; f++) contributions[f][i] = phi[f];
  }
  return { expected, contributions, margin };
}

/** Name of the margin (log-odds) output of a tree model's ONNX file. */
export const MARGIN_OUTPUT = "margin";

/**
 * Exports a model to ONNX bytes following the project's convention
 * (`onnx_build.ts`): the `ai.onnx.ml` (opset 5) `TreeEnsemble` operator
 * sums the trees' leaf weights in double precision (split values and leaf
 * weights as double tensors, `x < split` = `BRANCH_LT`, missing values
 * routed by `nodes_missing_value_tracks_true` as the model's
 * `missing_left`), an `Add` of the base score gives the `margin` output and
 * a `Sigmoid` gives `pd`. No ZipMap. A tree that is a single leaf becomes
 * one split whose two branches reach that leaf (opset 5 has no leaf-only
 * tree).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ort from "onnxruntime-node";
 * import { gbtToOnnx, predictGbt, trainGbt } from "./gbt.ts";
 * const x = Float64Array.from({ length: 100 }, (_, i) => i % 10);
 * const data = {
 *   features: [{ name: "x", kind: "number" as const }],
 *   columns: [x],
 *   target: Uint8Array.from(x, (v, i) => (v >= 5 || i % 9 === 0 ? 1 : 0)),
 *   rows: 100,
 * };
 * const model = trainGbt(data, { trees: 20, validationShare: 0 });
 * const session = await ort.InferenceSession.create(gbtToOnnx(model));
 * const input = Float64Array.of(0, 5, NaN);
 * const out = await session.run({ x: new ort.Tensor("float64", input, [3, 1]) });
 * const ts = predictGbt(model, { ...data, columns: [input], rows: 3 }).pd;
 * const onnxPd = out.pd.data as Float64Array;
 * for (let i = 0; i < 3; i++) assert.ok(Math.abs(onnxPd[i] - ts[i]) < 1e-12);
 * ```
 */
export function gbtToOnnx(model: GbtModel): Uint8Array {
  const modes: number[] = [], featureIds: number[] = [], splits: number[] = [];
  const trueIds: number[] = [], trueLeafs: number[] = [];
  const falseIds: number[] = [], falseLeafs: number[] = [];
  const missingTrue: number[] = [], roots: number[] = [];
  const leafWeights: number[] = [];
  const BRANCH_LT = 1;
  const trees = model.trees.length > 0 ? model.trees : [leafOnly(0)];
  for (const t of trees) {
    // Global ids: inner nodes and leaves are numbered separately.
    const id = new Int32Array(t.feature.length);
    for (let j = 0; j < t.feature.length; j++) {
      if (t.feature[j] < 0) {
        id[j] = leafWeights.length;
        leafWeights.push(t.value[j]);
      }
    }
    const inner = t.feature.map((f, j) => (f >= 0 ? j : -1)).filter((j) =>
      j >= 0
    );
    if (inner.length === 0) {
      // A single leaf: one split whose both branches reach it.
      roots.push(modes.length);
      modes.push(BRANCH_LT);
      featureIds.push(0);
      splits.push(0);
      trueIds.push(id[0]);
      trueLeafs.push(1);
      falseIds.push(id[0]);
      falseLeafs.push(1);
      missingTrue.push(1);
      continue;
    }
    for (const j of inner) id[j] = modes.length + inner.indexOf(j);
    roots.push(id[0]);
    for (const j of inner) {
      modes.push(BRANCH_LT);
      featureIds.push(t.feature[j]);
      splits.push(t.threshold[j]);
      const l = t.left[j], r = t.right[j];
      trueIds.push(id[l]);
      trueLeafs.push(t.feature[l] < 0 ? 1 : 0);
      falseIds.push(id[r]);
      falseLeafs.push(t.feature[r] < 0 ? 1 : 0);
      missingTrue.push(t.missing_left[j]);
    }
  }
  const nNodes = modes.length;
  return buildPdModel({
    features: model.features,
    mlOpset: 5,
    nodes: [
      {
        op: "TreeEnsemble",
        domain: "ai.onnx.ml",
        inputs: [FEATURE_MATRIX],
        outputs: ["tree_sum"],
        attributes: {
          aggregate_function: { kind: "int", value: 1 },
          n_targets: { kind: "int", value: 1 },
          post_transform: { kind: "int", value: 0 },
          tree_roots: { kind: "ints", value: roots },
          nodes_modes: {
            kind: "tensor",
            value: { type: "uint8", dims: [nNodes], values: modes },
          },
          nodes_featureids: { kind: "ints", value: featureIds },
          nodes_splits: {
            kind: "tensor",
            value: { type: "double", dims: [nNodes], values: splits },
          },
          nodes_truenodeids: { kind: "ints", value: trueIds },
          nodes_trueleafs: { kind: "ints", value: trueLeafs },
          nodes_falsenodeids: { kind: "ints", value: falseIds },
          nodes_falseleafs: { kind: "ints", value: falseLeafs },
          nodes_missing_value_tracks_true: { kind: "ints", value: missingTrue },
          leaf_targetids: {
            kind: "ints",
            value: leafWeights.map(() => 0),
          },
          leaf_weights: {
            kind: "tensor",
            value: {
              type: "double",
              dims: [leafWeights.length],
              values: leafWeights,
            },
          },
        },
      },
      {
        op: "Add",
        inputs: ["tree_sum", "base_score"],
        outputs: [MARGIN_OUTPUT],
      },
      { op: "Sigmoid", inputs: [MARGIN_OUTPUT], outputs: [PD_OUTPUT] },
    ],
    initializers: [
      {
        name: "base_score",
        type: "double",
        dims: [1],
        values: [model.base_score],
      },
    ],
    extraOutputs: [{ name: MARGIN_OUTPUT, width: 1 }],
    metadata: { "ifrs9.model_kind": "gbt" },
  });
}

function leafOnly(value: number): GbtTree {
  return {
    feature: [-1],
    threshold: [0],
    missing_left: [0],
    left: [-1],
    right: [-1],
    value: [value],
    cover: [0],
    gain: [0],
  };
}

const ints = z.array(z.number().int());
const nums = z.array(z.number());
const treeSchema = z.object({
  feature: ints,
  threshold: nums,
  missing_left: z.array(z.union([z.literal(0), z.literal(1)])),
  left: ints,
  right: ints,
  value: nums,
  cover: z.array(z.number().nonnegative()),
  gain: nums,
});
const modelSchema = z.object({
  format: z.literal("gbt"),
  version: z.literal(1),
  features: z.array(
    z.object({
      name: z.string().min(1),
      kind: z.enum(["number", "category"]),
      categories: z.array(z.string()).optional(),
      transform: z.enum(["identity", "log1p"]).optional(),
    }),
  ).min(1),
  base_score: z.number(),
  trees: z.array(treeSchema),
  params: z.record(z.string(), z.unknown()).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Reads a model back from its JSON form (the `model` field of
 * `model.json`), checking its shape and that every tree is a proper binary
 * tree over the model's features. `where` names the source in messages
 * (e.g. `models/pd/model.json: model`). Throws `UserError("input")` naming
 * the key at fault.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gbtFromJson, trainGbt } from "./gbt.ts";
 * const x = Float64Array.from({ length: 50 }, (_, i) => i % 5);
 * const model = trainGbt({
 *   features: [{ name: "x", kind: "number" }],
 *   columns: [x],
 *   target: Uint8Array.from(x, (v) => (v >= 3 ? 1 : 0)),
 *   rows: 50,
 * }, { trees: 3, validationShare: 0 });
 * const back = gbtFromJson(JSON.parse(JSON.stringify(model)), "model.json");
 * assert.deepEqual(back, model);
 * assert.throws(() => gbtFromJson({ format: "gbt" }, "model.json"), /model.json/);
 * ```
 */
export function gbtFromJson(value: unknown, where: string): GbtModel {
  const parsed = modelSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.map((p) =>
      typeof p === "number" ? `[${p}]` : `.${String(p)}`
    ).join("").replace(/^\./, "");
    throw new UserError(
      "input",
      `${where}: ${key || "(top)"}: ${issue.message}`,
    );
  }
  const m = parsed.data;
  const F = m.features.length;
  m.trees.forEach((t, k) => {
    const at = `${where}: trees[${k}]`;
    const n = t.feature.length;
    if (n === 0) throw new UserError("input", `${at}: has no nodes`);
    for (const key of Object.keys(treeSchema.shape) as (keyof typeof t)[]) {
      if (t[key].length !== n) {
        throw new UserError(
          "input",
          `${at}.${key}: ${t[key].length} entries for ${n} nodes`,
        );
      }
    }
    const seen = new Uint8Array(n);
    const visit = (j: number, depth: number) => {
      if (depth > n || seen[j]) {
        throw new UserError("input", `${at}: node ${j} is reached twice`);
      }
      seen[j] = 1;
      const f = t.feature[j];
      if (f < 0) return;
      if (f >= F) {
        throw new UserError(
          "input",
          `${at}.feature[${j}]: ${f} is not a feature index (the model has ${F})`,
        );
      }
      for (const c of [t.left[j], t.right[j]]) {
        if (c <= j || c >= n) {
          throw new UserError(
            "input",
            `${at}: node ${j} has child ${c}, not a later node of the tree`,
          );
        }
        visit(c, depth + 1);
      }
    };
    visit(0, 0);
  });
  return m as GbtModel;
}
