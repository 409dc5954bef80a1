/**
 * Small least-squares and logistic (IRLS) fits for the tests of the
 * development sample, written here from their textbook definitions
 * (normal equations; Newton-Raphson on the log-likelihood, McCullagh and
 * Nelder §2.5) so the checks do not rest on the library's own fitters.
 */

/** Solves `A x = b` (A symmetric positive definite) by Gaussian elimination with pivoting; returns x and A⁻¹'s diagonal. */
export function solve(
  a: number[][],
  b: number[],
): { x: number[]; invDiag: number[] } {
  const k = b.length;
  const m = a.map((
    row,
    i,
  ) => [
    ...row,
    ...Array.from({ length: k }, (_, j) => (i === j ? 1 : 0)),
    b[i],
  ]);
  for (let p = 0; p < k; p++) {
    let best = p;
    for (let r = p + 1; r < k; r++) {
      if (Math.abs(m[r][p]) > Math.abs(m[best][p])) best = r;
    }
    [m[p], m[best]] = [m[best], m[p]];
    const piv = m[p][p];
    if (Math.abs(piv) < 1e-300) throw new Error("singular");
    for (let c = p; c < m[p].length; c++) m[p][c] /= piv;
    for (let r = 0; r < k; r++) {
      if (r === p) continue;
      const f = m[r][p];
      if (f === 0) continue;
      for (let c = p; c < m[r].length; c++) m[r][c] -= f * m[p][c];
    }
  }
  return {
    x: m.map((row) => row[2 * k]),
    invDiag: m.map((row, i) => row[k + i]),
  };
}

/** Ordinary least squares of y on the rows of X (include a 1 column for an intercept). */
export function ols(
  X: number[][],
  y: number[],
): { beta: number[]; se: number[]; residualSd: number } {
  const k = X[0].length;
  const a = Array.from({ length: k }, () => new Array(k).fill(0));
  const b = new Array(k).fill(0);
  for (let i = 0; i < X.length; i++) {
    for (let p = 0; p < k; p++) {
      b[p] += X[i][p] * y[i];
      for (let q = 0; q < k; q++) a[p][q] += X[i][p] * X[i][q];
    }
  }
  const { x: beta, invDiag } = solve(a, b);
  let ss = 0;
  for (let i = 0; i < X.length; i++) {
    const f = X[i].reduce((s, v, j) => s + v * beta[j], 0);
    ss += (y[i] - f) ** 2;
  }
  const s2 = ss / (X.length - k);
  return {
    beta,
    se: invDiag.map((d) => Math.sqrt(d * s2)),
    residualSd: Math.sqrt(s2),
  };
}

/** Logistic regression of 0/1 y on X by Newton-Raphson to convergence; coefficients and standard errors. */
export function logistic(
  X: number[][],
  y: number[],
): { beta: number[]; se: number[] } {
  const k = X[0].length;
  let beta = new Array(k).fill(0);
  for (let it = 0; it < 50; it++) {
    const a = Array.from({ length: k }, () => new Array(k).fill(0));
    const g = new Array(k).fill(0);
    for (let i = 0; i < X.length; i++) {
      const eta = X[i].reduce((s, v, j) => s + v * beta[j], 0);
      const p = 1 / (1 + Math.exp(-eta));
      const w = p * (1 - p);
      for (let q = 0; q < k; q++) {
        g[q] += X[i][q] * (y[i] - p);
        for (let r = 0; r < k; r++) a[q][r] += w * X[i][q] * X[i][r];
      }
    }
    const { x: step, invDiag } = solve(a, g);
    beta = beta.map((v, j) => v + step[j]);
    if (Math.max(...step.map(Math.abs)) < 1e-10) {
      return { beta, se: invDiag.map(Math.sqrt) };
    }
  }
  throw new Error("logistic fit did not converge");
}
