/**
 * Binary logistic regression fitted by maximum likelihood with
 * Newton–Raphson, which for the logistic model is iteratively reweighted
 * least squares (IRLS; McCullagh and Nelder, *Generalized Linear Models*,
 * 2nd ed. 1989, §4.4; Hosmer, Lemeshow and Sturdivant, *Applied Logistic
 * Regression*, 3rd ed. 2013, §1.3): the model of the champion scorecard
 * (issue 13, item 2), on the weights of evidence of its characteristics.
 *
 * Model: P(y = 1 | x) = 1 / (1 + exp(−η)), η = β₀ + Σ_j β_j x_j.
 *
 * Each iteration makes one pass over the rows, accumulating the gradient
 * Xᵀ(y − p), the information matrix XᵀWX (W = diag p(1 − p)) and the
 * log-likelihood, then takes the Newton step δ = (XᵀWX)⁻¹ Xᵀ(y − p)
 * through a Cholesky factorisation. Start: the intercept at the logit of
 * the sample default rate, the slopes at 0.
 *
 * - **Convergence**: when every step is small, max_j |δ_j| / (1 + |β_j|) <
 *   `tolerance`; the returned log-likelihood and standard errors are those
 *   at the final coefficients. Not converged within `maxIterations`: a
 *   {@link UserError} (`check`) naming the characteristic still moving.
 * - **Separation** (Albert and Anderson 1984, *Biometrika* 71:1): under
 *   complete or quasi-complete separation the maximum-likelihood estimate
 *   does not exist; Newton steps stay large while fitted probabilities of a
 *   subset of rows reach 0 or 1 numerically (|η| > 30, p(1 − p) < 1e-13)
 *   on their observed side. Seen on two iterations running whose steps do
 *   not shrink (the largest at least half the one before; near a maximum
 *   Newton's steps shrink quadratically), it is refused (`check`), naming
 *   the characteristic whose coefficient moves most (step × standard
 *   deviation).
 * - **Singular design**: a Cholesky pivot at or below 1e-10 of its diagonal
 *   means that column is (nearly) a linear combination of the columns
 *   before it (the intercept first); it is refused (`check`), naming that
 *   characteristic and the columns it depends on.
 * - Standard errors: the square roots of the diagonal of (XᵀWX)⁻¹ at the
 *   estimate (the inverse observed information).
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { cholesky, choleskyInverse, cholSolve } from "../stats.ts";

/** Name of the intercept in a fit's coefficient list. */
export const INTERCEPT = "(intercept)";

/** Options of {@link fitLogistic}. */
export interface LogisticOptions {
  /** Names of the columns, for messages and the result. @default x1, x2, … */
  names?: string[];
  /** Convergence: every step below this, relative to 1 + |β|. @default 1e-8 */
  tolerance?: number;
  /** Newton iterations allowed. @default 50 */
  maxIterations?: number;
}

/** A fitted logistic regression. */
export interface LogisticFit {
  /** The intercept's name, then the columns'. */
  names: string[];
  /** β₀ (intercept), then one per column. */
  coefficients: number[];
  /** Standard error of each coefficient. */
  standardErrors: number[];
  /** The covariance matrix of the coefficients, row-major, (p + 1)². */
  covariance: number[];
  /** Log-likelihood at the estimate. */
  logLikelihood: number;
  /** Log-likelihood of the intercept-only model (for a likelihood-ratio test). */
  nullLogLikelihood: number;
  /** Newton steps taken. */
  iterations: number;
  /** Rows fitted. */
  rows: number;
}

/** |η| beyond which a fitted probability counts as numerically 0 or 1. */
const EXTREME_ETA = 30;
/** Halvings of a Newton step that lowers the log-likelihood before it is taken as it is. */
const MAX_HALVINGS = 30;
/**
 * Consecutive iterations of a coefficient growing without its steps
 * shrinking, with rows at fitted 0 or 1, that count as separation.
 */
const SEPARATION_RUNS = 4;
// Cholesky factorisation, solves and inverse: lib/stats.ts (one
// implementation, shared with the satellite model's OLS); a pivot at or
// below PIVOT_TOLERANCE of its diagonal counts as singular.

interface Pass {
  /** XᵀWX, full symmetric, row-major. */
  info: Float64Array;
  gradient: number[];
  logLikelihood: number;
  /** Rows fitted numerically perfectly (|η| > 30 on the observed side). */
  perfect: number;
}

function pass(
  columns: Float64Array[],
  y: Uint8Array,
  beta: number[],
  withLogLikelihood: boolean,
): Pass {
  const m = columns.length, p = m + 1, n = y.length;
  // The lower triangle of XᵀWX, packed row by row: (0,0), (1,0), (1,1), …
  const packed = new Float64Array((p * (p + 1)) / 2);
  const grad = new Float64Array(p);
  const x = new Float64Array(p);
  x[0] = 1;
  const b = Float64Array.from(beta);
  let ll = 0, perfect = 0;
  for (let i = 0; i < n; i++) {
    let eta = b[0];
    for (let j = 1; j < p; j++) {
      const v = columns[j - 1][i];
      x[j] = v;
      eta += b[j] * v;
    }
    const e = Math.exp(-eta);
    const prob = 1 / (1 + e);
    const w = prob * (1 - prob);
    const yi = y[i];
    const r = yi - prob;
    if (withLogLikelihood) {
      // ln L_i = y·η − ln(1 + e^η) = −ln(1 + e^−η) − (1 − y)·η, with
      // e^−η already at hand (e^−η overflows only for η < −709, where
      // ln(1 + e^η) is 0 to double precision).
      ll += e < Infinity ? -Math.log1p(e) - (1 - yi) * eta : yi * eta;
    }
    if ((eta > EXTREME_ETA && yi === 1) || (eta < -EXTREME_ETA && yi === 0)) {
      perfect++;
    }
    let t = 0;
    for (let j = 0; j < p; j++) {
      const xj = x[j];
      grad[j] += r * xj;
      const wx = w * xj;
      for (let k = 0; k <= j; k++) packed[t++] += wx * x[k];
    }
  }
  const info = new Float64Array(p * p);
  for (let j = 0, t = 0; j < p; j++) {
    for (let k = 0; k <= j; k++, t++) {
      info[j * p + k] = packed[t];
      info[k * p + j] = packed[t];
    }
  }
  return { info, gradient: Array.from(grad), logLikelihood: ll, perfect };
}

function standardDeviation(c: Float64Array): number {
  let s = 0, s2 = 0;
  for (let i = 0; i < c.length; i++) {
    s += c[i];
    s2 += c[i] * c[i];
  }
  const mean = s / c.length;
  return Math.sqrt(Math.max(0, s2 / c.length - mean * mean));
}

const quote = (s: string) => `'${s}'`;

/**
 * Fits P(y = 1) = 1 / (1 + exp(−β₀ − Σ β_j x_j)) by Newton–Raphson (see the
 * module for convergence, separation and singularity).
 *
 * @param columns one `Float64Array` per regressor (no intercept; it is added)
 * @param target 0/1
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitLogistic } from "./logistic.ts";
 * // Two groups with default rates 1/4 and 1/2: β₀ = logit(1/4), β₁ = logit(1/2) − logit(1/4).
 * const x = Float64Array.from([0, 0, 0, 0, 1, 1, 1, 1]);
 * const y = Uint8Array.from([1, 0, 0, 0, 1, 1, 0, 0]);
 * const fit = fitLogistic([x], y, { names: ["x"] });
 * assert.ok(Math.abs(fit.coefficients[0] - Math.log(1 / 3)) < 1e-9);
 * assert.ok(Math.abs(fit.coefficients[1] - Math.log(3)) < 1e-9);
 * ```
 */
export function fitLogistic(
  columns: Float64Array[],
  target: Uint8Array,
  options: LogisticOptions = {},
): LogisticFit {
  const m = columns.length, p = m + 1, n = target.length;
  const names = options.names ?? columns.map((_, j) => `x${j + 1}`);
  const tolerance = options.tolerance ?? 1e-8;
  const maxIterations = options.maxIterations ?? 50;
  if (names.length !== m) {
    throw new UserError(
      "usage",
      `logistic regression: ${names.length} names for ${m} columns`,
    );
  }
  if (
    !(tolerance > 0) || !Number.isInteger(maxIterations) || maxIterations < 1
  ) {
    throw new UserError(
      "usage",
      `logistic regression: tolerance must be > 0 and maxIterations a whole number >= 1 (got ${tolerance}, ${maxIterations})`,
    );
  }
  let defaults = 0;
  for (let i = 0; i < n; i++) {
    if (target[i] > 1) {
      throw new UserError(
        "input",
        `the target, row ${i + 1}: ${target[i]} is not 0 or 1`,
      );
    }
    defaults += target[i];
  }
  if (n === 0 || defaults === 0 || defaults === n) {
    throw new UserError(
      "input",
      `the target has ${
        n === 0
          ? "no rows"
          : defaults === 0
          ? "no defaults (no 1s)"
          : "only defaults (no 0s)"
      }: a logistic regression needs both classes`,
    );
  }
  columns.forEach((c, j) => {
    if (c.length !== n) {
      throw new UserError(
        "input",
        `characteristic ${
          quote(names[j])
        }: ${c.length} values, the target ${n}`,
      );
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(c[i])) {
        throw new UserError(
          "input",
          `characteristic ${quote(names[j])}, row ${i + 1}: ${
            c[i]
          } is not a finite number`,
        );
      }
    }
  });
  const allNames = [INTERCEPT, ...names];
  const rate = defaults / n;
  const nullLogLikelihood = defaults * Math.log(rate) +
    (n - defaults) * Math.log(1 - rate);
  const beta = new Array<number>(p).fill(0);
  beta[0] = Math.log(rate / (1 - rate));
  let cur = pass(columns, target, beta, true);
  let lastStep: number[] | undefined;
  let stepSmall = false;
  // Separation watch (module docs): consecutive iterations on which the
  // same coefficient keeps growing in the same direction by steps that do
  // not shrink, while rows sit at fitted 0 or 1 and the log-likelihood's
  // gain does not grow (it tends to its finite limit).
  let growingRuns = 0;
  let previousGain = Infinity;
  let previousMover = -1;
  for (let iter = 0; iter <= maxIterations; iter++) {
    const info = cur.info.slice();
    const bad = cholesky(info, p);
    if (stepSmall) {
      if (bad >= 0) break; // cannot happen at a regular estimate; refused below
      const inv = choleskyInverse(info, p);
      return {
        names: allNames,
        coefficients: beta,
        standardErrors: beta.map((_, j) => Math.sqrt(inv[j * p + j])),
        covariance: Array.from(inv),
        logLikelihood: cur.logLikelihood,
        nullLogLikelihood,
        iterations: iter,
        rows: n,
      };
    }
    if (bad >= 0) {
      if (iter > 0 && cur.perfect > 0 && lastStep) {
        const j = mostMoving(lastStep, columns);
        throw new UserError(
          "check",
          `logistic regression: perfect or quasi-complete separation: fitted default probabilities reach 0 or 1 on ${cur.perfect} rows while the coefficient of characteristic ${
            quote(names[j])
          } grows; merge its bins, or drop it`,
        );
      }
      throw singular(cur.info, p, bad, allNames);
    }
    if (iter === maxIterations) break;
    const newton = cholSolve(info, p, p, cur.gradient);
    // Step-halving (Marquardt 1963; McCullagh and Nelder §2.5): a Newton
    // step that lowers the log-likelihood is halved until it does not.
    let t = 1;
    let trial = beta.map((b, j) => b + newton[j]);
    let next = pass(columns, target, trial, true);
    const slack = 1e-12 * (1 + Math.abs(cur.logLikelihood));
    for (
      let h = 0;
      h < MAX_HALVINGS && !(next.logLikelihood >= cur.logLikelihood - slack);
      h++
    ) {
      t /= 2;
      trial = beta.map((b, j) => b + t * newton[j]);
      next = pass(columns, target, trial, true);
    }
    const step = newton.map((d) => t * d);
    const gain = next.logLikelihood - cur.logLikelihood;
    const mover = mostMoving(step, columns);
    const prev = lastStep?.[mover + 1] ?? 0;
    const growing = next.perfect > 0 && next.perfect >= cur.perfect &&
      mover === previousMover &&
      Math.sign(step[mover + 1]) === Math.sign(prev) &&
      Math.abs(step[mover + 1]) >= 0.5 * Math.abs(prev) &&
      gain <= previousGain;
    growingRuns = growing ? growingRuns + 1 : 0;
    for (let j = 0; j < p; j++) beta[j] = trial[j];
    lastStep = step;
    previousGain = gain;
    previousMover = mover;
    cur = next;
    if (growingRuns >= SEPARATION_RUNS) {
      throw new UserError(
        "check",
        `logistic regression: perfect or quasi-complete separation: the fitted default probability of ${cur.perfect} of ${n} rows is numerically 0 or 1 and the coefficient of characteristic ${
          quote(names[mover])
        } keeps growing (${beta[mover + 1].toPrecision(4)} after ${
          iter + 1
        } iterations) while the log-likelihood levels off; ${
          quote(names[mover])
        } (nearly) decides the target on part of the sample: merge its bins, or drop it`,
      );
    }
    stepSmall = step.every((d, j) =>
      Math.abs(d) / (1 + Math.abs(beta[j])) < tolerance
    );
  }
  const j = lastStep ? mostMoving(lastStep, columns) : 0;
  throw new UserError(
    "check",
    `logistic regression did not converge in ${maxIterations} iterations (tolerance ${tolerance}): the coefficient of characteristic ${
      quote(names[j] ?? INTERCEPT)
    } still moves by ${
      lastStep ? Math.abs(lastStep[j + 1]).toPrecision(3) : "?"
    } per step; raise the iteration limit or check that characteristic`,
  );
}

/** Index (among the columns) of the characteristic whose step moves η most. */
function mostMoving(step: number[], columns: Float64Array[]): number {
  let best = 0, bestSize = -1;
  columns.forEach((c, j) => {
    const size = Math.abs(step[j + 1]) * standardDeviation(c);
    if (size > bestSize) {
      bestSize = size;
      best = j;
    }
  });
  return best;
}

/** The error for a singular design at column `j`, naming what it depends on. */
function singular(
  info: Float64Array,
  p: number,
  j: number,
  names: string[],
): UserError {
  if (j === 0) {
    return new UserError(
      "check",
      "logistic regression: singular design: the intercept has no information (no rows?)",
    );
  }
  // Solve A[<j,<j] c = A[<j, j] for the combination of earlier columns.
  const a = info.slice();
  cholesky(a, p); // the first j pivots are regular
  const rhs = Array.from({ length: j }, (_, k) => info[k * p + j]);
  const c = cholSolve(a, p, j, rhs);
  const scale = Math.max(...c.map(Math.abs), 1e-300);
  const on = c.flatMap((v, k) =>
    Math.abs(v) > 1e-6 * scale
      ? [names[k] === INTERCEPT ? "the intercept" : quote(names[k])]
      : []
  );
  // A zero column depends on nothing (c = 0): constant too.
  const what = on.length === 0 || (on.length === 1 && on[0] === "the intercept")
    ? "is constant (collinear with the intercept)"
    : `is a linear combination of ${on.join(", ")}`;
  return new UserError(
    "check",
    `logistic regression: singular design: characteristic ${
      quote(names[j])
    } ${what}; drop it or one of those`,
  );
}
