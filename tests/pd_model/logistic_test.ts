/**
 * Logistic regression by Newton–Raphson (lib/pd_model/logistic.ts): closed
 * forms for a 2×2 table, recovery of known coefficients from simulated
 * data, the score equations at the estimate, and the refusals (separation,
 * singular design, no convergence).
 */
import assert from "node:assert/strict";
import { fitLogistic, INTERCEPT } from "../../lib/pd_model/logistic.ts";
import { UserError } from "../../lib/errors.ts";
import { Rng } from "../../lib/generate/random.ts";

/** Rows of a 2×2 table: x = 0 with b0 bads of n0, x = 1 with b1 bads of n1. */
function twoByTwo(n0: number, b0: number, n1: number, b1: number) {
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < n0; i++) x.push(0), y.push(i < b0 ? 1 : 0);
  for (let i = 0; i < n1; i++) x.push(1), y.push(i < b1 ? 1 : 0);
  return { x: Float64Array.from(x), y: Uint8Array.from(y) };
}

Deno.test("fitLogistic() on a 2×2 table gives the log odds ratio and Woolf's standard errors", () => {
  // x = 0: 30 bads, 170 goods; x = 1: 60 bads, 140 goods. The saturated
  // model's MLE is closed-form: β₀ = ln(30/170), β₁ = ln((60/140)/(30/170)),
  // SE(β₁) = sqrt(1/30 + 1/170 + 1/60 + 1/140) (Woolf 1955),
  // SE(β₀) = sqrt(1/30 + 1/170).
  const { x, y } = twoByTwo(200, 30, 200, 60);
  const fit = fitLogistic([x], y, { names: ["x"] });
  assert.deepEqual(fit.names, [INTERCEPT, "x"]);
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;
  assert.ok(close(fit.coefficients[0], Math.log(30 / 170)));
  assert.ok(close(fit.coefficients[1], Math.log((60 / 140) / (30 / 170))));
  assert.ok(close(fit.standardErrors[0], Math.sqrt(1 / 30 + 1 / 170)));
  assert.ok(
    close(
      fit.standardErrors[1],
      Math.sqrt(1 / 30 + 1 / 170 + 1 / 60 + 1 / 140),
    ),
  );
  // By hand: -1.734601, 0.887303, SE 0.251048.
  assert.ok(Math.abs(fit.coefficients[1] - 0.887303) < 1e-6);
  assert.ok(Math.abs(fit.standardErrors[1] - 0.251048) < 1e-6);
  // Log-likelihood of the saturated model: Σ n·[p ln p + (1-p) ln(1-p)] per cell.
  const cell = (n: number, b: number) =>
    b * Math.log(b / n) + (n - b) * Math.log(1 - b / n);
  assert.ok(close(fit.logLikelihood, cell(200, 30) + cell(200, 60)));
  assert.ok(close(fit.nullLogLikelihood, cell(400, 90)));
  assert.ok(fit.iterations >= 2 && fit.iterations < 10);
});

/**
 * Data from a known model: x1 ~ N(0, 1), x2 ~ Bernoulli(0.3),
 * x3 ~ U(-1, 1), logit P(y = 1) = -2 + 0.8 x1 - 0.5 x2 + 0.3 x3.
 */
const TRUE_BETA = [-2, 0.8, -0.5, 0.3];
function knownModel(n: number, seed: number) {
  const rng = new Rng(seed, 0);
  const x1 = new Float64Array(n),
    x2 = new Float64Array(n),
    x3 = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x1[i] = rng.normal();
    x2[i] = rng.chance(0.3) ? 1 : 0;
    x3[i] = rng.between(-1, 1);
    const eta = TRUE_BETA[0] + TRUE_BETA[1] * x1[i] + TRUE_BETA[2] * x2[i] +
      TRUE_BETA[3] * x3[i];
    y[i] = rng.chance(1 / (1 + Math.exp(-eta))) ? 1 : 0;
  }
  return { columns: [x1, x2, x3], y };
}

Deno.test("fitLogistic() recovers known coefficients within 3 standard errors, at a zero score", () => {
  const { columns, y } = knownModel(40000, 13);
  const fit = fitLogistic(columns, y, { names: ["x1", "x2", "x3"] });
  fit.coefficients.forEach((b, j) => {
    const z = (b - TRUE_BETA[j]) / fit.standardErrors[j];
    assert.ok(
      Math.abs(z) < 3,
      `${fit.names[j]}: ${b} vs ${TRUE_BETA[j]} (z = ${z})`,
    );
  });
  // The score equations Xᵀ(y − p) = 0 and the log-likelihood, by brute force.
  const grad = [0, 0, 0, 0];
  let ll = 0;
  for (let i = 0; i < y.length; i++) {
    const x = [1, columns[0][i], columns[1][i], columns[2][i]];
    const eta = x.reduce((s, v, j) => s + v * fit.coefficients[j], 0);
    const p = 1 / (1 + Math.exp(-eta));
    ll += y[i] ? Math.log(p) : Math.log(1 - p);
    x.forEach((v, j) => (grad[j] += (y[i] - p) * v));
  }
  for (const g of grad) assert.ok(Math.abs(g) < 1e-6, `score ${g}`);
  assert.ok(Math.abs(ll - fit.logLikelihood) < 1e-7 * Math.abs(ll));
  // The covariance is symmetric and its diagonal gives the standard errors.
  const p = 4;
  for (let a = 0; a < p; a++) {
    assert.ok(
      Math.abs(fit.covariance[a * p + a] - fit.standardErrors[a] ** 2) < 1e-15,
    );
    for (let b = 0; b < a; b++) {
      assert.ok(
        Math.abs(fit.covariance[a * p + b] - fit.covariance[b * p + a]) < 1e-12,
      );
    }
  }
});

const refusal = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
  assert.equal(e.kind, "check");
  assert.match(e.message, pattern);
  return true;
};

Deno.test("fitLogistic() refuses complete separation, naming the characteristic", () => {
  const { columns, y } = knownModel(2000, 5);
  const sep = Float64Array.from(
    y,
    (v, i) => (v ? 1 : -1) * (1 + Math.abs(columns[0][i])),
  );
  assert.throws(
    () => fitLogistic([columns[0], sep], y, { names: ["income", "flag"] }),
    refusal(/separation.*characteristic 'flag'/),
  );
});

Deno.test("fitLogistic() refuses quasi-complete separation, naming the characteristic", () => {
  // x = 1 only ever for defaulters (a third of them); x = 0 has both classes.
  const { columns, y } = knownModel(6000, 6);
  const quasi = Float64Array.from(y, (v, i) => (v && i % 3 === 0 ? 1 : 0));
  assert.throws(
    () =>
      fitLogistic([columns[0], quasi], y, { names: ["x1", "arrears_flag"] }),
    refusal(/quasi-complete separation.*'arrears_flag'/),
  );
});

Deno.test("fitLogistic() refuses a singular design, naming the collinear characteristic", () => {
  const { columns, y } = knownModel(3000, 7);
  const sum = Float64Array.from(columns[0], (v, i) => 2 * v - columns[2][i]);
  assert.throws(
    () =>
      fitLogistic([columns[0], columns[2], sum], y, { names: ["a", "b", "c"] }),
    refusal(
      /singular design: characteristic 'c' is a linear combination of 'a', 'b'/,
    ),
  );
  const constant = new Float64Array(3000).fill(4);
  assert.throws(
    () => fitLogistic([columns[0], constant], y, { names: ["a", "k"] }),
    refusal(/characteristic 'k' is constant \(collinear with the intercept\)/),
  );
});

Deno.test("fitLogistic() refuses to return an unconverged fit", () => {
  const { columns, y } = knownModel(3000, 8);
  assert.throws(
    () =>
      fitLogistic(columns, y, { names: ["x1", "x2", "x3"], maxIterations: 2 }),
    refusal(/did not converge in 2 iterations/),
  );
});

Deno.test("fitLogistic() refuses bad input: one class, a non-finite value, a bad target", () => {
  const x = Float64Array.from([1, 2, 3]);
  assert.throws(
    () => fitLogistic([x], Uint8Array.from([0, 0, 0])),
    (e) =>
      e instanceof UserError && e.kind === "input" &&
      /no defaults/.test(e.message),
  );
  assert.throws(
    () =>
      fitLogistic(
        [Float64Array.from([1, NaN, 3])],
        Uint8Array.from([0, 1, 0]),
        { names: ["ltv"] },
      ),
    (e) => e instanceof UserError && /'ltv', row 2: NaN/.test(e.message),
  );
  assert.throws(
    () => fitLogistic([x], Uint8Array.from([0, 3, 1])),
    (e) => e instanceof UserError && /row 2: 3 is not 0 or 1/.test(e.message),
  );
});

Deno.test("fitLogistic() fits, not refuses, a sample whose outlier row is predicted with certainty", () => {
  // One row far out (x1 = 60: η ≈ 46, p = 1 − 1e-20) that did default: the
  // MLE exists; the outlier must not read as separation.
  const { columns, y } = knownModel(20000, 21);
  const grow = (c: Float64Array, v: number) => Float64Array.from([...c, v]);
  const cols = [grow(columns[0], 60), grow(columns[1], 0), grow(columns[2], 0)];
  const target = Uint8Array.from([...y, 1]);
  const fit = fitLogistic(cols, target, { names: ["x1", "x2", "x3"] });
  fit.coefficients.forEach((b, j) => {
    assert.ok(
      Math.abs(b - TRUE_BETA[j]) < 3 * fit.standardErrors[j],
      `${fit.names[j]}: ${b}`,
    );
  });
});

Deno.test("fitLogistic() fits a valid strong model (β = 10 per SD, intercept −6, n = 20,000) instead of calling it separation", () => {
  // Bernoulli outcomes drawn from the model itself, so the MLE exists;
  // about 1% of rows have |η| > 30 (x < −2.4), which must not read as
  // separation. Several seeds, since the old rule failed on most.
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = new Rng(seed, 9);
    const n = 20000;
    const x = new Float64Array(n), y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = rng.normal();
      y[i] = rng.chance(1 / (1 + Math.exp(-(-6 + 10 * x[i])))) ? 1 : 0;
    }
    const fit = fitLogistic([x], y, { names: ["x"] });
    [-6, 10].forEach((truth, j) => {
      const z = (fit.coefficients[j] - truth) / fit.standardErrors[j];
      assert.ok(Math.abs(z) < 4, `seed ${seed}, ${fit.names[j]}: z = ${z}`);
    });
  }
});

Deno.test("fitLogistic() halves a Newton step that would lower the log-likelihood", () => {
  // A far-out design (x up to 40) where the first full Newton step from the
  // start overshoots; the fit must still reach the score equations' root.
  const rng = new Rng(11, 3);
  const n = 4000;
  const x = new Float64Array(n), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.chance(0.02) ? 40 * rng.uniform() : rng.normal();
    y[i] = rng.chance(1 / (1 + Math.exp(-(-2 + 0.8 * x[i])))) ? 1 : 0;
  }
  const fit = fitLogistic([x], y, { names: ["x"] });
  // Score equations at the estimate: Σ (y − p) = 0 and Σ x (y − p) = 0.
  let s0 = 0, s1 = 0;
  for (let i = 0; i < n; i++) {
    const pr = 1 /
      (1 + Math.exp(-(fit.coefficients[0] + fit.coefficients[1] * x[i])));
    s0 += y[i] - pr;
    s1 += x[i] * (y[i] - pr);
  }
  assert.ok(Math.abs(s0) < 1e-6 && Math.abs(s1) < 1e-6, `${s0}, ${s1}`);
});
