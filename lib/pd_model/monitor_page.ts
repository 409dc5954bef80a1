/**
 * `monitor.html`, the monitoring page of a PD model on a later population
 * (`deno task monitor-pd`): what a model owner reads each quarter (ECB
 * guide to internal models, credit risk, on the validation and ongoing
 * monitoring of PD models; EBA GL/2017/16 on back-testing the calibration).
 *
 * - headline figures: rows monitored, the score's PSI, the worst
 *   characteristic, and with outcomes the default rate against the mean
 *   PD, AUC and the traffic lights;
 * - the stability table: PSI of the score and of each characteristic,
 *   coloured by the usual reading (green below 0.1, amber to 0.25, red
 *   from 0.25);
 * - charts of the development and monitored shares, bin by bin, for the
 *   score and the worst characteristics;
 * - the backtest by grade with its traffic lights (binomial quantiles at
 *   95% and 99.9%, BCBS 1996) and a chart of observed against predicted
 *   default rates by grade;
 * - every characteristic's bins, folded.
 *
 * The page only lays out the figures of {@link PdMonitoring} (computed by
 * `monitor.ts` from `metrics.ts`), so it cannot disagree with
 * `monitor.json`. HTML through `lib/page.ts` (escaped), charts with
 * Observable Plot through `lib/plot/`.
 *
 * @module
 */
import {
  cards,
  chart,
  type Content,
  details,
  grid,
  type Markup,
  markup,
  note,
  page,
  section,
  table,
} from "../page.ts";
import { formatCount, formatPercent, formatTickPercent } from "../format.ts";
import { labelWidth, Plot, type PlotFigure, renderPlot } from "../plot/mod.ts";
import type { PsiReading, TrafficLightZone } from "./metrics.ts";
import type {
  Backtest,
  BacktestGrade,
  PdMonitoring,
  StabilityBin,
  StabilityRow,
} from "./monitor.ts";

const WIDTH = 560;
const HEIGHT = 280;

/** Colours of the readings and zones (the page's --ok, --warn, --bad). */
const COLORS = { green: "#2e7d5b", amber: "#d99a1e", red: "#b8322a" };

const READING_COLOR: Record<PsiReading, string> = {
  stable: COLORS.green,
  moderate: COLORS.amber,
  significant: COLORS.red,
};

const ZONE_COLOR: Record<TrafficLightZone, string> = {
  green: COLORS.green,
  yellow: COLORS.amber,
  red: COLORS.red,
};

/** How many characteristics get a chart of their own (the worst by PSI). */
export const WORST_CHARTED = 3;

/** A coloured label (inline colour: the shared stylesheet has no amber badge). */
function light(color: string, text: string): Markup {
  return markup`<span class="badge" style="background:${color}">${text}</span>`;
}

const READING_TEXT: Record<PsiReading, string> = {
  stable: "stable (< 0.1)",
  moderate: "moderate shift (0.1 – 0.25)",
  significant: "significant shift (>= 0.25)",
};

const fixed = (digits: number) => (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v)
    ? "–"
    : v.toFixed(digits);

/** A PD or rate with enough digits for the low grades. */
function rate(v: number): string {
  if (!Number.isFinite(v)) return "–";
  if (v !== 0 && Math.abs(v) < 0.001) return `${(v * 100).toFixed(3)}%`;
  return formatPercent(v);
}

/** A p-value: four decimals, or `< 0.0001`. */
function pValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return v < 1e-4 ? "< 0.0001" : v.toFixed(4);
}

/** Expected against monitored shares of one distribution, bin by bin. */
export function sharesChart(row: StabilityRow): PlotFigure {
  const domain = row.bins.map((b) => b.label);
  const data = row.bins.flatMap((b) => [
    { label: b.label, share: b.expected, population: "development" },
    { label: b.label, share: b.actual, population: "monitored" },
  ]);
  const widest = Math.max(...domain.map((l) => labelWidth(l)));
  // Labels turn when they do not fit under their bar.
  const band = (WIDTH - 60) / Math.max(1, domain.length);
  const rotate = widest > band - 4;
  return renderPlot({
    width: WIDTH,
    height: HEIGHT + (rotate ? Math.min(110, widest * 0.6) : 0),
    marginLeft: 50,
    marginBottom: rotate ? Math.min(120, 20 + widest * 0.64) : 36,
    x: {
      domain,
      label: null,
      tickRotate: rotate ? -40 : 0,
      padding: 0.15,
    },
    y: { label: "share", grid: true, tickFormat: "%" },
    color: {
      legend: true,
      domain: ["development", "monitored"],
      range: ["#9ca3af", "#2b5c8a"],
    },
    marks: [
      Plot.barY(data.filter((d) => d.population === "development"), {
        x: "label",
        y: "share",
        fill: "population",
      }),
      Plot.barY(data.filter((d) => d.population === "monitored"), {
        x: "label",
        y: "share",
        fill: "population",
        insetLeft: band / 4,
        insetRight: band / 4,
      }),
      Plot.ruleY([0]),
    ],
  });
}

/**
 * Observed default rate (filled, coloured by zone) against the mean PD
 * (hollow) by grade, the observed rate's exact interval as a bar, on a
 * square-root scale so that the low grades are not squashed.
 */
export function backtestChart(grades: readonly BacktestGrade[]): PlotFigure {
  const top = Math.min(
    1,
    1.25 * Math.max(1e-4, ...grades.flatMap((g) => [g.meanPd, g.defaultRate])),
  );
  return renderPlot({
    width: WIDTH,
    height: HEIGHT + 20,
    marginLeft: 56,
    x: {
      label: "grade",
      domain: grades.map((g) => g.grade),
      type: "point",
      padding: 0.5,
    },
    y: {
      type: "sqrt",
      domain: [0, top],
      label: "12-month default rate",
      grid: true,
      tickFormat: formatTickPercent,
    },
    color: {
      legend: true,
      domain: ["predicted (mean PD)", "observed: green", "yellow", "red"],
      range: ["#2b5c8a", COLORS.green, COLORS.amber, COLORS.red],
    },
    marks: [
      Plot.ruleX(grades, {
        x: "grade",
        y1: "rateLower",
        y2: (g: BacktestGrade) => Math.min(g.rateUpper, top),
        stroke: "#9ca3af",
        strokeWidth: 2,
      }),
      Plot.dot(grades, {
        x: "grade",
        y: "meanPd",
        stroke: () => "predicted (mean PD)",
        r: 6,
        strokeWidth: 2,
      }),
      Plot.dot(grades, {
        x: "grade",
        y: "defaultRate",
        fill: (g: BacktestGrade) =>
          g.zone === "green" ? "observed: green" : g.zone,
        r: 4,
      }),
    ],
  });
}

function stabilityTable(rows: StabilityRow[]): Markup {
  return table<StabilityRow>([
    { label: "distribution", value: (r) => r.name },
    {
      label: "kind",
      value: (r) => r.kind === "score" ? "model score" : r.kind,
    },
    { label: "PSI", value: (r) => fixed(4)(r.psi), numeric: true },
    {
      label: "reading",
      value: (r) => light(READING_COLOR[r.reading], READING_TEXT[r.reading]),
    },
    {
      label: "largest bin term",
      value: (r) => {
        const worst = [...r.bins].sort((a, b) => b.term - a.term)[0];
        return worst ? `${worst.label} (${fixed(4)(worst.term)})` : "–";
      },
    },
  ], rows);
}

function binTable(row: StabilityRow): Markup {
  return table<StabilityBin>(
    [
      { label: "bin", value: (b) => b.label },
      {
        label: "development",
        value: (b) => formatPercent(b.expected),
        numeric: true,
      },
      {
        label: "monitored",
        value: (b) => formatPercent(b.actual),
        numeric: true,
      },
      { label: "PSI term", value: (b) => fixed(4)(b.term), numeric: true },
    ],
    row.bins,
    { caption: `${row.name}: PSI ${fixed(4)(row.psi)}` },
  );
}

function backtestTable(grades: readonly BacktestGrade[]): Markup {
  return table<BacktestGrade>([
    { label: "grade", value: (g) => g.grade },
    { label: "PD up to", value: (g) => rate(g.upperPd), numeric: true },
    { label: "facilities", value: (g) => formatCount(g.count), numeric: true },
    { label: "mean PD", value: (g) => rate(g.meanPd), numeric: true },
    {
      label: "expected defaults",
      value: (g) => fixed(1)(g.expectedDefaults),
      numeric: true,
    },
    {
      label: "observed defaults",
      value: (g) => formatCount(g.defaults),
      numeric: true,
    },
    {
      label: "observed rate",
      value: (g) => rate(g.defaultRate),
      numeric: true,
    },
    {
      label: "95% interval",
      value: (g) => `${rate(g.rateLower)} – ${rate(g.rateUpper)}`,
      numeric: true,
    },
    {
      label: "p-value P(X ≥ d)",
      value: (g) => pValue(g.pValue),
      numeric: true,
    },
    {
      label: "yellow from",
      value: (g) => formatCount(g.yellowFrom),
      numeric: true,
    },
    { label: "red from", value: (g) => formatCount(g.redFrom), numeric: true },
    { label: "zone", value: (g) => light(ZONE_COLOR[g.zone], g.zone) },
  ], grades);
}

/** How the zones were read, in a sentence. */
function zoneRule(bt: Backtest): string {
  const { yellow, red, boundary } = bt.levels;
  const pct = (x: number) => `${Number((x * 100).toPrecision(4))}%`;
  const rule = boundary === "above-quantile"
    ? `green up to the ${
      pct(yellow)
    } quantile, yellow above it (a p-value of at most ${
      pct(1 - yellow)
    }), red above the ${pct(red)} quantile (at most ${pct(1 - red)})`
    : `green below the ${pct(yellow)} quantile, yellow from it, red from the ${
      pct(red)
    } quantile`;
  return `Each grade's defaults against Binomial(facilities, mean PD), defaults taken as independent: ${rule}, the traffic lights of the BCBS backtesting framework (1996).`;
}

/** The whole page, as an HTML document. */
export function renderMonitorPage(m: PdMonitoring): string {
  const byPsi = [...m.features].sort((a, b) => b.psi - a.psi);
  const worst = byPsi[0];
  const shifted = m.features.filter((f) => f.reading !== "stable").length;
  const bt = m.backtest;
  const headline = section("headline", "Headline", [
    cards([
      {
        label: "Rows monitored",
        value: formatCount(m.data.rows),
        note: `development: ${formatCount(m.model.trainingRows)} rows`,
      },
      {
        label: "Score PSI",
        value: fixed(4)(m.score.psi),
        note: READING_TEXT[m.score.reading],
      },
      {
        label: "Worst characteristic",
        value: worst ? fixed(4)(worst.psi) : "–",
        note: worst
          ? `${worst.name}; ${shifted} of ${m.features.length} shifted`
          : undefined,
      },
      ...(bt
        ? [
          {
            label: "Default rate",
            value: rate(bt.defaultRate),
            note: `mean PD ${rate(bt.meanPd)}; ${
              formatCount(bt.defaults)
            } defaults`,
          },
          {
            label: "AUC",
            value: fixed(3)(bt.auc),
            note: `Gini ${fixed(3)(bt.gini)}, KS ${fixed(3)(bt.ks)}`,
          },
          {
            label: "Traffic lights",
            value: `${bt.zones.green} / ${bt.zones.yellow} / ${bt.zones.red}`,
            note: "grades green / yellow / red",
          },
        ]
        : []),
    ]),
    m.notes.length > 0
      ? markup`<ul class="warnings">${
        m.notes.map((n) => markup`<li>${n}</li>`)
      }</ul>`
      : "",
  ]);
  const charted = [m.score, ...byPsi.slice(0, WORST_CHARTED)];
  const stability = section("stability", "Population stability", [
    stabilityTable([m.score, ...m.features]),
    note(
      "PSI = Σ (monitored − development) · ln(monitored / development) over the bins of the development sample (deciles for numbers; categories, other and missing for categories); an empty bin counts as 0.01%. Read: below 0.1 stable, 0.1 to 0.25 a moderate shift to watch, from 0.25 a significant shift to investigate (Siddiqi 2006).",
    ),
    grid(
      charted.map((r) =>
        chart(
          `shares-${r.name}`,
          r.kind === "score"
            ? `Score (${m.scoreKind === "points" ? "points" : "PD"}): PSI ${
              fixed(4)(r.psi)
            }`
            : `${r.name}: PSI ${fixed(4)(r.psi)}`,
          sharesChart(r),
          r.kind === "score"
            ? "Grey: share of the development sample in each bin; blue: share of the monitored population."
            : undefined,
        )
      ),
    ),
  ]);
  const backtest: Content = bt
    ? section("backtest", "Backtest by grade", [
      backtestTable(bt.grades),
      note(
        `${
          zoneRule(bt)
        } The p-value is the chance of at least as many defaults if the PD were right. ${
          bt.hosmerLemeshow
            ? `Hosmer-Lemeshow over the grades: ${
              fixed(2)(bt.hosmerLemeshow.statistic)
            } on ${bt.hosmerLemeshow.df} degrees of freedom, p-value ${
              pValue(bt.hosmerLemeshow.pValue)
            }.`
            : "Hosmer-Lemeshow needs at least 3 grades with facilities."
        }`,
      ),
      grid([
        chart(
          "backtest-chart",
          "Observed against predicted default rate by grade",
          backtestChart(bt.grades),
          "Hollow: mean PD of the grade; filled: observed default rate, coloured by its zone; bar: its 95% exact interval (square-root scale).",
        ),
      ]),
    ])
    : "";
  const bins = section(
    "bins",
    "Bins of every characteristic",
    details(
      `Development and monitored shares of the score and of all ${m.features.length} characteristics`,
      [m.score, ...m.features].map(binTable),
    ),
  );
  const toc = [
    { id: "headline", label: "Headline" },
    { id: "stability", label: "Population stability" },
    ...(bt ? [{ id: "backtest", label: "Backtest by grade" }] : []),
    { id: "bins", label: "Bins" },
  ];
  return page(
    {
      title: `PD model monitoring: ${m.data.path}`,
      subtitle: `${
        m.model.kind === "scorecard"
          ? "logistic scorecard"
          : "gradient-boosted trees"
      } ${m.model.path}, trained ${
        m.model.trainedAt.slice(0, 10)
      } on ${m.model.trainingData}; monitored ${m.generatedAt.slice(0, 10)}`,
      toc,
      footer:
        "Figures from monitor.json (lib/pd_model/monitor.ts and metrics.ts).",
    },
    [headline, stability, backtest, bins],
  );
}
