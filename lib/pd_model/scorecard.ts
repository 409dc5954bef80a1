/**
 * The champion PD model (issue 13, item 2): a logistic scorecard on weights
 * of evidence, scaled to points, with calibration to a central tendency,
 * reason codes, a table (`scorecard.csv`), a JSON form (`model.json`'s
 * `model`) and an ONNX export that scores exactly as this module does.
 *
 * **Fit** ({@link fitScorecard}): each characteristic is binned
 * (`binning.ts`), every row's value is replaced by its bin's WoE, and the
 * default flag is regressed on the WoE columns by Newton–Raphson
 * (`logistic.ts`): η = α + Σ_i β_i·WoE_i(x_i), PD = 1 / (1 + e^−η). With
 * WoE = ln(%good / %bad) the coefficients are expected negative; a positive
 * one is reported in `warnings`.
 *
 * **Points** (Siddiqi, *Credit Risk Scorecards*, 2006, ch. 8 "Scaling"):
 * the score is linear in the log of the good:bad odds, rising by `pdo`
 * points each time the odds double, and equal to `baseScore` at odds
 * `baseOdds`:1,
 *
 *     score  = Offset + Factor · ln(odds),  odds = (1 − PD) / PD = e^−η
 *     Factor = pdo / ln 2
 *     Offset = baseScore − Factor · ln(baseOdds)
 *
 * and it is split among the n characteristics, the intercept shared
 * equally: the points of bin j of characteristic i are
 *
 *     points_ij = −Factor · (β_i · WoE_ij + α / n) + Offset / n
 *
 * so that Σ_i points_i = Offset − Factor · η = score. Points are kept
 * unrounded, so the score and the PD agree exactly.
 *
 * **Calibration** to a target central tendency (`targetPd`): the intercept
 * is shifted by the δ that makes the mean PD over the development sample
 * equal the target, mean_r σ(η_r + δ) = target, solved by Newton's method
 * safeguarded by bisection inside the bracket
 * [logit(t) − max η, logit(t) − min η], to |mean − target| < 1e-12. The
 * points follow the shifted intercept (a calibrated score still reads as
 * odds).
 *
 * **Reason codes** (the "points below maximum" convention, Siddiqi ch. 8;
 * US Regulation B, 12 CFR 1002.9, on adverse-action reasons): for each
 * facility, the characteristics ordered by the points they lose against
 * their best bin (the bin with the most points among those holding
 * development rows), largest loss first, ties in characteristic order;
 * characteristics losing nothing are not reasons.
 *
 * **ONNX** ({@link scorecardToOnnx}): per characteristic, `GreaterOrEqual`
 * of the input with the lookup edges, `Cast` and `ReduceSum` give the
 * number of edges at or below the value, `IsNaN` and `Where` send NaN to
 * the last table entry, and `Gather` reads the points and the β·WoE of
 * that entry; `Concat` gives `points`, `ReduceSum` the `score`, and
 * `Sigmoid(α + Σ β·WoE)` the `pd`. The same edges and tables serve
 * {@link scoreScorecard}, so both score every row alike.
 *
 * @module
 */
import { z } from "zod";
import { UserError } from "../errors.ts";
import {
  binCharacteristics,
  binLookup,
  type BinningOptions,
  type CharacteristicBinning,
  woeColumn,
} from "./binning.ts";
import { fitLogistic, type LogisticOptions } from "./logistic.ts";
import { buildPdModel, type NodeSpec, type TensorSpec } from "./onnx_build.ts";
import {
  type EncodedData,
  type FeatureSpec,
  PD_OUTPUT,
  POINTS_OUTPUT,
  SCORE_OUTPUT,
} from "./types.ts";

/** How points are scaled. */
export interface PointsScaling {
  /** Points to double the odds. @default 20 */
  pdo: number;
  /** Score at the base odds. @default 600 */
  baseScore: number;
  /** Base good:bad odds (50 means 50:1). @default 50 */
  baseOdds: number;
  /** pdo / ln 2. */
  factor: number;
  /** baseScore − factor · ln(baseOdds). */
  offset: number;
}

/** Options of {@link fitScorecard}. */
export interface ScorecardOptions {
  /** Binning of the characteristics. */
  binning?: BinningOptions;
  /** Points to double the odds. @default 20 */
  pdo?: number;
  /** Score at the base odds. @default 600 */
  baseScore?: number;
  /** Base good:bad odds. @default 50 */
  baseOdds?: number;
  /** Mean PD the development sample should have after calibration; none keeps the fit's. */
  targetPd?: number;
  /** Convergence of the logistic regression. */
  logistic?: Pick<LogisticOptions, "tolerance" | "maxIterations">;
}

/** One characteristic of a fitted scorecard: its bins, coefficient and points. */
export interface ScorecardCharacteristic extends CharacteristicBinning {
  /** β of its WoE in the logistic regression. */
  coefficient: number;
  /** Standard error of β. */
  standardError: number;
  /** Points of each bin (same order as `bins`). */
  points: number[];
}

/** What calibration did. */
export interface ScorecardCalibration {
  /** The mean PD asked for. */
  targetPd: number;
  /** Mean PD on the sample before (the sample default rate, for a maximum-likelihood fit). */
  meanPdBefore: number;
  /** Mean PD on the sample after. */
  meanPdAfter: number;
  /** δ added to the intercept. */
  interceptShift: number;
  /** Newton (or bisection) steps. */
  iterations: number;
}

/** A fitted scorecard, JSON-safe (finite numbers and nulls only). */
export interface Scorecard {
  /** The feature contract (inputs, in order). */
  features: FeatureSpec[];
  /** One per feature, in order. */
  characteristics: ScorecardCharacteristic[];
  /** α, after any calibration. */
  intercept: number;
  /** The regression. */
  fit: {
    /** α as fitted, before calibration. */
    intercept: number;
    /** Standard error of α. */
    interceptStandardError: number;
    /** Log-likelihood at the estimate. */
    logLikelihood: number;
    /** Log-likelihood of the intercept-only model. */
    nullLogLikelihood: number;
    /** Newton steps. */
    iterations: number;
    /** Rows fitted. */
    rows: number;
    /** Defaults among them. */
    defaults: number;
  };
  /** Points scaling. */
  scaling: PointsScaling;
  /** Calibration to a central tendency, or null. */
  calibration: ScorecardCalibration | null;
  /** Points on the sample: min, max. */
  scoreRange: [number, number];
  /** Findings to review (a coefficient of unexpected sign, …). */
  warnings: string[];
}

/** Default points scaling: 600 points at 50:1, 20 points to double the odds. */
export const SCALING_DEFAULTS = { pdo: 20, baseScore: 600, baseOdds: 50 };

/**
 * Factor and offset of a points scaling (see the module).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pointsScaling } from "./scorecard.ts";
 * const s = pointsScaling(20, 600, 50);
 * assert.ok(Math.abs(s.factor - 28.8539) < 1e-4);
 * assert.ok(Math.abs(s.offset - 487.1229) < 1e-4);
 * ```
 */
export function pointsScaling(
  pdo: number,
  baseScore: number,
  baseOdds: number,
): PointsScaling {
  if (!(pdo > 0 && Number.isFinite(pdo))) {
    throw new UserError(
      "usage",
      `scorecard pdo: must be a positive number, got ${pdo}`,
    );
  }
  if (!Number.isFinite(baseScore)) {
    throw new UserError(
      "usage",
      `scorecard baseScore: must be a number, got ${baseScore}`,
    );
  }
  if (!(baseOdds > 0 && Number.isFinite(baseOdds))) {
    throw new UserError(
      "usage",
      `scorecard baseOdds: must be a positive number (good:bad odds), got ${baseOdds}`,
    );
  }
  const factor = pdo / Math.LN2;
  return {
    pdo,
    baseScore,
    baseOdds,
    factor,
    offset: baseScore - factor * Math.log(baseOdds),
  };
}

/** Points of every bin of a characteristic under a scaling. */
function binPoints(
  woe: number[],
  coefficient: number,
  intercept: number,
  n: number,
  s: PointsScaling,
): number[] {
  return woe.map((w) =>
    -s.factor * (coefficient * w + intercept / n) + s.offset / n
  );
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * The δ with mean σ(η + δ) = target (see the module): safeguarded Newton.
 */
export function calibrationShift(
  eta: Float64Array,
  targetPd: number,
): { shift: number; iterations: number; meanBefore: number } {
  if (!(targetPd > 0 && targetPd < 1)) {
    throw new UserError(
      "usage",
      `scorecard targetPd: must be strictly between 0 and 1, got ${targetPd}`,
    );
  }
  const n = eta.length;
  if (n === 0) {
    throw new UserError(
      "input",
      "scorecard calibration needs at least one row",
    );
  }
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (eta[i] < lo) lo = eta[i];
    if (eta[i] > hi) hi = eta[i];
  }
  const logit = Math.log(targetPd / (1 - targetPd));
  let a = logit - hi, b = logit - lo; // f(a) <= 0 <= f(b)
  const f = (d: number) => {
    let m = 0, s = 0;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(eta[i] + d);
      m += p;
      s += p * (1 - p);
    }
    return { value: m / n - targetPd, slope: s / n };
  };
  const meanBefore = f(0).value + targetPd;
  let d = 0;
  for (let iter = 1; iter <= 200; iter++) {
    const { value, slope } = f(d);
    if (Math.abs(value) < 1e-12) {
      return { shift: d, iterations: iter - 1, meanBefore };
    }
    if (value < 0) a = d;
    else b = d;
    let next = d - value / slope;
    if (!(next > a && next < b)) next = (a + b) / 2;
    if (next === d) return { shift: d, iterations: iter, meanBefore };
    d = next;
  }
  throw new UserError(
    "check",
    `scorecard calibration to a mean PD of ${targetPd} did not converge in 200 steps`,
  );
}

/**
 * Fits a scorecard on `data` (with its target): binning, logistic
 * regression on the WoE, points scaling and, with `targetPd`, calibration.
 *
 * @throws {UserError} `input` for a target with one class, `check` for a
 * regression that separates, is singular or does not converge (naming the
 * characteristic).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitScorecard, scoreScorecard } from "./scorecard.ts";
 * const rows = 4000;
 * const x = Float64Array.from({ length: rows }, (_, i) => i % 100);
 * // Default rate falls with x: 1 in 4 below 50, 1 in 20 above.
 * const target = Uint8Array.from({ length: rows }, (_, i) =>
 *   (i % 100 < 50 ? i % 4 === 0 : i % 20 === 0) ? 1 : 0);
 * const data = { features: [{ name: "x", kind: "number" as const }], columns: [x], target, rows };
 * const sc = fitScorecard(data);
 * const { score } = scoreScorecard(sc, data);
 * assert.ok(score[99] > score[0]); // safer rows score higher
 * ```
 */
export function fitScorecard(
  data: EncodedData,
  options: ScorecardOptions = {},
): Scorecard {
  const scaling = pointsScaling(
    options.pdo ?? SCALING_DEFAULTS.pdo,
    options.baseScore ?? SCALING_DEFAULTS.baseScore,
    options.baseOdds ?? SCALING_DEFAULTS.baseOdds,
  );
  if (data.features.length === 0) {
    throw new UserError(
      "usage",
      "a scorecard needs at least one characteristic",
    );
  }
  const target = data.target;
  if (!target) {
    throw new UserError("input", "fitting a scorecard needs the target (0/1)");
  }
  const bins = binCharacteristics(data, options.binning);
  const woeColumns = bins.map((ch, j) => woeColumn(ch, data.columns[j]));
  // A characteristic whose values vary but whose binning left one WoE for
  // every row (no group's default rate differs significantly) carries no
  // information: it is left out of the regression with coefficient 0 and
  // a warning. A column constant as given is left to the regression, which
  // refuses it as a singular design, naming it.
  const warnings: string[] = [];
  const regressed: number[] = [];
  woeColumns.forEach((c, j) => {
    if (isConstant(c) && !isConstant(data.columns[j])) {
      warnings.push(
        `characteristic '${
          bins[j].name
        }': its binning left one weight of evidence for every row (no group's default rate differs significantly from another's): it is left out of the regression and scores no points of its own`,
      );
    } else regressed.push(j);
  });
  if (regressed.length === 0) {
    throw new UserError(
      "check",
      `no characteristic separates defaults from non-defaults: ${
        bins.map((b) => `'${b.name}'`).join(", ")
      } each bin into one group; a scorecard needs at least one that does`,
    );
  }
  const sub = fitLogistic(regressed.map((j) => woeColumns[j]), target, {
    ...options.logistic,
    names: regressed.map((j) => data.features[j].name),
  });
  // The fit in characteristic order, 0 for those left out.
  const fit = {
    ...sub,
    coefficients: [sub.coefficients[0], ...bins.map(() => 0)],
    standardErrors: [sub.standardErrors[0], ...bins.map(() => 0)],
  };
  regressed.forEach((j, k) => {
    fit.coefficients[j + 1] = sub.coefficients[k + 1];
    fit.standardErrors[j + 1] = sub.standardErrors[k + 1];
  });
  const eta = new Float64Array(data.rows).fill(fit.coefficients[0]);
  woeColumns.forEach((c, j) => {
    const b = fit.coefficients[j + 1];
    for (let i = 0; i < data.rows; i++) eta[i] += b * c[i];
  });
  let intercept = fit.coefficients[0];
  let calibration: ScorecardCalibration | null = null;
  if (options.targetPd !== undefined) {
    const c = calibrationShift(eta, options.targetPd);
    intercept += c.shift;
    calibration = {
      targetPd: options.targetPd,
      meanPdBefore: c.meanBefore,
      meanPdAfter: meanSigmoid(eta, c.shift),
      interceptShift: c.shift,
      iterations: c.iterations,
    };
  }
  const n = bins.length;
  const characteristics = bins.map((ch, j): ScorecardCharacteristic => {
    const coefficient = fit.coefficients[j + 1];
    if (coefficient > 0) {
      warnings.push(
        `characteristic '${ch.name}': coefficient ${
          coefficient.toPrecision(3)
        } is positive: with WoE = ln(%good/%bad) a higher WoE should lower the PD; it is likely correlated with another characteristic`,
      );
    }
    return {
      ...ch,
      coefficient,
      standardError: fit.standardErrors[j + 1],
      points: binPoints(
        ch.bins.map((b) => b.woe),
        coefficient,
        intercept,
        n,
        scaling,
      ),
    };
  });
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.rows; i++) {
    const s = scaling.offset -
      scaling.factor * (eta[i] - fit.coefficients[0] + intercept);
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  let defaults = 0;
  for (let i = 0; i < data.rows; i++) defaults += target[i];
  return {
    features: data.features.map((f) => structuredClone(f)),
    characteristics,
    intercept,
    fit: {
      intercept: fit.coefficients[0],
      interceptStandardError: fit.standardErrors[0],
      logLikelihood: fit.logLikelihood,
      nullLogLikelihood: fit.nullLogLikelihood,
      iterations: fit.iterations,
      rows: data.rows,
      defaults,
    },
    scaling,
    calibration,
    scoreRange: [lo, hi],
    warnings,
  };
}

/** Whether every value of `c` is the same (NaN equal to NaN). */
function isConstant(c: Float64Array): boolean {
  for (let i = 1; i < c.length; i++) {
    if (!Object.is(c[i], c[0])) return false;
  }
  return true;
}

function meanSigmoid(eta: Float64Array, shift: number): number {
  let m = 0;
  for (let i = 0; i < eta.length; i++) m += sigmoid(eta[i] + shift);
  return m / eta.length;
}

/** What {@link scoreScorecard} returns. */
export interface ScorecardScores {
  /** PD of each row. */
  pd: Float64Array;
  /** Score (points) of each row. */
  score: Float64Array;
  /** Points of each characteristic, row-major `rows × F` (as the ONNX `points` output). */
  points: Float64Array;
  /** `reasons[k][r]`: the (k+1)-th reason of row r, a characteristic name, or null. */
  reasons: (string | null)[][];
}

/** The per-characteristic lookups: edges, and per table entry the points and β·WoE. */
function lookups(sc: Scorecard) {
  return sc.characteristics.map((ch) => {
    const { edges, table } = binLookup(ch);
    return {
      edges: Float64Array.from(edges),
      points: Float64Array.from(table, (b) => ch.points[b]),
      eta: Float64Array.from(table, (b) => ch.coefficient * ch.bins[b].woe),
    };
  });
}

/** Checks that `data` follows the scorecard's contract, naming the first difference. */
function checkContract(
  sc: Scorecard,
  data: Pick<EncodedData, "features" | "columns" | "rows">,
) {
  const want = sc.features.map((f) => f.name);
  const got = data.features.map((f) => f.name);
  for (let j = 0; j < Math.max(want.length, got.length); j++) {
    if (want[j] !== got[j]) {
      throw new UserError(
        "input",
        want[j] === undefined
          ? `feature '${got[j]}' is not in the scorecard's contract (${
            want.join(", ")
          })`
          : `feature '${want[j]}' of the scorecard is ${
            got.includes(want[j])
              ? `at position ${got.indexOf(want[j]) + 1}, not ${j + 1}`
              : "missing"
          } in the data (expected ${want.join(", ")})`,
      );
    }
    const mine = sc.features[j], theirs = data.features[j];
    const cats = (f: FeatureSpec) => JSON.stringify(f.categories ?? []);
    if (
      mine.kind !== theirs.kind ||
      (mine.kind === "category" && cats(mine) !== cats(theirs))
    ) {
      throw new UserError(
        "input",
        `feature '${want[j]}': the data encode it as ${theirs.kind}${
          theirs.kind === "category" ? ` ${cats(theirs)}` : ""
        }, the scorecard as ${mine.kind}${
          mine.kind === "category" ? ` ${cats(mine)}` : ""
        }: encode the data with the scorecard's contract`,
      );
    }
    if (data.columns[j]?.length !== data.rows) {
      throw new UserError(
        "input",
        `feature '${want[j]}': ${
          data.columns[j]?.length ?? 0
        } values, expected ${data.rows}`,
      );
    }
  }
}

/**
 * Scores rows: PD, score, points per characteristic and the `reasons`
 * reason codes (see the module). Missing values and unknown categories
 * (NaN) take the missing bin.
 *
 * @param reasons how many reason codes per row @default 3
 */
export function scoreScorecard(
  sc: Scorecard,
  data: Pick<EncodedData, "features" | "columns" | "rows">,
  { reasons = 3 }: { reasons?: number } = {},
): ScorecardScores {
  checkContract(sc, data);
  const F = sc.characteristics.length, n = data.rows;
  const pd = new Float64Array(n), score = new Float64Array(n);
  const points = new Float64Array(n * F);
  const eta = new Float64Array(n).fill(sc.intercept);
  lookups(sc).forEach((l, j) => {
    const col = data.columns[j];
    const nan = l.points.length - 1;
    for (let i = 0; i < n; i++) {
      const x = col[i];
      let k: number;
      if (x !== x) k = nan;
      else {
        let lo = 0, hi = l.edges.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (l.edges[mid] <= x) lo = mid + 1;
          else hi = mid;
        }
        k = lo;
      }
      points[i * F + j] = l.points[k];
      eta[i] += l.eta[k];
    }
  });
  for (let i = 0; i < n; i++) {
    pd[i] = sigmoid(eta[i]);
    let s = 0;
    for (let j = 0; j < F; j++) s += points[i * F + j];
    score[i] = s;
  }
  return { pd, score, points, reasons: reasonCodes(sc, points, n, reasons) };
}

/**
 * Reason codes from points (row-major `rows × F`, as the ONNX `points`
 * output): for each row the `k` characteristics losing the most points
 * against their best bin, largest first (see the module); null where
 * fewer lose points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reasonCodes, type Scorecard } from "./scorecard.ts";
 * const ch = (name: string, points: number[]) => ({ name, points, bins: points.map(() => ({ count: 1 })) });
 * const sc = { characteristics: [ch("a", [10, 30]), ch("b", [5, 25])] } as unknown as Scorecard;
 * // Row 0 loses 20 on a and 0 on b; row 1 loses 0 and 20; ties go to the first.
 * assert.deepEqual(reasonCodes(sc, Float64Array.from([10, 25, 30, 5]), 2, 2), [["a", "b"], [null, null]]);
 * ```
 */
export function reasonCodes(
  sc: Scorecard,
  points: Float64Array,
  rows: number,
  k = 3,
): (string | null)[][] {
  const F = sc.characteristics.length;
  const best = sc.characteristics.map((ch) => {
    let m = -Infinity;
    ch.points.forEach((p, b) => {
      if (ch.bins[b].count > 0 && p > m) m = p;
    });
    return m === -Infinity ? Math.max(...ch.points) : m;
  });
  const names = sc.characteristics.map((c) => c.name);
  const out = Array.from(
    { length: k },
    () => new Array<string | null>(rows).fill(null),
  );
  const loss = new Float64Array(F);
  const order = new Int32Array(F);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < F; j++) {
      loss[j] = best[j] - points[i * F + j];
      order[j] = j;
    }
    // Insertion sort: F is small.
    for (let a = 1; a < F; a++) {
      const v = order[a];
      let b = a - 1;
      while (b >= 0 && loss[order[b]] < loss[v]) {
        order[b + 1] = order[b];
        b--;
      }
      order[b + 1] = v;
    }
    for (let r = 0; r < k && r < F; r++) {
      const j = order[r];
      if (loss[j] > 1e-9) out[r][i] = names[j];
    }
  }
  return out;
}

/** One row of the scorecard table (`scorecard.csv`). */
export interface ScorecardTableRow {
  /** The characteristic. */
  characteristic: string;
  /** Bin number within the characteristic, from 1; the missing bin last. */
  bin: number;
  /** `[a, b)`, `< b`, `>= a`, the categories joined by `|`, or `missing`. */
  range: string;
  /** Development rows in the bin. */
  count: number;
  /** Defaults in the bin. */
  bads: number;
  /** bads / count (0 for an empty bin). */
  bad_rate: number;
  /** Weight of evidence. */
  woe: number;
  /** The characteristic's information value (the same on each of its rows). */
  iv: number;
  /** The characteristic's coefficient. */
  coefficient: number;
  /** Points of the bin. */
  points: number;
}

/** Describes a bin for the table. */
function rangeText(ch: CharacteristicBinning, b: number): string {
  const bin = ch.bins[b];
  if (bin.missing) {
    return ch.kind === "category" ? "missing or unknown" : "missing";
  }
  if (bin.categories) return bin.categories.join("|");
  if (bin.lower === null && bin.upper === null) return "all";
  if (bin.lower === null) return `< ${bin.upper}`;
  if (bin.upper === null) return `>= ${bin.lower}`;
  return `[${bin.lower}, ${bin.upper})`;
}

/** The scorecard as a table: one row per bin of each characteristic. */
export function scorecardTable(sc: Scorecard): ScorecardTableRow[] {
  return sc.characteristics.flatMap((ch) =>
    ch.bins.map((b, i) => ({
      characteristic: ch.name,
      bin: i + 1,
      range: rangeText(ch, i),
      count: b.count,
      bads: b.bads,
      bad_rate: b.count === 0 ? 0 : b.bads / b.count,
      woe: b.woe,
      iv: ch.iv,
      coefficient: ch.coefficient,
      points: ch.points[i],
    }))
  );
}

/** The scorecard table as CSV text (RFC 4180 quoting), header first. */
export function scorecardCsv(sc: Scorecard): string {
  const cols: (keyof ScorecardTableRow)[] = [
    "characteristic",
    "bin",
    "range",
    "count",
    "bads",
    "bad_rate",
    "woe",
    "iv",
    "coefficient",
    "points",
  ];
  const cell = (v: string | number) => {
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [cols.join(",")];
  for (const row of scorecardTable(sc)) {
    lines.push(cols.map((c) => cell(row[c])).join(","));
  }
  return lines.join("\n") + "\n";
}

/** The JSON form of a scorecard, for `model.json`'s `model` field. */
export function scorecardToJson(sc: Scorecard): Scorecard {
  return structuredClone(sc);
}

const finite = z.number().refine(Number.isFinite, "must be a finite number");
const binSchema = z.object({
  lower: finite.nullable(),
  upper: finite.nullable(),
  categories: z.array(z.string()).optional(),
  missing: z.boolean(),
  count: finite.nonnegative(),
  bads: finite.nonnegative(),
  woe: finite,
  iv: finite,
});
const featureSchema = z.object({
  name: z.string().min(1),
  kind: z.enum(["number", "category"]),
  categories: z.array(z.string()).optional(),
  transform: z.enum(["identity", "log1p"]).optional(),
});
const scorecardSchema = z.object({
  features: z.array(featureSchema).min(1),
  characteristics: z.array(z.object({
    name: z.string(),
    kind: z.enum(["number", "category"]),
    edges: z.array(finite),
    categoryBins: z.array(z.number().int().nonnegative()),
    bins: z.array(binSchema).min(1),
    iv: finite,
    monotonic: z.boolean(),
    coefficient: finite,
    standardError: finite,
    points: z.array(finite),
  })),
  intercept: finite,
  fit: z.object({
    intercept: finite,
    interceptStandardError: finite,
    logLikelihood: finite,
    nullLogLikelihood: finite,
    iterations: z.number().int().nonnegative(),
    rows: z.number().int().nonnegative(),
    defaults: z.number().int().nonnegative(),
  }),
  scaling: z.object({
    pdo: finite,
    baseScore: finite,
    baseOdds: finite,
    factor: finite,
    offset: finite,
  }),
  calibration: z.object({
    targetPd: finite,
    meanPdBefore: finite,
    meanPdAfter: finite,
    interceptShift: finite,
    iterations: z.number().int().nonnegative(),
  }).nullable(),
  scoreRange: z.tuple([finite, finite]),
  warnings: z.array(z.string()),
});

/**
 * Reads a scorecard back from its JSON form, checking its shape and its
 * consistency (one characteristic per feature, bins and points agreeing,
 * rising edges).
 *
 * @param where what to name in messages, e.g. `models/pd/model.json: model`
 * @throws {UserError} `input` naming the key at fault.
 */
export function scorecardFromJson(
  value: unknown,
  where = "model.json: model",
): Scorecard {
  const parsed = scorecardSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map((p) =>
      typeof p === "number" ? `[${p}]` : `.${String(p)}`
    )
      .join("");
    throw new UserError("input", `${where}${path}: ${issue.message}`);
  }
  const sc = parsed.data as Scorecard;
  const bad = (key: string, what: string) =>
    new UserError("input", `${where}.${key}: ${what}`);
  if (sc.characteristics.length !== sc.features.length) {
    throw bad(
      "characteristics",
      `${sc.characteristics.length} characteristics for ${sc.features.length} features`,
    );
  }
  sc.characteristics.forEach((ch, j) => {
    const key = `characteristics[${j}]`;
    const f = sc.features[j];
    if (ch.name !== f.name || ch.kind !== f.kind) {
      throw bad(
        `${key}.name`,
        `'${ch.name}' (${ch.kind}) does not match feature '${f.name}' (${f.kind})`,
      );
    }
    if (ch.points.length !== ch.bins.length) {
      throw bad(
        `${key}.points`,
        `${ch.points.length} points for ${ch.bins.length} bins`,
      );
    }
    if (!ch.bins[ch.bins.length - 1].missing) {
      throw bad(`${key}.bins`, "the last bin must be the missing bin");
    }
    if (ch.kind === "number") {
      if (ch.bins.length !== Math.max(ch.edges.length, 0) + 2) {
        throw bad(
          `${key}.bins`,
          `${ch.bins.length} bins for ${ch.edges.length} edges (expected edges + 2)`,
        );
      }
      for (let i = 1; i < ch.edges.length; i++) {
        if (!(ch.edges[i] > ch.edges[i - 1])) {
          throw bad(`${key}.edges[${i}]`, "edges must rise strictly");
        }
      }
    } else {
      const C = f.categories?.length ?? 0;
      if (ch.categoryBins.length !== C) {
        throw bad(
          `${key}.categoryBins`,
          `${ch.categoryBins.length} entries for ${C} categories`,
        );
      }
      ch.categoryBins.forEach((b, c) => {
        if (b >= ch.bins.length) {
          throw bad(
            `${key}.categoryBins[${c}]`,
            `bin ${b} does not exist (${ch.bins.length} bins)`,
          );
        }
      });
    }
  });
  return sc;
}

/**
 * The scorecard as an ONNX model following the PD-model convention
 * (`types.ts`): inputs per feature, outputs `pd` `[N, 1]`, `score`
 * `[N, 1]` and `points` `[N, F]`, plain default-domain operators (see the
 * module).
 */
export function scorecardToOnnx(sc: Scorecard): Uint8Array {
  // Reserved feature names (onnx_build.ts, the one list) are refused by
  // buildPdModel, naming the feature.
  const nodes: NodeSpec[] = [];
  const init: TensorSpec[] = [
    { name: "sc_axis1", type: "int64", dims: [1], values: [1] },
    { name: "sc_intercept", type: "double", dims: [1], values: [sc.intercept] },
  ];
  const pointNames: string[] = [], etaNames: string[] = [];
  lookups(sc).forEach((l, j) => {
    const x = sc.features[j].name;
    const E = l.edges.length, T = l.points.length;
    init.push(
      {
        name: `sc_edges${j}`,
        type: "double",
        dims: [1, E],
        values: [...l.edges],
      },
      { name: `sc_nan${j}`, type: "int64", dims: [1], values: [T - 1] },
      {
        name: `sc_points${j}`,
        type: "double",
        dims: [T],
        values: [...l.points],
      },
      { name: `sc_eta${j}`, type: "double", dims: [T], values: [...l.eta] },
    );
    nodes.push(
      {
        op: "GreaterOrEqual",
        inputs: [x, `sc_edges${j}`],
        outputs: [`sc_ge${j}`],
      },
      {
        op: "Cast",
        inputs: [`sc_ge${j}`],
        outputs: [`sc_gei${j}`],
        attributes: { to: { kind: "int", value: 7 } }, // INT64
      },
      {
        op: "ReduceSum",
        inputs: [`sc_gei${j}`, "sc_axis1"],
        outputs: [`sc_k${j}`],
        attributes: { keepdims: { kind: "int", value: 1 } },
      },
      { op: "IsNaN", inputs: [x], outputs: [`sc_isnan${j}`] },
      {
        op: "Where",
        inputs: [`sc_isnan${j}`, `sc_nan${j}`, `sc_k${j}`],
        outputs: [`sc_pos${j}`],
      },
      {
        op: "Gather",
        inputs: [`sc_points${j}`, `sc_pos${j}`],
        outputs: [`sc_p${j}`],
        attributes: { axis: { kind: "int", value: 0 } },
      },
      {
        op: "Gather",
        inputs: [`sc_eta${j}`, `sc_pos${j}`],
        outputs: [`sc_c${j}`],
        attributes: { axis: { kind: "int", value: 0 } },
      },
    );
    pointNames.push(`sc_p${j}`);
    etaNames.push(`sc_c${j}`);
  });
  nodes.push(
    {
      op: "Concat",
      inputs: pointNames,
      outputs: [POINTS_OUTPUT],
      attributes: { axis: { kind: "int", value: 1 } },
    },
    {
      op: "ReduceSum",
      inputs: [POINTS_OUTPUT, "sc_axis1"],
      outputs: [SCORE_OUTPUT],
      attributes: { keepdims: { kind: "int", value: 1 } },
    },
    {
      op: "Concat",
      inputs: etaNames,
      outputs: ["sc_contrib"],
      attributes: { axis: { kind: "int", value: 1 } },
    },
    {
      op: "ReduceSum",
      inputs: ["sc_contrib", "sc_axis1"],
      outputs: ["sc_etasum"],
      attributes: { keepdims: { kind: "int", value: 1 } },
    },
    {
      op: "Add",
      inputs: ["sc_etasum", "sc_intercept"],
      outputs: ["sc_linear"],
    },
    { op: "Sigmoid", inputs: ["sc_linear"], outputs: [PD_OUTPUT] },
  );
  return buildPdModel({
    features: sc.features,
    nodes,
    initializers: init,
    extraOutputs: [
      { name: SCORE_OUTPUT, width: 1 },
      { name: POINTS_OUTPUT, width: sc.features.length },
    ],
    metadata: { "ifrs9.model_kind": "scorecard" },
  });
}
