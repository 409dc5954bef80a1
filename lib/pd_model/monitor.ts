/**
 * Monitoring a PD model on a later population (`deno task monitor-pd`,
 * issue 13 item 6): population stability of the score and of each
 * characteristic against the development sample, and, when the data holds
 * the outcome, a backtest by grade of the master scale with traffic
 * lights. All statistics come from `metrics.ts`.
 *
 * The development reference ({@link developmentReference}, stored in
 * `model.json` as `reference`, types.ts {@link DevelopmentReference}) is
 * the baseline:
 * - the score: the scorecard's points (the ONNX `score` output) or, for
 *   trees, the PD, cut at its deciles on the development sample
 *   ({@link REFERENCE_BINS} bins, fewer when values repeat);
 * - each numeric characteristic: the values the model sees (after its
 *   transform, so `log1p` amounts are binned in log units; the page labels
 *   the bins in the column's own units), cut at its deciles;
 * - each categorical characteristic: its categories, then "other" (a value
 *   not in the contract), then missing;
 * - every distribution ends with a bin for missing values, so a rise in
 *   missing data shows as instability;
 * - the master scale ({@link DEFAULT_MASTER_SCALE} unless the trainer
 *   names another) that groups PDs into grades for the backtest.
 *
 * PSI readings (0.1 / 0.25), the empty-bin floor, the binomial test and
 * the traffic-light levels (95% / 99.9%) are those of `metrics.ts`, which
 * cites their sources (Siddiqi 2006; BCBS 1996; EBA GL/2017/16).
 *
 * @module
 */
import { join } from "node:path";
import type { DataFrame } from "../frame.ts";
import { UserError } from "../errors.ts";
import { checkOutputFolder, writeOutputFolder } from "../run_folder/mod.ts";
import { encodeFeatures } from "./contract.ts";
import { checkMasterScale, DEFAULT_MASTER_SCALE } from "./master_scale.ts";
import {
  auc,
  type CalibrationRow,
  calibrationTable,
  gini,
  hosmerLemeshow,
  type HosmerLemeshowResult,
  ksStatistic,
  numericShares,
  type PsiReading,
  psiReading,
  psiTerms,
  quantileEdges,
  trafficLight,
  type TrafficLightBoundary,
  type TrafficLightLevels,
  type TrafficLightZone,
} from "./metrics.ts";
import { renderMonitorPage } from "./monitor_page.ts";
import { loadPdModel, scorePd, sha256Hex } from "./onnx_score.ts";
import { readDataFile, readTarget } from "./train_data.ts";
import type {
  BinnedShares,
  DevelopmentReference,
  EncodedData,
  FeatureSpec,
  MasterScaleGrade,
  PdModelFile,
} from "./types.ts";

/** Bins of a numeric distribution in the reference (deciles). */
export const REFERENCE_BINS = 10;

// ---------------------------------------------------------------------------
// The development reference

/**
 * The shares of an encoded column in the bins of `ref` (or, without `ref`,
 * in new bins from the column itself): numeric columns by edges, category
 * codes by category name, then "other" (`unknown` rows: values not in the
 * contract, which the encoding turned into NaN) and missing.
 */
function encodedShares(
  column: Float64Array,
  spec: FeatureSpec,
  ref?: BinnedShares,
  unknown = 0,
): BinnedShares {
  if (spec.kind === "number") {
    const edges = ref?.edges ?? quantileEdges(column, REFERENCE_BINS);
    return { edges, shares: numericShares(column, edges) };
  }
  const specCats = spec.categories ?? [];
  const categories = ref?.categories ?? specCats;
  const index = new Map(categories.map((c, i) => [c, i]));
  // The code of each contract category, in the reference's order.
  const toBin = specCats.map((c) => index.get(c) ?? categories.length);
  const counts = new Array<number>(categories.length + 2).fill(0);
  let nan = 0;
  for (let r = 0; r < column.length; r++) {
    const code = column[r];
    if (Number.isNaN(code)) nan++;
    else counts[toBin[code] ?? categories.length]++;
  }
  counts[categories.length] += unknown;
  counts[categories.length + 1] += nan - unknown;
  const n = column.length;
  return {
    categories,
    shares: counts.map((c) => (n === 0 ? 0 : c / n)),
  };
}

/**
 * The `reference` section of `model.json`: the distribution of the score
 * and of each characteristic on the development sample, and the master
 * scale (see the module notes for the bins).
 *
 * @param score The score of each development row: a scorecard's points,
 *   or the PD for trees (what monitoring will compare).
 * @param data The encoded development rows.
 * @param features The feature contract. @default data.features
 * @param masterScale The grades of the backtest. @default DEFAULT_MASTER_SCALE
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { developmentReference } from "./monitor.ts";
 * const ref = developmentReference(new Float64Array([1, 2, 3, 4]), {
 *   features: [{ name: "job", kind: "category", categories: ["a", "b"] }],
 *   columns: [new Float64Array([0, 0, 1, NaN])],
 *   rows: 4,
 * });
 * // a, b, other, missing
 * assert.deepEqual(ref.features.job.shares, [0.5, 0.25, 0, 0.25]);
 * assert.equal(ref.master_scale.length, 11);
 * ```
 */
export function developmentReference(
  score: ArrayLike<number>,
  data: EncodedData,
  features: readonly FeatureSpec[] = data.features,
  masterScale: readonly MasterScaleGrade[] = DEFAULT_MASTER_SCALE,
): DevelopmentReference {
  checkMasterScale(masterScale, "developmentReference: masterScale");
  if (score.length !== data.rows) {
    throw new UserError(
      "input",
      `developmentReference: ${score.length} scores for ${data.rows} rows`,
    );
  }
  if (features.length !== data.columns.length) {
    throw new UserError(
      "input",
      `developmentReference: ${features.length} features for ${data.columns.length} columns`,
    );
  }
  const scoreColumn = Float64Array.from(score);
  const scoreEdges = quantileEdges(scoreColumn, REFERENCE_BINS);
  const out: Record<string, BinnedShares> = {};
  features.forEach((f, i) => {
    out[f.name] = encodedShares(data.columns[i], f);
  });
  return {
    score: {
      edges: scoreEdges,
      shares: numericShares(scoreColumn, scoreEdges),
    },
    features: out,
    master_scale: masterScale.map((g) => ({ ...g })),
  };
}

// ---------------------------------------------------------------------------
// Monitoring

/** One bin of a stability table. */
export interface StabilityBin {
  /** How the bin reads: `< 620`, `620 – 680`, `>= 720`, a category, `other`, `missing`. */
  label: string;
  /** Share of the development sample. */
  expected: number;
  /** Share of the population monitored. */
  actual: number;
  /** The bin's PSI term, (a − e)·ln(a / e) with the empty-bin floor. */
  term: number;
}

/** Population stability of the score or of one characteristic. */
export interface StabilityRow {
  /** `score`, or the characteristic's name. */
  name: string;
  /** What is binned: the model's score, a numeric or a categorical characteristic. */
  kind: "score" | "number" | "category";
  /** Population stability index against the development sample. */
  psi: number;
  /** Its reading: stable (< 0.1), moderate (< 0.25), significant. */
  reading: PsiReading;
  /** Bin by bin. */
  bins: StabilityBin[];
}

/** One grade of the backtest: calibration and its traffic light. */
export interface BacktestGrade extends CalibrationRow {
  /** Green, yellow or red (binomial quantiles at the levels). */
  zone: TrafficLightZone;
  /** The fewest defaults that are yellow. */
  yellowFrom: number;
  /** The fewest defaults that are red. */
  redFrom: number;
}

/** The backtest of the PDs against the outcomes in the data. */
export interface Backtest {
  /** The outcome column. */
  target: string;
  /** Rows with an outcome. */
  rows: number;
  /** Defaults among them. */
  defaults: number;
  /** Observed default rate. */
  defaultRate: number;
  /** Mean predicted PD (the central tendency). */
  meanPd: number;
  /** AUC of the PD (null when the data has one class only). */
  auc: number | null;
  /** Gini, 2·AUC − 1 (null likewise). */
  gini: number | null;
  /** Kolmogorov-Smirnov statistic (null likewise). */
  ks: number | null;
  /**
   * Hosmer-Lemeshow over the grades holding facilities whose mean PD is
   * strictly between 0 and 1, with G degrees of freedom (the PDs were not
   * fitted on the monitored rows), or null with fewer than 3 such grades.
   */
  hosmerLemeshow: HosmerLemeshowResult | null;
  /** The traffic-light levels used, and where the zones start. */
  levels: { yellow: number; red: number; boundary: TrafficLightBoundary };
  /** Grades with facilities, in master-scale order. */
  grades: BacktestGrade[];
  /** How many grades are in each zone. */
  zones: Record<TrafficLightZone, number>;
}

/** What {@link monitorPd} returns (written as monitor.json). */
export interface PdMonitoring {
  /** Always `ifrs9-pd-monitoring`. */
  format: "ifrs9-pd-monitoring";
  /** Version of this layout. */
  version: 1;
  /** When it was computed (ISO 8601). */
  generatedAt: string;
  /** The model monitored. */
  model: {
    /** The model folder or file, as given. */
    path: string;
    /** Scorecard or trees. */
    kind: string;
    /** SHA-256 of model.onnx, when scored through it. */
    onnxSha256?: string;
    /** When it was trained. */
    trainedAt: string;
    /** The development data, as recorded. */
    trainingData: string;
    /** Development rows the reference was built on. */
    trainingRows: number;
  };
  /** The population monitored. */
  data: {
    /** The file, as given. */
    path: string;
    /** SHA-256 of the file, when read from one. */
    sha256?: string;
    /** Rows scored. */
    rows: number;
  };
  /** What the score is: points (scorecard) or the PD (trees). */
  scoreKind: "points" | "pd";
  /** Stability of the score. */
  score: StabilityRow;
  /** Stability of each characteristic, in contract order. */
  features: StabilityRow[];
  /** The backtest, when the data holds the outcome column. */
  backtest?: Backtest;
  /** Things a reader should know (no outcome column, unknown categories, …). */
  notes: string[];
}

/** What {@link monitorPd} compares. */
export interface MonitorInput {
  /** The model envelope: contract, reference, kind, training record. */
  model: PdModelFile;
  /** The population, encoded per the model's contract. */
  data: EncodedData;
  /** Per category feature, rows whose value is not in the contract. */
  unknown?: Record<string, number>;
  /** The model's PD of each row. */
  pd: ArrayLike<number>;
  /** A scorecard's points of each row (needed for a scorecard). */
  score?: ArrayLike<number>;
  /** Outcomes (0/1) when the data has them: the backtest runs. */
  labels?: Uint8Array;
  /** How the model is named in the result. @default "model" */
  modelPath?: string;
  /** How the data is named in the result. @default "data" */
  dataPath?: string;
  /** SHA-256 of the ONNX file scored with. */
  onnxSha256?: string;
  /** SHA-256 of the data file. */
  dataSha256?: string;
}

/** Options of {@link monitorPd}. */
export interface MonitorOptions extends TrafficLightLevels {
  /** Confidence of the default rate's exact interval. @default 0.95 */
  confidence?: number;
}

/** A number as a bin label reads it: four significant digits. */
function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

/** Labels of the bins of a distribution. */
function binLabels(b: BinnedShares, show: (x: number) => string): string[] {
  if (b.categories !== undefined) return [...b.categories, "other", "missing"];
  const e = (b.edges ?? []).map(show);
  if (e.length === 0) return ["all", "missing"];
  return [
    `< ${e[0]}`,
    ...e.slice(1).map((v, i) => `${e[i]} – ${v}`),
    `>= ${e.at(-1)}`,
    "missing",
  ];
}

function stability(
  name: string,
  kind: StabilityRow["kind"],
  ref: BinnedShares,
  actual: number[],
  show: (x: number) => string = num,
): StabilityRow {
  const terms = psiTerms(ref.shares, actual);
  const value = terms.reduce((a, b) => a + b, 0);
  const labels = binLabels(ref, show);
  return {
    name,
    kind,
    psi: value,
    reading: psiReading(value),
    bins: labels.map((label, i) => ({
      label,
      expected: ref.shares[i],
      actual: actual[i],
      term: terms[i],
    })),
  };
}

/**
 * Monitors a population scored by a model: PSI of the score and of each
 * characteristic against `model.reference`, and, with `labels`, the
 * backtest by grade (calibration table, traffic lights, Hosmer-Lemeshow,
 * AUC, Gini, KS). The result is plain JSON.
 *
 * Scoring is the caller's: {@link monitorPdFiles} scores through ONNX
 * Runtime; a notebook may pass the PDs of a model in memory.
 *
 * @throws {UserError} `input` when the reference lacks a characteristic of
 *   the contract, the lengths disagree, or a scorecard comes without its
 *   points.
 */
export function monitorPd(
  input: MonitorInput,
  options: MonitorOptions = {},
): PdMonitoring {
  const { model, data } = input;
  const ref = model.reference;
  const where = input.modelPath ?? "model";
  if (ref === undefined || ref.score === undefined) {
    throw new UserError(
      "input",
      `${where}: model.json has no reference section (the development distributions monitoring compares with); retrain the model with this version`,
    );
  }
  const scoreKind = model.kind === "scorecard" ? "points" : "pd";
  const scoreValues = scoreKind === "points" ? input.score : input.pd;
  if (scoreValues === undefined) {
    throw new UserError(
      "input",
      `${where}: a scorecard's points are needed to monitor its score (the ONNX output score)`,
    );
  }
  if (input.pd.length !== data.rows || scoreValues.length !== data.rows) {
    throw new UserError(
      "input",
      `monitorPd: ${input.pd.length} PDs and ${scoreValues.length} scores for ${data.rows} rows`,
    );
  }
  if (data.rows === 0) {
    throw new UserError(
      "input",
      `${input.dataPath ?? "the data"}: no rows to monitor`,
    );
  }
  const notes: string[] = [];
  const scoreRow = stability(
    "score",
    "score",
    ref.score,
    numericShares(scoreValues, ref.score.edges ?? []),
    // A PD reads as a percentage: 0.17%, not 0.001651.
    scoreKind === "pd" ? (x) => `${Number((x * 100).toPrecision(3))}%` : num,
  );
  const features = data.features.map((f, i) => {
    const fref = ref.features[f.name];
    if (fref === undefined) {
      throw new UserError(
        "input",
        `${where}: model.json's reference has no distribution for feature ${f.name}`,
      );
    }
    const unknown = input.unknown?.[f.name] ?? 0;
    if (unknown > 0) {
      notes.push(
        `${f.name}: ${unknown} row${
          unknown === 1 ? "" : "s"
        } with a category the model does not know, counted as "other"`,
      );
    }
    const actual = encodedShares(data.columns[i], f, fref, unknown).shares;
    // log1p edges read in the column's own units.
    const show = f.transform === "log1p"
      ? (x: number) => num(Math.expm1(x))
      : num;
    return stability(f.name, f.kind, fref, actual, show);
  });
  let backtest: Backtest | undefined;
  if (input.labels !== undefined) {
    backtest = runBacktest(
      input.pd,
      input.labels,
      ref.master_scale,
      model.training?.target ?? "target",
      options,
    );
  } else {
    notes.push(
      `the data has no outcome column ${
        model.training?.target ?? ""
      }: no backtest`.replace("  ", " "),
    );
  }
  return {
    format: "ifrs9-pd-monitoring",
    version: 1,
    generatedAt: new Date().toISOString(),
    model: {
      path: where,
      kind: model.kind,
      onnxSha256: input.onnxSha256,
      trainedAt: model.training?.trained_at ?? "",
      trainingData: model.training?.data ?? "",
      trainingRows: model.training?.rows?.train ?? 0,
    },
    data: {
      path: input.dataPath ?? "data",
      sha256: input.dataSha256,
      rows: data.rows,
    },
    scoreKind,
    score: scoreRow,
    features,
    backtest,
    notes,
  };
}

function runBacktest(
  pd: ArrayLike<number>,
  labels: Uint8Array,
  masterScale: readonly MasterScaleGrade[],
  target: string,
  options: MonitorOptions,
): Backtest {
  const yellow = options.yellow ?? 0.95, red = options.red ?? 0.999;
  const boundary = options.boundary ?? "above-quantile";
  const rows = calibrationTable({
    pd,
    labels,
    masterScale,
    confidence: options.confidence,
  });
  const lights = trafficLight({
    n: rows.map((r) => r.count),
    pd: rows.map((r) => r.meanPd),
    defaults: rows.map((r) => r.defaults),
    grades: rows.map((r) => r.grade),
  }, { yellow, red, boundary });
  const grades: BacktestGrade[] = rows.map((r, i) => ({
    ...r,
    zone: lights[i].zone,
    yellowFrom: lights[i].yellowFrom,
    redFrom: lights[i].redFrom,
  }));
  let defaults = 0, sumPd = 0;
  for (let i = 0; i < labels.length; i++) {
    defaults += labels[i];
    sumPd += pd[i];
  }
  const both = defaults > 0 && defaults < labels.length;
  // Hosmer-Lemeshow over the grades whose mean PD is strictly between 0
  // and 1 (a grade at PD 0 or 1 has no binomial variance), out of sample:
  // G degrees of freedom, the PDs were not fitted on these rows.
  const hlRows = rows.filter((r) =>
    r.count > 0 && r.meanPd > 0 && r.meanPd < 1
  );
  const hlUsable = hlRows.length >= 3;
  const zones = { green: 0, yellow: 0, red: 0 };
  for (const g of grades) zones[g.zone]++;
  return {
    target,
    rows: labels.length,
    defaults,
    defaultRate: defaults / labels.length,
    meanPd: sumPd / labels.length,
    auc: both ? auc(pd, labels) : null,
    gini: both ? gini(pd, labels) : null,
    ks: both ? ksStatistic(pd, labels) : null,
    hosmerLemeshow: hlUsable
      ? hosmerLemeshow({
        n: hlRows.map((r) => r.count),
        pd: hlRows.map((r) => r.meanPd),
        defaults: hlRows.map((r) => r.defaults),
      }, { inSample: false })
      : null,
    levels: { yellow, red, boundary },
    grades,
    zones,
  };
}

// ---------------------------------------------------------------------------
// From files: a model folder and a data file

/** The files of a model folder monitoring reads. */
export const MONITOR_MODEL_FILES = {
  /** The model in ONNX. */
  onnx: "model.onnx",
  /** The envelope with the feature contract and the reference. */
  json: "model.json",
} as const;

/** The files `deno task monitor-pd` writes. */
export const MONITOR_FILES = {
  /** The result, {@link PdMonitoring}. */
  json: "monitor.json",
  /** The page. */
  html: "monitor.html",
} as const;

/**
 * Reads `model.json` of a model folder, checking the parts monitoring
 * uses: the format, the feature contract, and the reference (score,
 * every feature, master scale).
 *
 * @throws {UserError} `input` naming the file and the key at fault.
 */
export async function readPdModelJson(dir: string): Promise<PdModelFile> {
  const path = join(dir, MONITOR_MODEL_FILES.json);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UserError(
      "input",
      `${path} cannot be read: ${
        e instanceof Deno.errors.NotFound
          ? `no such file (--model names a folder written by deno task train-pd)`
          : (e as Error).message
      }`,
      { cause: e },
    );
  }
  let file: PdModelFile;
  try {
    file = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      "input",
      `${path} is not JSON: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const bad = (key: string, what: string): never => {
    throw new UserError("input", `${path}: ${key}: ${what}`);
  };
  if (file?.format !== "ifrs9-pd-model") {
    bad(
      "format",
      `must be ifrs9-pd-model, got ${JSON.stringify(file?.format)}`,
    );
  }
  if (!Array.isArray(file.features) || file.features.length === 0) {
    bad("features", "must list the feature contract");
  }
  const ref = file.reference;
  if (typeof ref !== "object" || ref === null) {
    bad("reference", "missing (the development distributions)");
  }
  const checkBinned = (key: string, b: BinnedShares | undefined) => {
    if (typeof b !== "object" || b === null || !Array.isArray(b.shares)) {
      bad(key, "missing or without shares");
    }
    const bins = b!.categories !== undefined
      ? b!.categories.length + 2
      : (b!.edges ?? []).length + 2;
    if (b!.shares.length !== bins) {
      bad(key, `has ${b!.shares.length} shares for ${bins} bins`);
    }
  };
  checkBinned("reference.score", ref.score);
  for (const f of file.features) {
    checkBinned(`reference.features.${f.name}`, ref.features?.[f.name]);
  }
  checkMasterScale(ref.master_scale, `${path}: reference.master_scale`);
  return file;
}

/** What {@link monitorPdFiles} reads. */
export interface MonitorFilesInput {
  /** The model folder (model.json, model.onnx). */
  model: string;
  /** The population: CSV, Parquet or Arrow IPC, or a frame. */
  data: string | DataFrame;
  /** How a frame given as `data` is named. @default "data frame" */
  dataName?: string;
}

/**
 * Monitors a model folder on a data file: reads `model.json` and
 * `model.onnx` (its signature checked against the contract before any
 * row is scored), encodes the data per the contract (a missing feature
 * column is refused, naming it), scores it through ONNX Runtime, reads
 * the outcome column when present (`training.target`; it must then be
 * binary with both classes), and runs {@link monitorPd}.
 */
export async function monitorPdFiles(
  input: MonitorFilesInput,
  options: MonitorOptions = {},
): Promise<PdMonitoring> {
  const file = await readPdModelJson(input.model);
  const model = await loadPdModel(join(input.model, MONITOR_MODEL_FILES.onnx), {
    features: file.features,
  });
  const dataName = typeof input.data === "string"
    ? input.data
    : input.dataName ?? "data frame";
  const df = typeof input.data === "string"
    ? (await readDataFile(input.data, "the monitoring data")).frame
    : input.data;
  const encoded = encodeFeatures(df, model.features, {
    data: dataName,
    model: input.model,
  });
  const scores = await scorePd(model, encoded.data, { extras: true });
  const target = file.training?.target;
  const labels = target !== undefined && df.columns.includes(target)
    ? readTarget(df, target, dataName, "monitoring")
    : undefined;
  return monitorPd({
    model: file,
    data: encoded.data,
    unknown: encoded.unknown,
    pd: scores.pd,
    score: scores.score,
    labels,
    modelPath: input.model,
    dataPath: dataName,
    onnxSha256: model.sha256,
    dataSha256: typeof input.data === "string"
      ? sha256Hex(await Deno.readFile(input.data))
      : undefined,
  }, options);
}

/**
 * Checks, before any work, that `out` can take the monitoring outputs: a
 * new folder or one holding only {@link MONITOR_FILES}, not an input nor
 * a folder holding one.
 *
 * @throws {UserError} naming `out` and what to give instead.
 */
export async function checkMonitorOutput(
  out: string,
  inputs: readonly string[] = [],
): Promise<void> {
  await checkOutputFolder(out, Object.values(MONITOR_FILES), { inputs });
}

/**
 * Writes `monitor.json` and `monitor.html` as the folder `out`, whole or
 * not at all (staged beside it and renamed last).
 *
 * @returns The paths of the two files.
 * @throws {UserError} `output` when the folder cannot be written; the
 *   refusals of {@link checkMonitorOutput}.
 */
export async function writeMonitorOutputs(
  result: PdMonitoring,
  out: string,
  inputs: readonly string[] = [],
): Promise<{ json: string; html: string }> {
  const html = renderMonitorPage(result);
  const { folder } = await writeOutputFolder(
    out,
    Object.values(MONITOR_FILES),
    async (_, staging) => {
      await staging.text(
        MONITOR_FILES.json,
        JSON.stringify(result, null, 2) + "\n",
      );
      await staging.text(MONITOR_FILES.html, html);
    },
    { inputs },
  );
  return {
    json: join(folder.href, MONITOR_FILES.json),
    html: join(folder.href, MONITOR_FILES.html),
  };
}
