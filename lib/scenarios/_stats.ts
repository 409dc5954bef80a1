/**
 * The few statistics the satellite model needs (docs/scenarios.md §3):
 * ordinary least squares with an intercept and its usual diagnostics,
 * Student's t and chi-squared tail probabilities. Small dense problems
 * (a handful of regressors, tens of years), so the normal equations are
 * solved directly: `X'X` by its Cholesky factor, and the special functions,
 * from lib/stats.ts (one implementation for the areas that fit models).
 *
 * References: W. H. Greene, Econometric Analysis, ch. 4-5 (OLS, standard
 * errors, R^2); Durbin and Watson (1950); Jarque and Bera (1980).
 *
 * @module
 */
import { cholesky, choleskyInverse, studentTwoSided } from "../stats.ts";

/** One OLS estimate. */
export interface OlsCoefficient {
  /** The estimate `b[j]`. */
  coefficient: number;
  /** `sqrt(s^2 [(X'X)^-1]_jj)`. */
  std_error: number;
  /** `b[j] / se[j]`. */
  t_stat: number;
  /** Two-sided p-value of `t` with `n - k` degrees of freedom. */
  p_value: number;
}

/** An OLS fit `y = X b + e` (X's first column the intercept). */
export interface OlsFit {
  /** The coefficients, intercept first. */
  coefficients: OlsCoefficient[];
  /** Observations. */
  n: number;
  /** Residual degrees of freedom `n - k`. */
  df: number;
  /** `1 - SSR / SST`. */
  r2: number;
  /** `1 - (1 - R^2) (n - 1) / (n - k)`. */
  adj_r2: number;
  /** Residual standard error `sqrt(SSR / (n - k))`. */
  sigma: number;
  /** `sum (e_t - e_{t-1})^2 / sum e_t^2`; about 2 without autocorrelation. */
  durbin_watson: number;
  /** `n/6 (S^2 + (K - 3)^2 / 4)` of the residuals. */
  jarque_bera: number;
  /** Its p-value, chi-squared with 2 degrees of freedom: `exp(-JB/2)`. */
  jarque_bera_p: number;
  /** `X b`. */
  fitted: number[];
  /** `y - X b`. */
  residuals: number[];
}

/**
 * OLS of `y` on the columns `x` with an intercept: `b = (X'X)^-1 X'y`,
 * `Var(b) = s^2 (X'X)^-1`, `s^2 = e'e / (n - k)` (Greene §4.3).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ols } from "./_stats.ts";
 * // y = 1 + 2x exactly: intercept 1, slope 2, R^2 1.
 * const fit = ols([3, 5, 7, 9.0001], [[1, 2, 3, 4]]);
 * assert.ok(Math.abs(fit.coefficients[1].coefficient - 2) < 1e-3);
 * ```
 */
export function ols(y: readonly number[], x: readonly number[][]): OlsFit {
  const n = y.length;
  const k = x.length + 1;
  if (n <= k) {
    throw new RangeError(
      `${n} observations cannot fit ${k} coefficients: need more years than coefficients`,
    );
  }
  const row = (t: number) => [1, ...x.map((col) => col[t])];
  const xtx = new Float64Array(k * k);
  const xty = new Array<number>(k).fill(0);
  for (let t = 0; t < n; t++) {
    const r = row(t);
    for (let i = 0; i < k; i++) {
      xty[i] += r[i] * y[t];
      for (let j = 0; j < k; j++) xtx[i * k + j] += r[i] * r[j];
    }
  }
  if (cholesky(xtx, k) >= 0) {
    throw new RangeError(
      "the regressors are collinear (X'X is singular): drop a variable or a lag",
    );
  }
  const flat = choleskyInverse(xtx, k);
  const inv = Array.from(
    { length: k },
    (_, i) => Array.from(flat.subarray(i * k, (i + 1) * k)),
  );
  const b = inv.map((r) => r.reduce((a, v, j) => a + v * xty[j], 0));
  const fitted = Array.from(
    { length: n },
    (_, t) => row(t).reduce((a, v, j) => a + v * b[j], 0),
  );
  const residuals = y.map((v, t) => v - fitted[t]);
  const ssr = residuals.reduce((a, e) => a + e * e, 0);
  const mean = y.reduce((a, v) => a + v, 0) / n;
  const sst = y.reduce((a, v) => a + (v - mean) ** 2, 0);
  const df = n - k;
  const s2 = ssr / df;
  const coefficients = b.map((coefficient, j) => {
    const std_error = Math.sqrt(s2 * inv[j][j]);
    const t_stat = coefficient / std_error;
    return {
      coefficient,
      std_error,
      t_stat,
      p_value: studentTwoSided(t_stat, df),
    };
  });
  const r2 = sst > 0 ? 1 - ssr / sst : 0;
  let dwNum = 0;
  for (let t = 1; t < n; t++) dwNum += (residuals[t] - residuals[t - 1]) ** 2;
  const { jb, p } = jarqueBera(residuals);
  return {
    coefficients,
    n,
    df,
    r2,
    adj_r2: 1 - (1 - r2) * (n - 1) / df,
    sigma: Math.sqrt(s2),
    durbin_watson: ssr > 0 ? dwNum / ssr : NaN,
    jarque_bera: jb,
    jarque_bera_p: p,
    fitted,
    residuals,
  };
}

/** Jarque-Bera statistic of a sample and its chi-squared(2) p-value. */
export function jarqueBera(e: readonly number[]): { jb: number; p: number } {
  const n = e.length;
  const mean = e.reduce((a, v) => a + v, 0) / n;
  let m2 = 0, m3 = 0, m4 = 0;
  for (const v of e) {
    const d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  if (m2 === 0) return { jb: 0, p: 1 };
  const skew = m3 / m2 ** 1.5;
  const kurt = m4 / (m2 * m2);
  const jb = n / 6 * (skew * skew + (kurt - 3) ** 2 / 4);
  return { jb, p: Math.exp(-jb / 2) };
}
