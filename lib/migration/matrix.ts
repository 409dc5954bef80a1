/**
 * Matrix arithmetic of rating migration: the matrix exponential that turns
 * a generator (intensity) matrix into a transition matrix over a horizon
 * (the duration method, Lando & Skødeberg 2002; docs/methodology.md §13),
 * beside the validation, products and powers of `lib/transition_matrix.ts`
 * (re-exported from `lib/migration/mod.ts`).
 *
 * @module
 */
import { identity, matMul } from "../transition_matrix.ts";

/** The largest absolute row sum of a matrix (its infinity norm). */
function normInf(a: readonly number[][]): number {
  let max = 0;
  for (const row of a) {
    let s = 0;
    for (const v of row) s += Math.abs(v);
    if (s > max) max = s;
  }
  return max;
}

/**
 * The matrix exponential `exp(A) = sum_k A^k / k!` by scaling and squaring
 * (Moler & Van Loan 2003, "Nineteen dubious ways", method 3): `A` is
 * divided by `2^s` until its norm is at most 1/2, the Taylor series of the
 * scaled matrix is summed until a term adds less than 1e-17 of the sum
 * (at most 30 terms), and the result is squared `s` times. For the
 * generator matrices of rating migration (norm a few units) this is
 * accurate to about 1e-15.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expm } from "./matrix.ts";
 * // A two-state generator: leave state 1 at rate 0.2, state 2 absorbing.
 * const p = expm([[-0.2, 0.2], [0, 0]]);
 * assert.ok(Math.abs(p[0][0] - Math.exp(-0.2)) < 1e-15);
 * assert.ok(Math.abs(p[0][1] - (1 - Math.exp(-0.2))) < 1e-15);
 * ```
 */
export function expm(a: readonly number[][]): number[][] {
  const n = a.length;
  const norm = normInf(a);
  if (!Number.isFinite(norm)) {
    throw new RangeError("expm: the matrix holds a value that is not finite");
  }
  let s = 0;
  while (norm / 2 ** s > 0.5) s++;
  const scaled = a.map((row) => row.map((v) => v / 2 ** s));
  let sum = identity(n);
  let term = identity(n);
  for (let k = 1; k <= 30; k++) {
    term = matMul(term, scaled).map((row) => row.map((v) => v / k));
    sum = sum.map((row, i) => row.map((v, j) => v + term[i][j]));
    if (normInf(term) <= 1e-17 * normInf(sum)) break;
  }
  for (let k = 0; k < s; k++) sum = matMul(sum, sum);
  return sum;
}

/**
 * A generator matrix's transition matrix over `t` years, `exp(t Q)`, as
 * probabilities: the rounding of the exponential (entries of -1e-18) is
 * floored at 0, and each row divided by its sum, so that every row sums to
 * 1 to the last bit that matters and the matrix passes `validateMatrix`.
 */
export function transitionFromGenerator(
  q: readonly number[][],
  t = 1,
): number[][] {
  const p = expm(q.map((row) => row.map((v) => v * t)));
  return p.map((row) => {
    const clean = row.map((v) => (v < 0 ? 0 : v));
    const sum = clean.reduce((x, y) => x + y, 0);
    return clean.map((v) => v / sum);
  });
}
