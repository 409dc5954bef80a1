/**
 * The duration (Aalen-Johansen, generator-matrix) estimator of a rating
 * transition matrix (docs/methodology.md §13; Lando & Skødeberg 2002;
 * Jafry & Schuermann 2004, §2.2): transition intensities
 * `Q[i][j] = N[i][j] / R[i]` for `i != j`, `N[i][j]` the transitions from
 * `i` to `j` and `R[i]` the years spent in `i`, `Q[i][i] = -sum_{j != i}
 * Q[i][j]`, and the annual matrix `P = exp(Q)` (`matrix.ts`). Unlike the
 * cohort method it uses every transition, also those undone within the
 * year, and gives a positive probability to rare paths (a downgrade then a
 * default) that a small cohort misses.
 *
 * From snapshots the exact time of a move is unknown: a facility whose
 * state differs between two consecutive reporting dates is taken to move
 * halfway between them (half the interval in each state); one whose state
 * is the same stayed the whole interval. Intervals are whole months / 12.
 * Intervals starting in default are not counted (default is absorbing:
 * its row of `Q` is 0).
 *
 * @module
 */
import type { RatingHistory } from "./history.ts";
import type { MigrationEstimate } from "./cohort.ts";
import { transitionFromGenerator } from "./matrix.ts";

/** Transitions `N[i][j]` and years `R[i]` of a history (module doc). */
export function durationCounts(
  h: RatingHistory,
): { transitions: number[][]; exposure: number[] } {
  const n = h.states.length;
  const D = n - 1;
  const transitions = Array.from(
    { length: n },
    () => new Array<number>(n).fill(0),
  );
  const exposure = new Array<number>(n).fill(0);
  for (let k = 0; k + 1 < h.loan.length; k++) {
    if (h.loan[k + 1] !== h.loan[k]) continue;
    const i = h.state[k];
    if (i === D) continue;
    const j = h.state[k + 1];
    const dt = (h.month[k + 1] - h.month[k]) / 12;
    if (i === j) exposure[i] += dt;
    else {
      exposure[i] += dt / 2;
      exposure[j] += dt / 2;
      transitions[i][j]++;
    }
  }
  return { transitions, exposure };
}

/**
 * The generator `Q` of transitions and exposures: `Q[i][j] = N[i][j] /
 * R[i]`, `Q[i][i] = -sum_{j != i} Q[i][j]`; a row without exposure is 0
 * (the state keeps its facilities).
 */
export function generatorMatrix(
  transitions: readonly number[][],
  exposure: readonly number[],
): number[][] {
  return transitions.map((row, i) => {
    const q = row.map((
      v,
      j,
    ) => (i === j || exposure[i] === 0 ? 0 : v / exposure[i]));
    const out = q.reduce((a, b) => a + b, 0);
    q[i] = out === 0 ? 0 : -out;
    return q;
  });
}

/**
 * The duration estimate of a history over `horizonYears` (1: annual):
 * `P = exp(horizonYears * Q)`, with the counts, exposures and generator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generatorMatrix } from "./duration.ts";
 * // 2 moves A -> B and 1 A -> D over 10 years in A.
 * const q = generatorMatrix([[0, 2, 1], [0, 0, 0], [0, 0, 0]], [10, 0, 0]);
 * assert.deepEqual(q[0], [-0.30000000000000004, 0.2, 0.1]);
 * ```
 */
export function estimateDuration(
  h: RatingHistory,
  horizonYears = 1,
): MigrationEstimate {
  const { transitions, exposure } = durationCounts(h);
  const generator = generatorMatrix(transitions, exposure);
  const warnings = h.states.slice(0, -1).flatMap((s, i) =>
    exposure[i] === 0
      ? [
        `state ${s}: no time observed in it; its row is kept in place (${s} -> ${s} = 1)`,
      ]
      : []
  );
  return {
    method: "duration",
    horizon_years: horizonYears,
    states: [...h.states],
    rows: transitionFromGenerator(generator, horizonYears),
    counts: transitions,
    exposure_years: exposure,
    generator,
    warnings,
  };
}
