/**
 * From each scenario's macro path to the engine's scenario adjustments
 * (docs/scenarios.md §4): the `z` vector of methodology §4's `z_shift`
 * adjustment and the collateral haircut of methodology §6, per scenario.
 *
 * `z`: each segment's fitted satellite model
 * (`Zhat = a + sum_k b_k x_k,(t - lag_k)`, `satellite.ts`) evaluated on the
 * macro path of its region, the observed history supplying lagged years
 * before the horizon; forecast year `y = 1..H` is calendar year
 * `horizon[y - 1]`.
 *
 * Anchor (docs/scenarios.md §4): the engine applies `z` to today's
 * point-in-time PD `q` (methodology §4:
 * `q' = Phi((PhiInv(q) - sqrt(rho) z) / sqrt(1 - rho))`), which already
 * holds the reporting year `T`'s economy, and leaves `q` unchanged only at
 * `z = c(q) = PhiInv(q) (1 - sqrt(1 - rho)) / sqrt(rho)` (at `z = 0`, the
 * median year, it lowers a 2% PD to 1.30% with `rho` 0.15). The PD that
 * the Vasicek model gives at `Z_y` from today's `q` at `Z_T` is
 * `Phi(PhiInv(q) - sqrt(rho / (1 - rho)) (Z_y - Z_T))`, which §4's formula
 * gives at `z = (Z_y - Z_T) + c(q)`. So each segment's path is
 *
 *   `Z_g[s,y] = (Zhat_g[s,y] - Zhat_g[T]) + c(p_g,T)`,
 *
 * `Zhat_g[T]` the fitted index of the reporting year (the last history
 * year; `Zhat[s,y] - Zhat[T] = sum_k b_k (x_k,(y - lag_k) - x_k,(T - lag_k))`,
 * the intercept cancels) and `p_g,T = Phi((PhiInv(PD_g) - sqrt(rho_g)
 * Zhat_g[T]) / sqrt(1 - rho_g))` the segment's fitted point-in-time PD of
 * the reporting year: exact for a facility whose PD is `p_g,T`; a scenario
 * whose macro path stays at the reporting year's values leaves it as it
 * is. `anchors[g] = Zhat_g[T] - c(p_g,T)` is what is subtracted.
 * (`anchor: "long_run"` subtracts nothing, `z = Zhat`: today's good or bad
 * year would count twice.) The engine reads one `z` vector per scenario
 * for every segment, so the segments' paths are combined by their weights
 * (`SegmentFit.weight`: by default each segment's share of obligors in the
 * last history year): `z[s,y] = sum_g w_g Z_g[s,y]`.
 *
 * PD ratio (shown in the fit report): the factor §4's formula applies to
 * the segment's reporting-year PD `p_g,T` at the scenario's combined `z`:
 * `Phi((PhiInv(p) - sqrt(rho_g) z) / sqrt(1 - rho_g)) / p`.
 *
 * Collateral haircut (methodology §6 `collateral_haircut`): a house-price
 * index per region is built from the scenario's `house_price_growth`
 * (`I_0 = 1` at the last observed year, `I_y = I_(y-1) (1 + g_y / 100)`);
 * its peak-to-trough fall over the horizon is
 * `F = max_y (1 - I_y / max_(u <= y) I_u)` (u from 0); the regions' falls
 * are combined with the weights of their segments; the haircut is
 * `min(max_haircut, base + sensitivity * F)`.
 *
 * @module
 */
import { normCdf, normInv } from "../engine/mod.ts";
import { UserError } from "../errors.ts";
import { MAX_Z_SHIFT } from "../rules.ts";
import {
  type MacroScenario,
  macroValue,
  type MacroVariable,
  type ScenarioFile,
} from "./scenario_file.ts";
import type { SatelliteFit, SegmentFit } from "./satellite.ts";

/** Parameters of the collateral haircut (docs/scenarios.md §4). */
export interface HaircutParameters {
  /**
   * Haircut with stable or rising house prices (costs of sale, forced-sale
   * discount). @default 0.20, the sample rules' base-scenario haircut
   */
  base: number;
  /** Haircut added per unit of peak-to-trough fall. @default 1 */
  sensitivity: number;
  /** Largest haircut, below 1. @default 0.9 */
  max_haircut: number;
}

/** The haircut parameters used unless given. */
export const DEFAULT_HAIRCUT: Readonly<HaircutParameters> = {
  base: 0.20,
  sensitivity: 1,
  max_haircut: 0.9,
};

/** The variable the collateral haircut reads. */
export const HOUSE_PRICE_VARIABLE = "house_price_growth";

/**
 * A shift of a macro path: `delta` (in the variable's unit, percentage
 * points) added to every forecast year of `variable`, in `region` or in
 * every region, in `scenario` or in every scenario.
 */
export interface MacroShift {
  /** The variable shifted. */
  variable: MacroVariable;
  /** The region shifted; absent: every region. */
  region?: string;
  /** The scenario shifted; absent: every scenario. */
  scenario?: string;
  /** Added to each forecast year's value, in percentage points. */
  delta: number;
}

/** Options of {@link scenarioAdjustments}. */
export interface ScenarioAdjustmentOptions {
  /** Shifts of the macro paths before projecting (a stress). */
  shift?: MacroShift | MacroShift[];
  /** Collateral haircut parameters. @default DEFAULT_HAIRCUT */
  haircut?: Partial<HaircutParameters>;
  /** Weights of the segments in the combined `z`; absent: the fit's. */
  weights?: Record<string, number>;
  /**
   * Write each fitted segment's `rho` (estimated or given) as the
   * segments' `rho`, so that the engine shifts each segment's PD with the
   * `rho` its `Z` was read with. @default true
   */
  writeRho?: boolean;
  /**
   * What `z` is measured from: `reporting_year`, the fitted index of the
   * reporting year with the median correction (`Zhat[T] - c(p_T)`, see
   * the module's text, docs/scenarios.md §4), or `long_run`, nothing
   * (`z = Zhat`, for comparison only: today's PD already holds the
   * reporting year's economy). @default "reporting_year"
   */
  anchor?: "reporting_year" | "long_run";
}

/** One scenario as the rules file's `scenarios` list holds it. */
export interface RulesScenario {
  /** Its name. */
  name: string;
  /** Its weight. */
  weight: number;
  /** `z[s,y]` for forecast years 1..H (methodology §4). */
  z: number[];
  /** Its collateral haircut (methodology §6). */
  collateral_haircut: number;
}

/** How one scenario's adjustments came about. */
export interface ScenarioDetail {
  /** The scenario. */
  scenario: string;
  /**
   * Each segment's projected `Z` per forecast year, measured from its
   * reporting-year fitted index (`Zhat[s,y] - Zhat[T]`).
   */
  segments: Record<string, number[]>;
  /**
   * Each segment's PD ratio per forecast year at the scenario's combined
   * `z` (at its reporting-year PD `p_T` and its `rho`; the module's text).
   */
  pd_ratio: Record<string, number[]>;
  /** The segments' PD ratios per forecast year averaged with their weights. */
  pd_ratio_weighted: number[];
  /** Each region's peak-to-trough house-price fall over the horizon. */
  region_fall: Record<string, number>;
  /** The combined fall `F`. */
  house_price_fall: number;
}

/** The rules fragment's content and how it was derived. */
export interface ScenarioAdjustments {
  /** Always `z_shift` (methodology §4). */
  scenario_adjustment: "z_shift";
  /** The scenarios, in the scenario file's order. */
  scenarios: RulesScenario[];
  /** Each fitted segment's `rho` (none when not written). */
  segments: Record<string, { rho: number }>;
  /** The calendar year of each forecast year. */
  years: number[];
  /** The year `T` `z` is measured from (the last history year). */
  anchor_year: number;
  /**
   * What is subtracted from each segment's `Zhat` path:
   * `Zhat[T] - c(p_T)` (0 with `anchor: long_run`).
   */
  anchors: Record<string, number>;
  /** Each segment's fitted point-in-time PD of the reporting year, `p_T`. */
  reporting_year_pd: Record<string, number>;
  /** Per scenario, the segment paths and house-price falls. */
  detail: ScenarioDetail[];
  /** The haircut parameters used. */
  haircut: HaircutParameters;
  /** The shifts applied, if any. */
  shifts: MacroShift[];
}

/** A macro value of `scenario` after `shifts`. */
function shiftedValue(
  file: ScenarioFile,
  scenario: MacroScenario,
  region: string,
  variable: MacroVariable,
  year: number,
  shifts: readonly MacroShift[],
): number {
  const v = macroValue(file, scenario, region, variable, year);
  if (v === undefined) {
    throw new UserError(
      "input",
      `${file.file}: no value of ${variable} in ${region} for ${year} (scenario ${scenario.name})`,
    );
  }
  if (year < file.horizon[0]) return v;
  return shifts.reduce(
    (acc, s) =>
      s.variable === variable &&
        (s.region === undefined || s.region === region) &&
        (s.scenario === undefined || s.scenario === scenario.name)
        ? acc + s.delta
        : acc,
    v,
  );
}

/** A segment's projected `Z` per forecast year of `scenario`. */
export function projectSegment(
  seg: SegmentFit,
  file: ScenarioFile,
  scenario: MacroScenario,
  shifts: readonly MacroShift[] = [],
): number[] {
  return file.horizon.map((year) =>
    seg.terms.reduce(
      (acc, t) =>
        acc +
        t.coefficient *
          shiftedValue(
            file,
            scenario,
            seg.region,
            t.variable,
            year - t.lag,
            shifts,
          ),
      seg.intercept.coefficient,
    )
  );
}

/**
 * Peak-to-trough fall of a house-price index built from yearly growth
 * rates in percent, the index starting at 1 before the first year.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { peakToTroughFall } from "./project.ts";
 * // +10%, -20%, -10%: peak 1.1, trough 1.1 * 0.8 * 0.9 = 0.792: fall 28%.
 * assert.ok(Math.abs(peakToTroughFall([10, -20, -10]) - 0.28) < 1e-12);
 * ```
 */
export function peakToTroughFall(growth: readonly number[]): number {
  let index = 1, peak = 1, fall = 0;
  for (const g of growth) {
    index *= 1 + g / 100;
    peak = Math.max(peak, index);
    fall = Math.max(fall, 1 - index / peak);
  }
  return fall;
}

/**
 * A segment's fitted index in the reporting year `T` (the last history
 * year): `Zhat[T] = a + sum_k b_k x_k,(T - lag_k)` on the observed history.
 */
export function reportingYearIndex(
  seg: SegmentFit,
  file: ScenarioFile,
): number {
  const year = file.history_years.at(-1)!;
  return seg.terms.reduce((acc, t) => {
    const v = macroValue(file, undefined, seg.region, t.variable, year - t.lag);
    if (v === undefined) {
      throw new UserError(
        "input",
        `${file.file}: history.${seg.region}.${t.variable} has no value for ${
          year - t.lag
        } (the reporting year ${year} at lag ${t.lag})`,
      );
    }
    return acc + t.coefficient * v;
  }, seg.intercept.coefficient);
}

/**
 * The `z` at which methodology §4's formula leaves a PD `q` unchanged:
 * `c(q) = PhiInv(q) (1 - sqrt(1 - rho)) / sqrt(rho)` (negative below
 * `q = 0.5`).
 */
export function medianCorrection(q: number, rho: number): number {
  return normInv(q) * (1 - Math.sqrt(1 - rho)) / Math.sqrt(rho);
}

/**
 * The factor methodology §4's `z_shift` applies to a PD `pd` at `z` with
 * asset correlation `rho`:
 * `Phi((PhiInv(pd) - sqrt(rho) z) / sqrt(1 - rho)) / pd`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pdRatio } from "./project.ts";
 * // z = 0 is the median year: it lowers a 2% PD (to 1.30%).
 * assert.ok(Math.abs(pdRatio(0.02, 0, 0.15) * 0.02 - 0.0130) < 1e-4);
 * assert.ok(pdRatio(0.02, -1, 0.15) > 1);
 * ```
 */
export function pdRatio(pd: number, z: number, rho: number): number {
  return normCdf((normInv(pd) - Math.sqrt(rho) * z) / Math.sqrt(1 - rho)) /
    pd;
}

/** The shifts as a list, each checked against the file. */
function checkedShifts(
  file: ScenarioFile,
  shift: MacroShift | MacroShift[] | undefined,
): MacroShift[] {
  const list = shift === undefined
    ? []
    : Array.isArray(shift)
    ? shift
    : [shift];
  for (const s of list) {
    if (!file.variables.includes(s.variable)) {
      throw new UserError(
        "usage",
        `shift: variable ${s.variable} is not in ${file.file} (variables: ${
          file.variables.join(", ")
        })`,
      );
    }
    if (s.region !== undefined && !(s.region in file.regions)) {
      throw new UserError(
        "usage",
        `shift: region ${s.region} is not in ${file.file} (regions: ${
          Object.keys(file.regions).join(", ")
        })`,
      );
    }
    if (
      s.scenario !== undefined &&
      !file.scenarios.some((x) => x.name === s.scenario)
    ) {
      throw new UserError(
        "usage",
        `shift: scenario ${s.scenario} is not in ${file.file}`,
      );
    }
    if (!Number.isFinite(s.delta)) {
      throw new UserError("usage", `shift: delta must be a finite number`);
    }
  }
  return list;
}

/** Rounds to `d` decimals (the fragment's figures). */
const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

/**
 * Each scenario of `file` through the fitted satellite model: the rules'
 * `scenario_adjustment: z_shift` scenarios (weights from the file, `z` per
 * forecast year, collateral haircut) and the segments' `rho`
 * (docs/scenarios.md §4). With `shift`, the macro paths are shifted first
 * (a stress, docs/scenarios.md §5).
 *
 * @throws {UserError} `check` when a `z` falls outside the rules' bound
 *   ±{@link MAX_Z_SHIFT}; `usage` for a shift naming an unknown variable,
 *   region or scenario.
 */
export function scenarioAdjustments(
  fit: SatelliteFit,
  file: ScenarioFile,
  options: ScenarioAdjustmentOptions = {},
): ScenarioAdjustments {
  const haircut: HaircutParameters = { ...DEFAULT_HAIRCUT, ...options.haircut };
  if (
    !(haircut.base >= 0 && haircut.base < 1) ||
    !(haircut.sensitivity >= 0 && haircut.sensitivity <= 10) ||
    !(haircut.max_haircut >= haircut.base && haircut.max_haircut < 1)
  ) {
    throw new UserError(
      "usage",
      `haircut parameters must have 0 <= base <= max_haircut < 1 and sensitivity in [0, 10], got ${
        JSON.stringify(haircut)
      }`,
    );
  }
  const shifts = checkedShifts(file, options.shift);
  const weightOf = (s: SegmentFit) => options.weights?.[s.segment] ?? s.weight;
  const totalWeight = fit.segments.reduce((a, s) => a + weightOf(s), 0);
  if (!(totalWeight > 0)) {
    throw new UserError("usage", "segment weights must not all be 0");
  }
  const regionWeight: Record<string, number> = {};
  for (const s of fit.segments) {
    regionWeight[s.region] = (regionWeight[s.region] ?? 0) +
      weightOf(s) / totalWeight;
  }
  const anchor = options.anchor ?? "reporting_year";
  if (anchor !== "reporting_year" && anchor !== "long_run") {
    throw new UserError(
      "usage",
      `anchor must be reporting_year or long_run, got ${String(anchor)}`,
    );
  }
  const anchors: Record<string, number> = {};
  const reporting_year_pd: Record<string, number> = {};
  for (const seg of fit.segments) {
    const zT = reportingYearIndex(seg, file);
    const pT = normCdf(
      (normInv(seg.pd_ttc) - Math.sqrt(seg.rho) * zT) / Math.sqrt(1 - seg.rho),
    );
    reporting_year_pd[seg.segment] = pT;
    anchors[seg.segment] = anchor === "long_run"
      ? 0
      : zT - medianCorrection(pT, seg.rho);
  }
  const detail: ScenarioDetail[] = [];
  const scenarios = file.scenarios.map((scenario) => {
    const segments: Record<string, number[]> = {};
    const z = file.horizon.map(() => 0);
    for (const seg of fit.segments) {
      const path = projectSegment(seg, file, scenario, shifts).map((v) =>
        v - anchors[seg.segment]
      );
      segments[seg.segment] = path;
      path.forEach((v, y) => z[y] += v * weightOf(seg) / totalWeight);
    }
    const pd_ratio: Record<string, number[]> = Object.fromEntries(
      fit.segments.map((seg) => [
        seg.segment,
        z.map((v) => pdRatio(reporting_year_pd[seg.segment], v, seg.rho)),
      ]),
    );
    const pd_ratio_weighted = z.map((_, y) =>
      fit.segments.reduce(
        (a, seg) => a + pd_ratio[seg.segment][y] * weightOf(seg) / totalWeight,
        0,
      )
    );
    const region_fall: Record<string, number> = {};
    let fall = 0;
    for (const [region, w] of Object.entries(regionWeight)) {
      const growth = file.horizon.map((year) =>
        shiftedValue(file, scenario, region, HOUSE_PRICE_VARIABLE, year, shifts)
      );
      region_fall[region] = peakToTroughFall(growth);
      fall += w * region_fall[region];
    }
    detail.push({
      scenario: scenario.name,
      segments,
      pd_ratio,
      pd_ratio_weighted,
      region_fall,
      house_price_fall: fall,
    });
    z.forEach((v, y) => {
      if (!(Math.abs(v) <= MAX_Z_SHIFT)) {
        throw new UserError(
          "check",
          `scenario ${scenario.name}: projected z ${v} in ${
            file.horizon[y]
          } is beyond the rules' bound ±${MAX_Z_SHIFT} (MAX_Z_SHIFT); check the fit's coefficients and the path`,
        );
      }
    });
    return {
      name: scenario.name,
      weight: scenario.weight,
      z: z.map((v) => round(v, 6)),
      collateral_haircut: round(
        Math.min(
          haircut.max_haircut,
          haircut.base + haircut.sensitivity * fall,
        ),
        6,
      ),
    };
  });
  const writeRho = options.writeRho ?? true;
  return {
    scenario_adjustment: "z_shift",
    scenarios,
    segments: writeRho
      ? Object.fromEntries(
        fit.segments.map((s) => [s.segment, { rho: round(s.rho, 6) }]),
      )
      : {},
    years: [...file.horizon],
    anchor_year: file.history_years.at(-1)!,
    anchors,
    reporting_year_pd,
    detail,
    haircut,
    shifts,
  };
}
