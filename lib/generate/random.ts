/**
 * A small seeded pseudo-random number generator for the synthetic portfolio:
 * xoshiro128** (Blackman and Vigna) seeded through splitmix32, with the few
 * distributions the generator draws from.
 *
 * `Math.random()` cannot be seeded, and the generator promises byte-identical
 * files for the same seed. Each batch of loans gets its own stream, seeded
 * from `(seed, stream)`, so the output does not depend on how batches are
 * scheduled.
 *
 * @module
 */

/** splitmix32 step: a well-mixed 32-bit value from a 32-bit state. */
function splitmix32(state: number): [next: number, value: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/**
 * Seeded random stream (xoshiro128**). Period 2^128 - 1; 32-bit outputs
 * combined into 53-bit uniforms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "./random.ts";
 * // The same seed and stream give the same draws; another stream does not.
 * assert.equal(new Rng(42, 0).uniform(), new Rng(42, 0).uniform());
 * assert.notEqual(new Rng(42, 0).uniform(), new Rng(42, 1).uniform());
 * ```
 */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  #spareNormal = NaN;

  /**
   * @param seed user seed (any 32-bit integer; larger values are reduced)
   * @param stream independent stream number, e.g. the batch index
   */
  constructor(seed: number, stream = 0) {
    if (!Number.isFinite(seed) || !Number.isFinite(stream)) {
      throw new RangeError(
        `Cannot seed random stream: seed ${seed} and stream ${stream} must be finite numbers`,
      );
    }
    // Mix both parts (each folded to 32 bits, keeping high bits of large seeds)
    // into the splitmix state, then draw the four xoshiro words from it.
    const fold = (x: number) =>
      (Math.trunc(x) ^ Math.trunc(x / 4294967296)) | 0;
    let st = fold(seed) ^ Math.imul(fold(stream) + 0x632be5ab, 0x9e3779b1);
    let v: number;
    [st, v] = splitmix32(st);
    this.#s0 = v | 0;
    [st, v] = splitmix32(st);
    this.#s1 = v | 0;
    [st, v] = splitmix32(st);
    this.#s2 = v | 0;
    [st, v] = splitmix32(st);
    this.#s3 = v | 0;
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s0 = this.#s0, s1 = this.#s1, s2 = this.#s2, s3 = this.#s3;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 = s2 ^ s0;
    this.#s3 = s3 ^ s1;
    this.#s1 = s1 ^ this.#s2;
    this.#s0 = s0 ^ this.#s3;
    this.#s2 ^= t;
    this.#s3 = (this.#s3 << 11) | (this.#s3 >>> 21);
    return result;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform on [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.uniform() < p;
  }

  /** Standard normal draw (Marsaglia polar method, pairs cached). */
  normal(): number {
    if (!Number.isNaN(this.#spareNormal)) {
      const z = this.#spareNormal;
      this.#spareNormal = NaN;
      return z;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.#spareNormal = v * f;
    return u * f;
  }

  /** Lognormal draw with the given median and log-scale sigma. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Gamma(shape, 1) draw (Marsaglia and Tsang; boost for shape < 1). */
  gamma(shape: number): number {
    if (shape < 1) {
      return this.gamma(shape + 1) * Math.pow(this.uniform(), 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b) draw, from two gamma draws. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    return x / (x + this.gamma(b));
  }

  /**
   * Index drawn from cumulative weights (`cum[k]` = sum of weights 0..k,
   * last entry the total; see {@link cumulative}).
   */
  pick(cum: ArrayLike<number>): number {
    const u = this.uniform() * cum[cum.length - 1];
    for (let k = 0; k < cum.length - 1; k++) if (u < cum[k]) return k;
    return cum.length - 1;
  }
}

/** Cumulative sums of weights, for {@link Rng.pick}. */
export function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let acc = 0;
  weights.forEach((w, k) => out[k] = acc += w);
  return out;
}
