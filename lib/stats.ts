/**
 * Special functions and small dense linear algebra shared by the areas
 * that fit models: the PD model's logistic regression and its metrics
 * (lib/pd_model) and the satellite model's OLS (lib/scenarios/_stats.ts).
 * One implementation of each:
 *
 * - `ln Gamma` by Lanczos' approximation (g = 7, 9 terms; about 15 digits,
 *   x >= 0.5), W. H. Press et al., Numerical Recipes 3rd ed. §6.1;
 * - the regularised upper incomplete gamma `Q(a, x)` (series below
 *   `a + 1`, Lentz's continued fraction above; Numerical Recipes §6.2),
 *   which gives the chi-squared survival function;
 * - the regularised incomplete beta `I_x(a, b)` by its continued fraction
 *   (modified Lentz; Numerical Recipes §6.4), which gives Student's t;
 * - the Cholesky factorisation of a symmetric positive definite matrix,
 *   its solves and its inverse (Golub & Van Loan, Matrix Computations,
 *   §4.2), singular when a pivot falls to {@link PIVOT_TOLERANCE} of its
 *   diagonal.
 *
 * @module
 */

const LN_2PI = Math.log(2 * Math.PI);

/** Relative Cholesky pivot below which a matrix counts as singular. */
export const PIVOT_TOLERANCE = 1e-10;

/**
 * `ln Gamma(x)` for `x >= 0.5` (Lanczos, g = 7, 9 terms; about 15 digits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lnGamma } from "./stats.ts";
 * // Gamma(5) = 4! = 24; Gamma(1/2) = sqrt(pi).
 * assert.ok(Math.abs(lnGamma(5) - Math.log(24)) < 1e-13);
 * assert.ok(Math.abs(lnGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-13);
 * ```
 */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * LN_2PI + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * The regularised upper incomplete gamma function `Q(a, x)`: the series
 * for `x < a + 1`, else Lentz's continued fraction (Numerical Recipes
 * §6.2). `P(chi2_df > x) = Q(df / 2, x / 2)`.
 */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - lnGamma(a));
  if (x < a + 1) {
    let ap = a, del = 1 / a, sum = del;
    for (let i = 0; i < 100_000; i++) {
      ap++;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * front);
  }
  const tiny = 1e-300;
  let b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (let i = 1; i < 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.min(1, front * h);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - (a + b) * x / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function `I_x(a, b)` for `a, b >= 0.5`. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) +
      b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? front * betaFraction(a, b, x) / a
    : 1 - front * betaFraction(b, a, 1 - x) / b;
}

/**
 * Two-sided p-value of Student's t with `df` degrees of freedom:
 * `P[|T| >= |t|] = I_{df/(df+t^2)}(df/2, 1/2)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { studentTwoSided } from "./stats.ts";
 * // t = 2.228 is the 97.5% quantile of t(10): two-sided p = 0.05.
 * assert.ok(Math.abs(studentTwoSided(2.228139, 10) - 0.05) < 1e-6);
 * ```
 */
export function studentTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * In-place Cholesky factorisation of the symmetric positive definite `a`
 * (p × p, row-major; lower triangle read and overwritten with L). Returns
 * the first column whose pivot is at or below {@link PIVOT_TOLERANCE} of
 * its diagonal, or -1.
 */
export function cholesky(a: Float64Array, p: number): number {
  for (let j = 0; j < p; j++) {
    const diag = a[j * p + j];
    let d = diag;
    for (let k = 0; k < j; k++) d -= a[j * p + k] * a[j * p + k];
    if (!(d > PIVOT_TOLERANCE * Math.abs(diag)) || diag <= 0) return j;
    const l = Math.sqrt(d);
    a[j * p + j] = l;
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j];
      for (let k = 0; k < j; k++) s -= a[i * p + k] * a[j * p + k];
      a[i * p + j] = s / l;
    }
  }
  return -1;
}

/** Solves L Lᵀ x = b with the first `m` rows/columns of the factor `l` (stride p). */
export function cholSolve(
  l: Float64Array,
  p: number,
  m: number,
  b: number[],
): number[] {
  const y = new Array<number>(m);
  for (let i = 0; i < m; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * p + k] * y[k];
    y[i] = s / l[i * p + i];
  }
  const x = new Array<number>(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < m; k++) s -= l[k * p + i] * x[k];
    x[i] = s / l[i * p + i];
  }
  return x;
}

/** The inverse of a matrix from its Cholesky factor (lower triangle of `l`). */
export function choleskyInverse(l: Float64Array, p: number): Float64Array {
  const inv = new Float64Array(p * p);
  for (let col = 0; col < p; col++) {
    const e = new Array<number>(p).fill(0);
    e[col] = 1;
    const x = cholSolve(l, p, p, e);
    for (let r = 0; r < p; r++) inv[r * p + col] = x[r];
  }
  return inv;
}
