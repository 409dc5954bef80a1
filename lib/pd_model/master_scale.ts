/**
 * The PD master scale: grades of 12-month PD that the calibration table,
 * the traffic-light backtest and monitoring group facilities by
 * ({@link MasterScaleGrade} in `types.ts`: a grade holds the PDs above the
 * previous grade's `upper_pd` up to its own, inclusive).
 *
 * The default scale ({@link DEFAULT_MASTER_SCALE}) has eleven grades whose
 * upper PDs double from 0.05% to 25.6%, the last grade reaching 100%: the
 * doubling per grade mirrors a scorecard scaled in points to double the
 * odds, and the range covers a retail and SME book's performing grades
 * (the 0.03% floor of CRR Art. 160(1) / 163(1) falls in the first grade).
 * A model's `reference.master_scale` records the scale it was developed
 * with, so monitoring groups later populations the same way.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { MasterScaleGrade } from "./types.ts";

/**
 * The default master scale: `G01` up to 0.05%, each next grade's upper PD
 * twice the previous one, `G11` from 25.6% to 100%.
 */
export const DEFAULT_MASTER_SCALE: readonly MasterScaleGrade[] = Object.freeze(
  [
    0.0005,
    0.001,
    0.002,
    0.004,
    0.008,
    0.016,
    0.032,
    0.064,
    0.128,
    0.256,
    1,
  ].map((upper_pd, i) =>
    Object.freeze({ grade: `G${String(i + 1).padStart(2, "0")}`, upper_pd })
  ),
);

/**
 * Checks a master scale: at least one grade, distinct non-empty names,
 * upper PDs strictly increasing in (0, 1], the last one 1. Throws a
 * {@link UserError} (`input`) naming the grade at fault.
 */
export function checkMasterScale(
  scale: readonly MasterScaleGrade[],
  where = "master scale",
): void {
  if (!Array.isArray(scale) || scale.length === 0) {
    throw new UserError("input", `${where}: needs at least one grade`);
  }
  const names = new Set<string>();
  let previous = 0;
  scale.forEach((g, i) => {
    const at = `${where}[${i}]`;
    if (typeof g?.grade !== "string" || g.grade === "") {
      throw new UserError("input", `${at}.grade: must be a non-empty name`);
    }
    if (names.has(g.grade)) {
      throw new UserError("input", `${at}.grade: ${g.grade} appears twice`);
    }
    names.add(g.grade);
    if (
      typeof g.upper_pd !== "number" || !(g.upper_pd > previous) ||
      g.upper_pd > 1
    ) {
      throw new UserError(
        "input",
        `${at}.upper_pd: must be above the previous grade's (${previous}) and at most 1, got ${g.upper_pd}`,
      );
    }
    previous = g.upper_pd;
  });
  if (previous !== 1) {
    throw new UserError(
      "input",
      `${where}: the last grade's upper_pd must be 1, got ${previous}`,
    );
  }
}

/**
 * The index in `scale` of the grade holding `pd`: the first grade whose
 * `upper_pd` is at least `pd` (binary search). `pd` must be in [0, 1].
 */
export function gradeIndex(
  scale: readonly MasterScaleGrade[],
  pd: number,
): number {
  let lo = 0, hi = scale.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pd <= scale[mid].upper_pd) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
