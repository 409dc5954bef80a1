/**
 * The duration estimator of a rating transition matrix under time
 * homogeneity: the maximum-likelihood generator `Qhat` of a
 * continuous-time Markov chain and `P = exp(Qhat)` (docs/methodology.md
 * §13; Lando & Skødeberg 2002; Jafry & Schuermann 2004, §2.2). It is not
 * the (time-inhomogeneous) Aalen-Johansen product-limit estimator, which
 * multiplies `I + dN(t)/R(t)` over every observed move time: with one
 * constant generator over the sample, its `exp(Qhat)` is the estimate
 * Lando & Skødeberg recommend. Transition intensities
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
 * is the same stayed the whole interval. Intervals are whole months / 12
 * (`ratingHistory` refuses dates that are not month-ends at least
 * `MIN_SNAPSHOT_GAP_DAYS` apart), and a move out of a state with no time
 * in it is refused (kind `check`).
 * Intervals starting in default are not counted (default is absorbing:
 * its row of `Q` is 0).
 *
 * @module
 */
import type { RatingHistory } from "./history.ts";
import type { MigrationEstimate } from "./cohort.ts";
import { transitionFromGenerator } from "./matrix.ts";
import { UserError } from "../errors.ts";

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
  // A move out of a state in which no time was observed has no intensity
  // (it would be dropped, the state kept in place, its PD 0).
  for (const [i, row] of transitions.entries()) {
    const j = row.findIndex((v, k) => k !== i && v > 0);
    if (j >= 0 && !(exposure[i] > 0)) {
      throw new UserError(
        "check",
        `Cannot estimate the duration matrix: ${row[j]} move(s) ${
          h.states[i]
        } -> ${h.states[j]} with no time observed in ${
          h.states[i]
        }: the reporting dates must be apart (${h.dates.join(", ")})`,
      );
    }
  }
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
