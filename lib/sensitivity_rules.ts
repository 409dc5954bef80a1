/**
 * The rules' `sensitivity:` section (docs/sensitivity.md, lib/sensitivity;
 * kept beside lib/rules.ts, like capital_rules.ts, so that lib/sensitivity
 * may import the rules without a cycle): which variants of a run are
 * computed again by the engine for the sensitivity table (IFRS 7 §35G,
 * IFRS 9 §5.5.17(c) and B5.5.42: the allowance under each scenario alone
 * and under user-defined stresses). Absent: a run computes no sensitivity
 * and its outputs are as before.
 *
 * ```yaml
 * sensitivity:
 *   scenarios: true          # each scenario alone at 100% weight (default true)
 *   stresses:
 *     - { name: pd_x150, pd_multiplier: 1.5 }        # pd_12m_current x 1.5, re-staged
 *     - { name: collateral_minus_20, collateral_shock: 0.2 }  # collateral x (1 - 0.2)
 *     - { name: z_minus_1, z_shift: -1 }             # every scenario's z path - 1 (z_shift rules)
 *     - { name: severe, pd_multiplier: 2, collateral_shock: 0.3 }  # shocks combine
 *     - name: gdp_minus_2                            # z_shift rules from deno task scenarios
 *       macro: [{ variable: gdp_growth, delta: -2 }, { variable: house_price_growth, delta: -10, region: ES }]
 * ```
 *
 * Every number is bounded ({@link MAX_STRESSES}, {@link MAX_STRESS_PD_FACTOR},
 * the z bound of the rules, `MAX_Z_SHIFT`) and refused with its key path
 * beyond, never clamped.
 *
 * @module
 */
import { z } from "zod";
import { bound, isMapping, mapping, shown } from "./_config_file.ts";

/**
 * Most stresses in one rules file: each one stages and projects every
 * facility of the book again (as many engine passes as a run with
 * {@link MAX_STRESSES} scenarios), so the list is bounded like the
 * scenarios (`MAX_SCENARIOS` of lib/rules.ts is 20).
 */
export const MAX_STRESSES = 20;

/**
 * Largest factor of a PD shock: beyond 100 every PD of a normal book is at
 * the cap ({@link PD_SHOCK_CAP}), the same bound as the rules' PD
 * multipliers (`MAX_PD_FACTOR`).
 */
export const MAX_STRESS_PD_FACTOR = 100;

/**
 * The shocked 12-month PD never exceeds this (unless it was above it
 * already, then it is kept): `min(p1 × factor, max(p1, PD_SHOCK_CAP))`. A
 * shocked PD of 1 would mean certain default within the year for a
 * facility that is not in default (staging stays with the default flag and
 * days past due, methodology §3); 0.9999 keeps the shocked PD a
 * probability below 1, inside the portfolio's own bound `0 < p <= 1`
 * (methodology §1).
 */
export const PD_SHOCK_CAP = 0.9999;

/** Longest stress name (it names a line of the table and a CSV row). */
export const MAX_STRESS_NAME = 64;

/** One user-defined stress; at least one shock, shocks combine. */
export interface Stress {
  /**
   * Lower-case name, unique among the stresses, neither a scenario's name
   * nor `weighted` (the table's other lines).
   */
  name: string;
  /**
   * PD shock: every facility's `pd_12m_current` times this factor, capped
   * at {@link PD_SHOCK_CAP}; staging is evaluated again (the PD test of
   * methodology §3 reads `pd_12m_current`). In (0, {@link MAX_STRESS_PD_FACTOR}].
   */
  pd_multiplier?: number;
  /**
   * Collateral shock: every facility's `collateral_value` times
   * `1 - collateral_shock` (methodology §6), in [0, 1].
   */
  collateral_shock?: number;
  /**
   * Shift of every scenario's `z` path (methodology §4, `z_shift` rules
   * only): `z[s,y] + z_shift` for each forecast year given; negative is a
   * worse economy. The shifted values stay within ±10.
   */
  z_shift?: number;
  /**
   * Shifted macro paths through the fitted satellite model (lib/scenarios,
   * docs/scenarios.md): each shift adds `delta` percentage points to every
   * forecast year of `variable` (in `region` and `scenario`, else in all),
   * and the model of the rules' `scenario_source` turns the shifted paths
   * into every scenario's `z` and collateral haircut (`z_shift` rules
   * only). 1 to {@link MAX_MACRO_SHIFTS} shifts.
   */
  macro?: MacroStressShift[];
}

/** One shift of a macro stress (`MacroShift` of lib/scenarios). */
export interface MacroStressShift {
  /** The macro variable, e.g. `gdp_growth`. */
  variable: string;
  /** Added to each forecast year, in percentage points, within ±{@link MAX_MACRO_DELTA}. */
  delta: number;
  /** The region shifted (a region code of the scenario file); absent: all. */
  region?: string;
  /** The scenario shifted; absent: all. */
  scenario?: string;
}

/**
 * Largest shift of a macro variable, in percentage points: the widest
 * plausible range of a variable (house-price growth, -40% to 60%,
 * `VARIABLE_BOUNDS` of lib/scenarios) is 100 points, so a shift of more
 * than half of it is a typo (a share written as percent).
 */
export const MAX_MACRO_DELTA = 50;

/** Most shifts in one macro stress (four variables in a few regions). */
export const MAX_MACRO_SHIFTS = 20;

/** The rules' `sensitivity:` section, typed, with defaults filled in. */
export interface SensitivityRules {
  /** A line per scenario with that scenario alone at weight 1. @default true */
  scenarios: boolean;
  /** The user-defined stresses, in the file's order. @default [] */
  stresses: Stress[];
}

/** The value of a mapping's key, blank read as absent. */
const keyOf = (doc: unknown, key: string) =>
  isMapping(doc) ? doc[key] ?? undefined : undefined;

/**
 * The schema of the `sensitivity:` section. `doc` is the whole rules
 * document: a `z_shift` stress needs `scenario_adjustment: z_shift`, and
 * its shifted paths must stay within `zBound`, the rules' bound of `z`
 * (`MAX_Z_SHIFT` of lib/rules.ts, which passes it: this file does not
 * import the rules).
 */
export function sensitivitySchema(doc: unknown, zBound: number) {
  const adjustment = keyOf(doc, "scenario_adjustment") ?? "multiplier";
  const scenarios = keyOf(doc, "scenarios");
  const source = keyOf(doc, "scenario_source");
  const zValues = Array.isArray(scenarios)
    ? scenarios.flatMap((s) => {
      const v = keyOf(s, "z");
      return Array.isArray(v) ? v.filter((x) => typeof x === "number") : [];
    })
    : [];
  const stress = mapping({
    name: z.string().max(MAX_STRESS_NAME, bound("a line of the table"))
      .regex(/^[a-z][a-z0-9_]*$/, {
        error: (issue) =>
          `must start with a lower-case letter and hold only lower-case letters, digits and _, got ${
            shown(issue.input)
          }`,
      }),
    pd_multiplier: z.number().gt(0).max(
      MAX_STRESS_PD_FACTOR,
      bound("every PD of a book is at the cap well before"),
    ).optional(),
    collateral_shock: z.number().min(0).max(1, {
      error: (issue) =>
        `must be a share in [0, 1] of the collateral value taken off, got ${
          shown(issue.input)
        }`,
    }).optional(),
    z_shift: z.number().min(-zBound, bound("the bound of z")).max(
      zBound,
      bound("the bound of z"),
    ).optional(),
    macro: z.array(mapping({
      variable: z.string().regex(/^[a-z][a-z0-9_]*$/, {
        error: (issue) =>
          `must name a macro variable of the scenario file (gdp_growth, ...), got ${
            shown(issue.input)
          }`,
      }),
      delta: z.number().min(
        -MAX_MACRO_DELTA,
        bound("percentage points; half the widest range of a variable"),
      ).max(
        MAX_MACRO_DELTA,
        bound("percentage points; half the widest range of a variable"),
      ),
      region: z.string().min(1).optional(),
      scenario: z.string().min(1).optional(),
    })).min(1, { error: "must list at least one shift" }).max(
      MAX_MACRO_SHIFTS,
      bound("shifts of one stress"),
    ).optional(),
  }).superRefine((s, ctx) => {
    const shocks = ["pd_multiplier", "collateral_shock", "z_shift", "macro"];
    if (shocks.every((k) => s[k as keyof typeof s] === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: `a stress needs at least one of ${shocks.join(", ")}; add one`,
      });
    }
    if (s.macro !== undefined && adjustment !== "z_shift") {
      ctx.addIssue({
        code: "custom",
        path: ["macro"],
        message:
          `only applies to scenario_adjustment: z_shift with a scenario_source (the rules use ${adjustment}); write the scenarios with deno task scenarios`,
      });
    } else if (s.macro !== undefined && !isMapping(source)) {
      ctx.addIssue({
        code: "custom",
        path: ["macro"],
        message:
          "needs the rules' scenario_source (the fitted satellite model that wrote the scenarios); merge the rules fragment of deno task scenarios",
      });
    }
    if (s.z_shift !== undefined && adjustment !== "z_shift") {
      ctx.addIssue({
        code: "custom",
        path: ["z_shift"],
        message:
          `only applies to scenario_adjustment: z_shift (the rules use ${adjustment}); use pd_multiplier for a multiplier book`,
      });
    } else if (s.z_shift !== undefined) {
      const out = zValues.map((v) => v + s.z_shift!).find((v) =>
        Math.abs(v) > zBound
      );
      if (out !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["z_shift"],
          message: `takes a scenario's z to ${
            shown(out)
          }, beyond ±${zBound} (the bound of z); use a smaller shift`,
        });
      }
    }
  });
  return mapping({
    scenarios: z.boolean().default(true),
    stresses: z.array(stress).max(MAX_STRESSES, {
      error: (issue) =>
        `must list at most ${MAX_STRESSES} stresses (each projects every facility again), got ${
          (issue.input as unknown[]).length
        }`,
    }).default([]),
  }).superRefine((s, ctx) => {
    const seen = new Set<string>();
    const names = Array.isArray(scenarios)
      ? scenarios.map((x) => keyOf(x, "name")).filter((x) =>
        typeof x === "string"
      )
      : [];
    s.stresses.forEach(({ name }, i) => {
      // A line of the table is named by its stress or scenario: two lines
      // of one name could not be told apart (summary.json, the report).
      if (name === "weighted" || names.includes(name)) {
        ctx.addIssue({
          code: "custom",
          path: ["stresses", i, "name"],
          message: `${name} names ${
            name === "weighted"
              ? "the probability-weighted line"
              : "a scenario's line"
          } of the sensitivity table; give the stress another name`,
        });
      } else if (seen.has(name)) {
        ctx.addIssue({
          code: "custom",
          path: ["stresses", i, "name"],
          message: `duplicate stress name ${name}`,
        });
      }
      seen.add(name);
    });
  });
}
