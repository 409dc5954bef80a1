/**
 * Transition matrices (lib/transition_matrix.ts, lib/migration/matrix.ts,
 * methodology §13): validation lists every problem with its row and column
 * labels, powers give multi-period default probabilities computed by hand,
 * and the matrix exponential of a generator matches closed forms and an
 * independent series (uniformization) computed here.
 */
import assert from "node:assert/strict";
import {
  conditionalPds,
  cumulativePds,
  expm,
  matPow,
  parseMatrixText,
  transitionFromGenerator,
  validateMatrix,
} from "../../lib/migration/mod.ts";

// A small textbook chain: investment grade I, speculative grade S, default.
const TEXTBOOK = {
  states: ["I", "S", "D"],
  rows: [[0.90, 0.08, 0.02], [0.10, 0.80, 0.10], [0, 0, 1]],
};

Deno.test("matPow() gives the two-period default probabilities of a textbook chain, by hand", () => {
  // From I: default in year 1 (0.02), or survive to I then default
  // (0.90 * 0.02) or to S then default (0.08 * 0.10).
  const fromI = 0.02 + 0.90 * 0.02 + 0.08 * 0.10; // 0.046
  // From S: 0.10 + 0.10 * 0.02 + 0.80 * 0.10 = 0.182.
  const fromS = 0.10 + 0.10 * 0.02 + 0.80 * 0.10;
  const m2 = matPow(TEXTBOOK.rows, 2);
  assert.ok(Math.abs(m2[0][2] - 0.046) < 1e-15);
  assert.ok(Math.abs(m2[0][2] - fromI) < 1e-15);
  assert.ok(Math.abs(m2[1][2] - 0.182) < 1e-15);
  assert.ok(Math.abs(m2[1][2] - fromS) < 1e-15);
  // I -> I over two years: 0.9 * 0.9 + 0.08 * 0.1.
  assert.ok(Math.abs(m2[0][0] - 0.818) < 1e-15);
  const pd = cumulativePds(TEXTBOOK, 2);
  assert.equal(pd[0][1], m2[0][2]);
  // Conditional PD of year 2 from I: (0.046 - 0.02) / (1 - 0.02).
  const q = conditionalPds(TEXTBOOK, 2);
  assert.ok(Math.abs(q[0][1] - 0.026 / 0.98) < 1e-15);
  assert.equal(q[2][0], 1); // the default state itself
  assert.equal(q[2][1], 1);
  assert.deepEqual(matPow(TEXTBOOK.rows, 0), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
});

Deno.test("validateMatrix() lists every problem, each with its row and column labels", () => {
  const problems = validateMatrix({
    states: ["A", "B", "A", "D"],
    rows: [
      [0.9, 0.2, -0.1, 0], // negative, sums to 1
      [0.1, 0.8, 0.05], // 3 values, not square
      [0.3, 0.3, 0.3, 0.3], // sums to 1.2
      [0.1, 0, 0, 0.9], // default not absorbing (two cells)
    ],
  });
  assert.deepEqual(problems.map((p) => p.message), [
    "state A appears twice (states 1 and 3)",
    "row A, column A: -0.1 is negative",
    "row B: holds 3 values, expected 4 (one per state: A, B, A, D): the matrix must be square",
    "row A sums to 1.2, not 1 (within 1e-6): A -> A + A -> B + A -> A + A -> D must be 1",
    "row D: the default state D must be absorbing (D -> D = 1, 0 elsewhere), got D -> A = 0.1",
    "row D: the default state D must be absorbing (D -> D = 1, 0 elsewhere), got D -> D = 0.9",
  ]);
  assert.deepEqual(problems.map((p) => p.path), [
    ["states", 2],
    ["rows", 0, 2],
    ["rows", 1],
    ["rows", 2],
    ["rows", 3, 0],
    ["rows", 3, 3],
  ]);
  // Fewer rows than states, a value that is not a number, one state.
  assert.deepEqual(
    validateMatrix({
      states: ["A", "D"],
      rows: [[1, "x" as unknown as number]],
    })
      .map((p) => p.message),
    [
      "must hold one row per state (2: A, D), got 1: the matrix must be square",
      'row A, column D: must be a number, got "x"',
    ],
  );
  assert.match(
    validateMatrix({ states: ["D"], rows: [[1]] })[0].message,
    /needs at least two states/,
  );
  assert.deepEqual(validateMatrix(TEXTBOOK), []);
  // Within the tolerance: 1 - 5e-7 passes, 1 - 2e-6 does not.
  const near = (x: number) =>
    validateMatrix({ states: ["A", "D"], rows: [[x, 0.5], [0, 1]] }).length;
  assert.equal(near(0.5 - 5e-7), 0);
  assert.equal(near(0.5 - 2e-6), 1);
});

Deno.test("parseMatrixText() reads the CSV and YAML forms and refuses rows out of the header's order", () => {
  const csv = parseMatrixText(
    "from,I,S,D\nI,0.9,0.08,0.02\nS,0.1,0.8,0.1\nD,0,0,1\n",
    "m.csv",
  );
  assert.ok("matrix" in csv);
  assert.deepEqual(csv.matrix, TEXTBOOK);
  const yaml = parseMatrixText(
    "states: [I, S, D]\nrows:\n  - [0.9, 0.08, 0.02]\n  - [0.1, 0.8, 0.1]\n  - [0, 0, 1]\nmethod: cohort\n",
    "m.yaml",
  );
  assert.ok("matrix" in yaml);
  assert.deepEqual(yaml.matrix, TEXTBOOK);
  const swapped = parseMatrixText(
    "from,I,S,D\nS,0.1,0.8,0.1\nI,0.9,0.08,0.02\n",
    "m.csv",
  );
  assert.ok("problem" in swapped);
  assert.match(
    swapped.problem,
    /line 2: the row is labelled "S" but the header's state 1 is "I"/,
  );
  assert.ok("problem" in parseMatrixText("[1, 2]", "m.yaml"));
});

Deno.test("expm() of a two-state generator is its closed form [[e^-a, 1 - e^-a], [0, 1]]", () => {
  for (const a of [0.01, 0.2, 1, 3.7]) {
    const p = expm([[-a, a], [0, 0]]);
    assert.ok(Math.abs(p[0][0] - Math.exp(-a)) < 1e-14, `a = ${a}`);
    assert.ok(Math.abs(p[0][1] - -Math.expm1(-a)) < 1e-14, `a = ${a}`);
    assert.deepEqual(p[1], [0, 1]);
  }
});

/**
 * exp(Q) by uniformization, independently of expm(): with `lambda` at
 * least the largest exit rate, `P = I + Q / lambda` is a stochastic
 * matrix and `exp(Q) = sum_k e^-lambda lambda^k / k! P^k`.
 */
function uniformized(q: number[][]): number[][] {
  const n = q.length;
  const lambda = Math.max(...q.map((r, i) => -r[i])) || 1;
  const p = q.map((r, i) => r.map((v, j) => (i === j ? 1 : 0) + v / lambda));
  let pk = q.map((_, i) => q.map((_, j) => (i === j ? 1 : 0)));
  const out = q.map(() => new Array(n).fill(0));
  let weight = Math.exp(-lambda);
  for (let k = 0; k < 200; k++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) out[i][j] += weight * pk[i][j];
    }
    const next = q.map(() => new Array(n).fill(0));
    for (let i = 0; i < n; i++) {
      for (let l = 0; l < n; l++) {
        for (let j = 0; j < n; j++) next[i][j] += pk[i][l] * p[l][j];
      }
    }
    pk = next;
    weight *= lambda / (k + 1);
  }
  return out;
}

Deno.test("expm() of a three-state generator matches its uniformization series and the closed form of its first row", () => {
  // A -> B at 0.3, A -> D at 0.05, B -> A at 0.2, B -> D at 0.15.
  const q = [[-0.35, 0.3, 0.05], [0.2, -0.35, 0.15], [0, 0, 0]];
  const p = expm(q);
  const u = uniformized(q);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      assert.ok(
        Math.abs(p[i][j] - u[i][j]) < 1e-13,
        `${i},${j}: ${p[i][j]} vs ${u[i][j]}`,
      );
    }
  }
  // Closed form of the transient block T = [[-0.35, 0.3], [0.2, -0.35]]:
  // eigenvalues -0.35 ± sqrt(0.06), so exp(T)[A][A] = e^-0.35 cosh(sqrt 0.06).
  const s = Math.sqrt(0.06);
  assert.ok(Math.abs(p[0][0] - Math.exp(-0.35) * Math.cosh(s)) < 1e-14);
  assert.ok(
    Math.abs(p[0][1] - Math.exp(-0.35) * Math.sinh(s) * 0.3 / s) < 1e-14,
  );
  assert.ok(Math.abs(p[0][2] - (1 - p[0][0] - p[0][1])) < 1e-14);
  // As probabilities: rows sum to 1 and the result validates.
  const t = transitionFromGenerator(q);
  assert.deepEqual(validateMatrix({ states: ["A", "B", "D"], rows: t }), []);
  assert.deepEqual(t[2], [0, 0, 1]);
});

Deno.test("matrixWarnings: a non-default absorbing state is warned (its facilities never default)", async () => {
  const { matrixWarnings } = await import("../../lib/transition_matrix.ts");
  assert.deepEqual(
    matrixWarnings({
      states: ["A", "B", "D"],
      rows: [[0.9, 0.05, 0.05], [0, 1, 0], [0, 0, 1]],
    }),
    [
      "state B is absorbing (B -> B = 1): its facilities never default (PD 0 in every year); estimate its row from more data or set it by judgement",
    ],
  );
  assert.deepEqual(
    matrixWarnings({ states: ["A", "D"], rows: [[0.9, 0.1], [0, 1]] }),
    [],
  );
});
