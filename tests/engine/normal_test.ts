/**
 * Tests of the standard normal CDF and its inverse (methodology §4,
 * `z_shift`). Reference values computed with 40-digit arithmetic (mpmath
 * `ncdf` and a root of `ncdf(x) - p`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { normCdf, normInv } from "../../lib/engine/normal.ts";
import { relErr } from "./_helpers.ts";

const CDF: [number, number][] = [
  [-10, 7.619853024160526066e-24],
  [-5, 2.8665157187919391167e-7],
  [-3, 0.0013498980316300945267],
  [-1.5, 0.066807201268858066004],
  [-0.5, 0.30853753872598689636],
  [0.3, 0.61791142218895263307],
  [1, 0.84134474606854294859],
  [2.5, 0.99379033467422386483],
  [5, 0.99999971334842812081],
  [8, 0.9999999999999993779],
];

const INV: [number, number][] = [
  [1e-12, -7.0344838253011319298],
  [1e-6, -4.7534243088228989482],
  [0.001, -3.0902323061678135415],
  [0.02, -2.0537489106318230529],
  [0.3, -0.52440051270804078404],
  [0.75, 0.6744897501960817432],
  [0.975, 1.9599639845400542355],
  [0.999999, 4.7534243088170877657],
];

Deno.test("normCdf() matches 40-digit reference values to 1e-15 relative", () => {
  for (const [x, expected] of CDF) {
    const err = relErr(normCdf(x), expected);
    assert.ok(
      err < 1e-15,
      `Phi(${x}) = ${normCdf(x)}, expected ${expected} (rel ${err})`,
    );
  }
});

Deno.test("normCdf() is exactly 1/2 at 0 and symmetric", () => {
  assert.equal(normCdf(0), 0.5);
  for (const x of [0.1, 0.7, 1.3, 4, 6.5]) {
    // Phi(x) + Phi(-x) = 1 up to the rounding of the larger term.
    assert.ok(Math.abs(normCdf(x) + normCdf(-x) - 1) < 2e-16);
  }
  assert.equal(normCdf(-40), 0);
  assert.equal(normCdf(40), 1);
});

Deno.test("normInv() matches 40-digit reference values to 1e-15 relative", () => {
  for (const [p, expected] of INV) {
    const err = relErr(normInv(p), expected);
    assert.ok(
      err < 1e-15,
      `PhiInv(${p}) = ${normInv(p)}, expected ${expected} (rel ${err})`,
    );
  }
});

Deno.test("normInv() handles 0, 1/2, 1 and out-of-range input", () => {
  assert.equal(normInv(0), -Infinity);
  assert.equal(normInv(0.5), 0);
  assert.equal(normInv(1), Infinity);
  assert.ok(Number.isNaN(normInv(-0.1)));
  assert.ok(Number.isNaN(normInv(1.1)));
});

Deno.test("normInv() inverts normCdf() across the range", () => {
  // Phi's relative condition number is about x^2, so the round trip is
  // allowed x^2 ulp: 2e-13 at p = 1e-100 (x = -21.3).
  for (let e = -100; e < 0; e += 3) {
    const p = 10 ** e;
    const x = normInv(p);
    const tol = Math.max(1e-15, x * x * 4.5e-16);
    assert.ok(relErr(normCdf(x), p) < tol, `p = ${p}`);
  }
});
