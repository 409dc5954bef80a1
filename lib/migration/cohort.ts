/**
 * The cohort estimator of an annual rating transition matrix
 * (docs/methodology.md §13; Jafry & Schuermann 2004, §2.1): facilities in
 * state `i` at the start of a one-year window are counted by their state
 * one year later, `N[i][j]`, and `P[i][j] = N[i][j] / sum_j N[i][j]`.
 *
 * Every reporting date of the history that has a date twelve months later
 * starts a cohort (overlapping cohorts, one per quarter of a quarterly
 * book); a facility not observed twelve months later (repaid, matured:
 * censored) is left out of that cohort, as withdrawn ratings are.
 * Default is absorbing (`history.ts`), so a facility that defaults within
 * the year counts as `i -> D`, also when it has left the book since.
 *
 * @module
 */
import type { TransitionMatrix } from "../transition_matrix.ts";
import type { RatingHistory } from "./history.ts";

/** An estimated transition matrix with what it was estimated from. */
export interface MigrationEstimate extends TransitionMatrix {
  /** `cohort` or `duration`. */
  method: "cohort" | "duration";
  /** Horizon of the matrix in years (1: annual). */
  horizon_years: number;
  /**
   * Cohort: facilities per start state and end state, `N[i][j]`.
   * Duration: transitions `N[i][j]` between consecutive snapshots
   * (`i != j`; the diagonal 0).
   */
  counts: number[][];
  /** Duration only: years spent in each state, `R[i]`. */
  exposure_years?: number[];
  /** Duration only: the generator (intensity) matrix `Q`. */
  generator?: number[][];
  /** States with no observation to estimate their row from (kept in place). */
  warnings: string[];
}

/**
 * The cohort counts `N[i][j]` of a history: for every observation of a
 * facility in state `i` at month `t` with an observation at `t + horizon`,
 * its state `j` then.
 */
export function cohortCounts(h: RatingHistory, horizonMonths = 12): number[][] {
  const n = h.states.length;
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let k = 0; k < h.loan.length;) {
    const id = h.loan[k];
    const at = new Map<number, number>();
    const start = k;
    for (; k < h.loan.length && h.loan[k] === id; k++) {
      at.set(h.month[k], h.state[k]);
    }
    for (let i = start; i < k; i++) {
      const to = at.get(h.month[i] + horizonMonths);
      if (to !== undefined) counts[h.state[i]][to]++;
    }
  }
  return counts;
}

/**
 * The transition matrix of cohort counts: `P[i][j] = N[i][j] / N[i]`; the
 * default state's row is absorbing whatever its counts, and a state
 * without any facility at the start of a window stays in place
 * (`P[i][i] = 1`), with a warning naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cohortMatrix } from "./cohort.ts";
 * const m = cohortMatrix(["A", "B", "D"], [[8, 2, 0], [1, 2, 1], [0, 0, 3]]);
 * assert.deepEqual(m.rows, [[0.8, 0.2, 0], [0.25, 0.5, 0.25], [0, 0, 1]]);
 * ```
 */
export function cohortMatrix(
  states: readonly string[],
  counts: readonly number[][],
): MigrationEstimate {
  const n = states.length;
  const warnings: string[] = [];
  const rows = counts.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (i === n - 1) return row.map((_, j) => (j === i ? 1 : 0));
    if (total === 0) {
      warnings.push(
        `state ${
          states[i]
        }: no facility at the start of any window; its row is kept in place (${
          states[i]
        } -> ${states[i]} = 1)`,
      );
      return row.map((_, j) => (j === i ? 1 : 0));
    }
    return row.map((v) => v / total);
  });
  return {
    method: "cohort",
    horizon_years: 1,
    states: [...states],
    rows,
    counts: counts.map((r) => [...r]),
    warnings,
  };
}

/** The annual cohort estimate of a history ({@link cohortCounts}, {@link cohortMatrix}). */
export function estimateCohort(h: RatingHistory): MigrationEstimate {
  return cohortMatrix(h.states, cohortCounts(h, 12));
}
