/**
 * Post-model adjustments (overlays, methodology §8): applied after
 * probability weighting, to `ecl_model`, giving `ecl`. This module is the
 * only implementation of the overlay formula; everything downstream (the
 * summary's attribution, the report) reads what it records per facility.
 *
 * Overlays apply in file order, each to the ECL left by the previous ones.
 * A filter key that is absent matches every facility; the keys given must
 * all match (segment, product, stage, region; a null region never matches a
 * region filter). Each selected facility's ECL changes by its *impact*:
 *
 * - `multiplier: m`: `ecl * (m - 1)`, so the ECL becomes `ecl * m`.
 * - `add: A`: `A` is an amount in the reporting currency for the selected
 *   population as a whole, shared pro rata to the ECL the facilities have
 *   at that point, `A * ecl_f * rate_f / T` in the reporting currency with
 *   `T = sum of ecl_g * rate_g` over the selection, which is
 *   `ecl_f * A / T` in the facility's own currency (`rate` = reporting
 *   currency per unit of the facility currency, from the run's FX table,
 *   `reportingRates` of `lib/fx.ts`). When that ECL sums to 0 the share is
 *   pro rata to `ead` instead: `ead_f * A / E`, `E = sum of ead_g * rate_g`.
 *   So the shares of an `add` add up to `A` in the reporting currency
 *   whatever currencies the selection holds.
 *
 * A `multiplier` then an `add` on the same facilities give
 * `ecl_model * m` plus a share of `A` pro rata to `ecl_model * m`; in the
 * other order the share is pro rata to `ecl_model` and the sum is then
 * multiplied. After all overlays a facility's ECL is floored at 0 (a
 * release larger than the allowance cannot make it negative); what the
 * floor added is recorded, and the run warns naming the overlays
 * (`overlayWarnings` in `lib/run/summary.ts`).
 *
 * Output columns, per facility, amounts in the facility's currency:
 *
 * | column | content |
 * |---|---|
 * | `ecl_model` | unchanged: the probability-weighted ECL before overlays |
 * | `ecl` | after overlays and the floor |
 * | `overlays_applied` | List(Utf8): the overlays whose filter selects the facility, in file order |
 * | `overlay_impacts` | List(Float64), aligned with `overlays_applied`: each overlay's change to the ECL, before the floor |
 * | `overlay_floor` | Float64 `>= 0`: what the floor at 0 added after the last overlay |
 *
 * so that `ecl = ecl_model + sum(overlay_impacts) + overlay_floor` for
 * every facility (the sum taken in list order; it is how `ecl` is
 * computed). `ecl_<scenario>` columns remain model figures.
 *
 * An `add` needs the whole selected population: {@link overlayCells} sums
 * it into a few rows that add up across slices of a portfolio
 * ({@link mergeOverlayCells}), {@link overlayPlan} turns the sums into one
 * rate per overlay, and {@link applyOverlayPlan} applies the rates to any
 * slice, so a run computed in chunks allocates exactly like one pass.
 * {@link applyOverlays} does the three steps on one frame.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame, Expr, LazyFrame } from "../frame.ts";
import { COL } from "../schema.ts";
import {
  type Overlay,
  type OverlayFilter,
  requireValidOverlays,
} from "../rules.ts";
import { FxError, type FxTable, requireValidFx } from "../fx.ts";
import { UserError } from "../errors.ts";
import { preciseSum, withPreciseSums } from "../precise_sum.ts";
import { isInList, labelsWhere } from "./_expr.ts";

/** Output column listing the overlays applied to a facility. */
export const OVERLAYS_APPLIED = "overlays_applied";
/**
 * Output column: each applied overlay's change to the facility's ECL, in
 * the facility's currency, aligned with {@link OVERLAYS_APPLIED}.
 */
export const OVERLAY_IMPACTS = "overlay_impacts";
/** Output column: what the floor at 0 added after all overlays (`>= 0`). */
export const OVERLAY_FLOOR = "overlay_floor";

/** The condition of an overlay filter (every key given must match). */
export function overlayFilterExpr(filter: OverlayFilter): Expr {
  const parts: Expr[] = [];
  if (filter.segment) parts.push(isInList(COL.segment, filter.segment));
  if (filter.product) parts.push(isInList(COL.product, filter.product));
  if (filter.region) parts.push(isInList(COL.region, filter.region));
  if (filter.stage) parts.push(isInList("stage", filter.stage));
  return parts.reduce((a, b) => a.and(b), pl.lit(true));
}

/** Options of {@link applyOverlays} and {@link overlayPlan}. */
export interface OverlayOptions {
  /**
   * The run's FX table: converts the selected facilities' ECL into the
   * reporting currency to share an `add` pro rata. Required when an
   * overlay has a non-zero `add`.
   */
  fx?: FxTable;
  /**
   * The currency `add` amounts are in (the rules' `reporting_currency`).
   * Required with `fx`.
   */
  reportingCurrency?: string;
  /** Called with each warning of the plan ({@link OverlayPlan.warnings}). */
  onWarning?: (warning: string) => void;
}

/** How one overlay changes each facility it selects. */
export interface OverlayStep {
  overlay: Overlay;
  /**
   * Impact per facility: `ecl * eclRate + ead * eadRate`, in the
   * facility's currency (`ecl` as left by the overlays before).
   */
  eclRate: number;
  eadRate: number;
  /** What an `add` was shared by (`none`: it selected no facility). */
  basis: "multiplier" | "ecl" | "ead" | "none";
}

/** The overlays of a population, ready to apply to any slice of it. */
export interface OverlayPlan {
  /** One step per overlay, in the rules file's order. */
  steps: OverlayStep[];
  /**
   * An `add` shared pro rata over facilities whose ECL an earlier overlay
   * made negative (a release larger than their ECL): methodology §8 shares
   * it by the ECL at that point, so those facilities take a negative part
   * of a positive add until the floor at 0. Named so the run can say so.
   */
  warnings: string[];
}

/** Whether an overlay needs the whole selected population (an `add`). */
const allocates = (o: Overlay) => o.multiplier === undefined && !!o.add;

/** Name of the cell column flagging overlay `i`'s selection. */
const flagColumn = (i: number) => `__overlay_${i}`;

/** The currency an `add` is stated in, for messages. */
const amountText = (o: Overlay, cur?: string) =>
  `add of ${o.add}${cur ? ` ${cur}` : ""}`;

/**
 * Refuses two overlays of one name: the per-facility record and the
 * summary tell overlays apart by name.
 */
export function checkOverlayNames(overlays: readonly Overlay[]): void {
  const seen = new Set<string>();
  overlays.forEach((o, i) => {
    if (seen.has(o.name)) {
      throw new UserError(
        "input",
        `Cannot apply overlays: overlays[${i}].name ${o.name} is used twice (overlay names label the per-facility impacts and the summary)`,
      );
    }
    seen.add(o.name);
  });
}

/**
 * The sums an `add` is allocated by, one row per combination of overlay
 * selections and currency: `count`, `ecl_model`, `ead` (exact to the cent,
 * `precise_sum.ts`). A few rows whatever the size of the book; the cells of
 * slices add up ({@link mergeOverlayCells}). Reads `ecl_model`, `ead`,
 * `currency` and the filter columns.
 */
export function overlayCells(
  results: LazyFrame,
  overlays: readonly Overlay[],
): LazyFrame {
  const flags = overlays.map((o, i) =>
    overlayFilterExpr(o.filter).alias(flagColumn(i))
  );
  const keys = [...overlays.map((_, i) => flagColumn(i)), COL.currency];
  return withPreciseSums(
    results
      .select(
        ...flags,
        pl.col(COL.currency),
        pl.col("ecl_model").cast(pl.Float64),
        pl.col("ead").cast(pl.Float64),
      )
      .groupBy(keys)
      .agg(
        pl.len().cast(pl.Float64).alias("count"),
        ...preciseSum(pl.col("ecl_model"), "ecl_model"),
        ...preciseSum(pl.col("ead"), "ead"),
      ),
    ["ecl_model", "ead"],
  );
}

/** Adds up the {@link overlayCells} of slices of one portfolio. */
export function mergeOverlayCells(parts: DataFrame[]): DataFrame {
  if (parts.length === 1) return parts[0];
  const keys = parts[0].columns.filter((c) =>
    !["count", "ecl_model", "ead"].includes(c)
  );
  return pl.concat(parts).groupBy(keys).agg(
    pl.col("count").sum(),
    pl.col("ecl_model").sum(),
    pl.col("ead").sum(),
  );
}

/**
 * The rate of each overlay, from the {@link overlayCells} of the whole
 * population (`cells` may be null when no overlay has an `add`: a
 * multiplier needs no population).
 *
 * Every overlay changes a facility's ECL linearly in its `ecl_model` and
 * `ead`, with coefficients that depend only on which overlays select it;
 * so the ECL a selection holds when an overlay's turn comes is a sum over
 * the cells, and no second pass over the facilities is needed.
 *
 * @throws {FxError} when an `add` selects facilities in a currency the FX
 *   table has no rate for, naming the overlay, the currency and the file.
 * @throws {UserError} when an `add` is given without an FX table, or its
 *   facilities have neither ECL nor EAD to share it by.
 */
export function overlayPlan(
  overlays: readonly Overlay[],
  cells: DataFrame | null,
  opts: OverlayOptions = {},
): OverlayPlan {
  checkOverlayNames(overlays);
  if (!overlays.some(allocates)) {
    return {
      steps: overlays.map((o) => ({
        overlay: o,
        eclRate: o.multiplier === undefined ? 0 : o.multiplier - 1,
        eadRate: 0,
        basis: o.multiplier === undefined ? "none" : "multiplier",
      })),
      warnings: [],
    };
  }
  if (cells === null) {
    throw new UserError(
      "usage",
      "Cannot apply overlays: an add overlay needs the overlay cells of the whole population (overlayCells)",
    );
  }
  // Sorted so the sums do not depend on the order Polars emits groups in.
  const keys = [...overlays.map((_, i) => flagColumn(i)), COL.currency];
  const rows = (cells.sort(keys).toRecords() as Record<string, unknown>[])
    .map((r) => ({
      selected: overlays.map((_, i) => r[flagColumn(i)] === true),
      currency: String(r[COL.currency]),
      count: Number(r.count),
      eclModel: Number(r.ecl_model),
      ead: Number(r.ead),
      // The cell's ECL so far is alpha * ecl_model + beta * ead.
      alpha: 1,
      beta: 0,
    }));
  const warnings: string[] = [];
  // The overlay that last left a cell's ECL able to be negative.
  const negativeBy = new Map<(typeof rows)[number], string>();
  const steps = overlays.map((o, k): OverlayStep => {
    const sel = rows.filter((r) => r.selected[k]);
    if (allocates(o)) {
      const culprits = [
        ...new Set(sel.flatMap((r) => negativeBy.get(r) ?? [])),
      ];
      if (culprits.length > 0) {
        warnings.push(
          `Overlay ${o.name} is shared pro rata to ECL that overlay ${
            culprits.join(", ")
          } made negative (a release larger than the ECL it selects): those facilities take a negative part of it until the floor at 0 (methodology §8); apply the release after ${o.name} or reduce it`,
        );
      }
    }
    let eclRate = 0, eadRate = 0;
    let basis: OverlayStep["basis"];
    if (o.multiplier !== undefined) {
      eclRate = o.multiplier - 1;
      basis = "multiplier";
    } else if (!o.add || sel.length === 0) {
      basis = "none";
    } else {
      const rate = rateOf(o, sel.map((r) => r.currency), opts);
      let ecl = 0, ead = 0, count = 0;
      for (const r of sel) {
        ecl += (r.alpha * r.eclModel + r.beta * r.ead) * rate[r.currency];
        ead += r.ead * rate[r.currency];
        count += r.count;
      }
      if (ecl !== 0) {
        eclRate = finiteShare(o, o.add / ecl, "ECL", ecl, opts);
        basis = "ecl";
      } else if (ead !== 0) {
        eadRate = finiteShare(o, o.add / ead, "EAD", ead, opts);
        basis = "ead";
      } else {
        throw new UserError(
          "input",
          `Cannot apply overlay ${o.name}: its ${
            amountText(o, opts.reportingCurrency)
          } has nothing to be shared by: the ${count} facilities it selects have an ECL and an EAD of 0 (methodology §8)`,
        );
      }
    }
    for (const r of sel) {
      r.alpha = r.alpha * (1 + eclRate);
      r.beta = r.beta * (1 + eclRate) + eadRate;
      // A facility's ECL is alpha * ecl_model + beta * ead, both >= 0.
      const negative = (r.alpha < 0 && r.eclModel > 0) ||
        (r.beta < 0 && r.ead > 0);
      if (negative) negativeBy.set(r, o.name);
      else negativeBy.delete(r);
    }
    return { overlay: o, eclRate, eadRate, basis };
  });
  for (const w of warnings) opts.onWarning?.(w);
  return { steps, warnings };
}

/**
 * The share of an `add` per unit of the ECL (or EAD) it is shared by,
 * refused when it is not a finite number: an add over a selection whose
 * ECL is a few units of 1e-300 (PDs of that order, which validation
 * accepts as above 0) gives a share of Infinity, and every selected
 * facility an ECL of Infinity or NaN. Shares pro rata to such an ECL are
 * meaningless, so the overlay is named rather than computed.
 *
 * @throws {UserError} of kind `check`.
 */
function finiteShare(
  o: Overlay,
  share: number,
  basis: "ECL" | "EAD",
  total: number,
  opts: OverlayOptions,
): number {
  if (Number.isFinite(share)) return share;
  throw new UserError(
    "check",
    `Cannot apply overlay ${o.name}: its ${
      amountText(o, opts.reportingCurrency)
    } cannot be shared pro rata to the ${basis} of the facilities it selects, ${total} in total: the share per unit, ${o.add} / ${total}, is not a finite number (methodology §8); check the PDs of those facilities or the overlay's filter`,
  );
}

/** Reporting-currency rates of the currencies an `add` selects. */
function rateOf(
  o: Overlay,
  currencies: string[],
  opts: OverlayOptions,
): Record<string, number> {
  const { fx, reportingCurrency: cur } = opts;
  // A selection entirely in the reporting currency needs no FX table.
  if (cur !== undefined && currencies.every((c) => c === cur)) {
    return { [cur]: 1 };
  }
  if (fx === undefined || cur === undefined) {
    throw new UserError(
      "usage",
      `Cannot apply overlay ${o.name}: its ${
        amountText(o)
      } is in the reporting currency and is shared across currencies with the run's FX table; pass the options fx and reportingCurrency`,
    );
  }
  const wanted = [...new Set(currencies)].sort();
  const missing = [cur, ...wanted].filter((c) => !(c in fx.rates));
  if (missing.length > 0) {
    throw new FxError(
      fx.file,
      `Cannot apply overlay ${o.name}: its ${
        amountText(o, cur)
      } is shared over facilities in ${
        [...new Set(missing)].join(", ")
      }, and FX table ${fx.file} (as of ${fx.as_of}) has no rate for ${
        missing.length === 1 ? "it" : "them"
      }`,
    );
  }
  // Reporting-currency units per unit of c: the cross rate through the
  // table's base (lib/fx.ts reportingRates).
  return Object.fromEntries(
    wanted.map((c) => [c, c === cur ? 1 : fx.rates[c] / fx.rates[cur]]),
  );
}

/** Joins values inside {@link valuesWhere}; a control character. */
const SEP = "\u001f";

/**
 * A List(Float64) of the non-null values, in the order given (empty list
 * when all are null). Built like `labelsWhere`, as a joined string split
 * and cast back: about twice as fast as `concatList(...).lst.eval` on a
 * million rows, and exact, because Polars writes a Float64 as the shortest
 * decimal that reads back to the same number.
 */
function valuesWhere(values: readonly Expr[]): Expr {
  const empty = pl.lit("").str.split(SEP).lst.head(0).cast(
    pl.List(pl.Float64),
  );
  if (values.length === 0) return empty;
  const joined = pl.concatString(values.map((v) => v.cast(pl.Utf8)), SEP);
  return pl.when(joined.isNull().or(joined.eq(pl.lit(""))))
    .then(empty)
    .otherwise(joined.str.split(SEP).cast(pl.List(pl.Float64)));
}

/**
 * Applies a plan to loan results (a pipeline step): reads `ecl_model`,
 * the filter columns and, for an `add` shared by EAD, `ead`; writes `ecl`,
 * `overlays_applied`, `overlay_impacts` and `overlay_floor` (see the
 * module documentation).
 */
export function applyOverlayPlan(
  results: LazyFrame,
  plan: OverlayPlan,
): LazyFrame {
  const conds = plan.steps.map((s) => overlayFilterExpr(s.overlay.filter));
  const impactColumn = (i: number) => `__overlay_impact_${i}`;
  let lf = results.withColumns(
    pl.col("ecl_model").cast(pl.Float64).alias("ecl"),
  );
  // Two withColumns per overlay: each sees the `ecl` the previous one left.
  plan.steps.forEach((s, i) => {
    let impact = pl.col("ecl").mul(pl.lit(s.eclRate));
    if (s.eadRate !== 0) {
      impact = impact.add(
        pl.col("ead").cast(pl.Float64).mul(pl.lit(s.eadRate)),
      );
    }
    lf = lf
      .withColumns(
        pl.when(conds[i]).then(impact).otherwise(pl.lit(null))
          .cast(pl.Float64).alias(impactColumn(i)),
      )
      .withColumns(
        pl.when(conds[i]).then(pl.col("ecl").add(pl.col(impactColumn(i))))
          .otherwise(pl.col("ecl")).alias("ecl"),
      );
  });
  // Methodology §8: floored at 0 after all overlays; `ecl + floor` is
  // exactly 0 where the floor applies.
  const floor = "__overlay_floor";
  lf = lf
    .withColumns(
      pl.when(pl.col("ecl").lt(0)).then(pl.lit(0).sub(pl.col("ecl")))
        .otherwise(pl.lit(0)).cast(pl.Float64).alias(floor),
    )
    .withColumns(pl.col("ecl").add(pl.col(floor)).alias("ecl"))
    // New columns in the order computeEcl returns them.
    .withColumns(
      labelsWhere(plan.steps.map((s, i) => [conds[i], s.overlay.name]))
        .alias(OVERLAYS_APPLIED),
      valuesWhere(plan.steps.map((_, i) => pl.col(impactColumn(i))))
        .alias(OVERLAY_IMPACTS),
      pl.col(floor).alias(OVERLAY_FLOOR),
    );
  // Results that already carry reporting-currency amounts keep them true:
  // `ecl_rc` follows the `ecl` the overlays left, at the row's own rate.
  if (lf.columns.includes("fx_rate") && lf.columns.includes("ecl_rc")) {
    lf = lf.withColumns(
      pl.col("ecl").mul(pl.col("fx_rate")).alias("ecl_rc"),
    );
  }
  return lf.drop([floor, ...plan.steps.map((_, i) => impactColumn(i))]);
}

/**
 * Applies overlays to loan results: the {@link overlayCells} of `results`
 * (collected only when an overlay has an `add`), their
 * {@link overlayPlan}, then {@link applyOverlayPlan}. Reads `ecl_model`,
 * `ead`, `currency`, `segment`, `product`, `stage`, `region`.
 *
 * @throws {FxError | UserError} see {@link overlayPlan}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { parseFx } from "../fx.ts";
 * import { applyOverlays } from "./overlays.ts";
 *
 * // EUR 100 added to two facilities, EUR ECL 30 and MXN ECL 1400 at
 * // 0.05 EUR per MXN (EUR 70): shared 30 : 70, the MXN share is EUR 70,
 * // that is 1400 MXN.
 * const results = pl.DataFrame({
 *   product: ["sme", "sme"], segment: ["sme", "sme"], region: ["n", "s"],
 *   stage: [2, 2], currency: ["EUR", "MXN"], ead: [1000, 20000],
 *   ecl_model: [30, 1400],
 * }).lazy();
 * const fx = parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1, MXN: 0.05}", "fx.yaml");
 * const out = await (await applyOverlays(results, [
 *   { name: "sme_add", filter: { product: ["sme"] }, add: 100, reason: "r" },
 * ], { fx, reportingCurrency: "EUR" })).collect();
 * assert.deepEqual(out.getColumn("ecl").toArray(), [60, 2800]);
 * ```
 */
export async function applyOverlays(
  results: LazyFrame,
  overlays: readonly Overlay[],
  opts: OverlayOptions = {},
): Promise<LazyFrame> {
  // Overlays built in code are checked like those of a rules file (§10).
  overlays = requireValidOverlays(overlays, "applyOverlays()");
  if (opts.fx) {
    // A table changed in code is checked like an FX file (lib/fx.ts).
    opts = { ...opts, fx: requireValidFx(opts.fx, "applyOverlays()") };
  }
  const cells = overlays.some(allocates)
    ? await overlayCells(results, overlays).collect()
    : null;
  return applyOverlayPlan(results, overlayPlan(overlays, cells, opts));
}

/** Whether overlays need the whole population before they apply. */
export function overlaysAllocate(overlays: readonly Overlay[]): boolean {
  return overlays.some(allocates);
}
