/**
 * `validation.html`, the development validation page of a trained PD model
 * (`trainPdModel`, `deno task train-pd`): what a model validator reads
 * first (SR 11-7 "outcomes analysis"; ECB guide to internal models,
 * credit risk, on discriminatory power and calibration).
 *
 * - a header with the data, the target, rows and defaults of each part and
 *   the headline statistics (AUC, Gini, KS) on the fitted and the held-out
 *   rows;
 * - the ROC curve of both parts (discriminatory power: AUC is the area
 *   under it, Gini = 2 AUC - 1);
 * - the KS curve: the cumulative shares of defaults and non-defaults by
 *   score, the KS statistic being their largest gap;
 * - calibration by grade of the master scale: mean predicted PD against the
 *   observed default rate with its interval;
 * - the score distribution of defaults and non-defaults;
 * - the information value of each characteristic;
 * - the scorecard (points by bin) or the trees' feature importances;
 * - the columns left out of the model and why.
 *
 * The page only draws and lays out: every figure comes in computed (by
 * `metrics.ts`, the binning and the model), so the page and `metrics.json`
 * cannot disagree. HTML through `lib/page.ts` (escaped), charts with
 * Observable Plot through `lib/plot/`.
 *
 * @module
 */
import { type Content, markup } from "../page.ts";
import {
  cards,
  chart,
  details,
  grid,
  note,
  page,
  section,
  table,
} from "../page.ts";
import {
  formatCount,
  formatPercent,
  formatTick,
  formatTickPercent,
} from "../format.ts";
import {
  bandAxisMargin,
  endLabelMargin,
  Plot,
  type PlotFigure,
  renderPlot,
} from "../plot/mod.ts";
import type { PdModelKind } from "./types.ts";

/** The headline statistics of one part of the data. */
export interface PartStatistics {
  /** Rows. */
  rows: number;
  /** Rows with target 1. */
  defaults: number;
  /** Area under the ROC curve. */
  auc: number;
  /** Gini coefficient (accuracy ratio), 2 AUC - 1. */
  gini: number;
  /** Kolmogorov-Smirnov statistic: the largest gap of the two cumulative distributions. */
  ks: number;
}

/** A curve as two aligned arrays. */
export interface Curve {
  /** x values. */
  x: number[];
  /** y values. */
  y: number[];
}

/** The cumulative distributions of the score for the KS chart. */
export interface KsCurve {
  /** Score thresholds, from the riskiest end. */
  score: number[];
  /** Share of defaults at or beyond each threshold. */
  bads: number[];
  /** Share of non-defaults at or beyond each threshold. */
  goods: number[];
}

/** One grade of the calibration table. */
export interface GradeCalibration {
  /** Grade name. */
  grade: string;
  /** Facilities in the grade. */
  n: number;
  /** Defaults observed. */
  defaults: number;
  /** Mean predicted PD. */
  predicted: number;
  /** Observed default rate (defaults / n). */
  observed: number;
  /** Lower end of the interval of the observed rate. */
  lower: number;
  /** Upper end of the interval of the observed rate. */
  upper: number;
}

/** One bin of the score distribution. */
export interface ScoreBin {
  /** Lower edge of the bin. */
  lo: number;
  /** Upper edge of the bin. */
  hi: number;
  /** Share of all non-defaults in the bin. */
  goods: number;
  /** Share of all defaults in the bin. */
  bads: number;
}

/** Information value of one characteristic. */
export interface IvRow {
  /** The characteristic. */
  feature: string;
  /** Its information value. */
  iv: number;
  /** Number of bins it was cut into. */
  bins: number;
}

/** One row of the scorecard table: the points of one bin. */
export interface ScorecardRow {
  /** The characteristic. */
  feature: string;
  /** The bin, as text (`[600, 650)`, `salaried`, `missing`). */
  bin: string;
  /** Development rows in the bin. */
  count: number;
  /** Default rate in the bin. */
  badRate: number;
  /** Weight of evidence of the bin. */
  woe: number;
  /** Points a facility in the bin gets. */
  points: number;
}

/** Importance of one feature of the trees. */
export interface ImportanceRow {
  /** The feature. */
  feature: string;
  /** Its importance (share of the total gain). */
  importance: number;
}

/** Everything the page shows. */
export interface ValidationPageInput {
  /** Scorecard or gradient-boosted trees. */
  kind: PdModelKind;
  /** The data file trained on, as given. */
  data: string;
  /** The target column. */
  target: string;
  /** The seed of the split. */
  seed: number;
  /** When it was trained (ISO 8601). */
  trainedAt: string;
  /** Statistics of the fitted and the held-out rows. */
  train: PartStatistics;
  /** Statistics of the held-out rows. */
  heldOut: PartStatistics;
  /** ROC curves (false-positive rate → true-positive rate). */
  roc: { train: Curve; heldOut: Curve };
  /** KS curve of the held-out rows. */
  ksCurve: KsCurve;
  /** What the score is: `score (points)` or `12-month PD`. */
  scoreLabel: string;
  /** Calibration of the held-out rows by grade. */
  calibration: GradeCalibration[];
  /** What the calibration intervals are (e.g. `95% Wilson interval`). */
  intervalLabel: string;
  /** Score distribution of the held-out rows. */
  distribution: ScoreBin[];
  /** Information value of each characteristic. */
  iv: IvRow[];
  /** The scorecard's points by bin (a scorecard). */
  scorecard?: ScorecardRow[];
  /** The trees' feature importances (gradient-boosted trees). */
  importances?: ImportanceRow[];
  /** Columns left out of the model, each with why. */
  skipped: { column: string; reason: string }[];
  /** Notes for the header (a check of the ONNX file, a warning). */
  notes?: string[];
}

const WIDTH = 560;
const HEIGHT = 300;
const PART_COLORS = { "fitted rows": "#9aa5b1", "held-out rows": "#2b5c8a" };
const CLASS_COLORS = { "non-defaults": "#2e7d5b", "defaults": "#b8322a" };

/** At most `max` points of a curve, evenly spaced along it, ends kept. */
function thin<T>(points: T[], max = 400): T[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from(
    { length: max },
    (_, i) => points[Math.round(i * step)],
  );
}

/** The ROC curves of both parts with the diagonal of a random model. */
export function rocChart(input: ValidationPageInput): PlotFigure {
  const rows = (curve: Curve, part: string) =>
    thin(curve.x.map((x, i) => ({ x, y: curve.y[i], part })));
  const data = [
    ...rows(input.roc.train, "fitted rows"),
    ...rows(input.roc.heldOut, "held-out rows"),
  ];
  return renderPlot({
    width: WIDTH,
    height: HEIGHT + 40,
    x: { label: "false-positive rate (non-defaults flagged)", domain: [0, 1] },
    y: {
      label: "true-positive rate (defaults flagged)",
      domain: [0, 1],
      grid: true,
    },
    color: {
      legend: true,
      domain: Object.keys(PART_COLORS),
      range: Object.values(PART_COLORS),
    },
    marks: [
      Plot.line([[0, 0], [1, 1]], {
        stroke: "#d1d5db",
        strokeDasharray: "4,3",
      }),
      Plot.line(data, { x: "x", y: "y", stroke: "part", strokeWidth: 2 }),
    ],
  });
}

/** The KS chart: cumulative shares of defaults and non-defaults by score. */
export function ksChart(input: ValidationPageInput): PlotFigure {
  const c = input.ksCurve;
  const points = thin(
    c.score.map((s, i) => ({ s, b: c.bads[i], g: c.goods[i] })),
  );
  const data = points.flatMap((p) => [
    { score: p.s, share: p.b, cls: "defaults" },
    { score: p.s, share: p.g, cls: "non-defaults" },
  ]);
  // The largest gap, drawn where it is.
  let at = 0;
  for (let i = 0; i < c.score.length; i++) {
    if (Math.abs(c.bads[i] - c.goods[i]) > Math.abs(c.bads[at] - c.goods[at])) {
      at = i;
    }
  }
  const gap = c.score.length > 0
    ? [{ score: c.score[at], lo: c.goods[at], hi: c.bads[at] }]
    : [];
  return renderPlot({
    width: WIDTH,
    height: HEIGHT + 40,
    marginLeft: 50,
    x: scoreAxis(input),
    y: {
      label: "cumulative share",
      domain: [0, 1],
      grid: true,
      tickFormat: "%",
    },
    color: {
      legend: true,
      domain: Object.keys(CLASS_COLORS),
      range: Object.values(CLASS_COLORS),
    },
    marks: [
      Plot.line(data, {
        x: "score",
        y: "share",
        stroke: "cls",
        strokeWidth: 2,
      }),
      Plot.ruleX(gap, {
        x: "score",
        y1: "lo",
        y2: "hi",
        stroke: "#1f2937",
        strokeWidth: 2,
      }),
      Plot.text(gap, {
        x: "score",
        y: (d: { lo: number; hi: number }) => (d.lo + d.hi) / 2,
        text: () => `KS ${formatPercent(input.heldOut.ks)}`,
        dx: 6,
        textAnchor: "start",
        fill: "#1f2937",
      }),
    ],
  });
}

/**
 * The score axis: a PD (the trees) on a log scale in percent, points (a
 * scorecard) on a linear one.
 */
function scoreAxis(input: ValidationPageInput): Plot.ScaleOptions {
  return input.kind === "gbt"
    ? { type: "log", label: input.scoreLabel, tickFormat: formatTickPercent }
    : { label: input.scoreLabel, tickFormat: formatTick };
}

/**
 * Calibration by grade: the mean predicted PD (hollow) and the observed
 * default rate (filled) with its interval, on a square-root scale so that
 * the low grades are not squashed and a grade without defaults still has a
 * place.
 */
export function calibrationChart(input: ValidationPageInput): PlotFigure {
  const rows = input.calibration.filter((r) => r.n > 0);
  const grades = rows.map((r) => r.grade);
  // The axis fits the rates, not the intervals of thin grades (a grade of
  // two facilities has an interval to 84%): those are cut at the top.
  const top = 1.25 *
    Math.max(1e-4, ...rows.flatMap((r) => [r.predicted, r.observed]));
  return renderPlot({
    width: WIDTH,
    height: HEIGHT,
    marginLeft: 56,
    x: { label: "grade", domain: grades, type: "point", padding: 0.5 },
    y: {
      type: "sqrt",
      domain: [0, Math.min(1, top)],
      label: "12-month default rate",
      grid: true,
      tickFormat: formatTickPercent,
    },
    color: {
      legend: true,
      domain: ["predicted (mean PD)", "observed"],
      range: ["#2b5c8a", "#b8322a"],
    },
    marks: [
      Plot.ruleX(rows, {
        x: "grade",
        y1: "lower",
        y2: (r: GradeCalibration) => Math.min(r.upper, top),
        stroke: "#b8322a",
        strokeOpacity: 0.6,
        strokeWidth: 2,
      }),
      Plot.dot(rows, {
        x: "grade",
        y: "predicted",
        stroke: () => "predicted (mean PD)",
        r: 5,
        strokeWidth: 2,
      }),
      Plot.dot(rows, {
        x: "grade",
        y: "observed",
        fill: () => "observed",
        r: 3.5,
      }),
    ],
  });
}

/** The score distribution of defaults and non-defaults (shares of each class). */
export function distributionChart(input: ValidationPageInput): PlotFigure {
  const data = input.distribution.flatMap((b) => [
    { lo: b.lo, hi: b.hi, share: b.goods, cls: "non-defaults" },
    { lo: b.lo, hi: b.hi, share: b.bads, cls: "defaults" },
  ]);
  return renderPlot({
    width: WIDTH,
    height: HEIGHT,
    marginLeft: 50,
    x: scoreAxis(input),
    y: { label: "share of the class", grid: true, tickFormat: "%" },
    color: {
      legend: true,
      domain: Object.keys(CLASS_COLORS),
      range: Object.values(CLASS_COLORS),
    },
    marks: [
      Plot.rectY(data, {
        x1: "lo",
        x2: "hi",
        y: "share",
        fill: "cls",
        fillOpacity: 0.45,
        insetLeft: 0.5,
      }),
      Plot.ruleY([0]),
    ],
  });
}

/** Information value by characteristic, as horizontal bars. */
export function ivChart(input: ValidationPageInput): PlotFigure {
  const rows = [...input.iv].sort((a, b) => b.iv - a.iv);
  const labels = rows.map((r) => r.iv.toFixed(3));
  return renderPlot({
    width: WIDTH,
    height: Math.max(120, 28 * rows.length + 50),
    marginLeft: bandAxisMargin(rows.map((r) => r.feature)),
    marginRight: endLabelMargin(labels),
    x: { label: "information value", grid: true },
    y: { label: null, domain: rows.map((r) => r.feature) },
    marks: [
      Plot.barX(rows, { x: "iv", y: "feature", fill: "#2b5c8a" }),
      Plot.text(rows, {
        x: "iv",
        y: "feature",
        text: (r: IvRow) => r.iv.toFixed(3),
        dx: 6,
        textAnchor: "start",
      }),
      Plot.ruleX([0]),
    ],
  });
}

/** The trees' importances, as horizontal bars. */
export function importanceChart(rows: ImportanceRow[]): PlotFigure {
  const sorted = [...rows].sort((a, b) => b.importance - a.importance);
  const labels = sorted.map((r) => formatPercent(r.importance));
  return renderPlot({
    width: WIDTH,
    height: Math.max(120, 28 * sorted.length + 50),
    marginLeft: bandAxisMargin(sorted.map((r) => r.feature)),
    marginRight: endLabelMargin(labels),
    x: { label: "share of the total gain", grid: true, tickFormat: "%" },
    y: { label: null, domain: sorted.map((r) => r.feature) },
    marks: [
      Plot.barX(sorted, { x: "importance", y: "feature", fill: "#2b5c8a" }),
      Plot.text(sorted, {
        x: "importance",
        y: "feature",
        text: (r: ImportanceRow) => formatPercent(r.importance),
        dx: 6,
        textAnchor: "start",
      }),
      Plot.ruleX([0]),
    ],
  });
}

/**
 * Siddiqi's reading of an information value (Credit Risk Scorecards,
 * 2006, ch. 6): below 0.02 not predictive, to 0.1 weak, to 0.3 medium, to
 * 0.5 strong, above that suspiciously strong (check for a leak).
 */
export function ivStrength(iv: number): string {
  if (iv < 0.02) return "not predictive";
  if (iv < 0.1) return "weak";
  if (iv < 0.3) return "medium";
  if (iv <= 0.5) return "strong";
  return "suspicious: check for a leak";
}

const KIND_NAME: Record<PdModelKind, string> = {
  scorecard: "logistic scorecard (champion)",
  gbt: "gradient-boosted trees (challenger)",
};

/** Rows of label and value, without a heading row. */
function facts(rows: [string, Content][]) {
  return markup`<div class="table-wrap"><table><tbody>${
    rows.map(([k, v]) =>
      markup`<tr><th scope="row">${k}</th><td class="wrap">${v}</td></tr>`
    )
  }</tbody></table></div>`;
}

const num = (digits: number) => (v: number) =>
  Number.isFinite(v) ? v.toFixed(digits) : "n/a";

/** The whole page, as an HTML document. */
export function renderValidationPage(input: ValidationPageInput): string {
  const { train, heldOut } = input;
  const headline = section("headline", "Headline", [
    cards([
      {
        label: "AUC (held out)",
        value: num(3)(heldOut.auc),
        note: `fitted rows ${num(3)(train.auc)}`,
      },
      {
        label: "Gini (held out)",
        value: formatPercent(heldOut.gini),
        note: `fitted rows ${formatPercent(train.gini)}`,
      },
      {
        label: "KS (held out)",
        value: formatPercent(heldOut.ks),
        note: `fitted rows ${formatPercent(train.ks)}`,
      },
      {
        label: "Rows",
        value: formatCount(train.rows + heldOut.rows),
        note: `${formatCount(train.rows)} fitted, ${
          formatCount(heldOut.rows)
        } held out`,
      },
      {
        label: "Defaults",
        value: formatCount(train.defaults + heldOut.defaults),
        note: `rate ${
          formatPercent(
            (train.defaults + heldOut.defaults) / (train.rows + heldOut.rows),
          )
        }`,
      },
    ]),
    facts([
      ["Model", KIND_NAME[input.kind]],
      ["Data", markup`<code>${input.data}</code>`],
      ["Target", markup`<code>${input.target}</code>`],
      [
        "Split",
        `stratified by the target, seed ${input.seed}: ${
          formatCount(heldOut.rows)
        } rows (${formatCount(heldOut.defaults)} defaults) held out`,
      ],
      ["Trained", input.trainedAt],
      ...(input.notes ?? []).map((n) => ["Note", n] as [string, Content]),
    ]),
  ]);
  const power = section("power", "Discriminatory power", [
    grid([
      chart(
        "chart-roc",
        "ROC curve",
        rocChart(input),
        "The share of defaults a cut-off catches against the share of non-defaults it flags; the area under the curve is the AUC (0.5 is chance). Fitted and held-out curves apart mean over-fitting.",
      ),
      chart(
        "chart-ks",
        "KS curve (held-out rows)",
        ksChart(input),
        "Cumulative shares of defaults and non-defaults from the riskiest score; the KS statistic is the widest gap between them.",
      ),
    ]),
    table<PartStatistics & { part: string }>(
      [
        { label: "part", value: (r) => r.part },
        { label: "rows", value: (r) => formatCount(r.rows), numeric: true },
        {
          label: "defaults",
          value: (r) => formatCount(r.defaults),
          numeric: true,
        },
        {
          label: "default rate",
          value: (r) => formatPercent(r.defaults / r.rows),
          numeric: true,
        },
        { label: "AUC", value: (r) => num(4)(r.auc), numeric: true },
        { label: "Gini", value: (r) => formatPercent(r.gini), numeric: true },
        { label: "KS", value: (r) => formatPercent(r.ks), numeric: true },
      ],
      [{ part: "fitted", ...train }, { part: "held out", ...heldOut }],
    ),
  ]);
  const calibration = section("calibration", "Calibration by grade", [
    grid([
      chart(
        "chart-calibration",
        "Predicted and observed default rate by grade (held-out rows)",
        calibrationChart(input),
        `Hollow: the mean predicted PD of the grade; filled: the observed default rate, with its ${input.intervalLabel} (cut at the top of the chart; the table has it whole).`,
      ),
      chart(
        "chart-distribution",
        `Distribution of the ${input.scoreLabel} (held-out rows)`,
        distributionChart(input),
        "Each class's share in each bin: the less the two overlap, the better the model separates them.",
      ),
    ]),
    table<GradeCalibration>(
      [
        { label: "grade", value: (r) => r.grade },
        { label: "facilities", value: (r) => formatCount(r.n), numeric: true },
        {
          label: "defaults",
          value: (r) => formatCount(r.defaults),
          numeric: true,
        },
        {
          label: "mean predicted PD",
          value: (r) => formatPercent(r.predicted),
          numeric: true,
        },
        {
          label: "observed rate",
          value: (r) => formatPercent(r.observed),
          numeric: true,
        },
        {
          label: `interval (${input.intervalLabel})`,
          value: (r) => `${formatPercent(r.lower)} – ${formatPercent(r.upper)}`,
          numeric: true,
        },
      ],
      input.calibration,
    ),
  ]);
  const ivRows = [...input.iv].sort((a, b) => b.iv - a.iv);
  const characteristics = section(
    "characteristics",
    "Characteristics: information value",
    grid([
      chart(
        "chart-iv",
        "Information value by characteristic",
        ivChart(input),
      ),
      table<IvRow>(
        [
          { label: "characteristic", value: (r) => r.feature },
          { label: "bins", value: (r) => formatCount(r.bins), numeric: true },
          { label: "IV", value: (r) => num(4)(r.iv), numeric: true },
          { label: "reading", value: (r) => ivStrength(r.iv) },
        ],
        ivRows,
        { caption: "IV = Σ (share of non-defaults − share of defaults) × WoE" },
      ),
    ]),
  );
  const model = input.scorecard
    ? section("scorecard", "Scorecard", [
      note(
        "Points of each bin of each characteristic; a facility's score is the sum of its bins' points (the base points are spread over the characteristics). Edges are shown to 4 significant digits; scorecard.csv has them exact.",
      ),
      table<ScorecardRow>(
        [
          { label: "characteristic", value: (r) => r.feature },
          { label: "bin", value: (r) => r.bin, wrap: true },
          {
            label: "rows",
            value: (r) => formatCount(r.count),
            numeric: true,
          },
          {
            label: "default rate",
            value: (r) => formatPercent(r.badRate),
            numeric: true,
          },
          { label: "WoE", value: (r) => num(3)(r.woe), numeric: true },
          { label: "points", value: (r) => num(1)(r.points), numeric: true },
        ],
        input.scorecard,
      ),
    ])
    : section("importance", "Feature importance", [
      grid([
        chart(
          "chart-importance",
          "Share of the total gain by feature",
          importanceChart(input.importances ?? []),
        ),
        note(
          "Importance is each feature's share of the loss reduction of every split of every tree. Per-facility contributions (TreeSHAP, gbtContributions in lib/mod.ts) explain single scores.",
        ),
      ]),
    ]);
  const left = section(
    "columns",
    "Columns left out",
    input.skipped.length === 0
      ? note("Every column but the target is a characteristic of the model.")
      : details(
        `${input.skipped.length} column${
          input.skipped.length === 1 ? "" : "s"
        } of the data not used (docs/pd_models.md, "The feature contract")`,
        table<{ column: string; reason: string }>(
          [
            { label: "column", value: (r) => r.column },
            { label: "why", value: (r) => r.reason, wrap: true },
          ],
          input.skipped,
        ),
      ),
  );
  return page(
    {
      title: `PD model validation — ${KIND_NAME[input.kind]}`,
      subtitle: `${input.data} · target ${input.target} · ${
        formatCount(train.rows + heldOut.rows)
      } rows · held-out AUC ${num(3)(heldOut.auc)}`,
      toc: [
        { id: "headline", label: "Headline" },
        { id: "power", label: "Discriminatory power" },
        { id: "calibration", label: "Calibration" },
        { id: "characteristics", label: "Information value" },
        input.scorecard
          ? { id: "scorecard", label: "Scorecard" }
          : { id: "importance", label: "Importance" },
        { id: "columns", label: "Columns left out" },
      ],
      footer:
        "Generated by trainPdModel from the development data; the same figures are in metrics.json and model.json.",
    },
    [headline, power, calibration, characteristics, model, left],
  );
}
