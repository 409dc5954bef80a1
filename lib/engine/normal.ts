/**
 * The standard normal distribution function `Phi` and its inverse `PhiInv`,
 * to double precision, for the Vasicek `z_shift` scenario adjustment of
 * methodology §4:
 * `q[s,y] = Phi((PhiInv(q[y]) - sqrt(rho) * z[s,y]) / sqrt(1 - rho))`.
 *
 * Two implementations of the methodology must agree to 1e-9 relative on every
 * loan, so the textbook five-digit approximations (Abramowitz-Stegun 26.2.17,
 * Acklam alone) are not good enough: `normCdf` uses W. J. Cody's rational
 * Chebyshev approximations of erf/erfc (ACM TOMS Algorithm 715, the form R's
 * `pnorm` uses), written for the normal distribution directly so that the
 * argument is never divided by sqrt(2) (that rounding would cost up to
 * x^2 ulp in the tails). `normInv` starts from Acklam's approximation
 * (relative error 1.15e-9) and polishes it with Halley steps on `normCdf` (one
 * suffices except in the far tail), which converge cubically and leaves only `normCdf`'s own rounding.
 *
 * @module
 */

// Cody (1969, 1993) coefficients, as in R's nmath/pnorm.c.
const A = [
  2.2352520354606839287,
  161.02823106855587881,
  1067.6894854603709582,
  18154.981253343561249,
  0.065682337918207449113,
];
const B = [
  47.20258190468824187,
  976.09855173777669322,
  10260.932208618978205,
  45507.789335026729956,
];
const C = [
  0.39894151208813466764,
  8.8831497943883759412,
  93.506656132177855979,
  597.27027639480026226,
  2494.5375852903726711,
  6848.1904505362823326,
  11602.651437647350124,
  9842.7148383839780218,
  1.0765576773720192317e-8,
];
const D = [
  22.266688044328115691,
  235.38790178262499861,
  1519.377599407554805,
  6485.558298266760755,
  18615.571640885098091,
  34900.952721145977266,
  38912.003286093271411,
  19685.429676859990727,
];
const P = [
  0.21589853405795699,
  0.1274011611602473639,
  0.022235277870649807,
  0.001421619193227893466,
  2.9112874951168792e-5,
  0.02307344176494017303,
];
const Q = [
  1.28426009614491121,
  0.468238212480865118,
  0.0659881378689285515,
  0.00378239633202758244,
  7.29751555083966205e-5,
];
const M_1_SQRT_2PI = 0.398942280401432677939946059934;
const M_SQRT_32 = 5.656854249492380195206754896838;
const SQRT_2PI = 2.506628274631000502415765284811;

/**
 * `exp(-x^2 / 2) * factor`, with `x^2` split into an exactly representable
 * part (x truncated to 1/16) and a small remainder, as Cody does, so the
 * exponential of a large argument keeps full relative precision.
 */
function gaussTail(x: number, factor: number): number {
  const xsq = Math.trunc(x * 16) / 16;
  const del = (x - xsq) * (x + xsq);
  return Math.exp(-xsq * xsq * 0.5) * Math.exp(-del * 0.5) * factor;
}

/**
 * Standard normal distribution function `Phi(x) = P[Z <= x]`, relative error
 * about 1e-15 over the whole range where the result is a normal double
 * (x > -37.5); 0 below, 1 above 8.29 (where `1 - Phi(x)` < 2^-53).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normCdf } from "./normal.ts";
 * assert.equal(normCdf(0), 0.5);
 * assert.ok(Math.abs(normCdf(1.959963984540054) - 0.975) < 1e-15);
 * ```
 */
export function normCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= 0.67448975) {
    // Central range: Phi(x) = 1/2 + x * R(x^2).
    let xnum = 0;
    let xden = 0;
    if (y > 1.1102230246251565e-16) {
      const xsq = x * x;
      xnum = A[4] * xsq;
      xden = xsq;
      for (let i = 0; i < 3; i++) {
        xnum = (xnum + A[i]) * xsq;
        xden = (xden + B[i]) * xsq;
      }
    }
    return 0.5 + x * (xnum + A[3]) / (xden + B[3]);
  }
  let tail: number; // P[Z > |x|]
  if (y <= M_SQRT_32) {
    let xnum = C[8] * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + C[i]) * y;
      xden = (xden + D[i]) * y;
    }
    tail = gaussTail(y, (xnum + C[7]) / (xden + D[7]));
  } else if (y < 37.5193) {
    const xsq = 1 / (x * x);
    let xnum = P[5] * xsq;
    let xden = xsq;
    for (let i = 0; i < 4; i++) {
      xnum = (xnum + P[i]) * xsq;
      xden = (xden + Q[i]) * xsq;
    }
    const r = xsq * (xnum + P[4]) / (xden + Q[4]);
    tail = gaussTail(y, (M_1_SQRT_2PI - r) / y);
  } else {
    tail = 0;
  }
  return x > 0 ? 1 - tail : tail;
}

// Acklam's rational approximation of the normal quantile.
const AA = [
  -3.969683028665376e+01,
  2.209460984245205e+02,
  -2.759285104469687e+02,
  1.383577518672690e+02,
  -3.066479806614716e+01,
  2.506628277459239e+00,
];
const AB = [
  -5.447609879822406e+01,
  1.615858368580409e+02,
  -1.556989798598866e+02,
  6.680131188771972e+01,
  -1.328068155288572e+01,
];
const AC = [
  -7.784894002430293e-03,
  -3.223964580411365e-01,
  -2.400758277161838e+00,
  -2.549732539343734e+00,
  4.374664141464968e+00,
  2.938163982698783e+00,
];
const AD = [
  7.784695709041462e-03,
  3.224671290700398e-01,
  2.445134137142996e+00,
  3.754408661907416e+00,
];
const P_LOW = 0.02425;

/** Acklam's approximation for `0 < p <= 0.5` (relative error < 1.15e-9). */
function acklamLower(p: number): number {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((AC[0] * q + AC[1]) * q + AC[2]) * q + AC[3]) * q + AC[4]) * q +
      AC[5]) /
      ((((AD[0] * q + AD[1]) * q + AD[2]) * q + AD[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (((((AA[0] * r + AA[1]) * r + AA[2]) * r + AA[3]) * r + AA[4]) * r +
    AA[5]) *
    q /
    (((((AB[0] * r + AB[1]) * r + AB[2]) * r + AB[3]) * r + AB[4]) * r + 1);
}

/**
 * Inverse standard normal distribution function: the `x` with
 * `Phi(x) = p`; `-Infinity` at 0, `+Infinity` at 1, NaN outside [0, 1].
 *
 * For `p > 0.5` it returns `-PhiInv(1 - p)`: `1 - p` is exact there
 * (Sterbenz), and the Halley step then works on the accurate lower tail
 * rather than on `Phi(x) - p` near 1, where the difference cancels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normInv } from "./normal.ts";
 * assert.ok(Math.abs(normInv(0.975) - 1.959963984540054) < 1e-15);
 * ```
 */
export function normInv(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (p > 0.5) return -normInv(1 - p);
  let x = acklamLower(p);
  // Halley's method on f(x) = Phi(x) - p (f' = phi(x), f''/f' = -x). One
  // step suffices down to p ~ 1e-20; the far tail, where Acklam's start is
  // cruder, takes a second or third.
  for (let i = 0; i < 3; i++) {
    const e = normCdf(x) - p;
    const u = e * SQRT_2PI * Math.exp(x * x / 2);
    const step = u / (1 + x * u / 2);
    // Below p ~ 5e-311 (a subnormal PD) phi(x) underflows: e * exp(x^2/2)
    // is 0 * Infinity, NaN. Acklam's start (relative error < 1.15e-9)
    // stands there rather than a NaN probit.
    if (!Number.isFinite(step)) break;
    x -= step;
    // Cubic convergence: after a step below 1e-6 relative, the error left
    // is of order step^3, far below the rounding of normCdf.
    if (Math.abs(step) <= 1e-6 * Math.abs(x)) break;
  }
  return x;
}
