/**
 * The loss allowance and the provision (IFRS 7 B8E, methodology §9): where a
 * facility's ECL exceeds its gross carrying amount (the expected loss on an
 * undrawn commitment), the part up to the gross carrying amount is the loss
 * allowance deducted from the asset and the excess is a provision, a
 * liability. Summaries, reports and the movement all split ECL with these
 * expressions, so the two figures always add up to the ECL.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Expr } from "./frame.ts";

/** Output column of the loss-allowance part of ECL. */
export const LOSS_ALLOWANCE = "loss_allowance";
/** Output column of the provision part of ECL (undrawn commitments). */
export const PROVISION = "provision";

/**
 * The loss allowance `min(ecl, max(gca, 0))` and the provision
 * `ecl - allowance`, as two expressions named {@link LOSS_ALLOWANCE} and
 * {@link PROVISION}. ECL is never negative (methodology §8 floors it), so
 * both parts are at least 0.
 *
 * @param ecl the ECL of each facility.
 * @param grossCarryingAmount the gross carrying amount of each facility, in
 *   the same currency.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { allowanceSplit } from "./allowance.ts";
 *
 * // A card with 100 drawn and an ECL of 130: 100 allowance, 30 provision.
 * const df = pl.DataFrame({ ecl: [130, 40], gca: [100, 100] });
 * const out = df.select(...allowanceSplit(pl.col("ecl"), pl.col("gca")));
 * assert.deepEqual(out.getColumn("loss_allowance").toArray(), [100, 40]);
 * assert.deepEqual(out.getColumn("provision").toArray(), [30, 0]);
 * ```
 */
export function allowanceSplit(
  ecl: Expr,
  grossCarryingAmount: Expr,
): [Expr, Expr] {
  const gca = pl.when(grossCarryingAmount.gt(0)).then(grossCarryingAmount)
    .otherwise(pl.lit(0));
  const allowance = pl.when(ecl.lt(gca)).then(ecl).otherwise(gca)
    .cast(pl.Float64);
  return [
    allowance.alias(LOSS_ALLOWANCE),
    ecl.sub(allowance).cast(pl.Float64).alias(PROVISION),
  ];
}
