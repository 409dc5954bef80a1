/**
 * Post-model adjustments (overlays, methodology §8): applied after
 * probability weighting, to `ecl_model`, giving `ecl` and the list of
 * overlay names applied (`overlays_applied`).
 *
 * Overlays apply in file order, each to the ECL left by the previous one: a
 * `multiplier: 1.1` then an `add: 50` on the same facility give
 * `ecl_model * 1.1 + 50`, in the other order `(ecl_model + 50) * 1.1`. A
 * filter key that is absent matches every facility; the keys given must all
 * match (segment, product, stage, region; a null region never matches a
 * region filter). `add` is in the facility's currency and is applied as
 * written: a negative `add` (a release) is not floored, so its effect stays
 * visible. `ecl_<scenario>` columns remain model figures.
 *
 * @module
 */
import pl from "nodejs-polars";
import { COL } from "../schema.ts";
import type { Overlay, OverlayFilter } from "../rules.ts";
import { isInList, labelsWhere } from "./_expr.ts";

/** Output column listing the overlays applied to a facility. */
export const OVERLAYS_APPLIED = "overlays_applied";

/** The condition of an overlay filter (every key given must match). */
export function overlayFilterExpr(filter: OverlayFilter): pl.Expr {
  const parts: pl.Expr[] = [];
  if (filter.segment) parts.push(isInList(COL.segment, filter.segment));
  if (filter.product) parts.push(isInList(COL.product, filter.product));
  if (filter.region) parts.push(isInList(COL.region, filter.region));
  if (filter.stage) parts.push(isInList("stage", filter.stage));
  return parts.reduce((a, b) => a.and(b), pl.lit(true));
}

/**
 * Applies overlays to loan results (a pipeline step): reads `ecl_model`,
 * `segment`, `product`, `stage`, `region`; writes `ecl` and
 * `overlays_applied` (List(Utf8), in file order; empty when none applies).
 *
 * @example
 * ```ts ignore
 * const adjusted = await applyOverlays(results.lazy(), rules.overlays).collect();
 * ```
 */
export function applyOverlays(
  results: pl.LazyDataFrame,
  overlays: readonly Overlay[],
): pl.LazyDataFrame {
  let lf = results.withColumns(pl.col("ecl_model").alias("ecl"));
  // One withColumns per overlay: each sees the `ecl` the previous one left.
  for (const o of overlays) {
    const cond = overlayFilterExpr(o.filter);
    const adjusted = o.multiplier !== undefined
      ? pl.col("ecl").mul(pl.lit(o.multiplier))
      : pl.col("ecl").add(pl.lit(o.add ?? 0));
    lf = lf.withColumns(
      pl.when(cond).then(adjusted).otherwise(pl.col("ecl")).alias("ecl"),
    );
  }
  return lf.withColumns(
    labelsWhere(overlays.map((o) => [overlayFilterExpr(o.filter), o.name]))
      .alias(OVERLAYS_APPLIED),
  );
}
