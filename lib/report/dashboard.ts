/**
 * The trend dashboard: one self-contained HTML page over several run
 * folders (one per reporting date) showing how the loss allowance, the
 * coverage and the stage mix evolve. It reads only each run's
 * `summary.json`, so it builds in milliseconds whatever the book size.
 *
 * @module
 */
import { Plot, type PlotFigure, renderPlot } from "../plot/mod.ts";
import { STAGE_COLORS } from "./charts.ts";
import {
  formatAmount,
  formatCompact,
  formatCount,
  formatPercent,
} from "../format.ts";
import { cards, chart, grid, page, section, table } from "../page.ts";
import {
  locate,
  type Location,
  parentAndName,
  readRunSummary,
  stageOfKey,
  type Summary,
} from "../run_folder/mod.ts";

/** One reporting date of the dashboard. */
export interface TrendPoint {
  run_id: string;
  dir: string;
  reporting_date: string;
  summary: Summary;
}

/**
 * Reads the `summary.json` of each run folder (checked and upgraded by
 * `readRunSummary`, so coverage is on the gross carrying amount for every
 * date, including runs written before methodology v2) and orders them by
 * reporting date; refuses two runs of the same date (which would be
 * averaged away) or of different reporting currencies (which cannot share
 * an axis).
 */
export async function readTrend(
  runDirs: (string | Location)[],
): Promise<TrendPoint[]> {
  if (runDirs.length === 0) {
    throw new RangeError("Cannot build dashboard: no run folder given");
  }
  const points: TrendPoint[] = [];
  for (const folder of runDirs.map(locate)) {
    const summary = await readRunSummary(folder);
    points.push({
      run_id: summary.run_id,
      dir: folder.href,
      reporting_date: summary.reporting_date,
      summary,
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
    y: {
      label: `loss allowance (${cur})`,
      grid: true,
      tickFormat: formatCompact,
    },
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
        text: (p: TrendPoint) => formatCompact(p.summary.totals.ecl),
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
      {
        label: `Loss allowance (${cur})`,
        value: formatAmount(last.totals.ecl),
      },
      {
        label: `Change since ${first.reporting_date}`,
        value: formatAmount(change),
        note: first.totals.ecl > 0
          ? formatPercent(change / first.totals.ecl)
          : "",
      },
      {
        label: "Coverage",
        value: formatPercent(last.totals.coverage),
        note: "ECL / gross carrying amount",
      },
      { label: `EAD (${cur})`, value: formatAmount(last.totals.ead) },
      { label: "Facilities", value: formatCount(last.totals.count) },
    ]),
  );
  const trends = section(
    "trends",
    "Trends",
    grid([
      chart(
        "chart-allowance",
        `Loss allowance by stage (${cur})`,
        allowanceTrendChart(points),
      ),
      chart(
        "chart-coverage",
        "Coverage by stage (ECL / gross carrying amount)",
        coverageTrendChart(points),
      ),
      chart("chart-mix", "Stage mix of EAD", stageMixTrendChart(points)),
    ]),
  );
  const periods = table(
    [
      { label: "Reporting date", value: (p: TrendPoint) => p.reporting_date },
      { label: "Run", value: (p) => p.run_id },
      {
        label: "Facilities",
        value: (p) => formatCount(p.summary.totals.count),
        numeric: true,
      },
      {
        label: `Gross carrying amount (${cur})`,
        value: (p) => formatAmount(p.summary.totals.gross_carrying_amount),
        numeric: true,
      },
      {
        label: `EAD (${cur})`,
        value: (p) => formatAmount(p.summary.totals.ead),
        numeric: true,
      },
      ...[1, 2, 3].map((k) => ({
        label: `ECL stage ${k}`,
        value: (p: TrendPoint) => formatAmount(stageValue(p.summary, k, "ecl")),
        numeric: true,
      })),
      {
        label: `ECL (${cur})`,
        value: (p) => formatAmount(p.summary.totals.ecl),
        numeric: true,
      },
      {
        label: "Coverage",
        value: (p) => formatPercent(p.summary.totals.coverage),
        numeric: true,
      },
    ],
    points,
    { caption: "Per reporting date" },
  );
  return page(
    {
      title: "IFRS 9 expected credit loss — trends",
      subtitle:
        `${points.length} reporting dates, ${first.reporting_date} to ${last.reporting_date} · amounts in ${cur}`,
      toc: [
        { id: "headline", label: "Latest" },
        { id: "trends", label: "Trends" },
        { id: "periods", label: "Per reporting date" },
      ],
      footer: `Built from summary.json of: ${
        points.map((p) => p.dir).join(", ")
      }`,
    },
    [headline, trends, section("periods", "Per reporting date", periods)],
  );
}

/**
 * Builds the dashboard of the given run folders and writes it to `outFile`
 * (whole or not at all; its folder is created when missing); returns the
 * path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRunFolder, type Summary } from "../run_folder/mod.ts";
 * import { writeDashboard } from "./dashboard.ts";
 *
 * // Two quarter-ends: only each run's summary.json is read.
 * const root = await Deno.makeTempDir();
 * const runs = [];
 * for (const [date, ecl] of [["2025-09-30", 40], ["2025-12-31", 50]] as const) {
 *   const stage = { key: "1", count: 1, gross_carrying_amount: 1000, ead: 1000,
 *     ecl, loss_allowance: ecl, provision: 0, coverage: ecl / 1000 };
 *   const folder = await openRunFolder(`${root}/runs`, date);
 *   await folder.writeJson("summary", {
 *     run_id: date, reporting_date: date, reporting_currency: "EUR",
 *     fx: { file: "fx.yaml", sha256: "", base: "EUR", as_of: date, rates: { EUR: 1 } },
 *     scenarios: [], totals: { ...stage, ecl_model: ecl }, by_stage: [stage],
 *   } as unknown as Summary);
 *   runs.push(await folder.commit());
 * }
 * const file = await writeDashboard(runs, `${root}/reports/dashboard.html`);
 * assert.equal(file, `${root}/reports/dashboard.html`);
 * assert.match(await Deno.readTextFile(file), /2025-09-30 to 2025-12-31/);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function writeDashboard(
  runDirs: (string | Location)[],
  outFile: string,
): Promise<string> {
  const html = renderDashboard(await readTrend(runDirs));
  const { parent, name } = parentAndName(outFile);
  await parent.writeText(name, html);
  return parent.child(name).href;
}
