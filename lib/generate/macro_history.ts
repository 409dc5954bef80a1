/**
 * A macro history and a default-rate history driven by it with known
 * coefficients (docs/generator.md "Macro and default-rate history",
 * docs/scenarios.md §6), so that the satellite model of `lib/scenarios`
 * can be tested against the truth.
 *
 * Macro variables: independent AR(1) processes per region,
 * `x_t = m + phi (x_(t-1) - m) + s eps_t` ({@link MACRO_PROCESSES}).
 *
 * Default rates (Vasicek one-factor model of the Basel ASRF, methodology
 * §4): the credit-cycle index of region `r` in year `t` is
 * `Z_t = a_r + sum_k b_k x_k,r,(t - lag_k) + e_t`, `e_t ~ N(0, sd^2)` one
 * draw per region and year, with `a_r = -sum_k b_k mean_t(x_k,r)` so that
 * `Z` is centred on the history; a segment with PD `PD` and correlation
 * `rho` then has the conditional PD
 * `p_t = Phi((PhiInv(PD) - sqrt(rho) Z_t) / sqrt(1 - rho))`, and its
 * defaults are binomial(`obligors`, `p_t`) ({@link binomial}).
 *
 * Seeded (`random.ts`): the same options give the same histories.
 *
 * @module
 */
import { normCdf, normInv } from "../engine/mod.ts";
import { COUNTRIES, PRODUCTS } from "./catalogue.ts";
import { Rng } from "./random.ts";

/**
 * One yearly series (the shape of `lib/scenarios`' `MacroSeries`, so that
 * a generated history is a scenario file's `history`; declared here so
 * that the generator does not import the area that reads it).
 */
export interface GeneratedSeries {
  /** The years, contiguous. */
  years: number[];
  /** The value of each year, in percent. */
  values: number[];
  /** Where the figures come from. */
  source: string;
  /** Whether they are illustrative. */
  illustrative: boolean;
  /** Why. */
  why?: string;
}

/** Series by region and variable: `paths[region][variable]`. */
export type GeneratedPaths = Record<string, Record<string, GeneratedSeries>>;

/**
 * One segment's yearly defaults (the shape of `lib/scenarios`'
 * `GeneratedSegmentHistory`, the default-rate history CSV's rows).
 */
export interface GeneratedSegmentHistory {
  /** The segment key. */
  segment: string;
  /** Its region code. */
  region: string;
  /** The years, contiguous. */
  years: number[];
  /** Obligors at the start of each year. */
  obligors: number[];
  /** Defaults during each year. */
  defaults: number[];
}

/** An AR(1) process `x_t = m + phi (x_(t-1) - m) + s eps_t`, in percent. */
export interface MacroProcess {
  /** Long-run mean `m`. */
  mean: number;
  /** Persistence `phi`, in [0, 1). */
  phi: number;
  /** Innovation standard deviation `s`. */
  sd: number;
  /** Bounds the draws are clipped to (the scenario file's plausible bounds). */
  min: number;
  /** See `min`. */
  max: number;
}

/** The macro processes of the generated history (illustrative). */
export const MACRO_PROCESSES: Readonly<Record<string, MacroProcess>> = {
  gdp_growth: { mean: 2, phi: 0.3, sd: 2.5, min: -25, max: 25 },
  unemployment_rate: { mean: 10, phi: 0.8, sd: 1.5, min: 0.5, max: 40 },
  house_price_growth: { mean: 3, phi: 0.5, sd: 6, min: -40, max: 60 },
  policy_rate: { mean: 4, phi: 0.8, sd: 1.2, min: -0.5, max: 50 },
};

/** One known coefficient of the generating model. */
export interface KnownTerm {
  /** The macro variable. */
  variable: string;
  /** Its lag in years. */
  lag: number;
  /** `b_k`. */
  coefficient: number;
}

/**
 * The coefficients the sample's default-rate history is generated with
 * (illustrative, of the sizes published satellite models report): one
 * point of GDP growth moves `Z` by 0.2 standard deviations, one point of
 * unemployment a year earlier by -0.1, ten points of house-price growth a
 * year earlier by 0.3, one point of policy rate a year earlier by -0.08.
 */
export const SAMPLE_TERMS: readonly KnownTerm[] = [
  { variable: "gdp_growth", lag: 0, coefficient: 0.2 },
  { variable: "unemployment_rate", lag: 1, coefficient: -0.1 },
  { variable: "house_price_growth", lag: 1, coefficient: 0.03 },
  { variable: "policy_rate", lag: 1, coefficient: -0.08 },
];

/** Standard deviation of `e_t` of the sample's history. */
export const SAMPLE_NOISE_SD = 0.4;

/** Options of {@link generateMacroHistory}. */
export interface MacroHistoryOptions {
  /** Seed of the random stream. */
  seed: number;
  /** Region codes. */
  regions: readonly string[];
  /** First and last year. */
  years: readonly [first: number, last: number];
  /** The processes. @default MACRO_PROCESSES */
  processes?: Readonly<Record<string, MacroProcess>>;
}

/** The years `first..last`. */
const yearRange = ([first, last]: readonly [number, number]) =>
  Array.from({ length: last - first + 1 }, (_, i) => first + i);

/**
 * A seeded macro history: each variable of each region an AR(1) path
 * started at its mean, values rounded to 0.01 like a published series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateMacroHistory } from "./macro_history.ts";
 * const h = generateMacroHistory({ seed: 1, regions: ["ES"], years: [2001, 2010] });
 * assert.equal(h.ES.gdp_growth.values.length, 10);
 * assert.deepEqual(h, generateMacroHistory({ seed: 1, regions: ["ES"], years: [2001, 2010] }));
 * ```
 */
export function generateMacroHistory(
  options: MacroHistoryOptions,
): GeneratedPaths {
  const processes = options.processes ?? MACRO_PROCESSES;
  const years = yearRange(options.years);
  const out: GeneratedPaths = {};
  options.regions.forEach((region, r) => {
    out[region] = {};
    Object.entries(processes).forEach(([variable, p], v) => {
      const rng = new Rng(options.seed, 1000 + r * 16 + v);
      let x = p.mean;
      const values = years.map(() => {
        x = p.mean + p.phi * (x - p.mean) + p.sd * rng.normal();
        x = Math.min(p.max, Math.max(p.min, x));
        return Math.round(x * 100) / 100;
      });
      out[region][variable] = {
        years,
        values,
        source: "generated",
        illustrative: true,
        why: "generated by lib/generate/macro_history.ts",
      };
    });
  });
  return out;
}

/** One segment of a generated default-rate history. */
export interface GeneratedSegment {
  /** The segment key. */
  segment: string;
  /** Its region code. */
  region: string;
  /** Through-the-cycle PD. */
  pd_ttc: number;
  /** Asset correlation. */
  rho: number;
  /** Obligors at the start of every year. */
  obligors: number;
}

/** Options of {@link generateDefaultHistory}. */
export interface DefaultHistoryOptions {
  /** Seed of the random stream. */
  seed: number;
  /** The segments. */
  segments: readonly GeneratedSegment[];
  /** The known terms `b_k` (variables of `macro`). */
  terms: readonly KnownTerm[];
  /** Standard deviation of `e_t`. */
  noiseSd: number;
  /** Years of default rates: each needs the macro values at its lags. */
  years: readonly [first: number, last: number];
}

/** A generated default-rate history with the truth behind it. */
export interface GeneratedDefaultHistory {
  /** The segments' histories (the CSV of `lib/scenarios/history.ts`). */
  segments: GeneratedSegmentHistory[];
  /** `a_r` of each region. */
  intercepts: Record<string, number>;
  /** `Z_t` of each region, per year. */
  z: Record<string, number[]>;
  /** The years. */
  years: number[];
}

/** The draws {@link binomial} needs of a random stream (`random.ts`'s `Rng`). */
export interface RandomStream {
  /** A uniform draw in [0, 1). */
  uniform(): number;
  /** A standard normal draw. */
  normal(): number;
}

/**
 * A binomial draw: by inversion of the distribution function when
 * `n p (1 - p) < 100`, else the normal approximation (rounded, within
 * 0..n), whose error is below the sampling noise at that size. Above
 * `p = 0.5` it draws the non-events, `n - binomial(n, 1 - p)`, so that the
 * inversion's first term `(1 - p)^n` does not underflow to 0 near `p = 1`
 * (which would return `n` whatever the draw).
 */
export function binomial(rng: RandomStream, n: number, p: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  const variance = n * p * (1 - p);
  if (variance >= 100) {
    const k = Math.round(n * p + Math.sqrt(variance) * rng.normal());
    return Math.min(n, Math.max(0, k));
  }
  // Inversion: P[0] = (1 - p)^n, P[k+1] = P[k] (n - k) / (k + 1) p / (1 - p).
  const u = rng.uniform();
  let k = 0;
  let pk = Math.exp(n * Math.log1p(-p));
  let cum = pk;
  const ratio = p / (1 - p);
  while (u > cum && k < n) {
    pk *= (n - k) / (k + 1) * ratio;
    k++;
    cum += pk;
  }
  return k;
}

/**
 * A seeded default-rate history driven by `macro` with the known `terms`.
 *
 * @throws {RangeError} when `macro` lacks a region, variable or year the
 *   terms need.
 */
export function generateDefaultHistory(
  macro: GeneratedPaths,
  options: DefaultHistoryOptions,
): GeneratedDefaultHistory {
  const years = yearRange(options.years);
  const value = (region: string, variable: string, year: number) => {
    const s = macro[region]?.[variable];
    const i = s === undefined ? -1 : year - s.years[0];
    if (s === undefined || i < 0 || i >= s.values.length) {
      throw new RangeError(
        `the macro history has no ${variable} in ${region} for ${year}`,
      );
    }
    return s.values[i];
  };
  const regions = [...new Set(options.segments.map((s) => s.region))];
  const intercepts: Record<string, number> = {};
  const z: Record<string, number[]> = {};
  regions.forEach((region, r) => {
    const rng = new Rng(options.seed, 5000 + r);
    const systematic = years.map((y) =>
      options.terms.reduce(
        (a, t) => a + t.coefficient * value(region, t.variable, y - t.lag),
        0,
      )
    );
    const mean = systematic.reduce((a, v) => a + v, 0) / years.length;
    intercepts[region] = -mean;
    z[region] = systematic.map((v) =>
      v - mean + options.noiseSd * rng.normal()
    );
  });
  const segments = options.segments.map((s, g) => {
    const rng = new Rng(options.seed, 9000 + g);
    const threshold = normInv(s.pd_ttc);
    const defaults = z[s.region].map((zt) =>
      binomial(
        rng,
        s.obligors,
        normCdf((threshold - Math.sqrt(s.rho) * zt) / Math.sqrt(1 - s.rho)),
      )
    );
    return {
      segment: s.segment,
      region: s.region,
      years: [...years],
      obligors: years.map(() => s.obligors),
      defaults,
    };
  });
  return { segments, intercepts, z, years };
}

/**
 * Asset correlation of each product for the sample history (Basel IRB
 * retail values, BCBS CRE31.11-31.14: residential mortgages 0.15,
 * qualifying revolving 0.04, other retail 0.03-0.16; SMEs a corporate-like
 * 0.12).
 */
export const SAMPLE_RHO: Readonly<Record<string, number>> = {
  mortgage: 0.15,
  auto: 0.06,
  consumer: 0.05,
  credit_card: 0.04,
  sme: 0.12,
};

/**
 * Through-the-cycle PD of each product before the country factor
 * (illustrative, near the generator's band PDs for a mid band).
 */
export const SAMPLE_PD_TTC: Readonly<Record<string, number>> = {
  mortgage: 0.012,
  auto: 0.02,
  consumer: 0.03,
  credit_card: 0.035,
  sme: 0.025,
};

/**
 * The generator's segments (`<product>_<country>`, docs/generator.md) with
 * the sample's PD (times the country's PD factor), rho, and obligors
 * (`total` split by country and product weight), each mapped to its
 * country's region code (the code in capitals).
 */
export function sampleSegments(total = 200_000): GeneratedSegment[] {
  return COUNTRIES.flatMap((c) =>
    PRODUCTS.map((p) => ({
      segment: `${p.name}_${c.code}`,
      region: c.code.toUpperCase(),
      pd_ttc: Math.min(0.5, SAMPLE_PD_TTC[p.name] * c.pdFactor),
      rho: SAMPLE_RHO[p.name],
      obligors: Math.max(100, Math.round(total * c.weight * p.weight)),
    }))
  );
}
