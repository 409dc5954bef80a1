/**
 * The trend dashboard: one self-contained HTML page over several run
 * folders (one per reporting date) showing how the loss allowance, the
 * coverage and the stage mix evolve. It reads only each run's
 * `summary.json`, so it builds in milliseconds whatever the book size.
 *
 * @module
 */
import { Plot, type PlotFigure, renderPlot } from "../plot/mod.ts";
import { formatAmount, STAGE_COLORS } from "./charts.ts";
import {
  cards,
  chartPanel,
  fmtAmount,
  fmtCount,
  fmtPct,
  page,
  section,
  table,
} from "./html.ts";
import {
  joinPath,
  RunFolderReadError,
  stageOfKey,
  upgradeSummary,
} from "./run_folder.ts";
import type { Summary } from "../run/summary.ts";

/** One reporting date of the dashboard. */
export interface TrendPoint {
  run_id: string;
  dir: string;
  reporting_date: string;
  summary: Summary;
}

/**
 * Reads the `summary.json` of each run folder and orders them by reporting
 * date; refuses two runs of the same date (which would be averaged away)
 * or of different reporting currencies (which cannot share an axis).
 */
export async function readTrend(runDirs: string[]): Promise<TrendPoint[]> {
  if (runDirs.length === 0) {
    throw new RangeError("Cannot build dashboard: no run folder given");
  }
  const points: TrendPoint[] = [];
  for (const dir of runDirs) {
    let summary: Summary;
    try {
      summary = JSON.parse(
        await Deno.readTextFile(joinPath(dir, "summary.json")),
      );
    } catch (e) {
      throw new RunFolderReadError(dir, "summary.json", (e as Error).message);
    }
    points.push({
      run_id: summary.run_id,
      dir,
      reporting_date: summary.reporting_date,
      // Coverage on the gross carrying amount for every date, including
      // runs written before methodology v2.
      summary: upgradeSummary(summary),
    });
  }
  points.sort((a, b) => a.reporting_date.localeCompare(b.reporting_date));
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    if (a.reporting_date === b.reporting_date) {
      throw new RangeError(
        `Cannot build dashboard: runs ${a.dir} and ${b.dir} share reporting date ${a.reporting_date}`,
      );
    }
    if (a.summary.reporting_currency !== b.summary.reporting_currency) {
      throw new RangeError(
        `Cannot build dashboard: runs ${a.dir} and ${b.dir} report in ${a.summary.reporting_currency} and ${b.summary.reporting_currency}`,
      );
    }
  }
  return points;
}

const stageGroup = (s: Summary, stage: number) =>
  s.by_stage.find((g) => stageOfKey(g.key) === stage);

const stageValue = (
  s: Summary,
  stage: number,
  field: "ecl" | "ead" | "count",
) => stageGroup(s, stage)?.[field] ?? 0;

function dateOf(p: TrendPoint): Date {
  return new Date(`${p.reporting_date}T00:00:00Z`);
}

/** Loss allowance by stage per reporting date, stacked bars. */
export function allowanceTrendChart(points: TrendPoint[]): PlotFigure {
  const data = points.flatMap((p) =>
    [1, 2, 3].map((k) => ({
      date: p.reporting_date,
      stage: String(k),
      ecl: stageValue(p.summary, k, "ecl"),
    }))
  );
  const cur = points[0].summary.reporting_currency;
  return renderPlot({
    width: 620,
    height: 280,
    marginLeft: 60,
    x: { label: "reporting date", domain: points.map((p) => p.reporting_date) },
    y: { label: `loss allowance (${cur})`, grid: true, tickFormat: "~s" },
    color: {
      domain: Object.keys(STAGE_COLORS),
      range: Object.values(STAGE_COLORS),
    },
    marks: [
      Plot.barY(data, { x: "date", y: "ecl", fill: "stage", order: "stage" }),
      Plot.text(points, {
        x: "reporting_date",
        y: (p: TrendPoint) => p.summary.totals.ecl,
        dy: -8,
        text: (p: TrendPoint) => formatAmount(p.summary.totals.ecl),
      }),
      Plot.ruleY([0]),
    ],
  });
}

/**
 * Coverage (ECL / gross carrying amount, methodology §9) per stage and in
 * total over the reporting dates; a date without a ratio (nothing drawn)
 * has no point.
 */
export function coverageTrendChart(points: TrendPoint[]): PlotFigure {
  const data = points.flatMap((p) => [
    ...[1, 2, 3].map((k) => ({
      date: dateOf(p),
      series: `Stage ${k}`,
      coverage: stageGroup(p.summary, k)?.coverage ?? NaN,
    })),
    {
      date: dateOf(p),
      series: "Total",
      coverage: p.summary.totals.coverage ?? NaN,
    },
  ]);
  return renderPlot({
    width: 620,
    height: 280,
    marginLeft: 60,
    marginRight: 60,
    x: {
      type: "utc",
      label: "reporting date",
      // Ticks on the reporting dates themselves (a quarter-end would
      // otherwise sit just left of a month tick it is not), labelled like
      // the bar charts beside it.
      ticks: points.length <= 8 ? points.map(dateOf) : 8,
      tickFormat: "%Y-%m-%d",
    },
    y: {
      type: "log",
      label: "coverage (log scale)",
      grid: true,
      tickFormat: "~%",
    },
    color: {
      domain: ["Stage 1", "Stage 2", "Stage 3", "Total"],
      range: [...Object.values(STAGE_COLORS), "#1f2937"],
    },
    marks: [
      Plot.line(data.filter((d) => d.coverage > 0), {
        x: "date",
        y: "coverage",
        stroke: "series",
        strokeWidth: 2,
        marker: "circle",
      }),
      Plot.text(
        data.filter((d) => d.coverage > 0),
        Plot.selectLast({
          x: "date",
          y: "coverage",
          z: "series",
          text: "series",
          dx: 6,
          textAnchor: "start",
          fill: "series",
        }),
      ),
    ],
  });
}

/** Share of EAD per stage over the reporting dates, 100% stacked bars. */
export function stageMixTrendChart(points: TrendPoint[]): PlotFigure {
  const data = points.flatMap((p) =>
    [1, 2, 3].map((k) => ({
      date: p.reporting_date,
      stage: String(k),
      share: p.summary.totals.ead > 0
        ? stageValue(p.summary, k, "ead") / p.summary.totals.ead
        : 0,
    }))
  );
  return renderPlot({
    width: 620,
    height: 280,
    marginLeft: 60,
    x: { label: "reporting date", domain: points.map((p) => p.reporting_date) },
    y: { label: "share of EAD", tickFormat: "%", domain: [0, 1] },
    color: {
      domain: Object.keys(STAGE_COLORS),
      range: Object.values(STAGE_COLORS),
    },
    marks: [
      Plot.barY(data, { x: "date", y: "share", fill: "stage", order: "stage" }),
      Plot.ruleY([0]),
    ],
  });
}

/** Renders the dashboard page over the given points. */
export function renderDashboard(points: TrendPoint[]): string {
  const first = points[0].summary;
  const last = points.at(-1)!.summary;
  const cur = last.reporting_currency;
  const change = last.totals.ecl - first.totals.ecl;
  const headline = section(
    "headline",
    `Latest: ${last.reporting_date}`,
    cards([
      { label: `Loss allowance (${cur})`, value: fmtAmount(last.totals.ecl) },
      {
        label: `Change since ${first.reporting_date}`,
        value: fmtAmount(change),
        note: first.totals.ecl > 0 ? fmtPct(change / first.totals.ecl) : "",
      },
      {
        label: "Coverage",
        value: fmtPct(last.totals.coverage),
        note: "ECL / gross carrying amount",
      },
      { label: `EAD (${cur})`, value: fmtAmount(last.totals.ead) },
      { label: "Facilities", value: fmtCount(last.totals.count) },
    ]),
  );
  const charts = section(
    "trends",
    "Trends",
    `<div class="grid2">${
      chartPanel(
        "chart-allowance",
        `Loss allowance by stage (${cur})`,
        allowanceTrendChart(points).html,
      )
    }${
      chartPanel(
        "chart-coverage",
        "Coverage by stage (ECL / gross carrying amount)",
        coverageTrendChart(points).html,
      )
    }${
      chartPanel(
        "chart-mix",
        "Stage mix of EAD",
        stageMixTrendChart(points).html,
      )
    }</div>`,
  );
  const rows = table(
    [
      { label: "Reporting date", value: (p: TrendPoint) => p.reporting_date },
      { label: "Run", value: (p) => p.run_id },
      {
        label: "Facilities",
        value: (p) => fmtCount(p.summary.totals.count),
        numeric: true,
      },
      {
        label: `Gross carrying amount (${cur})`,
        value: (p) => fmtAmount(p.summary.totals.gross_carrying_amount),
        numeric: true,
      },
      {
        label: `EAD (${cur})`,
        value: (p) => fmtAmount(p.summary.totals.ead),
        numeric: true,
      },
      ...[1, 2, 3].map((k) => ({
        label: `ECL stage ${k}`,
        value: (p: TrendPoint) => fmtAmount(stageValue(p.summary, k, "ecl")),
        numeric: true,
      })),
      {
        label: `ECL (${cur})`,
        value: (p) => fmtAmount(p.summary.totals.ecl),
        numeric: true,
      },
      {
        label: "Coverage",
        value: (p) => fmtPct(p.summary.totals.coverage),
        numeric: true,
      },
    ],
    points,
    { caption: "Per reporting date" },
  );
  return page({
    title: "IFRS 9 expected credit loss — trends",
    subtitle:
      `${points.length} reporting dates, ${first.reporting_date} to ${last.reporting_date} · amounts in ${cur}`,
    toc: [
      { id: "headline", label: "Latest" },
      { id: "trends", label: "Trends" },
      { id: "periods", label: "Per reporting date" },
    ],
    body: [headline, charts, section("periods", "Per reporting date", rows)]
      .join("\n"),
    footer: `Built from summary.json of: ${
      points.map((p) => p.dir).join(", ")
    }`,
  });
}

/**
 * Builds the dashboard of the given run folders and writes it to `outFile`;
 * returns the path.
 *
 * @example
 * ```ts ignore
 * await writeDashboard(["data/runs/q4", "data/runs/q1"], "data/reports/dashboard.html");
 * ```
 */
export async function writeDashboard(
  runDirs: string[],
  outFile: string,
): Promise<string> {
  const html = renderDashboard(await readTrend(runDirs));
  const slash = outFile.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(outFile.slice(0, slash), { recursive: true });
  await Deno.writeTextFile(outFile, html);
  return outFile;
}
