/**
 * Lifetime PDs from a transition matrix (docs/methodology.md §13): the
 * cumulative PD of grade `g` over `y` years `PD(y) = (M^y)[g, D]` and the
 * conditional annual PD `q[y] = (PD(y) - PD(y-1)) / (1 - PD(y-1))`
 * (`lib/transition_matrix.ts`, which the engine uses), and the same
 * conditioned on a credit-cycle index `z` by the one-factor threshold
 * model of Belkin, Suchower & Forest (1998).
 *
 * Conditioning (Belkin, Suchower & Forest 1998, "A one-parameter
 * representation of credit risk and transition matrices", CreditMetrics
 * Monitor Q3): order the states from best to worst (the matrix's order,
 * default last). For row `g` let `C[j] = sum_{k >= j} M[g][k]`, the
 * probability of ending in state `j` or worse, and the thresholds
 * `x[j] = PhiInv(C[j])`. Given `z`,
 * `C[j](z) = Phi((x[j] - sqrt(rho) * z) / sqrt(1 - rho))` for `j >= 2`,
 * `C[1](z) = 1`, `C[n+1](z) = 0`, and `P(g -> j | z) = C[j](z) - C[j+1](z)`,
 * each row then divided by its sum. A positive `z` is a good economy, as
 * in methodology §4's `z_shift`, whose formula this is applied to every
 * threshold of the row: the default column of `M(z)` is exactly §4's
 * `Phi((PhiInv(M[g, D]) - sqrt(rho) z) / sqrt(1 - rho))`.
 *
 * As in §4, `z = 0` is the median economy, not the average one: with
 * `rho > 0`, `M(0)` has lower PDs than `M` for grades whose PD is below
 * 50%. `M` is the average of `M(z)` over `z ~ N(0, 1)` (each threshold's
 * `E[Phi((x - sqrt(rho) Z) / sqrt(1 - rho))] = Phi(x)`), and `rho = 0`
 * gives `M(z) = M` for every `z`.
 *
 * @module
 */
import { normCdf, normInv } from "../engine/normal.ts";
import {
  identity,
  matMul,
  type TransitionMatrix,
  validateMatrix,
} from "../transition_matrix.ts";
import { UserError } from "../errors.ts";

/**
 * The transition matrix conditioned on the credit-cycle index `z` with
 * asset correlation `rho` in [0, 1) (module doc). The default row stays
 * absorbing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conditionalMatrix } from "./lifetime.ts";
 * const m = { states: ["A", "B", "D"], rows: [[0.9, 0.08, 0.02], [0.1, 0.8, 0.1], [0, 0, 1]] };
 * // A good year (z = 1.5) lowers every grade's PD.
 * const good = conditionalMatrix(m, 1.5, 0.15);
 * assert.ok(good.rows[0][2] < 0.02 && good.rows[1][2] < 0.1);
 * ```
 */
export function conditionalMatrix(
  m: TransitionMatrix,
  z: number,
  rho: number,
): TransitionMatrix {
  if (!(rho >= 0 && rho < 1) || !Number.isFinite(z)) {
    throw new UserError(
      "usage",
      `conditionalMatrix(): rho must be in [0, 1) and z finite, got rho ${rho}, z ${z}`,
    );
  }
  const n = m.states.length;
  const a = Math.sqrt(rho);
  const b = Math.sqrt(1 - rho);
  const rows = m.rows.map((row, g) => {
    if (g === n - 1) return row.map((_, j) => (j === g ? 1 : 0));
    // C[j] from the worst column up; C(z) of the best column is 1.
    const cz = new Array<number>(n + 1).fill(0);
    let c = 0;
    for (let j = n - 1; j >= 1; j--) {
      c += row[j];
      const x = normInv(c >= 1 ? 1 : c);
      cz[j] = x === Infinity
        ? 1
        : x === -Infinity
        ? 0
        : normCdf((x - a * z) / b);
    }
    cz[0] = 1;
    const p = row.map((_, j) => Math.max(0, cz[j] - cz[j + 1]));
    const sum = p.reduce((s, v) => s + v, 0);
    return p.map((v) => v / sum);
  });
  return { states: [...m.states], rows };
}

/** Lifetime PDs of one state: cumulative and conditional, year by year. */
export interface LifetimePd {
  /** The state (grade). */
  state: string;
  /** `PD(y)` for `y = 1..years`. */
  cumulative: number[];
  /** `q[y]` for `y = 1..years`. */
  conditional: number[];
}

/** Options of {@link lifetimePds}. */
export interface LifetimePdOptions {
  /**
   * Credit-cycle index per year `z[y]`: year `y` moves by `M(z[y])`
   * ({@link conditionalMatrix}); past the end the last value repeats, as
   * in methodology §4. Absent: `M` every year.
   */
  z?: readonly number[];
  /** Asset correlation of the conditioning. @default 0.15 (§10's reference value) */
  rho?: number;
}

/**
 * Cumulative and conditional PDs of every state over `years` years
 * (methodology §13): `PD(y) = (M_1 M_2 ... M_y)[g, D]` with `M_y = M`, or
 * `M(z[y])` given a `z` path; `q[y] = (PD(y) - PD(y-1)) / (1 - PD(y-1))`,
 * 1 where `PD(y-1) = 1`. The matrix is validated first (every problem
 * listed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lifetimePds } from "./lifetime.ts";
 * const m = { states: ["A", "B", "D"], rows: [[0.89, 0.1, 0.01], [0.05, 0.85, 0.1], [0, 0, 1]] };
 * const [a] = lifetimePds(m, 2);
 * // PD(2) = 0.01 + 0.89 * 0.01 + 0.1 * 0.1 = 0.0289; q[2] = 0.0189 / 0.99.
 * assert.ok(Math.abs(a.cumulative[1] - 0.0289) < 1e-15);
 * assert.ok(Math.abs(a.conditional[1] - 0.0189 / 0.99) < 1e-15);
 * ```
 */
export function lifetimePds(
  m: TransitionMatrix,
  years: number,
  options: LifetimePdOptions = {},
): LifetimePd[] {
  const problems = validateMatrix(m);
  if (problems.length > 0) {
    throw new UserError(
      "input",
      `lifetimePds(): the transition matrix is not usable: ${problems.length} problem${
        problems.length === 1 ? "" : "s"
      }\n${problems.map((p) => `  - ${p.message}`).join("\n")}`,
    );
  }
  if (!Number.isInteger(years) || years < 1) {
    throw new UserError(
      "usage",
      `lifetimePds(): years must be a whole number >= 1, got ${years}`,
    );
  }
  const n = m.states.length;
  const D = n - 1;
  const z = options.z;
  const rho = options.rho ?? 0.15;
  const yearMatrix = (y: number) =>
    z === undefined || z.length === 0
      ? m.rows
      : conditionalMatrix(m, z[Math.min(y, z.length - 1)], rho).rows;
  let p: number[][] = identity(n);
  const out: LifetimePd[] = m.states.map((state) => ({
    state,
    cumulative: [],
    conditional: [],
  }));
  for (let y = 0; y < years; y++) {
    p = matMul(p, yearMatrix(y));
    out.forEach((o, i) => {
      const pd = p[i][D];
      const before = y === 0 ? 0 : o.cumulative[y - 1];
      o.cumulative.push(pd);
      const q = before >= 1 ? 1 : (pd - before) / (1 - before);
      o.conditional.push(q < 0 ? 0 : q > 1 ? 1 : q);
    });
  }
  return out;
}
