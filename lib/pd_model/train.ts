/**
 * Training a PD model end to end (`deno task train-pd`, issue 13 item 6):
 * development data in, a model folder out.
 *
 * 1. read the data (CSV, Parquet or Arrow IPC, or a frame) and choose the
 *    characteristics and their kinds (`train_data.ts`, the rule documented
 *    there and in docs/pd_models.md);
 * 2. check the target (binary, both classes, no missing value) and split
 *    the rows into a fitted part and a held-out part (`split.ts`): by
 *    default whole facilities (the `loan_id` column when present,
 *    {@link TrainPdOptions.group}) are held out, stratified on whether the
 *    facility ever defaults and seeded ({@link TrainPdOptions.heldOutShare}),
 *    so no facility is on both sides; or, out of time, every row of the
 *    last observation date ({@link TrainPdOptions.holdOut});
 * 3. fit the champion scorecard (`scorecard.ts`: weight-of-evidence
 *    binning and a logistic regression by IRLS) or the challenger trees
 *    (`gbt.ts`, early stopping on a facility split of the fitted part
 *    only, so the held-out rows stay unseen);
 * 4. validate on both parts with `metrics.ts` alone (AUC, Gini, KS, the
 *    ROC curve, calibration by grade with exact intervals, Hosmer-Lemeshow
 *    with G − 2 degrees of freedom on the fitted rows and G held out)
 *    and record the development reference monitoring compares later
 *    populations with (`monitor.ts`);
 * 5. export to ONNX and score the held-out rows through ONNX Runtime
 *    (`onnx_score.ts`): the file written must give the fitted model's PDs
 *    within {@link ONNX_TOLERANCE}, or training fails (a bug, not a model);
 * 6. write the folder ({@link PD_MODEL_FILES}) whole or not at all: staged
 *    beside it and renamed last (`writeOutputFolder`), so a failed write
 *    leaves nothing, or the earlier model, under its name.
 *
 * @module
 */
import type { DataFrame } from "../frame.ts";
import { UserError } from "../errors.ts";
import { checkOutputFolder, writeOutputFolder } from "../run_folder/mod.ts";
import { binCharacteristics, type CharacteristicBinning } from "./binning.ts";
import { encodeFeatures } from "./contract.ts";
import { gbtImportance, gbtToOnnx, predictGbt, trainGbt } from "./gbt.ts";
import type { GbtModel, GbtOptions } from "./gbt.ts";
import { DEFAULT_MASTER_SCALE } from "./master_scale.ts";
import {
  auc,
  type CalibrationRow as MetricsCalibrationRow,
  calibrationTable,
  gini,
  hosmerLemeshow,
  ksStatistic,
  rocCurve,
} from "./metrics.ts";
import { pdModelFromBytes, scorePd, sha256Hex } from "./onnx_score.ts";
import {
  checkHeldOutPart,
  checkSeed,
  readTarget,
  readTrainingData,
  selectFeatures,
  type SkippedColumn,
} from "./train_data.ts";
import {
  fitScorecard,
  scorecardCsv,
  type ScorecardOptions,
  scorecardTable,
  scorecardToJson,
  scorecardToOnnx,
  scoreScorecard,
} from "./scorecard.ts";
import { developmentReference } from "./monitor.ts";
import {
  facilitySplit,
  HOLD_OUTS,
  type HoldOut,
  latestDateSplit,
  type RowSplit,
} from "./split.ts";
import type {
  EncodedData,
  MasterScaleGrade,
  PdModelFile,
  PdModelKind,
} from "./types.ts";
import {
  type IvRow,
  renderValidationPage,
  type ScoreBin,
  type ValidationPageInput,
} from "./validation_page.ts";

/** The files of a model folder. */
export const PD_MODEL_FILES = {
  /** The model in ONNX, following the project's convention (`types.ts`). */
  onnx: "model.onnx",
  /** The `model.json` envelope ({@link PdModelFile}). */
  json: "model.json",
  /** Train and held-out statistics ({@link PdMetricsFile}). */
  metrics: "metrics.json",
  /** The development validation page. */
  page: "validation.html",
  /** A scorecard's points by characteristic and bin (scorecards only). */
  scorecard: "scorecard.csv",
} as const;

/**
 * The largest difference allowed between a PD of the fitted model and the
 * PD the written ONNX file gives for the same row (issue 13: 1e-6).
 */
export const ONNX_TOLERANCE = 1e-6;

/** Options of {@link trainPdModel}. */
export interface TrainPdOptions {
  /** The development data: a CSV, Parquet or Arrow IPC file, or a frame. */
  data: string | DataFrame;
  /** The target column: 1 defaulted within the outcome window, 0 not. */
  target: string;
  /** Scorecard (champion) or gradient-boosted trees (challenger). @default "scorecard" */
  model?: PdModelKind;
  /**
   * The characteristics, by column name. @default every column but the
   * target, identifiers, dates and a run's computed columns
   * (`train_data.ts`)
   */
  features?: string[];
  /** Seed of the split (and of the trees' sampling). @default 42 */
  seed?: number;
  /**
   * How rows are held out for validation: `facility`, a share of whole
   * facilities ({@link heldOutShare}, by {@link group}), stratified on
   * whether the facility ever defaults; or `out-of-time`, every row of the
   * last observation date ({@link dateColumn}). @default "facility"
   */
  holdOut?: HoldOut;
  /**
   * The column naming each row's facility: with `facility` no facility
   * has rows on both sides, and the trees' early-stopping split also
   * draws whole facilities. `null` splits by row (one row per facility).
   * @default "loan_id" when the data has it, else by row
   */
  group?: string | null;
  /** The observation-date column of the out-of-time hold-out. @default "reporting_date" */
  dateColumn?: string;
  /**
   * Share of facilities held out, per class (ever defaults or not), with
   * the `facility` hold-out; unused out of time. @default 0.3
   */
  heldOutShare?: number;
  /** The folder to write ({@link PD_MODEL_FILES}); nothing is written without it. */
  out?: string;
  /** How a frame given as `data` is named in the files and messages. @default "data frame" */
  dataName?: string;
  /** Options of the scorecard (kind `scorecard`): binning, points scaling, calibration. */
  scorecard?: ScorecardOptions;
  /** Options of the trees (kind `gbt`). */
  gbt?: GbtOptions;
  /** The master scale of the calibration table. @default DEFAULT_MASTER_SCALE */
  masterScale?: readonly MasterScaleGrade[];
  /** Called with one line at each step (reading, fitting, validating, writing). */
  onProgress?: (line: string) => void;
}

/** Statistics of one part of the data in `metrics.json`. */
export interface PartMetrics {
  /** Rows. */
  rows: number;
  /** Rows with target 1. */
  defaults: number;
  /** defaults / rows. */
  default_rate: number;
  /** Mean predicted PD. */
  mean_pd: number;
  /** Area under the ROC curve (on the PD). */
  auc: number;
  /** 2 AUC - 1. */
  gini: number;
  /** Kolmogorov-Smirnov statistic. */
  ks: number;
  /**
   * Hosmer-Lemeshow test over the grades (null with fewer than 3 grades):
   * G − 2 degrees of freedom on the fitted rows, G on the held-out rows.
   */
  hosmer_lemeshow: { statistic: number; p_value: number; df: number } | null;
  /** Calibration by grade of the master scale (`calibrationTable`). */
  calibration: MetricsCalibrationRow[];
}

/** How the development rows were split, in `metrics.json`. */
export interface SplitRecord {
  /** The hold-out ({@link TrainPdOptions.holdOut}). */
  hold_out: HoldOut;
  /** The facility column, or null when rows were split one by one. */
  group: string | null;
  /** Distinct facilities on each side (rows when `group` is null). */
  facilities: { train: number; held_out: number };
  /** Facilities with rows on both sides (0 for a facility hold-out). */
  shared_facilities: number;
  /** The date column and the held-out date (out of time). */
  date?: { column: string; held_out: string };
}

/** `metrics.json`. */
export interface PdMetricsFile {
  /** Always `ifrs9-pd-metrics`. */
  format: "ifrs9-pd-metrics";
  /** Version of this file. */
  version: 1;
  /** The model kind. */
  kind: PdModelKind;
  /** The data trained on, as given. */
  data: string;
  /** The target column. */
  target: string;
  /** The seed of the split. */
  seed: number;
  /** How the rows were split ({@link SplitRecord}). */
  split: SplitRecord;
  /** The characteristics, in contract order. */
  features: string[];
  /** Statistics on the rows the model was fitted on. */
  train: PartMetrics;
  /** Statistics on the held-out rows. */
  held_out: PartMetrics;
  /** Information value of each characteristic (binning of the fitted rows). */
  information_value: { feature: string; iv: number; bins: number }[];
  /** The check of model.onnx against the fitted model on the held-out rows. */
  onnx_check: { rows: number; max_abs_difference: number };
}

/** What {@link trainPdModel} returns. */
export interface TrainedPdModel {
  /** The `model.json` envelope. */
  file: PdModelFile;
  /** The ONNX file's bytes. */
  onnx: Uint8Array;
  /** `metrics.json`. */
  metrics: PdMetricsFile;
  /** `validation.html`. */
  page: string;
  /** `scorecard.csv` (a scorecard). */
  scorecardCsv?: string;
  /** Columns of the data left out, each with why. */
  skipped: SkippedColumn[];
  /** The folder written, when `out` was given. */
  dir?: string;
  /** PDs of the held-out rows (row indices in `split.heldOut`). */
  heldOutPd: Float64Array;
  /** The split, as row indices of the data. */
  split: RowSplit;
}

/** The rows `idx` of encoded data. */
export function subsetRows(data: EncodedData, idx: Uint32Array): EncodedData {
  const columns = data.columns.map((c) => {
    const out = new Float64Array(idx.length);
    for (let i = 0; i < idx.length; i++) out[i] = c[idx[i]];
    return out;
  });
  let target: Uint8Array | undefined;
  if (data.target) {
    target = new Uint8Array(idx.length);
    for (let i = 0; i < idx.length; i++) target[i] = data.target[idx[i]];
  }
  return { features: data.features, columns, target, rows: idx.length };
}

/** The pieces of a fitted model the trainer needs, whatever its kind. */
interface Fitted {
  /** `model.json`'s `model`. */
  model: unknown;
  /**
   * PDs of encoded rows, and the score charted and monitored (points for
   * a scorecard, the PD for trees).
   */
  predict(data: EncodedData): { pd: Float64Array; score: Float64Array };
  /** The ONNX bytes. */
  onnx: Uint8Array;
  /** Binnings of the characteristics (for the IV table). */
  binnings: CharacteristicBinning[];
  /** Scorecard table and CSV, or importances. */
  scorecard?: { rows: ValidationPageInput["scorecard"]; csv: string };
  importances?: ValidationPageInput["importances"];
}

/**
 * Fits the trees; `groups` (the facility of each fitted row) makes their
 * early-stopping split hold out whole facilities.
 */
function fitGbt(
  train: EncodedData,
  seed: number,
  opts: GbtOptions,
  groups: unknown[] | undefined,
): Fitted {
  const model: GbtModel = trainGbt(train, { seed, groups, ...opts });
  const binnings = binCharacteristics(train);
  return {
    model,
    predict: (d) => {
      const { pd } = predictGbt(model, d);
      return { pd, score: pd };
    },
    onnx: gbtToOnnx(model),
    binnings,
    importances: gbtImportance(model).map((f) => ({
      feature: f.feature,
      importance: f.share,
    })),
  };
}

/** Fits the scorecard. */
function fitScorecardModel(
  train: EncodedData,
  opts: ScorecardOptions,
): Fitted {
  const sc = fitScorecard(train, opts);
  return {
    model: scorecardToJson(sc),
    predict: (d) => scoreScorecard(sc, d, { reasons: 0 }),
    onnx: scorecardToOnnx(sc),
    binnings: sc.characteristics,
    scorecard: {
      rows: scorecardTable(sc).map((r) => ({
        feature: r.characteristic,
        bin: shortNumbers(r.range),
        count: r.count,
        badRate: r.bad_rate,
        woe: r.woe,
        points: r.points,
      })),
      csv: scorecardCsv(sc),
    },
  };
}

/**
 * A bin's text with long decimals cut to 4 significant digits for the page
 * (`[0.1033127843445949, 0.2119…)` reads `[0.1033, 0.2119)`); scorecard.csv
 * keeps the exact edges.
 */
function shortNumbers(text: string): string {
  return text.replace(
    /-?\d+\.\d{5,}(e[+-]?\d+)?/gi,
    (m) => String(Number(Number(m).toPrecision(4))),
  );
}

/** Sum of a 0/1 array. */
function count(y: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i];
  return s;
}

/**
 * The statistics of one part; `inSample` for the fitted rows (the
 * Hosmer-Lemeshow degrees of freedom, `metrics.ts`).
 */
function partMetrics(
  pd: Float64Array,
  y: Uint8Array,
  masterScale: readonly MasterScaleGrade[],
  inSample: boolean,
): PartMetrics {
  const defaults = count(y);
  let sum = 0;
  for (let i = 0; i < pd.length; i++) sum += pd[i];
  const calibration = calibrationTable({ pd, labels: y, masterScale });
  let hl: PartMetrics["hosmer_lemeshow"] = null;
  if (calibration.length >= 3) {
    const r = hosmerLemeshow({
      n: calibration.map((c) => c.count),
      pd: calibration.map((c) => c.meanPd),
      defaults: calibration.map((c) => c.defaults),
    }, { inSample });
    hl = { statistic: r.statistic, p_value: r.pValue, df: r.df };
  }
  return {
    rows: y.length,
    defaults,
    default_rate: defaults / y.length,
    mean_pd: sum / pd.length,
    auc: auc(pd, y),
    gini: gini(pd, y),
    ks: ksStatistic(pd, y),
    hosmer_lemeshow: hl,
    calibration,
  };
}

/**
 * Equal-width bins of a score for the distribution chart: of the points,
 * or of log10 of the PD (the trees), shares of each class.
 */
function scoreBins(
  score: Float64Array,
  y: Uint8Array,
  logScale: boolean,
  bins = 20,
): ScoreBin[] {
  const v = Float64Array.from(
    score,
    (s) => logScale ? Math.log10(Math.max(s, 1e-12)) : s,
  );
  let lo = Infinity, hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!(hi > lo)) hi = lo + 1;
  const width = (hi - lo) / bins;
  const goods = new Float64Array(bins), bads = new Float64Array(bins);
  for (let i = 0; i < v.length; i++) {
    const k = Math.min(bins - 1, Math.floor((v[i] - lo) / width));
    if (y[i]) bads[k]++;
    else goods[k]++;
  }
  const nb = count(y), ng = y.length - nb;
  const edge = (x: number) => logScale ? 10 ** x : x;
  return Array.from({ length: bins }, (_, k) => ({
    lo: edge(lo + k * width),
    hi: edge(lo + (k + 1) * width),
    goods: goods[k] / ng,
    bads: bads[k] / nb,
  }));
}

/** Values of the two parts of a split put back in row order. */
function merge(
  split: { train: Uint32Array; heldOut: Uint32Array },
  train: Float64Array,
  heldOut: Float64Array,
): Float64Array {
  const out = new Float64Array(train.length + heldOut.length);
  split.train.forEach((row, i) => out[row] = train[i]);
  split.heldOut.forEach((row, i) => out[row] = heldOut[i]);
  return out;
}

/** The largest absolute difference of two arrays. */
function maxAbsDifference(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** One line on how the rows were split, for the progress and the page. */
function describeSplit(r: SplitRecord): string {
  const unit = r.group === null ? "rows" : `facilities by ${r.group}`;
  if (r.hold_out === "out-of-time") {
    return `out of time, the rows of ${r.date!.held_out} (${
      r.date!.column
    }); ${r.facilities.held_out} held-out ${unit}, ${r.shared_facilities} of them also fitted at earlier dates`;
  }
  return `${r.facilities.held_out} of ${
    r.facilities.train + r.facilities.held_out
  } ${unit}, stratified on whether they ever default; none on both sides`;
}

/** Distinct values of `groups` at `rows`. */
function distinct(groups: unknown[], rows: Uint32Array): Set<unknown> {
  const out = new Set<unknown>();
  for (const r of rows) {
    const g = groups[r];
    out.add(g instanceof Date ? g.getTime() : g);
  }
  return out;
}

/** Splits the rows as the options say (`split.ts`); reads the columns it needs. */
function splitRows(
  df: DataFrame,
  y: Uint8Array,
  holdOut: HoldOut,
  opts: TrainPdOptions,
  heldOutShare: number,
  seed: number,
): { split: RowSplit; record: SplitRecord; groups?: unknown[] } {
  const source = typeof opts.data === "string"
    ? opts.data
    : opts.dataName ?? "data frame";
  const column = (name: string, what: string): unknown[] => {
    if (!df.columns.includes(name)) {
      throw new UserError(
        "input",
        `${source}: no column "${name}" (${what}); columns: ${
          df.columns.join(", ")
        }`,
      );
    }
    return df.getColumn(name).toArray() as unknown[];
  };
  const groupName = opts.group === undefined
    ? (df.columns.includes("loan_id") ? "loan_id" : null)
    : opts.group;
  const groups = groupName === null
    ? undefined
    : column(groupName, "the facility of each row");
  let split: RowSplit;
  let date: SplitRecord["date"];
  if (holdOut === "out-of-time") {
    const dateColumn = opts.dateColumn ?? "reporting_date";
    const s = latestDateSplit(
      column(dateColumn, "the observation date of the out-of-time hold-out"),
      y,
      `${source}: ${dateColumn}`,
    );
    split = { train: s.train, heldOut: s.heldOut };
    date = { column: dateColumn, held_out: s.date };
  } else {
    split = facilitySplit(
      y,
      groups,
      heldOutShare,
      seed,
      `${source}: ${groupName}`,
    );
  }
  // Held-out statistics need enough of each class (train_data.ts).
  checkHeldOutPart(
    y,
    split.heldOut,
    holdOut === "out-of-time"
      ? `the out-of-time hold-out (${date!.held_out})`
      : "the held-out share",
  );
  let facilities = {
    train: split.train.length,
    held_out: split.heldOut.length,
  };
  let shared = 0;
  if (groups) {
    const a = distinct(groups, split.train),
      b = distinct(groups, split.heldOut);
    facilities = { train: a.size, held_out: b.size };
    for (const g of b) if (a.has(g)) shared++;
  }
  const record: SplitRecord = {
    hold_out: holdOut,
    group: groupName,
    facilities,
    shared_facilities: shared,
    ...(date ? { date } : {}),
  };
  return { split, record, groups };
}

/**
 * Trains a PD model on development data: reads it, chooses the
 * characteristics, splits it (by facility or out of time, seeded), fits, validates on both
 * parts, exports to ONNX and checks the file against the model, and with
 * `out` writes the model folder ({@link PD_MODEL_FILES}) whole or not at
 * all.
 *
 * @throws {UserError} `input` naming the file or column: data that cannot
 *   be read, a missing feature column, a target that is missing, not
 *   binary or of one class; `usage` for a bad option; `output` when the
 *   folder cannot be written; `check` when the fit fails (separation, a
 *   singular design, no convergence).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { trainPdModel } from "./train.ts";
 *
 * import { Rng } from "../generate/mod.ts";
 *
 * // 2,000 facilities whose default risk falls with their score.
 * const rng = new Rng(7);
 * const score = Array.from({ length: 2000 }, () => 500 + 300 * rng.uniform());
 * const dflt = score.map((s) => (rng.uniform() < 1 / (1 + Math.exp((s - 560) / 30)) ? 1 : 0));
 * const data = pl.DataFrame({ loan_id: score.map((_, i) => `L${i}`), score_at_t: score, dflt });
 * const trained = await trainPdModel({ data, target: "dflt", seed: 1 });
 * assert.deepEqual(trained.metrics.features, ["score_at_t"]); // loan_id left out
 * assert.equal(trained.metrics.held_out.rows, 600);
 * assert.ok(trained.metrics.held_out.auc > 0.7);
 * assert.ok(trained.metrics.onnx_check.max_abs_difference <= 1e-6);
 * ```
 */
export async function trainPdModel(
  opts: TrainPdOptions,
): Promise<TrainedPdModel> {
  const kind = opts.model ?? "scorecard";
  if (kind !== "scorecard" && kind !== "gbt") {
    throw new UserError(
      "usage",
      `model must be scorecard or gbt, got ${String(kind)}`,
    );
  }
  const seed = checkSeed(opts.seed ?? 42);
  const heldOutShare = opts.heldOutShare ?? 0.3;
  const holdOut = opts.holdOut ?? "facility";
  if (!HOLD_OUTS.includes(holdOut)) {
    throw new UserError(
      "usage",
      `holdOut must be ${HOLD_OUTS.join(" or ")}, got ${String(holdOut)}`,
    );
  }
  const masterScale = opts.masterScale ?? DEFAULT_MASTER_SCALE;
  const progress = opts.onProgress ?? (() => {});
  const source = typeof opts.data === "string"
    ? opts.data
    : opts.dataName ?? "data frame";
  const started = performance.now();
  const elapsed = () =>
    `${((performance.now() - started) / 1000).toFixed(1)} s`;

  const inputs = typeof opts.data === "string" ? [opts.data] : [];
  // Where the model goes is checked before anything is read or fitted.
  if (opts.out !== undefined) {
    await checkOutputFolder(opts.out, Object.values(PD_MODEL_FILES), {
      inputs,
    });
  }
  progress(`reading ${source}`);
  const df = await readTrainingData(opts.data);
  // The file's bytes; for a frame, its Arrow IPC serialisation.
  const dataSha256 = sha256Hex(
    typeof opts.data === "string"
      ? await Deno.readFile(opts.data)
      : new Uint8Array(df.writeIPC()),
  );
  const y = readTarget(df, opts.target, source);
  const { features, skipped } = selectFeatures(
    df,
    opts.target,
    opts.features,
    source,
  );
  progress(
    `${df.height} rows, ${
      count(y)
    } defaults; ${features.length} characteristic${
      features.length === 1 ? "" : "s"
    }: ${features.map((f) => f.name).join(", ")}${
      skipped.length > 0
        ? ` (left out: ${
          skipped.map((s) => `${s.column}, ${s.reason}`).join("; ")
        })`
        : ""
    }`,
  );
  const encoded = encodeFeatures(df, features, { data: source }).data;
  encoded.target = y;
  const { split, record: splitRecord, groups } = splitRows(
    df,
    y,
    holdOut,
    opts,
    heldOutShare,
    seed,
  );
  const train = subsetRows(encoded, split.train);
  const heldOut = subsetRows(encoded, split.heldOut);

  progress(
    `fitting the ${
      kind === "scorecard" ? "scorecard" : "gradient-boosted trees"
    } on ${train.rows} rows (${heldOut.rows} held out: ${
      describeSplit(splitRecord)
    })`,
  );
  const fitted = kind === "gbt"
    ? fitGbt(
      train,
      seed,
      opts.gbt ?? {},
      groups && Array.from(split.train, (r) => groups[r]),
    )
    : fitScorecardModel(train, opts.scorecard ?? {});
  progress(`fitted (${elapsed()}); validating`);

  const { pd: pdTrain, score: scoreTrain } = fitted.predict(train);
  const { pd: pdHeld, score: scoreHeld } = fitted.predict(heldOut);
  const metricsTrain = partMetrics(pdTrain, train.target!, masterScale, true);
  const metricsHeld = partMetrics(
    pdHeld,
    heldOut.target!,
    masterScale,
    false,
  );

  // The file written must score like the model fitted.
  const onnxModel = await pdModelFromBytes(
    {
      path: PD_MODEL_FILES.onnx,
      bytes: fitted.onnx,
      sha256: sha256Hex(fitted.onnx),
    },
    { features },
  );
  const onnxPd = (await scorePd(onnxModel, heldOut)).pd;
  const diff = maxAbsDifference(onnxPd, pdHeld);
  if (!(diff <= ONNX_TOLERANCE)) {
    throw new Error(
      `the ONNX export of the ${kind} gives PDs up to ${diff} away from the fitted model's on the held-out rows (tolerance ${ONNX_TOLERANCE})`,
    );
  }

  const iv: IvRow[] = fitted.binnings.map((b) => ({
    feature: b.name,
    iv: b.iv,
    bins: b.bins.length,
  }));
  const metrics: PdMetricsFile = {
    format: "ifrs9-pd-metrics",
    version: 1,
    kind,
    data: source,
    target: opts.target,
    seed,
    split: splitRecord,
    features: features.map((f) => f.name),
    train: metricsTrain,
    held_out: metricsHeld,
    information_value: iv,
    onnx_check: { rows: heldOut.rows, max_abs_difference: diff },
  };
  const trainedAt = new Date().toISOString();
  const file: PdModelFile = {
    format: "ifrs9-pd-model",
    version: 1,
    kind,
    features,
    training: {
      data: source,
      data_sha256: dataSha256,
      target: opts.target,
      rows: { train: train.rows, held_out: heldOut.rows },
      defaults: {
        train: metricsTrain.defaults,
        held_out: metricsHeld.defaults,
      },
      seed,
      trained_at: trainedAt,
    },
    model: fitted.model,
    // The baseline of monitoring: the whole development sample.
    reference: developmentReference(
      merge(split, scoreTrain, scoreHeld),
      encoded,
      features,
      masterScale,
    ),
  };
  const page = renderValidationPage(
    pageInput(kind, metrics, trainedAt, fitted, {
      pdTrain,
      pdHeld,
      scoreHeld,
      train,
      heldOut,
      skipped,
    }),
  );
  const trained: TrainedPdModel = {
    file,
    onnx: fitted.onnx,
    metrics,
    page,
    scorecardCsv: fitted.scorecard?.csv,
    skipped,
    heldOutPd: pdHeld,
    split,
  };
  if (opts.out !== undefined) {
    progress(`writing ${opts.out}`);
    trained.dir = await writePdModelFolder(trained, opts.out, { inputs });
  }
  progress(`done (${elapsed()})`);
  return trained;
}

/** The page's figures from the metrics and the scores. */
function pageInput(
  kind: PdModelKind,
  metrics: PdMetricsFile,
  trainedAt: string,
  fitted: Fitted,
  parts: {
    pdTrain: Float64Array;
    pdHeld: Float64Array;
    scoreHeld: Float64Array;
    train: EncodedData;
    heldOut: EncodedData;
    skipped: SkippedColumn[];
  },
): ValidationPageInput {
  const yTrain = parts.train.target!, yHeld = parts.heldOut.target!;
  const rocTrain = rocCurve(parts.pdTrain, yTrain);
  const rocHeld = rocCurve(parts.pdHeld, yHeld);
  const scoreHeld = parts.scoreHeld;
  // The KS curve is the ROC curve read against the threshold: the shares
  // of defaults (TPR) and non-defaults (FPR) at or beyond it. Points run
  // in the other direction from PDs: their ROC is taken on minus the score.
  const points = kind === "scorecard";
  const rocScore = rocCurve(
    points ? scoreHeld.map((s) => -s) : scoreHeld,
    yHeld,
  );
  const part = (m: PartMetrics) => ({
    rows: m.rows,
    defaults: m.defaults,
    auc: m.auc,
    gini: m.gini,
    ks: m.ks,
  });
  return {
    kind,
    data: metrics.data,
    target: metrics.target,
    seed: metrics.seed,
    trainedAt,
    train: part(metrics.train),
    heldOut: part(metrics.held_out),
    roc: {
      train: { x: rocTrain.fpr, y: rocTrain.tpr },
      heldOut: { x: rocHeld.fpr, y: rocHeld.tpr },
    },
    ksCurve: {
      score: rocScore.thresholds.slice(1).map((t) => points ? -t : t),
      bads: rocScore.tpr.slice(1),
      goods: rocScore.fpr.slice(1),
    },
    scoreLabel: points ? "score (points)" : "12-month PD",
    calibration: metrics.held_out.calibration.map((r) => ({
      grade: r.grade,
      n: r.count,
      defaults: r.defaults,
      predicted: r.meanPd,
      observed: r.defaultRate,
      lower: r.rateLower,
      upper: r.rateUpper,
    })),
    intervalLabel: "95% exact (Clopper-Pearson) interval",
    distribution: scoreBins(scoreHeld, yHeld, !points),
    iv: metrics.information_value,
    scorecard: fitted.scorecard?.rows,
    importances: fitted.importances,
    skipped: parts.skipped,
    notes: [
      `held out: ${describeSplit(metrics.split)}`,
      `model.onnx gives the held-out PDs of the fitted model within ${
        metrics.onnx_check.max_abs_difference.toExponential(1)
      } (ONNX Runtime)`,
      ...(metrics.held_out.hosmer_lemeshow
        ? [
          `Hosmer-Lemeshow on the held-out grades (G degrees of freedom: the PDs were not fitted on them): ${
            metrics.held_out.hosmer_lemeshow.statistic.toFixed(2)
          } with ${metrics.held_out.hosmer_lemeshow.df} degrees of freedom, p = ${
            metrics.held_out.hosmer_lemeshow.p_value.toFixed(3)
          }`,
        ]
        : []),
    ],
  };
}

/** Options of {@link writePdModelFolder}. */
export interface WritePdModelOptions {
  /** The files the model was trained from: the folder may not be or hold one. */
  inputs?: readonly string[];
}

/**
 * Writes a trained model's folder ({@link PD_MODEL_FILES}) whole or not at
 * all, replacing an earlier model folder there; returns its path.
 *
 * @throws {OutputLocationError} when `dir` is a file, holds other files or
 *   an input, or is inside a run folder (nothing is written).
 * @throws {UserError} of kind `output` when the disk is full or the folder
 *   cannot be written.
 */
export async function writePdModelFolder(
  trained: TrainedPdModel,
  dir: string,
  opts: WritePdModelOptions = {},
): Promise<string> {
  const { folder } = await writeOutputFolder(
    dir,
    Object.values(PD_MODEL_FILES),
    async (_, out) => {
      await Deno.writeFile(out.path(PD_MODEL_FILES.onnx), trained.onnx);
      await out.text(
        PD_MODEL_FILES.json,
        JSON.stringify(trained.file, null, 2) + "\n",
      );
      await out.text(
        PD_MODEL_FILES.metrics,
        JSON.stringify(trained.metrics, null, 2) + "\n",
      );
      await out.text(PD_MODEL_FILES.page, trained.page);
      if (trained.scorecardCsv !== undefined) {
        await out.text(PD_MODEL_FILES.scorecard, trained.scorecardCsv);
      }
    },
    { inputs: opts.inputs },
  );
  return folder.href;
}
