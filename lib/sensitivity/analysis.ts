/**
 * The sensitivity table of a run (docs/sensitivity.md; IFRS 7 §35G and
 * B8 practice, IFRS 9 §5.5.17(c)): the allowance of the run's rules (the
 * probability-weighted line), of each scenario alone at 100% weight, and
 * of user-defined stresses (a PD shock, a collateral shock, a shifted
 * `z` path, a shifted macro path), each line computed by running the engine again on the run's
 * valid rows with changed rules or inputs: `stageFacilities`, then
 * `computeEcl` with the overlays (methodology §3-§8), then the run's own
 * summary (`summarize` of lib/run) of those results. No line is derived
 * from another by a formula; `change_vs_weighted` is the difference of two
 * such lines.
 *
 * Re-staging rule. Staging (methodology §3) reads `default_flag`, days
 * past due, `watchlist`, `forborne` and the PD test on `pd_12m_current`
 * against `pd_12m_origination`; it never reads a scenario's PDs, LGDs or
 * collateral. So a scenario-alone line, a collateral shock, a shifted
 * `z` path and a macro stress keep the run's stages (staging is evaluated again and gives the
 * same stages), and a PD shock, which changes `pd_12m_current`, re-stages:
 * its facilities may cross the PD test into stage 2 (or, with a factor
 * below 1, out of it).
 *
 * The variants (methodology references):
 *
 * - scenario `s` alone: the scenarios list is `s` with weight 1 (§8, the
 *   overlays of the rules still apply after it);
 * - `pd_multiplier: f`: `pd_12m_current := min(p1 × f, max(p1,
 *   PD_SHOCK_CAP))` (§3, §4), the origination PD unchanged; in a
 *   `pd_curve: transition_matrix` segment (§13) every grade's base curve
 *   `q[y] := min(q[y] × f, max(q[y], PD_SHOCK_CAP))` (`shockedCurve`), the
 *   grade being the one of the unshocked PD (or the rating), so the shock
 *   moves every segment's base curve by the same factor;
 * - `collateral_shock: c`: `collateral_value := collateral_value × (1 -
 *   c)` (§6; a null collateral stays null, i.e. 0);
 * - `z_shift: d`: every scenario's `z[s,y] := z[s,y] + d` for the years it
 *   gives (§4; a reversion, when configured, runs from the shifted last
 *   value back to 0);
 * - `macro: [shifts]`: every scenario's `z` and collateral haircut from
 *   the macro paths shifted, through the fitted satellite model of the
 *   rules' `scenario_source` (`macro.ts`, docs/scenarios.md).
 *
 * The run's plugins are not run again for the variants: a plugin that
 * changes stages or ECL (`afterStaging`, `afterEcl`) makes the weighted
 * line differ from the run's allowance by what it changed (the summary's
 * own totals are then the run's figure); the table then carries a
 * warning naming them ({@link pluginWarning}), shown by summary.json and
 * the report.
 *
 * Memory: each line goes through the rows in chunks of `chunkSize` loans
 * ({@link SENSITIVITY_CHUNK_SIZE}), adding the chunks' summaries; an `add`
 * overlay is planned over the whole book first (the run's two passes).
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame, Expr, LazyFrame } from "../frame.ts";
import { requireValidRules, type Rules, withRules } from "../rules.ts";
import type { RulesPatch } from "../rules.ts";
import { PD_SHOCK_CAP, type Stress } from "../sensitivity_rules.ts";
import { macroStressScenarios } from "./macro.ts";
import { GRADE_PD_COLUMN } from "../transition_matrix.ts";
import { COL } from "../schema.ts";
import type { FxTable } from "../fx.ts";
import {
  applyOverlayPlan,
  computeEcl,
  mergeOverlayCells,
  overlayCells,
  type OverlayPlan,
  overlayPlan,
  overlaysAllocate,
  stageFacilities,
  withReportingCurrency,
} from "../engine/mod.ts";
import { UserError } from "../errors.ts";
import {
  attachCarryingAmounts,
  carryingAmounts,
  type SensitivityLine,
  type SensitivitySummary,
  type Summary,
} from "../run_folder/mod.ts";

/**
 * The run's summary of some loan results (lib/run's `summarize`, the
 * function that writes `summary.json`). lib/run calls this module, so the
 * summariser is handed in rather than imported (no cycle between the
 * areas, tests/architecture_test.ts).
 */
export type Summarizer = (
  results: LazyFrame,
  opts: { runId: string; reportingDate: string; rules: Rules; fx: FxTable },
) => Promise<Summary>;

/** Options of {@link sensitivityAnalysis}. */
export interface SensitivityOptions {
  /** The reporting date `YYYY-MM-DD` of the rows. */
  reportingDate: string;
  /** lib/run's `summarize` (see {@link Summarizer}). */
  summarize: Summarizer;
  /** The id the summaries are made under. @default "sensitivity" */
  runId?: string;
  /** Loans per engine batch; the engine's default when absent. */
  batchSize?: number;
  /**
   * Loans staged and computed per engine call of a line (the memory of
   * the step is bounded by it, as a run's chunk).
   * @default SENSITIVITY_CHUNK_SIZE
   */
  chunkSize?: number;
  /** Called when a line starts, with its kind and name. */
  onLine?: (kind: SensitivityLine["kind"], name: string) => void;
  /**
   * Names of the run's plugins with an `afterStaging` or `afterEcl` hook
   * (docs/plugins.md). The lines are computed without them, so the
   * summary's `warnings` says the weighted line is then not the run's
   * allowance. @default []
   */
  changingPlugins?: readonly string[];
}

/**
 * The warning of a sensitivity table computed without plugins that
 * changed the run's stages or ECL (none: `undefined`).
 */
export function pluginWarning(
  names: readonly string[] | undefined,
): string | undefined {
  if (names === undefined || names.length === 0) return undefined;
  return `The run's plugin${names.length === 1 ? "" : "s"} ${
    names.join(", ")
  } changed stages or ECL (afterStaging / afterEcl); the sensitivity lines are computed without ${
    names.length === 1 ? "it" : "them"
  }, so the weighted line is not the run's allowance and every line leaves out what ${
    names.length === 1 ? "it" : "they"
  } changed`;
}

/** One variant of the run: its rules and what it does to the rows. */
export interface SensitivityVariant {
  /** The line's kind. */
  kind: SensitivityLine["kind"];
  /** The line's name. */
  name: string;
  /** What it changes, in words. */
  variant: string;
  /** The rules of its engine pass. */
  rules: Rules;
  /** What it does to the valid rows before staging. */
  shock: (valid: LazyFrame) => LazyFrame;
  /** Whether it keeps the run's stages or is staged again. */
  staging: SensitivityLine["staging"];
  /**
   * A PD shock's factor on the base curves of `pd_curve:
   * transition_matrix` grades (`computeEcl`'s `matrixPdShock`); absent:
   * none.
   */
  matrixPdShock?: number;
  /** Warnings of a macro stress (`macroShiftWarnings`); absent: none. */
  warnings?: string[];
}

/**
 * Loans per engine call of a line when no `chunkSize` is given: a run's
 * default chunk (lib/run `DEFAULT_CHUNK_SIZE`, about 250 MB of loan
 * results per million loans).
 */
export const SENSITIVITY_CHUNK_SIZE = 1_000_000;

/** The re-staging rule, as the table and summary.json state it. */
export const STAGING_RULE =
  "Staging (methodology §3) reads pd_12m_current, days past due and the flags, never a scenario's PDs: each scenario alone, a collateral shock, a shifted z path and a shifted macro path keep the run's stages; a PD shock changes pd_12m_current and is staged again (the PD test may move facilities between stages 1 and 2).";

/**
 * The variant's rules: `patch` applied to the run's, without the sections
 * that do not take part in an engine pass (`capital`, `plugins`,
 * `sensitivity` itself, whose checks read the scenarios being changed).
 */
function variantRules(rules: Rules, patch: RulesPatch): Rules {
  return withRules(rules, {
    ...patch,
    capital: undefined,
    plugins: undefined,
    sensitivity: undefined,
  } as RulesPatch);
}

/**
 * `pd_12m_current` times `factor`, capped at {@link PD_SHOCK_CAP} (a PD
 * above the cap already is kept): `min(p1 × f, max(p1, cap))`.
 */
export function pdShockExpr(factor: number): Expr {
  const p = pl.col(COL.pd12mCurrent).cast(pl.Float64);
  const shocked = p.mul(pl.lit(factor));
  const cap = pl.when(p.gt(pl.lit(PD_SHOCK_CAP))).then(p).otherwise(
    pl.lit(PD_SHOCK_CAP),
  );
  return pl.when(shocked.gt(cap)).then(cap).otherwise(shocked).alias(
    COL.pd12mCurrent,
  );
}

/** `collateral_value × (1 - share)` (a null collateral stays null). */
export function collateralShockExpr(share: number): Expr {
  return pl.col(COL.collateralValue).cast(pl.Float64).mul(pl.lit(1 - share))
    .alias(COL.collateralValue);
}

/** What a stress does to the rows (the columns it needs, when present). */
function stressShock(stress: Stress): (valid: LazyFrame) => LazyFrame {
  return (valid) => {
    const columns = valid.columns;
    const exprs = [
      ...(stress.pd_multiplier !== undefined &&
          columns.includes(COL.pd12mCurrent)
        ? [
          pdShockExpr(stress.pd_multiplier),
          // A matrix segment's facility is graded from the unshocked PD;
          // the shock moves its grade's curve instead (docs/sensitivity.md).
          pl.col(COL.pd12mCurrent).cast(pl.Float64).alias(GRADE_PD_COLUMN),
        ]
        : []),
      ...(stress.collateral_shock !== undefined &&
          columns.includes(COL.collateralValue)
        ? [collateralShockExpr(stress.collateral_shock)]
        : []),
    ];
    return exprs.length === 0 ? valid : valid.withColumns(...exprs);
  };
}

/** The stress in words, for the table. */
function stressWords(s: Stress): string {
  return [
    s.pd_multiplier === undefined
      ? null
      : `pd_12m_current × ${s.pd_multiplier} (at most ${PD_SHOCK_CAP})`,
    s.collateral_shock === undefined
      ? null
      : `collateral_value × (1 − ${s.collateral_shock})`,
    s.z_shift === undefined
      ? null
      : `every scenario's z path ${s.z_shift >= 0 ? "+" : "−"} ${
        Math.abs(s.z_shift)
      }`,
    s.macro === undefined
      ? null
      : `macro paths through the satellite model: ${
        s.macro.map((m) =>
          `${m.variable} ${m.delta >= 0 ? "+" : "−"} ${Math.abs(m.delta)} pp${
            m.region === undefined ? "" : ` in ${m.region}`
          }${m.scenario === undefined ? "" : ` (${m.scenario})`}`
        ).join(", ")
      }`,
  ].filter((x) => x !== null).join("; ");
}

/**
 * The variants of `rules`: weighted, each scenario alone, each stress (a
 * macro stress reads the fit and the scenario file of the rules'
 * `scenario_source`, `macro.ts`).
 */
export async function sensitivityVariants(
  rules: Rules,
): Promise<SensitivityVariant[]> {
  const section = rules.sensitivity ?? { scenarios: true, stresses: [] };
  const same = (lf: LazyFrame) => lf;
  const variants: SensitivityVariant[] = [{
    kind: "weighted",
    name: "weighted",
    variant: `the run's rules: ${
      rules.scenarios.map((s) => `${s.name} ${s.weight}`).join(", ")
    }`,
    rules,
    shock: same,
    staging: "run",
  }];
  if (section.scenarios) {
    for (const s of rules.scenarios) {
      variants.push({
        kind: "scenario",
        name: s.name,
        variant: `${s.name} alone at weight 1`,
        rules: variantRules(rules, { scenarios: [{ ...s, weight: 1 }] }),
        shock: same,
        staging: "run",
      });
    }
  }
  for (const [i, stress] of section.stresses.entries()) {
    const shift = stress.z_shift;
    const macroWarnings: string[] = [];
    const scenarios = stress.macro === undefined
      ? rules.scenarios
      : await macroStressScenarios(
        rules,
        stress.macro,
        `sensitivity.stresses[${i}].macro`,
        macroWarnings,
      );
    variants.push({
      kind: "stress",
      name: stress.name,
      variant: stressWords(stress),
      rules: variantRules(
        rules,
        shift === undefined && stress.macro === undefined ? {} : {
          scenarios: scenarios.map((s) => ({
            ...s,
            z: shift === undefined ? s.z : s.z?.map((v) => v + shift),
          })),
        },
      ),
      shock: stressShock(stress),
      staging: stress.pd_multiplier === undefined ? "run" : "restaged",
      ...(stress.pd_multiplier === undefined
        ? {}
        : { matrixPdShock: stress.pd_multiplier }),
      ...(macroWarnings.length === 0 ? {} : { warnings: macroWarnings }),
    });
  }
  return variants;
}

/** What a line takes from its summary. */
type LineTotals = Pick<SensitivityLine, "ecl" | "ecl_model" | "by_stage">;

/**
 * The totals of one variant's engine pass, chunk by chunk: each chunk
 * staged and computed, its loan results summarised by the run's summary,
 * the chunks' totals added (sums: the same figures as one pass, to
 * rounding). An `add` overlay is shared over everything it selects in the
 * book (methodology §8), so with one and several chunks the model ECL of
 * every chunk comes first (kept as overlay cells only), then one overlay
 * plan is applied to each chunk computed again: the run's two passes,
 * without part files.
 */
async function variantTotals(
  v: SensitivityVariant,
  part: (c: number) => LazyFrame,
  chunks: number,
  fx: FxTable,
  opts: SensitivityOptions,
): Promise<LineTotals> {
  const rules = v.rules;
  const shared = chunks > 1 && overlaysAllocate(rules.overlays);
  const model = (c: number, overlays: boolean) =>
    computeEcl(stageFacilities(v.shock(part(c)), rules), rules, {
      fx,
      batchSize: opts.batchSize,
      overlays,
      ...(v.matrixPdShock === undefined
        ? {}
        : { matrixPdShock: v.matrixPdShock }),
    });
  let plan: OverlayPlan | undefined;
  if (shared) {
    const cells: DataFrame[] = [];
    for (let c = 0; c < chunks; c++) {
      cells.push(
        await overlayCells((await model(c, false)).lazy(), rules.overlays)
          .collect(),
      );
    }
    plan = overlayPlan(rules.overlays, mergeOverlayCells(cells), {
      fx,
      reportingCurrency: rules.reporting_currency,
    });
  }
  const sum: LineTotals = {
    ecl: 0,
    ecl_model: 0,
    by_stage: ["1", "2", "3"].map((key) => ({ key, count: 0, ecl: 0 })),
  };
  for (let c = 0; c < chunks; c++) {
    const results = plan === undefined
      ? await model(c, true)
      : await withReportingCurrency(
        applyOverlayPlan((await model(c, false)).lazy(), plan),
        fx,
        rules.reporting_currency,
      ).collect();
    // Carrying amounts read balance only, which no variant changes.
    const carrying = await carryingAmounts(part(c)).collect();
    const summary = await opts.summarize(
      attachCarryingAmounts(results, carrying).lazy(),
      {
        runId: opts.runId ?? "sensitivity",
        reportingDate: opts.reportingDate,
        rules,
        fx,
      },
    );
    sum.ecl += summary.totals.ecl;
    sum.ecl_model += summary.totals.ecl_model;
    for (const g of sum.by_stage) {
      const s = summary.by_stage.find((x) => x.key === g.key);
      g.count += s?.count ?? 0;
      g.ecl += s?.ecl ?? 0;
    }
  }
  return sum;
}

/**
 * The sensitivity table of a run's valid rows (see the module's text):
 * one engine pass per line, each summarised by the run's summary.
 *
 * @param valid the run's valid rows (after validation, and the PD
 *   sources and `afterValidate` plugins when the run has them).
 * @param rules the run's rules; their `sensitivity:` section says which
 *   lines (absent: each scenario alone, no stress).
 * @param fx the run's FX table.
 *
 * lib/run calls this with its own `summarize` when the rules have a
 * `sensitivity:` section; a notebook passes `summarize` from lib/mod.ts
 * (the examples are tests/sensitivity/sensitivity_test.ts: an example
 * here would import lib/run, which imports this module).
 */
export async function sensitivityAnalysis(
  valid: LazyFrame,
  rules: Rules,
  fx: FxTable,
  opts: SensitivityOptions,
): Promise<SensitivitySummary> {
  rules = requireValidRules(rules, "sensitivityAnalysis()");
  const variants = await sensitivityVariants(rules);
  // Carrying amounts read balance only, which no variant changes.
  const height = Number(
    (await valid.select(pl.len().alias("n")).collect()).getColumn("n").get(0),
  );
  const size = opts.chunkSize ?? SENSITIVITY_CHUNK_SIZE;
  if (!Number.isInteger(size) || size < 1) {
    throw new UserError(
      "usage",
      `Cannot compute the sensitivity: chunkSize must be a whole number >= 1, got ${size}`,
    );
  }
  const chunks = Math.max(1, Math.ceil(height / size));
  // The rows of chunk `c` (all of them in one chunk).
  const part = (c: number) =>
    chunks === 1 ? valid : valid.slice(c * size, size);
  const lines: Omit<SensitivityLine, "change_vs_weighted">[] = [];
  for (const v of variants) {
    opts.onLine?.(v.kind, v.name);
    const totals = await variantTotals(v, part, chunks, fx, opts);
    lines.push({
      kind: v.kind,
      name: v.name,
      variant: v.variant,
      ...totals,
      staging: v.staging,
    });
  }
  const weighted = lines[0].ecl;
  const warning = pluginWarning(opts.changingPlugins);
  const warnings = [
    ...(warning === undefined ? [] : [warning]),
    ...variants.flatMap((v) => v.warnings ?? []),
  ];
  return {
    reporting_currency: rules.reporting_currency,
    staging_rule: STAGING_RULE,
    lines: lines.map((l) => ({ ...l, change_vs_weighted: l.ecl - weighted })),
    ...(warnings.length === 0 ? {} : { warnings }),
  };
}
