/**
 * Expected credit loss (methodology §4-§9): `computeEcl` turns a staged
 * portfolio into one result row per facility.
 *
 * The relational part (category codes, parameter lookups, provision-matrix
 * rates, overlays) runs on Polars lazy frames; the monthly projection runs in
 * the typed-array kernel of `_kernel.ts` over bounded batches of loans, so
 * no loan x month x scenario table is ever built.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import pl from "nodejs-polars";
import type { DataFrame, Expr, LazyFrame, Series } from "../frame.ts";
import { COL, RESULT_COLUMNS, scenarioEclColumn } from "../schema.ts";
import { requireValidRules, type Rules } from "../rules.ts";
import { firstMatch } from "./_expr.ts";
import {
  allocateOutput,
  type KernelConfig,
  type KernelOutput,
  type LoanColumns,
  projectBatch,
  REPAY,
} from "./_kernel.ts";
import type { KernelJob, KernelReply } from "./_kernel_worker.ts";
import { type FxTable, reportingRates, requireValidFx } from "../fx.ts";
import {
  applyOverlays,
  OVERLAY_FLOOR,
  OVERLAY_IMPACTS,
  OVERLAYS_APPLIED,
} from "./overlays.ts";
import { provisionLossRateExpr } from "./simplified.ts";
import { STAGE_COLUMNS } from "./staging.ts";
import {
  conditionalPds,
  GRADE_COLUMNS,
  GRADE_PD_COLUMN,
  LIFETIME_YEARS,
  RATING_COLUMN,
  shockedCurve,
  type TransitionMatrixRules,
} from "../transition_matrix.ts";

/** Options of {@link computeEcl}. */
export interface ComputeEclOptions {
  /**
   * Loans per kernel batch: bounds the typed arrays copied out of Polars at
   * once.
   * @default 200000
   */
  batchSize?: number;
  /** Called after each batch with the number of loans done so far. */
  onProgress?: (loansDone: number) => void;
  /**
   * Workers that run the monthly loop in parallel, one batch each at a
   * time. Portfolios under `workerThreshold` loans run on the calling
   * thread whatever this says.
   * @default navigator.hardwareConcurrency
   */
  workers?: number;
  /**
   * Workers kept across calls ({@link KernelPool}); without it the call
   * starts its own and stops them when done.
   */
  pool?: KernelPool;
  /**
   * Loans from which the monthly loop runs on workers: a worker costs tens
   * of milliseconds to start, which only a large book repays.
   * @default WORKER_THRESHOLD
   */
  workerThreshold?: number;
  /**
   * The run's FX table. With it the results end with the reporting-currency
   * columns `fx_rate`, `ead_rc` and `ecl_rc` ({@link withReportingCurrency}),
   * and every currency of the frame must have a rate (the error names the
   * ones missing and the file). An `add` overlay is an amount in the
   * reporting currency shared over the facilities it selects, each in its
   * own currency (methodology §8), so the table is required when an
   * overlay of the rules has an `add`; the error names the overlay
   * otherwise.
   */
  fx?: FxTable;
  /**
   * Called with each warning of the overlays (an `add` shared over ECL an
   * earlier overlay made negative); a run records them in its manifest.
   */
  onWarning?: (warning: string) => void;
  /**
   * Apply the rules' overlays. `false` returns `ecl` = `ecl_model` and no
   * overlay columns, for a caller that applies them over a wider
   * population than this frame with `applyOverlayPlan` (a run in chunks
   * shares an `add` over the whole book, not chunk by chunk).
   * @default true
   */
  overlays?: boolean;
  /**
   * A PD shock of the sensitivity table (docs/sensitivity.md): every
   * base curve `q[y]` of a `pd_curve: transition_matrix` grade is
   * multiplied by it, capped like the shocked PD, `min(q × f, max(q,
   * PD_SHOCK_CAP))` (the caller shocks `pd_12m_current`, the base of the
   * other curves). Absent: the curves as the matrix gives them.
   */
  matrixPdShock?: number;
}

/**
 * Version of the methodology contract (docs/methodology.md) this engine
 * computes; every run records it in its manifest.
 */
export const METHODOLOGY_VERSION = 2;

/**
 * The reporting-currency columns that follow the loan-level output when an
 * FX table is given (methodology §12): `fx_rate`, units of the reporting
 * currency per unit of the facility's currency; `ead_rc` and `ecl_rc`, the
 * facility's `ead` and `ecl` times that rate. Unlike `ead` and `ecl`, they
 * add up across currencies.
 */
export const REPORTING_CURRENCY_COLUMNS = {
  fxRate: "fx_rate",
  ead: "ead_rc",
  ecl: "ecl_rc",
} as const;

/**
 * Pipeline step: `fx_rate`, `ead_rc` and `ecl_rc`
 * ({@link REPORTING_CURRENCY_COLUMNS}) as the last columns of loan results,
 * replacing them where present (after overlays change `ecl`). The rate is
 * `reportingRates` of `lib/fx.ts`, the rate the run's summary converts
 * with; a facility whose currency the table lacks gets nulls, so check the
 * currencies first (`computeEcl` and a run do).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { parseFx } from "../fx.ts";
 * import { withReportingCurrency } from "./ecl.ts";
 *
 * const fx = parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1, MXN: 0.05}", "fx.yaml");
 * const results = pl.DataFrame({
 *   currency: ["EUR", "MXN"], ead: [1000, 20000], ecl: [30, 1400],
 * }).lazy();
 * const rc = await withReportingCurrency(results, fx, "EUR").collect();
 * assert.deepEqual(rc.getColumn("fx_rate").toArray(), [1, 0.05]);
 * // 30 EUR and 1,400 MXN at 0.05: 30 + 70 EUR.
 * assert.deepEqual(rc.getColumn("ecl_rc").toArray(), [30, 70]);
 * ```
 */
export function withReportingCurrency(
  results: LazyFrame,
  fx: FxTable,
  reportingCurrency: string,
): LazyFrame {
  const rates = reportingRates(fx, reportingCurrency);
  const rc = REPORTING_CURRENCY_COLUMNS;
  const present = Object.values(rc).filter((c) => results.columns.includes(c));
  const rate = firstMatch(
    Object.entries(rates).map(([currency, r]) =>
      [pl.col(COL.currency).eq(pl.lit(currency)), pl.lit(r)] as const
    ),
    pl.lit(null),
  ).cast(pl.Float64);
  return (present.length > 0 ? results.drop(present) : results)
    .withColumns(rate.alias(rc.fxRate))
    .withColumns(
      pl.col("ead").cast(pl.Float64).mul(pl.col(rc.fxRate)).alias(rc.ead),
      pl.col("ecl").cast(pl.Float64).mul(pl.col(rc.fxRate)).alias(rc.ecl),
    );
}

const KERNEL_WORKER_URL = new URL("./_kernel_worker.ts", import.meta.url)
  .href;

/**
 * Kernel workers kept across {@link computeEcl} calls (a run computes its
 * book chunk by chunk): each is started once, instead of once per call
 * (tens of milliseconds each, to start and compile the kernel). One call
 * at a time may use a pool; the owner terminates it.
 *
 * @example
 * ```ts
 * import { KernelPool } from "./ecl.ts";
 * const pool = new KernelPool();
 * // computeEcl(staged, rules, { pool }) for each chunk, then:
 * pool.terminate();
 * ```
 */
export class KernelPool {
  private readonly workers: Worker[] = [];

  /** `n` workers, started on first use and kept. */
  take(n: number): Worker[] {
    while (this.workers.length < n) {
      this.workers.push(new Worker(KERNEL_WORKER_URL, { type: "module" }));
    }
    return this.workers.slice(0, n);
  }

  /** Stops every worker of the pool. */
  terminate(): void {
    for (const w of this.workers.splice(0)) w.terminate();
  }
}

/** Loans below which the kernel runs on the calling thread by default. */
export const WORKER_THRESHOLD = 100_000;

/** Internal column names of the kernel inputs. */
const K = {
  product: "__product_code",
  segment: "__segment_code",
  balance: "__balance",
  creditLimit: "__credit_limit",
  interestRate: "__interest_rate",
  pd12m: "__pd_12m",
  term: "__term",
  collateral: "__collateral",
  lossRate: "__loss_rate",
  simplified: "__simplified",
  curve: "__curve",
} as const;

/**
 * The segments with `pd_curve: transition_matrix` (methodology §13), by
 * segment code, with the index of their first grade's curve in
 * `KernelConfig.curves` (one curve per state of the matrix, in its order).
 */
function matrixSegments(rules: Rules): {
  code: number;
  base: number;
  matrix: TransitionMatrixRules;
  scale: { grade: string; upper_pd: number }[];
}[] {
  let base = 0;
  return ["default", ...segmentNames(rules)].flatMap((name, code) => {
    const s = rules.segments[name];
    if (s.pd_curve !== "transition_matrix") return [];
    const entry = {
      code,
      base,
      matrix: s.transition_matrix!,
      scale: s.master_scale!,
    };
    base += entry.matrix.states.length;
    return [entry];
  });
}

/** Segment names with parameters of their own; code 0 is `default`. */
function segmentNames(rules: Rules): string[] {
  return Object.keys(rules.segments).filter((s) => s !== "default");
}

/**
 * A scenario's yearly adjustment vector with its reversion to `neutral`
 * (methodology §4): after the vector's last year `L`, year `L + j` uses
 * `last + (neutral - last) * j / (N + 1)` for `j = 1..N`, and `neutral`
 * from then on, which the kernel gets by the vector's last value
 * repeating. Without `scenario_reversion_years` (`N` undefined) the vector
 * is unchanged: its last value repeats for the whole term.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withReversion } from "./ecl.ts";
 *
 * // The reference downside, reverting over two years to a multiplier of 1.
 * const v = withReversion([1.6, 1.4, 1.2], 1, 2);
 * assert.equal(v.length, 6);
 * assert.ok(Math.abs(v[3] - (1.2 - 0.2 / 3)) < 1e-15);
 * assert.ok(Math.abs(v[4] - (1.2 - 0.4 / 3)) < 1e-15);
 * assert.equal(v[5], 1);
 * ```
 */
export function withReversion(
  vector: readonly number[],
  neutral: number,
  reversionYears: number | undefined,
): number[] {
  if (reversionYears === undefined) return [...vector];
  const last = vector[vector.length - 1];
  const path = Array.from(
    { length: reversionYears },
    (_, i) => last + (neutral - last) * (i + 1) / (reversionYears + 1),
  );
  return [...vector, ...path, neutral];
}

/**
 * The rules file as the kernel's lookup tables: products and segments
 * indexed by the codes {@link kernelInputs} assigns, scenario vectors and
 * weights in configuration order.
 */
export function kernelConfig(
  rules: Rules,
  matrixPdShock?: number,
): KernelConfig {
  const segs = ["default", ...segmentNames(rules)].map((name) => {
    const s = rules.segments[name];
    return {
      lgdUnsecured: s.lgd_unsecured,
      lgdFloor: s.lgd_floor,
      sqrtRho: Math.sqrt(s.rho),
      sqrtOneMinusRho: Math.sqrt(1 - s.rho),
      shape: new Float64Array(
        s.pd_curve === "shape" && s.pd_shape ? s.pd_shape : [1],
      ),
      recoveryLag: s.recovery_lag_months,
    };
  });
  const zShift = rules.scenario_adjustment === "z_shift";
  // §13: each grade's conditional PDs from powers of the segment's matrix.
  const curves = matrixSegments(rules).flatMap((m) =>
    conditionalPds(m.matrix, LIFETIME_YEARS).map((q) =>
      new Float64Array(
        matrixPdShock === undefined ? q : shockedCurve(q, matrixPdShock),
      )
    )
  );
  return {
    ...(curves.length === 0 ? {} : { curves }),
    scenarioNames: rules.scenarios.map((s) => s.name),
    weights: new Float64Array(rules.scenarios.map((s) => s.weight)),
    haircuts: new Float64Array(
      rules.scenarios.map((s) => s.collateral_haircut),
    ),
    adjustment: rules.scenario_adjustment === "z_shift" ? 1 : 0,
    vectors: rules.scenarios.map((s) =>
      new Float64Array(
        withReversion(
          (zShift ? s.z : s.pd_multiplier) ?? [zShift ? 0 : 1],
          zShift ? 0 : 1,
          rules.scenario_reversion_years,
        ),
      )
    ),
    segments: segs,
    products: Object.values(rules.products).map((p) => ({
      repayment: REPAY[p.repayment],
      ccf: p.ccf ?? 0,
      simplified: p.approach === "simplified",
    })),
  };
}

/**
 * Adds the kernel's input columns to a staged frame (lazy): product and
 * segment codes, nulls replaced as §1 and §5 prescribe (`collateral_value`
 * null = 0, `credit_limit` null = `balance`), the provision-matrix rate.
 */
export function kernelInputs(
  staged: LazyFrame,
  rules: Rules,
): LazyFrame {
  const products = Object.keys(rules.products);
  const segs = segmentNames(rules);
  const simplified = products.filter((p) =>
    rules.products[p].approach === "simplified"
  );
  const withCurves = (lf: LazyFrame) => {
    // §13: the facility's grade is its `rating` when that is a state of the
    // segment's matrix, else the master-scale grade holding its PD.
    const matrices = matrixSegments(rules);
    if (matrices.length === 0) return lf;
    // A rating in the default state is not a grade (a performing facility
    // would be certain to default): it is graded from its PD, like one
    // without a rating. Under a PD shock the grade is the unshocked PD's.
    const hasRating = lf.columns.includes(RATING_COLUMN);
    const gradePd = lf.columns.includes(GRADE_PD_COLUMN)
      ? GRADE_PD_COLUMN
      : K.pd12m;
    const grade = (m: (typeof matrices)[number]) =>
      firstMatch(
        [
          ...(hasRating
            ? m.matrix.states.slice(0, -1).map((state, k) =>
              [pl.col(RATING_COLUMN).eq(pl.lit(state)), pl.lit(k)] as const
            )
            : []),
          ...m.scale.map((band) =>
            [
              pl.col(gradePd).lessThanEquals(pl.lit(band.upper_pd)),
              pl.lit(m.matrix.states.indexOf(band.grade)),
            ] as const
          ),
        ],
        pl.lit(m.matrix.states.indexOf(m.scale[m.scale.length - 1].grade)),
      );
    return lf.withColumns(
      firstMatch(
        matrices.map((m) =>
          [
            pl.col(K.segment).eq(pl.lit(m.code)),
            grade(m).add(pl.lit(m.base)),
          ] as const
        ),
        pl.lit(-1),
      ).cast(pl.Int32).alias(K.curve),
    );
  };
  return withCurves(staged.withColumns(
    firstMatch(
      products.map((p, i) =>
        [pl.col(COL.product).eq(pl.lit(p)), pl.lit(i)] as const
      ),
      pl.lit(-1),
    ).cast(pl.Int32).alias(K.product),
    firstMatch(
      segs.map((s, i) =>
        [pl.col(COL.segment).eq(pl.lit(s)), pl.lit(i + 1)] as const
      ),
      pl.lit(0),
    ).cast(pl.Int32).alias(K.segment),
    pl.col(COL.balance).cast(pl.Float64).alias(K.balance),
    pl.col(COL.creditLimit).fillNull(pl.col(COL.balance)).cast(pl.Float64)
      .alias(K.creditLimit),
    pl.col(COL.interestRate).cast(pl.Float64).alias(K.interestRate),
    pl.col(COL.pd12mCurrent).fillNull(pl.lit(0)).cast(pl.Float64)
      .alias(K.pd12m),
    // Null only for a simplified receivable without a maturity date, whose
    // ECL does not run off (checkInputs refuses it elsewhere).
    pl.col(STAGE_COLUMNS.remainingTerm).fillNull(pl.lit(1)).cast(pl.Int32)
      .alias(K.term),
    pl.col(COL.collateralValue).fillNull(pl.lit(0)).cast(pl.Float64)
      .alias(K.collateral),
    provisionLossRateExpr(rules).fillNull(pl.lit(0)).alias(K.lossRate),
    (simplified.length === 0
      ? pl.lit(false)
      : pl.col(COL.product).isIn(simplified)).alias(K.simplified),
  ));
}

/**
 * Refuses a frame the kernel cannot compute, naming the first offending
 * loan: an unconfigured product, or a null in a column the computation
 * needs (the PD only where the general approach uses it).
 */
function checkInputs(df: DataFrame, rules: Rules): void {
  const firstRow = (cond: Expr) => df.filter(cond).head(1).toRecords()[0];
  // Cheap column statistics first; a filter runs only to name the culprit.
  if (df.height > 0 && (df.getColumn(K.product).min() as number) < 0) {
    const row = firstRow(pl.col(K.product).eq(pl.lit(-1)));
    throw new UserError(
      "input",
      `Cannot compute ECL: loan ${row[COL.loanId]}: product ${
        JSON.stringify(row[COL.product])
      } is not configured in the rules file (configured: ${
        Object.keys(rules.products).join(", ")
      })`,
    );
  }
  const needed: [string, boolean][] = [
    [COL.balance, false],
    [COL.interestRate, false],
    // The simplified approach has no PD model and no run-off: a null PD,
    // or no term (a receivable without a maturity date), is refused only
    // where the general approach needs it.
    [STAGE_COLUMNS.remainingTerm, true],
    [STAGE_COLUMNS.stage, false],
    [COL.pd12mCurrent, true],
  ];
  for (const [col, generalOnly] of needed) {
    if (df.getColumn(col).nullCount() === 0) continue;
    let cond = pl.col(col).isNull();
    if (generalOnly) cond = cond.and(pl.col(K.simplified).not());
    const row = firstRow(cond);
    if (row !== undefined) {
      throw new UserError(
        "input",
        `Cannot compute ECL: loan ${
          row[COL.loanId]
        }: ${col} is null (validate the portfolio and stage it with stageFacilities first)`,
      );
    }
  }
}

/**
 * Typed arrays of the kernel inputs of rows `[offset, offset + n)` of a
 * collected {@link kernelInputs} frame.
 */
export function kernelColumns(
  df: DataFrame,
  offset: number,
  n: number,
): LoanColumns {
  const b = df.slice(offset, n);
  const f64 = (c: string) => b.getColumn(c).toTypedArray() as Float64Array;
  const i32 = (c: string) => b.getColumn(c).toTypedArray() as Int32Array;
  return {
    product: i32(K.product),
    segment: i32(K.segment),
    balance: f64(K.balance),
    creditLimit: f64(K.creditLimit),
    interestRate: f64(K.interestRate),
    pd12m: f64(K.pd12m),
    collateral: f64(K.collateral),
    term: i32(K.term),
    stage: i32(STAGE_COLUMNS.stage),
    lossRate: f64(K.lossRate),
    ...(b.columns.includes(K.curve) ? { curve: i32(K.curve) } : {}),
  };
}

/** The distinct buffers of a batch's columns, to transfer. */
function columnBuffers(cols: LoanColumns): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const a of Object.values(cols)) {
    if (a !== undefined) buffers.add((a as Float64Array).buffer as ArrayBuffer);
  }
  return [...buffers];
}

/**
 * Runs the kernel over `[0, n)` in batches of `batchSize` on `workers`
 * workers (`_kernel_worker.ts`), writing each batch's results into `out` at
 * its offset, so the result does not depend on which worker finishes
 * first: an `out` on `SharedArrayBuffer`s the workers write themselves,
 * else each batch's answer is copied in. Only `workers` batches of inputs
 * are copied out of Polars at once, and moved (transferred) to the workers.
 */
async function projectInWorkers(
  cfg: KernelConfig,
  df: DataFrame,
  n: number,
  batchSize: number,
  workers: number,
  out: KernelOutput,
  onProgress?: (loansDone: number) => void,
  kept?: KernelPool,
): Promise<void> {
  // An output on SharedArrayBuffers is written by the workers directly.
  const shared = out.ead.buffer instanceof SharedArrayBuffer;
  const size = Math.min(workers, Math.ceil(n / batchSize));
  const pool = kept?.take(size) ?? Array.from(
    { length: size },
    () => new Worker(KERNEL_WORKER_URL, { type: "module" }),
  );
  let next = 0;
  let done = 0;
  const run = async (worker: Worker) => {
    while (next < n) {
      const offset = next;
      const len = Math.min(batchSize, n - offset);
      next += len;
      const job: KernelJob = {
        cfg,
        cols: kernelColumns(df, offset, len),
        n: len,
        ...(shared ? { shared: out, offset } : {}),
      };
      const reply = await new Promise<KernelReply>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<KernelReply>) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
        // The batch's columns are copies out of Polars that nothing else
        // holds: moved to the worker, not cloned.
        worker.postMessage(job, columnBuffers(job.cols));
      });
      if ("error" in reply) {
        throw new Error(
          `Cannot compute ECL: the projection of loans ${offset}-${
            offset + len - 1
          } failed: ${reply.error}`,
        );
      }
      if ("out" in reply) {
        out.ead.set(reply.out.ead, offset);
        out.pdLifetime.set(reply.out.pdLifetime, offset);
        out.lgd.set(reply.out.lgd, offset);
        out.ecl12m.set(reply.out.ecl12m, offset);
        out.eclLifetime.set(reply.out.eclLifetime, offset);
        out.eclModel.set(reply.out.eclModel, offset);
        reply.out.scenarioEcl.forEach((a, s) =>
          out.scenarioEcl[s].set(a, offset)
        );
      }
      done += len;
      onProgress?.(done);
    }
  };
  try {
    await Promise.all(pool.map(run));
  } catch (e) {
    // A failed batch may leave another worker busy: a kept pool starts
    // afresh on its next use.
    kept?.terminate();
    throw e;
  } finally {
    // A kept pool's workers stay for the next call.
    if (kept === undefined) { for (const w of pool) w.terminate(); }
  }
}

/** The kernel's results as output columns, in §9 order. */
function resultFrame(
  base: DataFrame,
  out: KernelOutput,
  cfg: KernelConfig,
): DataFrame {
  const simplified = pl.col(K.simplified);
  const series: Series[] = [
    pl.Series("ead", out.ead),
    pl.Series("pd_lifetime", out.pdLifetime),
    pl.Series("lgd", out.lgd),
    pl.Series("ecl_12m", out.ecl12m),
    pl.Series("ecl_lifetime", out.eclLifetime),
    pl.Series("ecl_model", out.eclModel),
    ...cfg.scenarioNames.map((s, i) =>
      pl.Series(scenarioEclColumn(s), out.scenarioEcl[i])
    ),
  ];
  return pl.DataFrame([...base.getColumns(), ...series]).withColumns(
    pl.col(COL.pd12mCurrent).alias("pd_12m"),
    // Not defined under the simplified approach (no PD or LGD model).
    pl.when(simplified).then(pl.lit(null)).otherwise(pl.col("pd_lifetime"))
      .cast(pl.Float64).alias("pd_lifetime"),
    pl.when(simplified).then(pl.lit(null)).otherwise(pl.col("lgd"))
      .cast(pl.Float64).alias("lgd"),
  );
}

/**
 * The columns `GRADE_COLUMNS` (`pd_grade`, `pd_12m_grade`, §13) of rows
 * whose kernel curve index is `curve`: null where it is -1 (not a matrix
 * segment) and under the simplified approach.
 */
function gradeColumns(
  curve: Series,
  simplified: Series,
  rules: Rules,
  cfg: KernelConfig,
): Series[] {
  const labels = matrixSegments(rules).flatMap((m) => m.matrix.states);
  const q1 = (cfg.curves ?? []).map((c) => c[0]);
  const idx = curve.toTypedArray() as Int32Array;
  const simple = simplified.toArray() as boolean[];
  const grade = new Array<string | null>(idx.length);
  const pd = new Array<number | null>(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const c = simple[i] ? -1 : idx[i];
    grade[i] = c < 0 ? null : labels[c];
    pd[i] = c < 0 ? null : q1[c];
  }
  return [
    pl.Series(GRADE_COLUMNS[0], grade, pl.Utf8),
    pl.Series(GRADE_COLUMNS[1], pd, pl.Float64),
  ];
}

/**
 * Computes loan-level ECL (methodology §4-§9) for a staged portfolio (the
 * output of `stageFacilities`).
 *
 * Returns exactly the §9 columns in `RESULT_COLUMNS` order, then
 * `ecl_<scenario>` per scenario in configuration order (the stage-driven
 * `ECL[s]`, before overlays), then `overlays_applied` (List(Utf8)),
 * `overlay_impacts` (List(Float64), each applied overlay's change to the
 * ECL) and `overlay_floor` (what the floor at 0 added), see `overlays.ts`;
 * with the option `fx`, `fx_rate`, `ead_rc` and `ecl_rc` in the reporting
 * currency ({@link REPORTING_CURRENCY_COLUMNS}); rows in input order.
 * `ecl_12m` and `ecl_lifetime` are reported for every stage (§8);
 * `ecl_model` is the probability-weighted stage-driven ECL, `ecl` the same
 * after overlays and the floor. Amounts other than the `_rc` columns are
 * in each facility's currency: add up `ecl_rc`, not `ecl`, across
 * currencies.
 *
 * Rules built or changed in code are checked like a rules file first
 * (`requireValidRules` of `lib/rules.ts`): scenario weights that do not sum
 * to 1 are refused with their key path, not computed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { parseRules } from "../rules.ts";
 * import { computeEcl, stageFacilities } from "./mod.ts";
 *
 * // Methodology §11: a 24-month bullet loan of 1000 at 12%, PD 0.12, in
 * // stage 2 (watchlist), one scenario, no collateral.
 * const rules = parseRules(
 *   "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]",
 *   "inline.yaml",
 * );
 * const loan = pl.DataFrame({
 *   loan_id: ["L1"], product: ["sme"], currency: ["EUR"], balance: [1000],
 *   interest_rate: [0.12], days_past_due: [0], pd_12m_origination: [0.1],
 *   pd_12m_current: [0.12], watchlist: [true],
 *   reporting_date: ["2025-12-31"], origination_date: ["2024-12-31"],
 *   maturity_date: ["2027-12-31"],
 * }).withColumns(
 *   ...["reporting_date", "origination_date", "maturity_date"].map((c) =>
 *     pl.col(c).str.strptime(pl.Date, "%Y-%m-%d")
 *   ),
 * );
 * const done: number[] = [];
 * const results = await computeEcl(stageFacilities(loan.lazy(), rules), rules, {
 *   onProgress: (n) => done.push(n),
 * });
 * const row = results.toRecords()[0];
 * assert.equal(row.stage, 2);
 * assert.equal(row.remaining_term_months, 24);
 * assert.ok(Math.abs((row.ecl as number) - 90.31546325313) < 1e-9);
 * assert.ok(Math.abs((row.ecl_12m as number) - 50.71180749370) < 1e-9);
 * assert.deepEqual(done, [1]);
 * ```
 */
export async function computeEcl(
  staged: LazyFrame,
  rules: Rules,
  opts: ComputeEclOptions = {},
): Promise<DataFrame> {
  // Rules built or changed in code are checked like a rules file (§10).
  rules = requireValidRules(rules, "computeEcl()");
  // A table changed in code is checked like an FX file (lib/fx.ts).
  if (opts.fx) requireValidFx(opts.fx, "computeEcl()");
  const batchSize = opts.batchSize ?? 200_000;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError(
      "usage",
      `Cannot compute ECL: batchSize must be a whole number >= 1, got ${batchSize}`,
    );
  }
  const cfg = kernelConfig(rules, opts.matrixPdShock);
  // Only the columns the kernel, the checks and the output read are
  // collected: a portfolio's other columns (borrower characteristics,
  // customer ids) would be copied for nothing.
  const inputs = kernelInputs(staged, rules);
  const wanted = new Set<string>([
    ...RESULT_COLUMNS,
    COL.pd12mCurrent,
    COL.balance,
    COL.interestRate,
    STAGE_COLUMNS.remainingTerm,
    STAGE_COLUMNS.stage,
    ...Object.values(K),
  ]);
  const df = await inputs.select(
    ...inputs.columns.filter((c) => wanted.has(c)).map((c) => pl.col(c)),
  ).collect();
  checkInputs(df, rules);
  const n = df.height;
  const fx = opts.fx;
  if (fx !== undefined && n > 0) {
    // Every currency must convert before the projection runs, not after.
    reportingRates(
      fx,
      rules.reporting_currency,
      df.getColumn(COL.currency).unique().toArray() as string[],
    );
  }
  const inReportingCurrency = (lf: LazyFrame) =>
    fx === undefined
      ? lf
      : withReportingCurrency(lf, fx, rules.reporting_currency);
  const workers = Math.max(1, opts.workers ?? navigator.hardwareConcurrency);
  const inWorkers = workers > 1 &&
    n >= (opts.workerThreshold ?? WORKER_THRESHOLD);
  const out = allocateOutput(n, cfg.scenarioNames.length, inWorkers);
  if (inWorkers) {
    // Batches small enough that every worker gets several, so none idles
    // while another finishes a large last batch.
    const size = Math.min(batchSize, Math.ceil(n / (workers * 4)));
    await projectInWorkers(
      cfg,
      df,
      n,
      size,
      workers,
      out,
      opts.onProgress,
      opts.pool,
    );
  } else {
    for (let offset = 0; offset < n; offset += batchSize) {
      const len = Math.min(batchSize, n - offset);
      projectBatch(cfg, kernelColumns(df, offset, len), len, out, offset);
      opts.onProgress?.(offset + len);
    }
  }
  if (n === 0) opts.onProgress?.(0);
  const base = df.select(
    ...RESULT_COLUMNS.filter((c) => df.columns.includes(c)).map((c) =>
      pl.col(c)
    ),
    pl.col(COL.pd12mCurrent),
    pl.col(K.simplified),
  );
  // §13: with a matrix segment, each facility's grade and its curve's
  // first year (the 12-month PD behind its ECL); absent otherwise.
  const graded = cfg.curves === undefined ? base : pl.DataFrame([
    ...base.getColumns(),
    ...gradeColumns(
      df.getColumn(K.curve),
      df.getColumn(K.simplified),
      rules,
      cfg,
    ),
  ]);
  const results = resultFrame(graded, out, cfg).lazy();
  const columns = [
    ...RESULT_COLUMNS.map((c) => pl.col(c)),
    ...cfg.scenarioNames.map((s) => pl.col(scenarioEclColumn(s))),
    ...(cfg.curves === undefined ? [] : GRADE_COLUMNS.map((c) => pl.col(c))),
  ];
  if (opts.overlays === false) {
    return await inReportingCurrency(
      results.withColumns(pl.col("ecl_model").alias("ecl")).select(...columns),
    ).collect();
  }
  const adjusted = await applyOverlays(results, rules.overlays, {
    fx,
    reportingCurrency: rules.reporting_currency,
    onWarning: opts.onWarning,
  });
  return await inReportingCurrency(adjusted.select(
    ...columns,
    pl.col(OVERLAYS_APPLIED),
    pl.col(OVERLAY_IMPACTS),
    pl.col(OVERLAY_FLOOR),
  )).collect();
}
