/**
 * From each scenario's macro path to the engine's scenario adjustments
 * (docs/scenarios.md §4): the `z` vector of methodology §4's `z_shift`
 * adjustment and the collateral haircut of methodology §6, per scenario.
 *
 * `z`: each segment's fitted satellite model
 * (`Z = a + sum_k b_k x_k,(t - lag_k)`, `satellite.ts`) evaluated on the
 * macro path of its region, the observed history supplying lagged years
 * before the horizon; forecast year `y = 1..H` is calendar year
 * `horizon[y - 1]`. The engine reads one `z` vector per scenario for
 * every segment (methodology §4), so the segments' paths are combined by
 * their weights (`SegmentFit.weight`: by default each segment's share of
 * obligors in the last history year):
 * `z[s,y] = sum_g w_g Z_g[s,y]`.
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
   * Write the estimated `rho`s as the segments' `rho` (a given `rho` is
   * the rules' already). @default true
   */
  writeRho?: boolean;
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
  /** Each segment's projected `Z` per forecast year. */
  segments: Record<string, number[]>;
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
  /** Each segment's estimated `rho` (none when not written). */
  segments: Record<string, { rho: number }>;
  /** The calendar year of each forecast year. */
  years: number[];
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
  const detail: ScenarioDetail[] = [];
  const scenarios = file.scenarios.map((scenario) => {
    const segments: Record<string, number[]> = {};
    const z = file.horizon.map(() => 0);
    for (const seg of fit.segments) {
      const path = projectSegment(seg, file, scenario, shifts);
      segments[seg.segment] = path;
      path.forEach((v, y) => z[y] += v * weightOf(seg) / totalWeight);
    }
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
        fit.segments.filter((s) => s.estimated.rho).map((
          s,
        ) => [s.segment, { rho: round(s.rho, 6) }]),
      )
      : {},
    years: [...file.horizon],
    detail,
    haircut,
    shifts,
  };
}
