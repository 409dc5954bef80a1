/**
 * The satellite model (docs/scenarios.md §3): the credit-cycle index of
 * each segment, read off its default rates through the Vasicek one-factor
 * model of the Basel ASRF (Vasicek 2002, "The distribution of loan
 * portfolio value"; BCBS, "An explanatory note on the Basel II IRB risk
 * weight functions", 2005), regressed on lagged macro variables.
 *
 * In year `t` a segment with through-the-cycle PD `PD` and asset
 * correlation `rho` defaults at the rate
 * `DR_t = Phi((PhiInv(PD) - sqrt(rho) Z_t) / sqrt(1 - rho))`, which is
 * methodology §4's `z_shift` formula with `q = PD` and `z = Z_t`. Inverted,
 *
 *   `Z_t = (PhiInv(PD) - sqrt(1 - rho) PhiInv(DR_t)) / sqrt(rho)`,
 *
 * positive in a good year (fewer defaults), like methodology §4's `z`.
 * `PD` and `rho` are given per segment or estimated by maximum likelihood
 * (Vasicek's distribution: `PhiInv(DR_t)` is normal with mean
 * `PhiInv(PD) / sqrt(1 - rho)` and variance `rho / (1 - rho)`, so
 * `rho = s^2 / (1 + s^2)`, `PD = Phi(m sqrt(1 - rho))` with `m`, `s^2` the
 * sample mean and (1/n) variance of `PhiInv(DR_t)`).
 *
 * `Z_t = a + sum_k b_k x_k,(t - lag_k) + e_t` is fitted by OLS with an
 * intercept (`_stats.ts`) on the macro history of the segment's region;
 * the variables and lags are chosen as docs/scenarios.md §3 describes
 * ({@link SatelliteOptions}), or given. Each coefficient's sign is checked
 * against economics ({@link EXPECTED_SIGNS}) and its significance against
 * `alpha`; a wrong sign or an insignificant term is a warning of the fit.
 *
 * @module
 */
import { normCdf, normInv } from "../engine/mod.ts";
import { UserError } from "../errors.ts";
import type { DefaultRateHistory, SegmentHistory } from "./history.ts";
import {
  macroValue,
  type MacroVariable,
  type ScenarioFile,
} from "./scenario_file.ts";
import { ols, type OlsCoefficient } from "./_stats.ts";

/**
 * The sign economics expects of each variable's effect on `Z` (a good
 * economy is positive): growth and house prices +, unemployment, policy
 * rates and inflation -.
 */
export const EXPECTED_SIGNS: Readonly<Record<string, 1 | -1>> = {
  gdp_growth: 1,
  unemployment_rate: -1,
  house_price_growth: 1,
  policy_rate: -1,
  inflation: -1,
};

/**
 * Largest lag tried, in years: 4. Credit losses follow the cycle by one to
 * two years; every lag costs a year of the sample.
 */
export const MAX_LAG = 4;

/** The lags tried unless said otherwise: 0, 1 and 2 years. */
export const DEFAULT_MAX_LAG = 2;

/** Significance level of the coefficient tests unless said otherwise. */
export const DEFAULT_ALPHA = 0.05;

/**
 * Defaults counted in a year without any (and non-defaults in a year where
 * all defaulted): half an obligor, so that `PhiInv(DR)` stays finite (the
 * usual continuity correction); documented in docs/scenarios.md §3.
 */
export const ZERO_COUNT_CORRECTION = 0.5;

/** Most rounds of the lag refinement of the selection (docs/scenarios.md §3). */
export const MAX_REFINEMENT_ROUNDS = 5;

/**
 * Smallest asset correlation a fit accepts: 1e-4 (the standard deviation
 * of `PhiInv(DR)` about 0.01; published retail and corporate `rho` are
 * 0.02-0.3). Below it the default rate hardly varies (a segment without
 * defaults gives 0 up to rounding) and `Z` carries no signal: the segment
 * is skipped (docs/scenarios.md §3).
 */
export const MIN_ESTIMATED_RHO = 1e-4;

/** Fewest years of regression sample: 8 (a handful of coefficients). */
export const MIN_SAMPLE_YEARS = 8;

/** One regressor: a variable at a lag. */
export interface LaggedVariable {
  /** The macro variable. */
  variable: MacroVariable;
  /** Years by which it leads `Z` (0 to {@link MAX_LAG}). */
  lag: number;
}

/** One fitted term of a segment's regression. */
export interface SatelliteTerm extends LaggedVariable, OlsCoefficient {
  /** The sign economics expects ({@link EXPECTED_SIGNS}). */
  expected_sign: 1 | -1;
  /** Whether the estimate has it. */
  sign_ok: boolean;
  /** Whether `p_value < alpha`. */
  significant: boolean;
}

/** One segment's fit. */
export interface SegmentFit {
  /** The segment. */
  segment: string;
  /** Its region code (scenario file). */
  region: string;
  /** Through-the-cycle PD used for `Z`. */
  pd_ttc: number;
  /** Asset correlation used for `Z` (written as the segment's `rho`). */
  rho: number;
  /** Which of `pd_ttc` and `rho` were estimated (else given). */
  estimated: { pd_ttc: boolean; rho: boolean };
  /** Weight of the segment in the combined `z` (docs/scenarios.md §4). */
  weight: number;
  /** The regression's years. */
  years: number[];
  /** Observed default rate of each year. */
  default_rate: number[];
  /** `Z_t` of each year. */
  z: number[];
  /** Fitted `Z_t`. */
  fitted: number[];
  /** The intercept `a`. */
  intercept: OlsCoefficient;
  /** The terms, in the order chosen. */
  terms: SatelliteTerm[];
  /** Observations. */
  n: number;
  /** `R^2`. */
  r2: number;
  /** Adjusted `R^2`. */
  adj_r2: number;
  /** Residual standard error. */
  sigma: number;
  /** Durbin-Watson statistic of the residuals. */
  durbin_watson: number;
  /** Jarque-Bera statistic of the residuals. */
  jarque_bera: number;
  /** Its p-value. */
  jarque_bera_p: number;
  /** How the terms were chosen, one line per step. */
  selection: string[];
  /** Wrong signs, insignificant terms, poor diagnostics. */
  warnings: string[];
}

/** The fitted satellite model of every segment. */
export interface SatelliteFit {
  /** Format version of this object (fit.json). */
  fit_version: 1;
  /** `vasicek_ols`: Vasicek credit-cycle index regressed by OLS. */
  method: "vasicek_ols";
  /** The default-rate history fitted. */
  history: { file: string; sha256: string };
  /** The scenario file whose history was the regressors. */
  scenario_file: { file: string; sha256: string };
  /** The scenario file's reporting date. */
  reporting_date: string;
  /** Options used. */
  options: {
    max_lag: number;
    alpha: number;
    candidates: MacroVariable[];
    spec?: LaggedVariable[];
  };
  /** One fit per segment, in the history's order. */
  segments: SegmentFit[];
  /**
   * Segments of the history that could not be fitted (a default rate that
   * never varies, no macro variable of the expected sign), each with why;
   * they write no `rho` and take no part in the combined `z`.
   */
  skipped?: { segment: string; reason: string }[];
}

/** Options of {@link fitSatellite}. */
export interface SatelliteOptions {
  /** Variables tried. @default every variable of the scenario file */
  candidates?: MacroVariable[];
  /** Lags tried, 0 to this. @default 2 */
  maxLag?: number;
  /** Significance level. @default 0.05 */
  alpha?: number;
  /** A fixed specification for every segment: no selection. */
  spec?: LaggedVariable[];
  /** Given through-the-cycle PD per segment; the others are estimated. */
  pdTtc?: Record<string, number>;
  /** Given asset correlation per segment; the others are estimated. */
  rho?: Record<string, number>;
  /**
   * Weight of each segment in the combined `z`; absent: each segment's
   * share of the obligors of the last history year.
   */
  weights?: Record<string, number>;
}

/** A default rate with {@link ZERO_COUNT_CORRECTION}. */
export function correctedRate(defaults: number, obligors: number): number {
  const d = Math.min(
    Math.max(defaults, ZERO_COUNT_CORRECTION),
    obligors - ZERO_COUNT_CORRECTION,
  );
  return d / obligors;
}

/**
 * Vasicek maximum-likelihood estimates from yearly default rates:
 * `rho = s^2 / (1 + s^2)`, `PD = Phi(m sqrt(1 - rho))`, `m` and `s^2` the
 * mean and (1/n) variance of `PhiInv(DR_t)`. With `rho` given, only `PD`
 * is estimated: `Phi(m sqrt(1 - rho))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normCdf, normInv } from "../engine/mod.ts";
 * import { vasicekMle } from "./satellite.ts";
 * // PhiInv(DR) = -2 +- 0.5: s^2 = 0.25, rho = 0.2, PD = Phi(-2 sqrt(0.8)).
 * const dr = [-2.5, -1.5].map(normCdf);
 * const { rho, pd } = vasicekMle(dr);
 * assert.ok(Math.abs(rho - 0.2) < 1e-12);
 * assert.ok(Math.abs(normInv(pd) + 2 * Math.sqrt(0.8)) < 1e-9);
 * ```
 */
export function vasicekMle(
  defaultRates: readonly number[],
  givenRho?: number,
): { pd: number; rho: number } {
  const x = defaultRates.map(normInv);
  const n = x.length;
  const m = x.reduce((a, v) => a + v, 0) / n;
  const s2 = x.reduce((a, v) => a + (v - m) ** 2, 0) / n;
  const rho = givenRho ?? s2 / (1 + s2);
  return { pd: normCdf(m * Math.sqrt(1 - rho)), rho };
}

/**
 * The credit-cycle index of a default rate:
 * `Z = (PhiInv(PD) - sqrt(1 - rho) PhiInv(DR)) / sqrt(rho)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { creditCycleIndex } from "./satellite.ts";
 * // A year whose default rate is the through-the-cycle PD (the mean) is
 * // a mildly bad one: the median default rate is below the mean.
 * const z = creditCycleIndex(0.02, 0.02, 0.15);
 * const x = -2.0537489106318225; // PhiInv(0.02)
 * assert.ok(Math.abs(z - x * (1 - Math.sqrt(0.85)) / Math.sqrt(0.15)) < 1e-12);
 * ```
 */
export function creditCycleIndex(
  defaultRate: number,
  pd: number,
  rho: number,
): number {
  return (normInv(pd) - Math.sqrt(1 - rho) * normInv(defaultRate)) /
    Math.sqrt(rho);
}

/** The values of `variable` lagged by `lag` over `years` in `region`'s history. */
function regressor(
  file: ScenarioFile,
  region: string,
  { variable, lag }: LaggedVariable,
  years: readonly number[],
): number[] {
  return years.map((y) => {
    const v = macroValue(file, undefined, region, variable, y - lag);
    if (v === undefined) {
      throw new UserError(
        "input",
        `${file.file}: history.${region}.${variable} has no value for ${
          y - lag
        } (year ${y} at lag ${lag}); extend the history or shorten the lags`,
      );
    }
    return v;
  });
}

const termName = (t: LaggedVariable) => `${t.variable}(t-${t.lag})`;

/** Chooses the terms of one segment (docs/scenarios.md §3). */
function selectTerms(
  z: readonly number[],
  years: readonly number[],
  file: ScenarioFile,
  region: string,
  candidates: readonly MacroVariable[],
  maxLag: number,
  alpha: number,
  log: string[],
): LaggedVariable[] {
  const chosen: LaggedVariable[] = [];
  for (const variable of candidates) {
    const sign = EXPECTED_SIGNS[variable] ?? 1;
    let best: { lag: number; t: number } | undefined;
    for (let lag = 0; lag <= maxLag; lag++) {
      const x = regressor(file, region, { variable, lag }, years);
      let t: number;
      try {
        t = ols(z, [x]).coefficients[1].t_stat;
      } catch {
        continue;
      }
      if (
        Math.sign(t) === sign &&
        (best === undefined || Math.abs(t) > Math.abs(best.t))
      ) {
        best = { lag, t };
      }
    }
    if (best === undefined) {
      log.push(
        `${variable}: no lag 0..${maxLag} has the expected sign alone; dropped`,
      );
    } else {
      log.push(
        `${variable}: lag ${best.lag} (univariate t = ${best.t.toFixed(2)})`,
      );
      chosen.push({ variable, lag: best.lag });
    }
  }
  // Lag refinement: each variable's lag again, given the others' (the
  // univariate choice confounds a persistent variable's lags): the lag
  // whose model has the smallest residual sum of squares, whatever the
  // signs (the elimination below drops a term of the wrong sign); repeated
  // until no lag changes or MAX_REFINEMENT_ROUNDS.
  const ssrOf = (terms: LaggedVariable[]) => {
    try {
      const fit = ols(z, terms.map((t) => regressor(file, region, t, years)));
      return fit.residuals.reduce((a, e) => a + e * e, 0);
    } catch {
      return Infinity;
    }
  };
  for (let round = 0; round < MAX_REFINEMENT_ROUNDS; round++) {
    let changed = false;
    chosen.forEach((term, j) => {
      let best = { lag: term.lag, ssr: ssrOf(chosen) };
      for (let lag = 0; lag <= maxLag; lag++) {
        if (lag === term.lag) continue;
        const trial = chosen.map((t, i) => i === j ? { ...t, lag } : t);
        const ssr = ssrOf(trial);
        if (ssr < best.ssr - 1e-12) best = { lag, ssr };
      }
      if (best.lag !== term.lag) {
        log.push(
          `${term.variable}: lag ${term.lag} -> ${best.lag} given the other terms (smaller residual sum of squares)`,
        );
        chosen[j] = { ...term, lag: best.lag };
        changed = true;
      }
    });
    if (!changed) break;
  }
  // Backward elimination: drop the worst term (wrong sign first, then the
  // largest p-value above alpha) until every term has the expected sign and
  // is significant, or one is left.
  while (chosen.length > 1) {
    let fit;
    try {
      fit = ols(z, chosen.map((t) => regressor(file, region, t, years)));
    } catch {
      const dropped = chosen.pop()!;
      log.push(`drop ${termName(dropped)}: collinear with the others`);
      continue;
    }
    const scored = chosen.map((t, j) => {
      const c = fit.coefficients[j + 1];
      const wrong =
        Math.sign(c.coefficient) !== (EXPECTED_SIGNS[t.variable] ?? 1);
      return { j, wrong, p: c.p_value };
    });
    const worst = [...scored].sort((a, b) =>
      Number(b.wrong) - Number(a.wrong) || b.p - a.p
    )[0];
    if (!worst.wrong && worst.p < alpha) {
      break;
    }
    const [dropped] = chosen.splice(worst.j, 1);
    log.push(
      `drop ${termName(dropped)}: ${
        worst.wrong
          ? "wrong sign with the others"
          : `p = ${worst.p.toFixed(3)} >= ${alpha}`
      }`,
    );
  }
  return chosen;
}

/** A segment that cannot be fitted: reported and skipped. */
class UnfittableSegment extends Error {}

/** Fits one segment. */
function fitSegment(
  historyFile: string,
  seg: SegmentHistory,
  file: ScenarioFile,
  o:
    & Required<Pick<SatelliteOptions, "maxLag" | "alpha" | "candidates">>
    & SatelliteOptions,
  weight: number,
): SegmentFit {
  if (!(seg.region in file.regions)) {
    throw new UserError(
      "input",
      `${historyFile}: segment ${seg.segment}: region ${seg.region} is not a region of ${file.file} (${
        Object.keys(file.regions).join(", ")
      })`,
    );
  }
  const lag = o.spec ? Math.max(...o.spec.map((t) => t.lag)) : o.maxLag;
  const firstMacro = file.history_years[0];
  const lastMacro = file.history_years.at(-1)!;
  const keep = seg.years.map((y, i) => ({ y, i })).filter(({ y }) =>
    y - lag >= firstMacro && y <= lastMacro
  );
  if (keep.length < MIN_SAMPLE_YEARS) {
    throw new UserError(
      "input",
      `${historyFile}: segment ${seg.segment}: ${keep.length} years overlap the macro history ${firstMacro}..${lastMacro} at lag ${lag}, fewer than MIN_SAMPLE_YEARS (${MIN_SAMPLE_YEARS})`,
    );
  }
  const years = keep.map((k) => k.y);
  const dr = keep.map(({ i }) =>
    correctedRate(seg.defaults[i], seg.obligors[i])
  );
  const givenRho = o.rho?.[seg.segment];
  const givenPd = o.pdTtc?.[seg.segment];
  const mle = vasicekMle(dr, givenRho);
  const rho = mle.rho;
  const pd = givenPd ?? mle.pd;
  if (!(rho >= MIN_ESTIMATED_RHO && rho < 1)) {
    throw new UnfittableSegment(
      `the default rate does not vary (rho ${
        rho.toExponential(1)
      }, below MIN_ESTIMATED_RHO ${MIN_ESTIMATED_RHO}${
        seg.defaults.every((d) => d === 0) ? "; no defaults in any year" : ""
      }), so Z carries no signal`,
    );
  }
  const z = dr.map((d) => creditCycleIndex(d, pd, rho));
  if (Math.max(...z) - Math.min(...z) < 1e-9) {
    throw new UnfittableSegment(
      "the default rate is the same every year, so Z does not move",
    );
  }
  const selection: string[] = [];
  const terms = o.spec ??
    selectTerms(
      z,
      years,
      file,
      seg.region,
      o.candidates,
      o.maxLag,
      o.alpha,
      selection,
    );
  if (o.spec) {
    selection.push(`given: ${o.spec.map(termName).join(", ")}`);
  }
  if (terms.length === 0) {
    throw new UnfittableSegment(
      "no macro variable has the expected sign: the satellite model cannot be fitted",
    );
  }
  let fit;
  try {
    fit = ols(z, terms.map((t) => regressor(file, seg.region, t, years)));
  } catch (e) {
    throw new UnfittableSegment((e as Error).message);
  }
  const warnings: string[] = [];
  const fitted: SatelliteTerm[] = terms.map((t, j) => {
    const c = fit.coefficients[j + 1];
    const expected = EXPECTED_SIGNS[t.variable] ?? 1;
    const term: SatelliteTerm = {
      ...t,
      ...c,
      expected_sign: expected,
      sign_ok: Math.sign(c.coefficient) === expected,
      significant: c.p_value < o.alpha,
    };
    if (!term.sign_ok) {
      warnings.push(
        `${seg.segment}: ${termName(t)} has sign ${
          c.coefficient < 0 ? "-" : "+"
        }, expected ${expected < 0 ? "-" : "+"}`,
      );
    }
    if (!term.significant) {
      warnings.push(
        `${seg.segment}: ${termName(t)} is not significant (p = ${
          c.p_value.toFixed(3)
        } >= ${o.alpha})`,
      );
    }
    return term;
  });
  if (fit.durbin_watson < 1 || fit.durbin_watson > 3) {
    warnings.push(
      `${seg.segment}: Durbin-Watson ${
        fit.durbin_watson.toFixed(2)
      } outside [1, 3]: the residuals are autocorrelated, standard errors understated`,
    );
  }
  if (fit.jarque_bera_p < o.alpha) {
    warnings.push(
      `${seg.segment}: Jarque-Bera p = ${
        fit.jarque_bera_p.toFixed(3)
      }: the residuals are not normal`,
    );
  }
  return {
    segment: seg.segment,
    region: seg.region,
    pd_ttc: pd,
    rho,
    estimated: { pd_ttc: givenPd === undefined, rho: givenRho === undefined },
    weight,
    years,
    default_rate: dr,
    z,
    fitted: fit.fitted,
    intercept: fit.coefficients[0],
    terms: fitted,
    n: fit.n,
    r2: fit.r2,
    adj_r2: fit.adj_r2,
    sigma: fit.sigma,
    durbin_watson: fit.durbin_watson,
    jarque_bera: fit.jarque_bera,
    jarque_bera_p: fit.jarque_bera_p,
    selection,
    warnings,
  };
}

/**
 * Fits the satellite model of every segment of `history` on the macro
 * history of `file` (docs/scenarios.md §3).
 *
 * A segment that cannot be fitted (its default rate does not vary, no
 * variable has the expected sign, a singular regression) is skipped and
 * listed in `skipped` (a warning of the fit).
 *
 * @throws {UserError} `input` for a segment whose region the file lacks or
 *   whose history is too short (naming the history file); `check` when no
 *   segment can be fitted.
 */
export function fitSatellite(
  history: DefaultRateHistory,
  file: ScenarioFile,
  options: SatelliteOptions = {},
): SatelliteFit {
  const maxLag = options.maxLag ?? DEFAULT_MAX_LAG;
  if (!Number.isInteger(maxLag) || maxLag < 0 || maxLag > MAX_LAG) {
    throw new UserError(
      "usage",
      `maxLag must be a whole number in 0..${MAX_LAG} (MAX_LAG), got ${maxLag}`,
    );
  }
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  if (!(alpha > 0 && alpha < 1)) {
    throw new UserError("usage", `alpha must be in (0, 1), got ${alpha}`);
  }
  const candidates = options.candidates ?? file.variables;
  for (
    const v of [
      ...candidates,
      ...(options.spec ?? []).map((t) => t.variable),
    ]
  ) {
    if (!file.variables.includes(v)) {
      throw new UserError(
        "usage",
        `variable ${v} is not in ${file.file} (variables: ${
          file.variables.join(", ")
        })`,
      );
    }
  }
  for (const t of options.spec ?? []) {
    if (!Number.isInteger(t.lag) || t.lag < 0 || t.lag > MAX_LAG) {
      throw new UserError(
        "usage",
        `lag of ${t.variable} must be a whole number in 0..${MAX_LAG} (MAX_LAG), got ${t.lag}`,
      );
    }
  }
  const names = new Set(history.segments.map((s) => s.segment));
  for (
    const [flag, given] of [["rho", options.rho], [
      "pdTtc",
      options.pdTtc,
    ]] as const
  ) {
    const unknown = Object.keys(given ?? {}).filter((k) => !names.has(k));
    if (unknown.length > 0) {
      throw new UserError(
        "usage",
        `${flag} given for ${unknown.slice(0, 10).join(", ")}${
          unknown.length > 10 ? ` and ${unknown.length - 10} more` : ""
        }, not segments of ${history.file}`,
      );
    }
    for (const [k, v] of Object.entries(given ?? {})) {
      if (!(v > 0 && v < 1)) {
        throw new UserError(
          "usage",
          `${flag} of ${k} must be strictly between 0 and 1, got ${v}`,
        );
      }
    }
  }
  // A history cannot reach past the reporting date (docs/scenarios.md §3).
  const lastYear = file.history_years.at(-1)!;
  const beyond = history.segments.filter((s) => s.years.at(-1)! > lastYear);
  if (beyond.length > 0) {
    throw new UserError(
      "input",
      `${history.file}: ${beyond.length} segment(s) have years after ${lastYear}, the reporting year of ${file.file} (reporting date ${file.reporting_date}): ${
        beyond.slice(0, 5).map((s) => `${s.segment} to ${s.years.at(-1)}`)
          .join(", ")
      }${
        beyond.length > 5 ? ` and ${beyond.length - 5} more` : ""
      }; a default-rate history ends at the reporting date`,
    );
  }
  const o = { ...options, maxLag, alpha, candidates };
  // Each segment fitted, or skipped with why (docs/scenarios.md §3).
  const fitted: SegmentFit[] = [];
  const skipped: { segment: string; reason: string }[] = [];
  const kept: SegmentHistory[] = [];
  for (const s of history.segments) {
    try {
      fitted.push(fitSegment(history.file, s, file, o, 0));
      kept.push(s);
    } catch (e) {
      if (!(e instanceof UnfittableSegment)) throw e;
      skipped.push({ segment: s.segment, reason: e.message });
    }
  }
  if (fitted.length === 0) {
    throw new UserError(
      "check",
      `${history.file}: no segment can be fitted (${
        skipped.slice(0, 3).map((s) => `${s.segment}: ${s.reason}`).join("; ")
      }${skipped.length > 3 ? `; and ${skipped.length - 3} more` : ""})`,
    );
  }
  // Weights: given, else obligors of each segment's last year, normalised
  // over the segments fitted.
  const raw = kept.map((s) =>
    options.weights ? options.weights[s.segment] ?? 0 : s.obligors.at(-1)!
  );
  const total = raw.reduce((a, w) => a + w, 0);
  if (!(total > 0) || raw.some((w) => !(w >= 0))) {
    throw new UserError(
      "usage",
      "segment weights must be non-negative and not all 0",
    );
  }
  return {
    fit_version: 1,
    method: "vasicek_ols",
    history: { file: history.file, sha256: history.sha256 },
    scenario_file: { file: file.file, sha256: file.sha256 },
    reporting_date: file.reporting_date,
    options: {
      max_lag: maxLag,
      alpha,
      candidates: [...candidates],
      ...(options.spec ? { spec: options.spec } : {}),
    },
    segments: fitted.map((f, i) => ({ ...f, weight: raw[i] / total })),
    ...(skipped.length > 0 ? { skipped } : {}),
  };
}

/** Every warning of a fit, segment by segment, then the segments skipped. */
export function fitWarnings(fit: SatelliteFit): string[] {
  return [
    ...fit.segments.flatMap((s) => s.warnings),
    ...(fit.skipped ?? []).map((s) =>
      `${s.segment}: not fitted, skipped (no rho written, not in z): ${s.reason}`
    ),
  ];
}
