/**
 * The validation statistics of PD models, one implementation each: the
 * discriminatory power of a score (AUC, Gini, Kolmogorov-Smirnov, the ROC
 * curve), population stability (PSI on pre-binned shares or on samples),
 * and calibration (the exact binomial test, Hosmer-Lemeshow, the
 * calibration table by grade and the traffic-light backtest).
 *
 * Conventions:
 * - a score ranks risk: a higher score means a higher chance of default
 *   (pass the PD, or minus the scorecard points); labels are 0/1
 *   (`Uint8Array` or numbers), 1 for a default;
 * - inputs are checked and refused with a {@link UserError} of kind
 *   `input`: lengths that differ, a label other than 0/1, a score that is
 *   NaN, one class only where the statistic needs both.
 *
 * Sources:
 * - AUC is the Mann-Whitney statistic, ties counted one half (Hanley &
 *   McNeil 1982, "The meaning and use of the area under a ROC curve");
 *   Gini (accuracy ratio) = 2·AUC − 1 (Engelmann, Hayden & Tasche 2003,
 *   "Testing rating accuracy", Risk).
 * - KS: the largest distance between the score's cumulative distributions
 *   among defaulters and non-defaulters (Siddiqi 2006, "Credit Risk
 *   Scorecards", ch. 6), evaluated at distinct score values only so that
 *   tied scores are never split.
 * - PSI = Σ (a − e)·ln(a / e) over bins (Siddiqi 2006; Yurdakul 2018,
 *   "Statistical properties of the population stability index"); read as
 *   stable below 0.1, a moderate shift from 0.1, a significant shift from
 *   0.25.
 * - The binomial test and the traffic lights follow BCBS, "Supervisory
 *   framework for the use of backtesting in conjunction with the internal
 *   models approach to market risk capital requirements" (January 1996):
 *   zones by the cumulative binomial probability of the observed number
 *   of exceptions (there 95% and 99.99%), carried over to PD back-testing
 *   by grade (Tasche 2003, "A traffic lights approach to PD validation";
 *   the back-testing of PD calibration by grade in EBA GL/2017/16 and in
 *   the ECB's instructions for reporting the validation results of
 *   internal models, 2019) with 95% and 99.9% by default, a grade flagged
 *   when its defaults exceed the quantile ({@link TrafficLightBoundary}).
 *   The binomial test assumes independent defaults; with default
 *   correlation it rejects too often, which is why its result is read as a
 *   traffic light rather than a verdict.
 * - The binomial probabilities use Loader's saddle-point expansion ("Fast
 *   and accurate computation of binomial probabilities", 2000, as in R's
 *   `dbinom`), accurate for n in the millions; the exact (Clopper-Pearson
 *   1934) interval inverts the same tails.
 * - Hosmer & Lemeshow (1980; "Applied Logistic Regression", 2000, §5.2.2):
 *   Σ (d − n·p)² / (n·p·(1 − p)) over G groups, chi-square with G − 2
 *   degrees of freedom on the rows the PDs were fitted on (two are spent
 *   estimating the model); on data the PDs were not fitted on (a held-out
 *   sample, a backtest, monitoring) with G degrees of freedom, as in the
 *   PD backtesting literature (Engelmann & Rauhmeier, eds., "The Basel II
 *   Risk Parameters", 2nd ed. 2011, on the validation of PDs; BCBS Working
 *   Paper 14, "Studies on the validation of internal rating systems",
 *   2005).
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { gammaQ } from "../stats.ts";
import {
  checkMasterScale,
  DEFAULT_MASTER_SCALE,
  gradeIndex,
} from "./master_scale.ts";
import type { BinnedShares, MasterScaleGrade } from "./types.ts";

/** Scores, one per facility: a higher score means a higher risk. */
export type Scores = ArrayLike<number>;
/** Outcomes, one per facility: 1 defaulted, 0 did not. */
export type Labels = Uint8Array | ArrayLike<number>;

// ---------------------------------------------------------------------------
// Discriminatory power

/**
 * The scores of defaulters and of non-defaulters, each sorted ascending,
 * after the checks every rank statistic needs.
 */
function splitSorted(
  fn: string,
  scores: Scores,
  labels: Labels,
): { bad: Float64Array; good: Float64Array } {
  if (scores.length !== labels.length) {
    throw new UserError(
      "input",
      `${fn}: scores has ${scores.length} values but labels has ${labels.length}; they must be as long`,
    );
  }
  let bads = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y === 1) bads++;
    else if (y !== 0) {
      throw new UserError(
        "input",
        `${fn}: label at row ${i} is ${y}; labels must be 0 or 1`,
      );
    }
    if (Number.isNaN(scores[i])) {
      throw new UserError("input", `${fn}: score at row ${i} is not a number`);
    }
  }
  const goods = labels.length - bads;
  if (bads === 0 || goods === 0) {
    throw new UserError(
      "input",
      `${fn}: every label is ${
        bads === 0 ? 0 : 1
      } (${labels.length} rows); the statistic needs both defaulters (1) and non-defaulters (0)`,
    );
  }
  const bad = new Float64Array(bads), good = new Float64Array(goods);
  for (let i = 0, b = 0, g = 0; i < labels.length; i++) {
    if (labels[i] === 1) bad[b++] = scores[i];
    else good[g++] = scores[i];
  }
  // Typed-array sort is numeric and native: O(n log n) without comparators.
  return { bad: bad.sort(), good: good.sort() };
}

/**
 * Area under the ROC curve: the probability that a random defaulter scores
 * higher than a random non-defaulter, a tie counting one half
 * (Mann-Whitney). O(n log n).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { auc } from "./metrics.ts";
 * // Of the 4 defaulter/non-defaulter pairs, 3 are ordered right.
 * assert.equal(auc([0.1, 0.3, 0.2, 0.4], [0, 0, 1, 1]), 0.75);
 * ```
 */
export function auc(scores: Scores, labels: Labels): number {
  const { bad, good } = splitSorted("auc", scores, labels);
  // For each run of equal defaulter scores: the non-defaulters below it,
  // and half of those equal to it. Counts stay exact integers (or halves)
  // up to 2^53 pairs.
  let pairs = 0;
  let below = 0; // non-defaulters with a score < v
  for (let i = 0; i < bad.length;) {
    const v = bad[i];
    let run = 0;
    while (i < bad.length && bad[i] === v) {
      i++;
      run++;
    }
    while (below < good.length && good[below] < v) below++;
    let equal = 0;
    while (below + equal < good.length && good[below + equal] === v) equal++;
    pairs += run * (below + equal / 2);
  }
  return pairs / (bad.length * good.length);
}

/**
 * Gini coefficient (accuracy ratio): 2·AUC − 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gini } from "./metrics.ts";
 * assert.equal(gini([0.1, 0.3, 0.2, 0.4], [0, 0, 1, 1]), 0.5);
 * ```
 */
export function gini(scores: Scores, labels: Labels): number {
  return 2 * auc(scores, labels) - 1;
}

/**
 * Kolmogorov-Smirnov statistic: the largest distance between the
 * cumulative score distributions of defaulters and non-defaulters,
 * evaluated after each distinct score value (tied scores move together).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ksStatistic } from "./metrics.ts";
 * assert.equal(ksStatistic([0.1, 0.3, 0.2, 0.4], [0, 0, 1, 1]), 0.5);
 * ```
 */
export function ksStatistic(scores: Scores, labels: Labels): number {
  const { bad, good } = splitSorted("ksStatistic", scores, labels);
  let i = 0, j = 0, best = 0;
  while (i < bad.length || j < good.length) {
    const v = Math.min(
      i < bad.length ? bad[i] : Infinity,
      j < good.length ? good[j] : Infinity,
    );
    while (i < bad.length && bad[i] === v) i++;
    while (j < good.length && good[j] === v) j++;
    best = Math.max(best, Math.abs(i / bad.length - j / good.length));
    if (v === Infinity) break;
  }
  return best;
}

/** Points of a ROC curve, from (0, 0) to (1, 1). */
export interface RocCurve {
  /** False-positive rate: share of non-defaulters scoring at least the threshold. */
  fpr: number[];
  /** True-positive rate: share of defaulters scoring at least the threshold. */
  tpr: number[];
  /** The threshold of each point (a facility is flagged when its score is at least it); the first is +Infinity. */
  thresholds: number[];
}

/**
 * The ROC curve at every distinct score (ties form one step), for charts;
 * its area (trapezoids) is {@link auc}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rocCurve } from "./metrics.ts";
 * const roc = rocCurve([0.1, 0.3, 0.2, 0.4], [0, 0, 1, 1]);
 * assert.deepEqual(roc.fpr, [0, 0, 0.5, 0.5, 1]);
 * assert.deepEqual(roc.tpr, [0, 0.5, 0.5, 1, 1]);
 * ```
 */
export function rocCurve(scores: Scores, labels: Labels): RocCurve {
  const { bad, good } = splitSorted("rocCurve", scores, labels);
  const fpr = [0], tpr = [0], thresholds = [Infinity];
  let i = bad.length, j = good.length; // counts scoring >= the threshold
  while (i > 0 || j > 0) {
    const v = Math.max(
      i > 0 ? bad[i - 1] : -Infinity,
      j > 0 ? good[j - 1] : -Infinity,
    );
    while (i > 0 && bad[i - 1] === v) i--;
    while (j > 0 && good[j - 1] === v) j--;
    tpr.push((bad.length - i) / bad.length);
    fpr.push((good.length - j) / good.length);
    thresholds.push(v);
  }
  return { fpr, tpr, thresholds };
}

// ---------------------------------------------------------------------------
// Population stability

/**
 * The smallest share a bin counts with in {@link psi}: an empty bin (or
 * one below this) is taken as 0.0001 (0.01%) in both populations, so the
 * index stays finite; the shares are not renormalised.
 */
export const PSI_SHARE_FLOOR = 1e-4;
/** PSI from which a shift is read as moderate (below: stable). */
export const PSI_MODERATE = 0.1;
/** PSI from which a shift is read as significant. */
export const PSI_SIGNIFICANT = 0.25;

/** How a PSI value is read: below 0.1, 0.1 to 0.25, from 0.25. */
export type PsiReading = "stable" | "moderate" | "significant";

/** Options of {@link psi}. */
export interface PsiOptions {
  /** Smallest share a bin counts with. @default PSI_SHARE_FLOOR (1e-4) */
  floor?: number;
}

function checkShares(what: string, shares: ArrayLike<number>): void {
  let sum = 0;
  for (let i = 0; i < shares.length; i++) {
    const s = shares[i];
    if (!(s >= 0 && s <= 1)) {
      throw new UserError(
        "input",
        `psi: ${what}[${i}] is ${s}; a share must be in [0, 1]`,
      );
    }
    sum += s;
  }
  if (Math.abs(sum - 1) > 1e-6) {
    throw new UserError(
      "input",
      `psi: ${what} sums to ${sum}; shares must sum to 1`,
    );
  }
}

/**
 * Each bin's term (a − e)·ln(a / e) of the population stability index,
 * shares floored as in {@link psi}; their sum is the PSI.
 */
export function psiTerms(
  expectedShares: ArrayLike<number>,
  actualShares: ArrayLike<number>,
  { floor = PSI_SHARE_FLOOR }: PsiOptions = {},
): number[] {
  if (expectedShares.length !== actualShares.length) {
    throw new UserError(
      "input",
      `psi: expected has ${expectedShares.length} bins but actual has ${actualShares.length}; they must be binned alike`,
    );
  }
  if (expectedShares.length === 0) {
    throw new UserError("input", "psi: no bins");
  }
  if (!(floor > 0 && floor < 1)) {
    throw new UserError("input", `psi: floor must be in (0, 1), got ${floor}`);
  }
  checkShares("expected", expectedShares);
  checkShares("actual", actualShares);
  return Array.from(expectedShares, (e, i) => {
    const ef = Math.max(e, floor), af = Math.max(actualShares[i], floor);
    return (af - ef) * Math.log(af / ef);
  });
}

/**
 * Population stability index of pre-binned shares: Σ (a − e)·ln(a / e).
 * Both arrays hold one share per bin, in the same bins, each summing to 1
 * (within 1e-6); a share below {@link PSI_SHARE_FLOOR} counts as the
 * floor, so an empty bin gives a large but finite term. Read it with
 * {@link psiReading}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { psi } from "./metrics.ts";
 * // 0.1·ln(0.3 / 0.2) + 0 + (−0.1)·ln(0.5 / 0.6) = 0.05878 by hand.
 * const value = psi([0.2, 0.2, 0.6], [0.3, 0.2, 0.5]);
 * assert.equal(value.toFixed(4), "0.0588");
 * ```
 */
export function psi(
  expectedShares: ArrayLike<number>,
  actualShares: ArrayLike<number>,
  options: PsiOptions = {},
): number {
  return psiTerms(expectedShares, actualShares, options).reduce(
    (a, b) => a + b,
    0,
  );
}

/** The usual reading of a PSI: stable below 0.1, moderate below 0.25, else significant. */
export function psiReading(value: number): PsiReading {
  return value < PSI_MODERATE
    ? "stable"
    : value < PSI_SIGNIFICANT
    ? "moderate"
    : "significant";
}

/**
 * Inner bin edges at the quantiles of a sample (NaN ignored): up to
 * `bins − 1` distinct edges, the j-th the value with j/bins of the sample
 * below it, so each bin holds about 1/bins of the sample (fewer bins when
 * values repeat). With the convention of {@link BinnedShares} (a value
 * equal to an edge falls in the upper bin).
 */
export function quantileEdges(sample: ArrayLike<number>, bins = 10): number[] {
  if (!Number.isInteger(bins) || bins < 2) {
    throw new UserError(
      "input",
      `quantileEdges: bins must be a whole number >= 2, got ${bins}`,
    );
  }
  const sorted = Float64Array.from(sample).filter((v) => !Number.isNaN(v))
    .sort();
  const edges: number[] = [];
  if (sorted.length === 0) return edges;
  for (let j = 1; j < bins; j++) {
    const v = sorted[Math.floor((j * sorted.length) / bins)];
    // An edge at the minimum would make an empty first bin.
    if (v > sorted[0] && v !== edges.at(-1)) edges.push(v);
  }
  return edges;
}

/**
 * Shares of numeric `values` in the bins cut at `edges` (a value equal to
 * an edge falls in the upper bin), then the share of missing (NaN)
 * values: `edges.length + 2` shares summing to 1 (all 0 for no values).
 */
export function numericShares(
  values: ArrayLike<number>,
  edges: readonly number[],
): number[] {
  const counts = new Array<number>(edges.length + 2).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      counts[edges.length + 1]++;
      continue;
    }
    let lo = 0, hi = edges.length; // number of edges <= v
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]++;
  }
  return counts.map((c) => (values.length === 0 ? 0 : c / values.length));
}

/**
 * Shares of categorical `values` among `categories`, then "other" (a value
 * not listed), then missing (null, undefined or ""): `categories.length +
 * 2` shares summing to 1 (all 0 for no values).
 */
export function categoryShares(
  values: ArrayLike<string | null | undefined>,
  categories: readonly string[],
): number[] {
  const index = new Map(categories.map((c, i) => [c, i]));
  const counts = new Array<number>(categories.length + 2).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || v === "") {
      counts[categories.length + 1]++;
    } else counts[index.get(v) ?? categories.length]++;
  }
  return counts.map((c) => (values.length === 0 ? 0 : c / values.length));
}

/** What {@link psiFromSamples} returns. */
export interface SamplePsi {
  /** The population stability index. */
  psi: number;
  /** Its reading (0.1 / 0.25). */
  reading: PsiReading;
  /** The expected sample's bins (quantile edges) and shares, missing last. */
  expected: BinnedShares;
  /** The actual sample's shares in the same bins. */
  actual: number[];
}

/**
 * PSI of two numeric samples: bins cut at the quantiles of the expected
 * sample ({@link quantileEdges}, `bins` of them, default 10), plus a bin
 * for missing (NaN) values in both, then {@link psi}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { psiFromSamples } from "./metrics.ts";
 * const dev = Array.from({ length: 1000 }, (_, i) => i);
 * assert.equal(psiFromSamples(dev, dev).psi, 0);
 * const shifted = dev.map((v) => v + 300);
 * assert.equal(psiFromSamples(dev, shifted).reading, "significant");
 * ```
 */
export function psiFromSamples(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  { bins = 10, floor }: { bins?: number; floor?: number } = {},
): SamplePsi {
  if (expected.length === 0 || actual.length === 0) {
    throw new UserError(
      "input",
      `psiFromSamples: the ${
        expected.length === 0 ? "expected" : "actual"
      } sample is empty`,
    );
  }
  const edges = quantileEdges(expected, bins);
  const e = numericShares(expected, edges);
  const a = numericShares(actual, edges);
  const value = psi(e, a, { floor });
  return {
    psi: value,
    reading: psiReading(value),
    expected: { edges, shares: e },
    actual: a,
  };
}

// ---------------------------------------------------------------------------
// Binomial probabilities (Loader 2000)

const LN_2PI = Math.log(2 * Math.PI);

/** ln(n!) − ln(√(2πn)·(n/e)^n) for a whole n >= 1 (Loader's stirlerr). */
function stirlerr(n: number): number {
  if (n <= 15) {
    let lnFact = 0;
    for (let k = 2; k <= n; k++) lnFact += Math.log(k);
    return lnFact - (n + 0.5) * Math.log(n) + n - 0.5 * LN_2PI;
  }
  const S0 = 1 / 12, S1 = 1 / 360, S2 = 1 / 1260, S3 = 1 / 1680, S4 = 1 / 1188;
  const nn = n * n;
  if (n > 500) return (S0 - S1 / nn) / n;
  if (n > 80) return (S0 - (S1 - S2 / nn) / nn) / n;
  if (n > 35) return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
  return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

/** x·ln(x / m) + m − x, without cancellation when x is close to m. */
function bd0(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2 * x * v;
    v = v * v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

/** P(X = k) for X ~ Binomial(n, p), q = 1 − p. */
function binomialPmf(k: number, n: number, p: number, q: number): number {
  if (p === 0) return k === 0 ? 1 : 0;
  if (q === 0) return k === n ? 1 : 0;
  if (k === 0) {
    if (n === 0) return 1;
    return Math.exp(p < 0.1 ? -bd0(n, n * q) - n * p : n * Math.log(q));
  }
  if (k === n) {
    return Math.exp(q < 0.1 ? -bd0(n, n * p) - n * q : n * Math.log(p));
  }
  const lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(k, n * p) -
    bd0(n - k, n * q);
  const lf = LN_2PI + Math.log(k) + Math.log1p(-k / n);
  return Math.exp(lc - 0.5 * lf);
}

/**
 * P(X >= d) for X ~ Binomial(n, p): above the mean, the terms from d up;
 * at or below it, 1 minus the terms from d − 1 down. Either way the terms
 * shrink away from the start, so the sum stops once they no longer count.
 */
function upperTail(n: number, p: number, d: number): number {
  if (d <= 0) return 1;
  if (d > n) return 0;
  if (p === 0) return 0;
  if (p === 1) return 1;
  const q = 1 - p;
  if (d > n * p) {
    let term = binomialPmf(d, n, p, q);
    let sum = term;
    const ratio = p / q;
    for (let k = d; k < n && term > sum * 1e-17; k++) {
      term *= ((n - k) / (k + 1)) * ratio;
      sum += term;
    }
    return Math.min(1, sum);
  }
  let term = binomialPmf(d - 1, n, p, q);
  let sum = term;
  const ratio = q / p;
  for (let k = d - 1; k > 0 && term > sum * 1e-17; k--) {
    term *= (k / (n - k + 1)) * ratio;
    sum += term;
  }
  return Math.max(0, 1 - sum);
}

/** The figures of a binomial test. */
export interface BinomialInput {
  /** Number of facilities (trials), a whole number >= 0. */
  n: number;
  /** The predicted probability of default of each, in [0, 1]. */
  pd: number;
  /** Observed defaults, a whole number from 0 to n. */
  defaults: number;
}

function checkBinomial(fn: string, { n, pd, defaults }: BinomialInput): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new UserError(
      "input",
      `${fn}: n must be a whole number >= 0, got ${n}`,
    );
  }
  if (!(pd >= 0 && pd <= 1)) {
    throw new UserError("input", `${fn}: pd must be in [0, 1], got ${pd}`);
  }
  if (!Number.isSafeInteger(defaults) || defaults < 0 || defaults > n) {
    throw new UserError(
      "input",
      `${fn}: defaults must be a whole number from 0 to n (${n}), got ${defaults}`,
    );
  }
}

/**
 * One-sided exact binomial test of a PD: the p-value P(X >= defaults) for
 * X ~ Binomial(n, pd), the chance of seeing at least as many defaults if
 * the PD were right and defaults independent. A small value says the PD
 * is too low. Accurate for n in the millions (Loader 2000).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binomialTest } from "./metrics.ts";
 * // 1 − (0.9^10 + 10·0.1·0.9^9 + 45·0.01·0.9^8) = 0.0701908264
 * const p = binomialTest({ n: 10, pd: 0.1, defaults: 3 });
 * assert.ok(Math.abs(p - 0.0701908264) < 1e-10);
 * ```
 */
export function binomialTest(input: BinomialInput): number {
  checkBinomial("binomialTest", input);
  return upperTail(input.n, input.pd, input.defaults);
}

/**
 * The exact (Clopper-Pearson) interval of a default rate: the PDs for
 * which `defaults` out of `n` is not in either one-sided tail of
 * (1 − confidence) / 2. `[0, 1]` for n = 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binomialInterval } from "./metrics.ts";
 * // 0 defaults in 10: the upper bound solves 0.9...^10 = 0.025.
 * const [lo, hi] = binomialInterval({ n: 10, defaults: 0 });
 * assert.equal(lo, 0);
 * assert.ok(Math.abs(hi - (1 - 0.025 ** (1 / 10))) < 1e-12);
 * ```
 */
export function binomialInterval(
  { n, defaults }: { n: number; defaults: number },
  confidence = 0.95,
): [number, number] {
  checkBinomial("binomialInterval", { n, pd: 0.5, defaults });
  if (!(confidence > 0 && confidence < 1)) {
    throw new UserError(
      "input",
      `binomialInterval: confidence must be in (0, 1), got ${confidence}`,
    );
  }
  if (n === 0) return [0, 1];
  const alpha = (1 - confidence) / 2;
  // P(X >= d; p) rises with p: bisect for the p where it crosses a level.
  const solve = (d: number, level: number) => {
    let lo = 0, hi = 1;
    for (let it = 0; it < 200 && hi - lo > 1e-17 * Math.max(hi, 1e-300); it++) {
      const mid = (lo + hi) / 2;
      if (upperTail(n, mid, d) < level) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  const lower = defaults === 0 ? 0 : solve(defaults, alpha);
  // P(X <= d; p) = alpha  <=>  P(X >= d + 1; p) = 1 − alpha.
  const upper = defaults === n ? 1 : solve(defaults + 1, 1 - alpha);
  return [lower, upper];
}

// ---------------------------------------------------------------------------
// Chi-square (Hosmer-Lemeshow)

// ln Γ and Q(a, x): lib/stats.ts (one implementation, shared with the
// satellite model of lib/scenarios).

/**
 * P(χ²_df > x): the survival function of the chi-square distribution.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chiSquareSurvival } from "./metrics.ts";
 * // The 5% critical value of 8 degrees of freedom is 15.507 (tables).
 * assert.equal(chiSquareSurvival(15.507, 8).toFixed(4), "0.0500");
 * ```
 */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(df > 0) || Number.isNaN(x)) {
    throw new UserError(
      "input",
      `chiSquareSurvival: needs df > 0 and a number x, got df ${df}, x ${x}`,
    );
  }
  return gammaQ(df / 2, x / 2);
}

/** Figures by grade (or group): equal-length arrays. */
export interface GradeFigures {
  /** Facilities in each grade. */
  n: ArrayLike<number>;
  /** The predicted PD of each grade (the mean PD of its facilities). */
  pd: ArrayLike<number>;
  /** Observed defaults in each grade. */
  defaults: ArrayLike<number>;
}

/** What {@link hosmerLemeshow} returns. */
export interface HosmerLemeshowResult {
  /** Σ (d − n·p)² / (n·p·(1 − p)) over the non-empty groups. */
  statistic: number;
  /** P(χ²_df > statistic): small when the PDs do not fit the defaults. */
  pValue: number;
  /**
   * Degrees of freedom: non-empty groups G out of sample, G − 2 in sample
   * ({@link HosmerLemeshowOptions.inSample}).
   */
  df: number;
}

/** Options of {@link hosmerLemeshow}. */
export interface HosmerLemeshowOptions {
  /**
   * Whether the PDs were fitted on the very rows tested: then G − 2
   * degrees of freedom (Hosmer and Lemeshow's setting), else G (held-out
   * rows, backtests, monitoring). @default false
   */
  inSample?: boolean;
}

function checkGrades(fn: string, g: GradeFigures): number {
  const k = g.n.length;
  if (g.pd.length !== k || g.defaults.length !== k) {
    throw new UserError(
      "input",
      `${fn}: n, pd and defaults must be as long, got ${k}, ${g.pd.length} and ${g.defaults.length}`,
    );
  }
  for (let i = 0; i < k; i++) {
    checkBinomial(`${fn}: group ${i}`, {
      n: g.n[i],
      pd: g.pd[i],
      defaults: g.defaults[i],
    });
  }
  return k;
}

/**
 * Hosmer-Lemeshow goodness of fit of PDs by group (grade): the statistic
 * Σ (d − n·p)² / (n·p·(1 − p)) over the G groups with facilities (groups
 * with n = 0 are left out), its chi-square p-value with G degrees of
 * freedom for PDs tested on data they were not fitted on (the default:
 * held-out rows, backtests, monitoring), or G − 2 with `inSample` (the
 * fitted rows). Each non-empty group needs a PD strictly between 0 and 1;
 * at least 1 group out of sample, 3 in sample.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hosmerLemeshow } from "./metrics.ts";
 * const grades = { n: [100, 100, 100], pd: [0.01, 0.05, 0.2], defaults: [2, 5, 20] };
 * // (2 − 1)² / 0.99 + 0 + 0.
 * const backtest = hosmerLemeshow(grades);
 * assert.ok(Math.abs(backtest.statistic - 1 / 0.99) < 1e-12);
 * assert.equal(backtest.df, 3);
 * assert.equal(hosmerLemeshow(grades, { inSample: true }).df, 1);
 * ```
 */
export function hosmerLemeshow(
  figures: GradeFigures,
  options: HosmerLemeshowOptions = {},
): HosmerLemeshowResult {
  const inSample = options.inSample ?? false;
  const k = checkGrades("hosmerLemeshow", figures);
  let statistic = 0, groups = 0;
  for (let i = 0; i < k; i++) {
    const n = figures.n[i], p = figures.pd[i], d = figures.defaults[i];
    if (n === 0) continue;
    if (!(p > 0 && p < 1)) {
      throw new UserError(
        "input",
        `hosmerLemeshow: group ${i} has pd ${p}; the statistic needs PDs strictly between 0 and 1`,
      );
    }
    const expected = n * p;
    statistic += (d - expected) ** 2 / (expected * (1 - p));
    groups++;
  }
  const least = inSample ? 3 : 1;
  if (groups < least) {
    throw new UserError(
      "input",
      `hosmerLemeshow: needs at least ${least} group${
        least === 1 ? "" : "s"
      } with facilities (degrees of freedom = groups${
        inSample ? " − 2, in sample" : ", out of sample"
      }), got ${groups}`,
    );
  }
  const df = inSample ? groups - 2 : groups;
  return { statistic, pValue: chiSquareSurvival(statistic, df), df };
}

// ---------------------------------------------------------------------------
// Calibration by grade and traffic lights

/** One grade of a {@link calibrationTable}. */
export interface CalibrationRow {
  /** Grade name from the master scale. */
  grade: string;
  /** The grade's highest PD. */
  upperPd: number;
  /** Facilities in the grade. */
  count: number;
  /** Mean predicted PD of its facilities. */
  meanPd: number;
  /** Observed defaults. */
  defaults: number;
  /** Observed default rate: defaults / count. */
  defaultRate: number;
  /** Expected defaults: the sum of the PDs. */
  expectedDefaults: number;
  /** {@link binomialTest} p-value P(X >= defaults) at the mean PD. */
  pValue: number;
  /** Lower bound of the exact interval of the default rate. */
  rateLower: number;
  /** Upper bound of the exact interval of the default rate. */
  rateUpper: number;
}

/** What {@link calibrationTable} takes. */
export interface CalibrationInput {
  /** Predicted PD of each facility, in [0, 1]. */
  pd: ArrayLike<number>;
  /** Outcome of each facility, 0/1. */
  labels: Labels;
  /** The grades. @default DEFAULT_MASTER_SCALE */
  masterScale?: readonly MasterScaleGrade[];
  /** Confidence of the exact interval. @default 0.95 */
  confidence?: number;
}

/**
 * Calibration by grade: facilities grouped by the master scale, and for
 * each grade holding any, the count, mean PD, observed default rate,
 * expected and observed defaults, the binomial p-value and the exact
 * interval of the default rate. Grades without facilities are left out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { calibrationTable } from "./metrics.ts";
 * const rows = calibrationTable({
 *   pd: [0.01, 0.01, 0.3, 0.3],
 *   labels: [0, 0, 1, 0],
 *   masterScale: [{ grade: "A", upper_pd: 0.1 }, { grade: "B", upper_pd: 1 }],
 * });
 * assert.deepEqual(rows.map((r) => [r.grade, r.count, r.defaults]), [["A", 2, 0], ["B", 2, 1]]);
 * ```
 */
export function calibrationTable(input: CalibrationInput): CalibrationRow[] {
  const { pd, labels, masterScale = DEFAULT_MASTER_SCALE, confidence = 0.95 } =
    input;
  checkMasterScale(masterScale, "calibrationTable: masterScale");
  if (pd.length !== labels.length) {
    throw new UserError(
      "input",
      `calibrationTable: pd has ${pd.length} values but labels has ${labels.length}; they must be as long`,
    );
  }
  const k = masterScale.length;
  const count = new Float64Array(k), sumPd = new Float64Array(k);
  const defaults = new Float64Array(k);
  for (let i = 0; i < pd.length; i++) {
    const p = pd[i], y = labels[i];
    if (!(p >= 0 && p <= 1)) {
      throw new UserError(
        "input",
        `calibrationTable: pd at row ${i} is ${p}; a PD must be in [0, 1]`,
      );
    }
    if (y !== 0 && y !== 1) {
      throw new UserError(
        "input",
        `calibrationTable: label at row ${i} is ${y}; labels must be 0 or 1`,
      );
    }
    const g = gradeIndex(masterScale, p);
    count[g]++;
    sumPd[g] += p;
    defaults[g] += y;
  }
  const rows: CalibrationRow[] = [];
  for (let g = 0; g < k; g++) {
    if (count[g] === 0) continue;
    const n = count[g], d = defaults[g];
    const meanPd = Math.min(1, sumPd[g] / n);
    const [rateLower, rateUpper] = binomialInterval(
      { n, defaults: d },
      confidence,
    );
    rows.push({
      grade: masterScale[g].grade,
      upperPd: masterScale[g].upper_pd,
      count: n,
      meanPd,
      defaults: d,
      defaultRate: d / n,
      expectedDefaults: sumPd[g],
      pValue: upperTail(n, meanPd, d),
      rateLower,
      rateUpper,
    });
  }
  return rows;
}

/** The zone of a grade's backtest. */
export type TrafficLightZone = "green" | "yellow" | "red";

/**
 * Where a zone starts relative to the binomial quantile q of its level
 * (the smallest k with P(X <= k) >= level):
 * - `above-quantile`: from q + 1 defaults, i.e. when the binomial test's
 *   p-value P(X >= d) is at most 1 − level (PD back-testing: a grade is
 *   flagged only when its defaults exceed what the PD makes likely at
 *   that level; Tasche 2003);
 * - `at-quantile`: from q defaults, the literal reading of BCBS (1996)
 *   table 2 ("the probability of obtaining that number or fewer
 *   exceptions equals or exceeds 95%"), made for 250 days at a 1% VaR; for
 *   a grade whose expected defaults are well below 1, q is 0 and a grade
 *   without defaults would be yellow, hence not the default.
 */
export type TrafficLightBoundary = "above-quantile" | "at-quantile";

/** Where the zones start, as cumulative binomial probabilities. */
export interface TrafficLightLevels {
  /** The level of the yellow zone's quantile. @default 0.95 */
  yellow?: number;
  /** The level of the red zone's quantile. @default 0.999 */
  red?: number;
  /** Whether a zone starts above its quantile or at it. @default "above-quantile" */
  boundary?: TrafficLightBoundary;
}

/** One grade of a {@link trafficLight} backtest. */
export interface TrafficLightRow {
  /** Grade name (or the group's index when no names are given). */
  grade: string;
  /** Facilities. */
  n: number;
  /** Predicted PD. */
  pd: number;
  /** Observed defaults. */
  defaults: number;
  /** Expected defaults, n·pd. */
  expectedDefaults: number;
  /** P(X >= defaults): the binomial test's p-value. */
  pValue: number;
  /** P(X <= defaults): the cumulative binomial probability. */
  cumulative: number;
  /** The fewest defaults that are yellow (the yellow level's quantile, plus 1 above it). */
  yellowFrom: number;
  /** The fewest defaults that are red (the red level's quantile, plus 1 above it). */
  redFrom: number;
  /** green below `yellowFrom`, yellow below `redFrom`, else red. */
  zone: TrafficLightZone;
}

/** The smallest k with P(X <= k) >= level, X ~ Binomial(n, p). */
function binomialQuantile(n: number, p: number, level: number): number {
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (1 - upperTail(n, p, mid + 1) >= level) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Traffic-light backtest by grade (BCBS 1996 backtesting framework, as
 * used for PDs): for each grade with facilities, its defaults against
 * Binomial(n, pd): green up to the `yellow` quantile (95%), yellow above
 * it, red above the `red` quantile (99.9%), so a grade is yellow when the
 * binomial test's p-value is at most 5% and red when at most 0.1%
 * ({@link TrafficLightBoundary}). Grades with n = 0 are left out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trafficLight } from "./metrics.ts";
 * // BCBS (1996), table 2: 250 days at 1%: green to 4 exceptions, yellow
 * // 5 to 9, red from 10 (zones at the 95% and 99.99% quantiles).
 * const rows = trafficLight(
 *   { n: [250, 250, 250], pd: [0.01, 0.01, 0.01], defaults: [4, 5, 10] },
 *   { red: 0.9999, boundary: "at-quantile" },
 * );
 * assert.deepEqual(rows.map((r) => r.zone), ["green", "yellow", "red"]);
 * // A grade of 20 at a PD of 0.1%: no default is green, one is yellow.
 * const low = trafficLight({ n: [20, 20], pd: [0.001, 0.001], defaults: [0, 1] });
 * assert.deepEqual(low.map((r) => r.zone), ["green", "yellow"]);
 * ```
 */
export function trafficLight(
  figures: GradeFigures & { grades?: readonly string[] },
  { yellow = 0.95, red = 0.999, boundary = "above-quantile" }:
    TrafficLightLevels = {},
): TrafficLightRow[] {
  const k = checkGrades("trafficLight", figures);
  if (!(yellow > 0 && yellow < red && red < 1)) {
    throw new UserError(
      "input",
      `trafficLight: levels must satisfy 0 < yellow < red < 1, got yellow ${yellow}, red ${red}`,
    );
  }
  if (figures.grades !== undefined && figures.grades.length !== k) {
    throw new UserError(
      "input",
      `trafficLight: grades has ${figures.grades.length} names for ${k} groups`,
    );
  }
  if (boundary !== "above-quantile" && boundary !== "at-quantile") {
    throw new UserError(
      "input",
      `trafficLight: boundary must be above-quantile or at-quantile, got ${boundary}`,
    );
  }
  const shift = boundary === "above-quantile" ? 1 : 0;
  const rows: TrafficLightRow[] = [];
  for (let i = 0; i < k; i++) {
    const n = figures.n[i], p = figures.pd[i], d = figures.defaults[i];
    if (n === 0) continue;
    const yellowFrom = binomialQuantile(n, p, yellow) + shift;
    const redFrom = binomialQuantile(n, p, red) + shift;
    rows.push({
      grade: figures.grades?.[i] ?? String(i),
      n,
      pd: p,
      defaults: d,
      expectedDefaults: n * p,
      pValue: upperTail(n, p, d),
      cumulative: 1 - upperTail(n, p, d + 1),
      yellowFrom,
      redFrom,
      zone: d >= redFrom ? "red" : d >= yellowFrom ? "yellow" : "green",
    });
  }
  return rows;
}
