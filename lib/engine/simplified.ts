/**
 * The simplified approach (IFRS 9 §5.5.15, B5.5.35): for products configured
 * with `approach: simplified` (trade receivables, contract assets, lease
 * receivables), the loss allowance is always lifetime ECL, estimated with a
 * provision matrix of loss rates by days-past-due bucket.
 *
 * `ECL = loss_rate(bucket of days_past_due) * EAD[1]`, the matrix of the
 * facility's segment when the product defines one for it, else the product's
 * matrix. The full rationale is in docs/simplified_approach.md.
 *
 * @module
 */
import pl from "nodejs-polars";
import { COL } from "../schema.ts";
import type { ProvisionBucket, Rules } from "../rules.ts";
import { firstMatch } from "./_expr.ts";

/** Loss rate of the bucket `days_past_due` falls in (`max_dpd` inclusive). */
export function bucketLossRate(
  buckets: readonly ProvisionBucket[],
  daysPastDue: number,
): number {
  for (const b of buckets) {
    if (b.max_dpd === undefined || daysPastDue <= b.max_dpd) return b.loss_rate;
  }
  // The rules loader requires an open last bucket; keep the last rate.
  return buckets[buckets.length - 1].loss_rate;
}

/**
 * Expression for the provision-matrix loss rate of each facility (Float64):
 * null for products on the general approach. Segment matrices are tried
 * before the product's own matrix; within a matrix the first bucket whose
 * `max_dpd` is at or above `days_past_due` applies (B5.5.35).
 */
export function provisionLossRateExpr(rules: Rules): pl.Expr {
  const branches: (readonly [pl.Expr, pl.Expr])[] = [];
  const dpd = pl.col(COL.daysPastDue);
  const addMatrix = (scope: pl.Expr, buckets: readonly ProvisionBucket[]) => {
    for (const b of buckets) {
      const inBucket = b.max_dpd === undefined
        ? scope
        : scope.and(dpd.ltEq(pl.lit(b.max_dpd)));
      branches.push([inBucket, pl.lit(b.loss_rate)]);
    }
  };
  for (const [name, p] of Object.entries(rules.products)) {
    if (p.approach !== "simplified" || !p.provision_matrix) continue;
    const isProduct = pl.col(COL.product).eq(pl.lit(name));
    for (
      const [seg, buckets] of Object.entries(p.provision_matrix.segments ?? {})
    ) {
      addMatrix(
        isProduct.and(
          pl.col(COL.segment).eq(pl.lit(seg)).fillNull(pl.lit(false)),
        ),
        buckets,
      );
    }
    addMatrix(isProduct, p.provision_matrix.buckets);
  }
  return firstMatch(branches, pl.lit(null)).cast(pl.Float64);
}
