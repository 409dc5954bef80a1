/**
 * Borrower characteristics of the synthetic book (docs/generator.md,
 * "Borrower characteristics"): `credit_score`, `debt_to_income`,
 * `employment_type` and `ltv` drawn at origination, and `months_on_book`
 * and the internal `rating` read at each snapshot.
 *
 * The draws come from a random stream of their own, so every column the
 * generator wrote before keeps its value; they are chosen so that the
 * joint distribution of the characteristics and the facility's default
 * propensity `η = logit(pd_12m_origination)` is the structural model of
 * {@link CHARACTERISTICS}:
 * `η = β0 + β'x + ε` with `E[ε | x] = 0`. How: the origination PD is
 * `exp(A + 0.25 z)` (clipped), `A` the band and country, `z` standard
 * normal. With `w` a fresh standard normal of the characteristics' stream,
 * `u = ρ z + √(1-ρ²) w` and `e = √(1-ρ²) z - ρ w` are independent standard
 * normals and `z = ρ u + √(1-ρ²) e`. The systematic propensity
 * `S = E[η | A, u]` (an expectation over `e`, integrated numerically)
 * is what the characteristics explain: employment and debt-to-income are
 * drawn around `S`, the LTV is the main stream's, and the credit score is
 * solved from `S = β0 + β'x`. Then `ε = η - S` has mean 0 given `(A, u)`
 * and so given the characteristics, which are functions of `(A, u)`, the
 * LTV and noise of their own; nothing is drawn from the outcome (the
 * quarterly migrations come later, from the main stream).
 *
 * @module
 */
import {
  CHARACTERISTICS,
  EMPLOYMENT_TYPES,
  ORIGINATION_PD,
  RATING_SCALE,
} from "./catalogue.ts";
import { daysInMonth, ymd } from "./calendar.ts";
import type { Rng } from "./random.ts";

const RHO = CHARACTERISTICS.systematicShare;
const SIGMA_E = ORIGINATION_PD.jitter * Math.sqrt(1 - RHO * RHO);
const logit = (p: number) => Math.log(p / (1 - p));
const clamp = (x: number, lo: number, hi: number) =>
  x < lo ? lo : x > hi ? hi : x;

/**
 * The idiosyncratic noise's standard deviation on the log-PD scale,
 * `0.25·√(1-ρ²)`; on the log-odds scale it is this over `1 - PD` (and 0
 * where the PD is clipped).
 */
export const NOISE_SD = SIGMA_E;

/**
 * `∫ logit(clip(exp(m + σ e))) φ(e) de` over e in [-9, 9] by Simpson's
 * rule, in three pieces split where the clip starts and ends, so each
 * piece is smooth (the tails beyond ±9 weigh below 1e-18).
 */
function integratedLogOdds(m: number): number {
  const lo = (Math.log(ORIGINATION_PD.min) - m) / SIGMA_E;
  const hi = (Math.log(ORIGINATION_PD.max) - m) / SIGMA_E;
  const cuts = [-9, clamp(lo, -9, 9), clamp(hi, -9, 9), 9];
  const f = (e: number) =>
    Math.exp(-0.5 * e * e) / Math.sqrt(2 * Math.PI) *
    logit(
      clamp(Math.exp(m + SIGMA_E * e), ORIGINATION_PD.min, ORIGINATION_PD.max),
    );
  let total = 0;
  for (let k = 0; k < 3; k++) {
    const [a, b] = [cuts[k], cuts[k + 1]];
    if (b <= a) continue;
    const n = 200, h = (b - a) / n;
    let s = f(a) + f(b);
    for (let j = 1; j < n; j++) s += (j % 2 ? 4 : 2) * f(a + j * h);
    total += s * h / 3;
  }
  return total;
}

// S(m) tabulated on first use on a grid (m from -14 to 2 in steps of
// 1/256) and interpolated linearly: integrating for every facility would
// slow the generation down by half. Interpolation error below 1e-5.
const TABLE_LO = -14, TABLE_HI = 2, TABLE_STEP = 1 / 256;
let table: Float64Array | undefined;

/**
 * `S = E[logit(clip(exp(m + σ e)))]` over a standard normal `e`, `σ` the
 * idiosyncratic part of the jitter: the propensity the characteristics
 * explain, given `m = A + 0.25 ρ u` (numerical integration, tabulated).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systematicLogOdds } from "./characteristics.ts";
 * // Far from the clips, logit(p) = ln p - ln(1 - p) is nearly ln p, and
 * // E[ln p] = m: a PD around 0.1% has S within 0.002 of m.
 * assert.ok(Math.abs(systematicLogOdds(Math.log(0.001)) - Math.log(0.001)) < 0.002);
 * ```
 */
export function systematicLogOdds(m: number): number {
  table ??= Float64Array.from(
    { length: Math.round((TABLE_HI - TABLE_LO) / TABLE_STEP) + 1 },
    (_, k) => integratedLogOdds(TABLE_LO + k * TABLE_STEP),
  );
  const x = (clamp(m, TABLE_LO, TABLE_HI) - TABLE_LO) / TABLE_STEP;
  const k = Math.min(Math.floor(x), table.length - 2);
  const f = x - k;
  return table[k] + f * (table[k + 1] - table[k]);
}

/** Characteristics drawn at origination. */
export interface DrawnCharacteristics {
  /** Whole points in `creditScoreRange`. */
  creditScore: number;
  /** Rounded to 4 decimals. */
  debtToIncome: number;
  /** Index into {@link EMPLOYMENT_TYPES}. */
  employment: number;
  /** Draws it took to fit the score range (1 almost always). */
  attempts: number;
}

const EMP_COEF = EMPLOYMENT_TYPES.map((t) =>
  CHARACTERISTICS.model.employment[t]
);
const MAX_ATTEMPTS = 50;
const CUM = new Float64Array(EMPLOYMENT_TYPES.length);

/**
 * Draws one facility's characteristics from the characteristics' own
 * stream `rng`.
 *
 * @param rng the batch's characteristics stream
 * @param lnBase `A`: ln of the band PD times the country factor
 * @param jitter `z`: the standard normal of the origination PD's jitter
 * @param sme whether the product is SME lending (a business borrower)
 * @param ltv loan-to-value at origination (rounded as written), NaN when
 *   unsecured
 */
export function drawCharacteristics(
  rng: Rng,
  lnBase: number,
  jitter: number,
  sme: boolean,
  ltv: number,
): DrawnCharacteristics {
  const c = CHARACTERISTICS;
  const b = c.model;
  const u = RHO * jitter + Math.sqrt(1 - RHO * RHO) * rng.normal();
  const s = systematicLogOdds(lnBase + ORIGINATION_PD.jitter * RHO * u);
  const tilt = s - c.riskCentre;
  const base = sme ? c.employment.sme : c.employment.retail;
  const cum = CUM; // reused: no allocation per facility
  let acc = 0;
  for (let k = 0; k < base.length; k++) {
    cum[k] = acc += base[k] * Math.exp(c.employment.tilt * EMP_COEF[k] * tilt);
  }
  const ltvTerm = Number.isNaN(ltv) ? 0 : b.ltv * ltv;
  const [lo, hi] = c.creditScoreRange;
  let raw = 0, dti = 0, emp = 0, attempts = 0;
  while (attempts < MAX_ATTEMPTS) {
    attempts++;
    emp = rng.pick(cum);
    const d = c.debtToIncome;
    dti = Math.round(
      clamp(d.mean + d.slope * tilt + d.sd * rng.normal(), d.min, d.max) * 1e4,
    ) / 1e4;
    raw = (s - b.intercept - b.debtToIncome * dti - EMP_COEF[emp] - ltvTerm) /
      b.creditScore;
    if (Math.round(raw) >= lo && Math.round(raw) <= hi) break;
  }
  return {
    creditScore: clamp(Math.round(raw), lo, hi),
    debtToIncome: dti,
    employment: emp,
    attempts,
  };
}

/**
 * The structural model's linear predictor `β0 + β'x` for one facility
 * (`ltv` NaN when unsecured): the log-odds of its origination PD up to ε.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearPredictor } from "./characteristics.ts";
 * // 6.8 - 0.0175·700 + 2·0.3 + 0.25 (self-employed) + 1·0.8 = -3.8
 * assert.ok(Math.abs(linearPredictor(700, 0.3, "self_employed", 0.8) + 3.8) < 1e-12);
 * ```
 */
export function linearPredictor(
  creditScore: number,
  debtToIncome: number,
  employmentType: string,
  ltv: number,
): number {
  const b = CHARACTERISTICS.model;
  const e = b.employment[employmentType as keyof typeof b.employment];
  if (e === undefined) {
    throw new RangeError(`unknown employment_type ${employmentType}`);
  }
  return b.intercept + b.creditScore * creditScore +
    b.debtToIncome * debtToIncome + e + (Number.isNaN(ltv) ? 0 : b.ltv * ltv);
}

/** Index into {@link RATING_SCALE} of a current 12-month PD. */
export function ratingIndex(pd: number): number {
  for (let k = 0; k < RATING_SCALE.length; k++) {
    if (pd <= RATING_SCALE[k].upper_pd) return k;
  }
  return RATING_SCALE.length - 1;
}

/**
 * Whole months from origination to the reporting date: the calendar
 * months between them, less one when the reporting day of month is before
 * the origination's, unless the reporting date is a month-end (originated
 * 2025-08-31, 1 month on book at 2025-09-30).
 */
export function monthsOnBook(orig: number, day: number): number {
  const [yo, mo, dO] = ymd(orig);
  const [y, m, d] = ymd(day);
  const months = 12 * (y - yo) + (m - mo);
  return d < dO && d !== daysInMonth(y, m) ? months - 1 : months;
}
