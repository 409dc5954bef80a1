/**
 * The simplified approach (IFRS 9 §5.5.15, B5.5.35): for products configured
 * with `approach: simplified` (trade receivables, contract assets, lease
 * receivables), the loss allowance is always lifetime ECL, estimated with a
 * provision matrix of loss rates by days-past-due bucket.
 *
 * `ECL = loss_rate * EAD[1]`, with the matrix of the facility's segment when
 * the product defines one for it, else the product's matrix, and
 * `loss_rate` the matrix's `credit_impaired_loss_rate` for a facility in
 * stage 3, else the rate of the bucket its `days_past_due` falls in. The
 * full rationale is in docs/simplified_approach.md.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Expr } from "../frame.ts";
import { COL } from "../schema.ts";
import type { ProvisionBucket, ProvisionRates, Rules } from "../rules.ts";
import { firstMatch } from "./_expr.ts";
import { STAGE_COLUMNS } from "./staging.ts";

/**
 * Loss rate of the bucket `days_past_due` falls in: the first whose
 * `max_dpd` (inclusive, as the rules loader normalises every matrix) is at
 * or above it, else the open last bucket.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bucketLossRate } from "./simplified.ts";
 *
 * const buckets = [{ max_dpd: 30, loss_rate: 0.01 }, { loss_rate: 0.5 }];
 * assert.equal(bucketLossRate(buckets, 30), 0.01);
 * assert.equal(bucketLossRate(buckets, 31), 0.5);
 * ```
 */
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
 * Loss rate of one receivable (docs/simplified_approach.md): the matrix's
 * `credit_impaired_loss_rate` when it is in stage 3 (`default_flag`, or
 * `days_past_due >= staging.dpd_default`, methodology §3 rules 1-2),
 * otherwise its bucket's rate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { receivableLossRate } from "./simplified.ts";
 *
 * const matrix = {
 *   buckets: [{ max_dpd: 89, loss_rate: 0.05 }, { loss_rate: 0.5 }],
 *   credit_impaired_loss_rate: 0.5,
 * };
 * assert.equal(receivableLossRate(matrix, 0, 2), 0.05);
 * assert.equal(receivableLossRate(matrix, 0, 3), 0.5); // defaulted, 0 days
 * ```
 */
export function receivableLossRate(
  matrix: ProvisionRates,
  daysPastDue: number,
  stage: number,
): number {
  return stage === 3
    ? matrix.credit_impaired_loss_rate
    : bucketLossRate(matrix.buckets, daysPastDue);
}

/**
 * Expression for the provision-matrix loss rate of each staged facility
 * (Float64; it reads the `stage` column of `stageFacilities`): null for
 * products on the general approach. Segment matrices are tried before the
 * product's own matrix; within a matrix a stage 3 facility takes
 * `credit_impaired_loss_rate` (credit-impaired, IFRS 9 Appendix A, whatever
 * its days past due: a default flagged at 0 days is not "current"), any
 * other the first bucket whose `max_dpd` is at or above `days_past_due`
 * (B5.5.35).
 */
export function provisionLossRateExpr(rules: Rules): Expr {
  const branches: (readonly [Expr, Expr])[] = [];
  const dpd = pl.col(COL.daysPastDue);
  const stage3 = pl.col(STAGE_COLUMNS.stage).eq(pl.lit(3)).fillNull(
    pl.lit(false),
  );
  const addMatrix = (scope: Expr, matrix: ProvisionRates) => {
    branches.push([
      scope.and(stage3),
      pl.lit(matrix.credit_impaired_loss_rate),
    ]);
    for (const b of matrix.buckets) {
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
      const [seg, matrix] of Object.entries(p.provision_matrix.segments ?? {})
    ) {
      addMatrix(
        isProduct.and(
          pl.col(COL.segment).eq(pl.lit(seg)).fillNull(pl.lit(false)),
        ),
        matrix,
      );
    }
    addMatrix(isProduct, p.provision_matrix);
  }
  return firstMatch(branches, pl.lit(null)).cast(pl.Float64);
}
