/**
 * Lifetime PDs from a transition matrix and their conditioning on a
 * credit-cycle index (lib/migration/lifetime.ts, methodology §13; Belkin,
 * Suchower & Forest 1998).
 */
import assert from "node:assert/strict";
import {
  conditionalMatrix,
  lifetimePds,
  validateMatrix,
} from "../../lib/migration/mod.ts";
import { normCdf, normInv } from "../../lib/engine/normal.ts";

// Four grades and default, rows summing to 1.
const M = {
  states: ["A", "B", "C", "E", "D"],
  rows: [
    [0.90, 0.07, 0.02, 0.008, 0.002],
    [0.05, 0.85, 0.07, 0.02, 0.01],
    [0.01, 0.08, 0.80, 0.07, 0.04],
    [0.00, 0.02, 0.10, 0.73, 0.15],
    [0, 0, 0, 0, 1],
  ],
};

Deno.test("lifetimePds() are monotone: cumulative PDs never fall, conditional PDs in [0, 1], worse grades above better ones", () => {
  const life = lifetimePds(M, 100);
  for (const l of life) {
    for (let y = 0; y < 100; y++) {
      if (y > 0) {
        assert.ok(l.cumulative[y] >= l.cumulative[y - 1], `${l.state} ${y}`);
      }
      assert.ok(l.conditional[y] >= 0 && l.conditional[y] <= 1);
      // q[y] from its definition.
      const before = y === 0 ? 0 : l.cumulative[y - 1];
      if (before < 1) {
        assert.ok(
          Math.abs(
            l.conditional[y] - (l.cumulative[y] - before) / (1 - before),
          ) < 1e-15,
        );
      }
    }
  }
  for (let g = 1; g < 4; g++) {
    assert.ok(life[g].cumulative[4] > life[g - 1].cumulative[4]);
  }
  // Every grade ends in default with time (an absorbing chain).
  for (let g = 0; g < 4; g++) assert.ok(life[g].cumulative[99] > 0.9);
  assert.deepEqual(life[4].conditional.slice(0, 3), [1, 1, 1]);
  // A matrix with problems is refused, listing them.
  assert.throws(
    () =>
      lifetimePds({ states: ["A", "D"], rows: [[0.5, 0.4], [0.1, 0.9]] }, 5),
    /3 problems\n {2}- row A sums to 0\.9.*\n {2}- row D: the default state D must be absorbing/,
  );
});

Deno.test("conditionalMatrix() with z > 0 lowers every grade's PD, z < 0 raises it; rows stay probabilities", () => {
  for (const z of [-2, -0.5, 0.5, 2]) {
    const c = conditionalMatrix(M, z, 0.15);
    assert.deepEqual(validateMatrix(c), []);
    const z0 = conditionalMatrix(M, 0, 0.15);
    for (let g = 0; g < 4; g++) {
      if (z > 0) assert.ok(c.rows[g][4] < z0.rows[g][4], `z ${z} grade ${g}`);
      else assert.ok(c.rows[g][4] > z0.rows[g][4], `z ${z} grade ${g}`);
    }
  }
  // Lifetime PDs along a good path are below those of the bad path.
  const good = lifetimePds(M, 5, { z: [1, 1, 0.5], rho: 0.15 });
  const bad = lifetimePds(M, 5, { z: [-1, -1, -0.5], rho: 0.15 });
  for (let g = 0; g < 4; g++) {
    assert.ok(good[g].cumulative[4] < bad[g].cumulative[4]);
  }
});

Deno.test("conditionalMatrix() applies the threshold formula: default column as methodology §4's z_shift, a middle cell by hand", () => {
  const rho = 0.2, z = -1.3;
  const c = conditionalMatrix(M, z, rho);
  const shift = (p: number) =>
    normCdf((normInv(p) - Math.sqrt(rho) * z) / Math.sqrt(1 - rho));
  // Row B: C[D] = 0.01, C[E..] = 0.03, C[C..] = 0.10, C[B..] = 0.95.
  const b = M.rows[1];
  const cD = shift(b[4]);
  const cE = shift(b[3] + b[4]);
  const cC = shift(b[2] + b[3] + b[4]);
  const cB = shift(b[1] + b[2] + b[3] + b[4]);
  assert.ok(Math.abs(c.rows[1][4] - cD) < 1e-15);
  assert.ok(Math.abs(c.rows[1][3] - (cE - cD)) < 1e-15);
  assert.ok(Math.abs(c.rows[1][2] - (cC - cE)) < 1e-15);
  assert.ok(Math.abs(c.rows[1][1] - (cB - cC)) < 1e-15);
  assert.ok(Math.abs(c.rows[1][0] - (1 - cB)) < 1e-15);
});

Deno.test("conditionalMatrix(): rho = 0 reproduces the unconditional matrix at any z; the average over z ~ N(0, 1) reproduces it for rho > 0", () => {
  for (const z of [-2, 0, 1.5]) {
    const c = conditionalMatrix(M, z, 0);
    for (let g = 0; g < 5; g++) {
      for (let j = 0; j < 5; j++) {
        assert.ok(Math.abs(c.rows[g][j] - M.rows[g][j]) < 1e-12);
      }
    }
  }
  // Integrate M(z) against the standard normal density on [-9, 9]
  // (Simpson's rule, 3,600 intervals).
  const rho = 0.15;
  const n = 3600, lo = -9, hi = 9, step = (hi - lo) / n;
  const avg = M.rows.map((r) => r.map(() => 0));
  for (let k = 0; k <= n; k++) {
    const z = lo + k * step;
    const w = (k === 0 || k === n ? 1 : k % 2 === 1 ? 4 : 2) * step / 3 *
      Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI);
    const c = conditionalMatrix(M, z, rho);
    for (let g = 0; g < 5; g++) {
      for (let j = 0; j < 5; j++) avg[g][j] += w * c.rows[g][j];
    }
  }
  for (let g = 0; g < 5; g++) {
    for (let j = 0; j < 5; j++) {
      assert.ok(
        Math.abs(avg[g][j] - M.rows[g][j]) < 1e-9,
        `${g},${j}: ${avg[g][j]}`,
      );
    }
  }
  // z = 0 is the median economy, not the average one: for PDs below 50%
  // the default column of M(0) is Phi(PhiInv(p) / sqrt(1 - rho)) < p.
  const median = conditionalMatrix(M, 0, rho);
  for (let g = 0; g < 4; g++) assert.ok(median.rows[g][4] < M.rows[g][4]);
});
