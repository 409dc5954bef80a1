/**
 * The trend dashboard: one self-contained HTML page over several run
 * folders (one per reporting date) showing how the loss allowance, the
 * coverage, the stage mix and the data quality evolve, and the allowance
 * walk from date to date. It reads each run's `summary.json` and
 * `data_quality.json`, and the `movement.json` of the movements between
 * consecutive runs when there are any, so it builds in milliseconds
 * whatever the book size.
 *
 * Amounts are in thousands or millions of the reporting currency (one
 * unit for the page, from its largest total), named in every heading.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { Plot, type PlotFigure, renderPlot } from "../plot/mod.ts";
import { logTicks, waterfallMarks } from "../plot/mod.ts";
import { STAGE_COLORS, stageColorScale, summaryUnit } from "./charts.ts";
import {
  type AmountUnit,
  formatCount,
  formatInUnit,
  formatPercent,
  formatTick,
  formatTickPercent,
  unitLabel,
} from "../format.ts";
import {
  cards,
  chart,
  type Content,
  grid,
  type Markup,
  markup,
  note,
  page,
  section,
  table,
} from "../page.ts";
import {
  checkOutputFile,
  type FileWriter,
  locate,
  type Location,
  MOVEMENT_FILES,
  parentAndName,
  readRunSummary,
  RUN_FILES,
  RunFolderReadError,
  stageOfKey,
  type Summary,
  writeOutputFile,
} from "../run_folder/mod.ts";
import type { DataQualityReport } from "../validation/mod.ts";

/**
 * What the dashboard reads of a `movement.json` (written by `lib/movement`,
 * docs/movement.md): which runs it joins and the lines of the loss
 * allowance reconciliation (IFRS 7 §35H) in total. A whole movement is one.
 * (Read as data: `lib/report` does not import `lib/movement`, whose run
 * examples import `lib/run`, which renders reports.)
 */
export interface MovementWalk {
  from: { run_id: string; reporting_date: string };
  to: { run_id: string; reporting_date: string };
  allowance: { lines: { key: string; total: number }[] };
}

/**
 * Short labels of the reconciliation lines a walk draws, as on the
 * movement page's waterfalls (a line without one shows its key);
 * transfers between stages net to zero in total and are not drawn, the
 * opening and closing balances are the bars of the reporting dates.
 */
const WALK_LINES: Record<string, string> = {
  remeasurement_transferred: "Remeas. transf.",
  new_originated: "New",
  derecognised: "Derecog.",
  write_off: "Write-offs",
  recoveries: "Recoveries",
  remeasurement: "Remeas.",
  fx: "FX",
};

/** One reporting date of the dashboard. */
export interface TrendPoint {
  run_id: string;
  dir: string;
  reporting_date: string;
  summary: Summary;
  /** The run's `data_quality.json`; null when its folder has none. */
  dataQuality: DataQualityReport | null;
}

/**
 * A JSON file of a folder parsed, or null when the folder has none; a
 * file that is not JSON is refused, naming the folder and the file.
 */
async function readOptionalJson(
  folder: Location,
  file: string,
): Promise<unknown | null> {
  let text: string;
  try {
    text = await folder.readText(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RunFolderReadError(
      folder.href,
      file,
      `not valid JSON: ${(e as Error).message}`,
    );
  }
}

/** The `data_quality.json` of a run folder, or null when it has none. */
async function readDataQuality(
  folder: Location,
): Promise<DataQualityReport | null> {
  return await readOptionalJson(folder, RUN_FILES.dataQuality) as
    | DataQualityReport
    | null;
}

/**
 * Reads the `summary.json` of each run folder (checked and upgraded by
 * `readRunSummary`, so coverage is on the gross carrying amount for every
 * date, including runs written before methodology v2) and its
 * `data_quality.json` when there is one, and orders them by reporting
 * date; refuses two runs of the same date (which would be averaged away)
 * or of different reporting currencies (which cannot share an axis).
 *
 * Only complete runs are read (`readRunSummary` with `trusted`): a folder
 * whose manifest is missing or not `complete` (a `.failed` one), a hidden
 * staging folder, a run without facilities or without a reporting date,
 * and a summary with a figure that is not a finite number are refused,
 * naming the folder.
 *
 * @throws {RunFolderReadError} Naming the folder, the file and the problem.
 */
export async function readTrend(
  runDirs: (string | Location)[],
): Promise<TrendPoint[]> {
  if (runDirs.length === 0) {
    throw new UserError("usage", "Cannot build dashboard: no run folder given");
  }
  const points: TrendPoint[] = [];
  for (const folder of runDirs.map(locate)) {
    const summary = await readRunSummary(folder, { trusted: true });
    points.push({
      run_id: summary.run_id,
      dir: folder.href,
      reporting_date: summary.reporting_date,
      summary,
      dataQuality: await readDataQuality(folder),
    });
  }
  points.sort((a, b) => a.reporting_date.localeCompare(b.reporting_date));
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    if (a.reporting_date === b.reporting_date) {
      throw new UserError(
        "input",
        `Cannot build dashboard: runs ${a.dir} and ${b.dir} share reporting date ${a.reporting_date}`,
      );
    }
    if (a.summary.reporting_currency !== b.summary.reporting_currency) {
      throw new UserError(
        "input",
        `Cannot build dashboard: runs ${a.dir} and ${b.dir} report in ${a.summary.reporting_currency} and ${b.summary.reporting_currency}`,
      );
    }
  }
  return points;
}

/** Whether a movement goes from one point to the next. */
function joins(m: MovementWalk, from: TrendPoint, to: TrendPoint): boolean {
  return m.from.run_id === from.run_id &&
    m.from.reporting_date === from.reporting_date &&
    m.to.run_id === to.run_id && m.to.reporting_date === to.reporting_date;
}

/** The movement.json of a folder, or null when it has none. */
async function readMovementJson(
  folder: Location,
): Promise<MovementWalk | null> {
  const m = await readOptionalJson(folder, MOVEMENT_FILES.json) as
    | MovementWalk
    | null;
  if (m === null) return null;
  if (
    typeof m?.from?.run_id !== "string" || typeof m?.to?.run_id !== "string" ||
    !Array.isArray(m?.allowance?.lines)
  ) {
    throw new UserError(
      "input",
      `Cannot read movement ${folder.href}: ${MOVEMENT_FILES.json}: keys from, to or allowance.lines are missing`,
    );
  }
  return m;
}

/**
 * The movements between consecutive points, in order: the `movement.json`
 * of each folder given (which must join two consecutive points), and of
 * each folder beside the run folders that holds one joining two
 * consecutive points (the demo writes `data/runs/movement-sample/` beside
 * its runs). A period without one is walked from the summaries.
 *
 * A `movement.json` found beside the runs that cannot be read is skipped
 * with a warning naming it (`onWarning`), not silently.
 *
 * @throws {UserError} When a movement given does not join two
 *   consecutive reporting dates of the dashboard, or cannot be read.
 */
export async function readMovements(
  points: TrendPoint[],
  given: (string | Location)[] = [],
  onWarning: (warning: string) => void = () => {},
): Promise<MovementWalk[]> {
  const byPeriod = new Map<number, MovementWalk>();
  const period = (m: MovementWalk) =>
    points.findIndex((p, i) => i > 0 && joins(m, points[i - 1], p));
  for (const folder of given.map(locate)) {
    const m = await readMovementJson(folder);
    if (m === null) {
      throw new UserError(
        "input",
        `Cannot read movement ${folder.href}: ${MOVEMENT_FILES.json} is missing`,
      );
    }
    const i = period(m);
    if (i < 0) {
      throw new UserError(
        "input",
        `Cannot use movement ${folder.href}: it goes from run ${m.from.run_id} (${m.from.reporting_date}) to ${m.to.run_id} (${m.to.reporting_date}), not between two consecutive runs of the dashboard`,
      );
    }
    byPeriod.set(i, m);
  }
  const parents = new Set(points.map((p) => parentAndName(p.dir).parent.href));
  for (const parent of [...parents].map(locate)) {
    for (const entry of await parent.list()) {
      if (entry.startsWith(".")) continue;
      let m: MovementWalk | null;
      try {
        m = await readMovementJson(parent.child(entry));
      } catch (e) {
        // A plain file beside the runs (a portfolio, a page) is no movement.
        if (e instanceof Deno.errors.NotADirectory) continue;
        if (!(e instanceof UserError)) throw e;
        onWarning(
          `skipped ${parent.child(entry).href}: ${
            (e as Error).message
          }; the dashboard walks that period from the run summaries`,
        );
        continue;
      }
      if (m === null) continue;
      const i = period(m);
      if (i > 0 && !byPeriod.has(i)) byPeriod.set(i, m);
    }
  }
  return [...byPeriod.entries()].sort(([a], [b]) => a - b).map(([, m]) => m);
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

/** The page's unit: from the largest total of any date. */
export function trendUnit(points: TrendPoint[]): AmountUnit {
  return points.map((p) => summaryUnit(p.summary))
    .reduce((a, u) => (u.divisor > a.divisor ? u : a));
}

const WIDTH = 620;

/** Ticks on the reporting dates themselves, labelled like the bar charts. */
function dateAxis(points: TrendPoint[]) {
  return {
    type: "utc" as const,
    label: "reporting date",
    // A quarter-end would otherwise sit just left of a month tick it is not.
    ticks: points.length <= 8 ? points.map(dateOf) : 8,
    tickFormat: "%Y-%m-%d",
  };
}

/** Loss allowance by stage per reporting date, stacked bars. */
export function allowanceTrendChart(
  points: TrendPoint[],
  unit: AmountUnit = trendUnit(points),
): PlotFigure {
  const data = points.flatMap((p) =>
    [1, 2, 3].map((k) => ({
      date: p.reporting_date,
      stage: String(k),
      ecl: stageValue(p.summary, k, "ecl") / unit.divisor,
    }))
  );
  const cur = points[0].summary.reporting_currency;
  return renderPlot({
    width: WIDTH,
    height: 280,
    marginLeft: 60,
    marginTop: 24,
    x: { label: "reporting date", domain: points.map((p) => p.reporting_date) },
    y: {
      label: `ECL: loss allowance + provision (${unitLabel(cur, unit)})`,
      grid: true,
      tickFormat: formatTick,
    },
    color: stageColorScale(),
    marks: [
      Plot.barY(data, { x: "date", y: "ecl", fill: "stage", order: "stage" }),
      Plot.text(points, {
        x: "reporting_date",
        y: (p: TrendPoint) => p.summary.totals.ecl / unit.divisor,
        dy: -8,
        text: (p: TrendPoint) => formatInUnit(p.summary.totals.ecl, unit),
      }),
      Plot.ruleY([0]),
    ],
  });
}

/**
 * Lines of a ratio over the reporting dates on a log axis whose 1-2-5
 * ticks cover every point (coverage spans orders of magnitude: 0.3% in
 * stage 1, 18% in stage 3), each series labelled at its last point and in
 * the legend.
 */
function logLines(
  points: TrendPoint[],
  data: { date: Date; series: string; value: number }[],
  color: Plot.ScaleOptions,
  label: string,
): PlotFigure {
  const drawn = data.filter((d) => d.value > 0);
  const values = drawn.map((d) => d.value);
  const { domain, ticks } = values.length > 0
    ? logTicks(Math.min(...values), Math.max(...values))
    : { domain: [0.001, 1] as [number, number], ticks: [0.001, 0.01, 0.1, 1] };
  return renderPlot({
    width: WIDTH,
    height: 280,
    marginLeft: 60,
    marginRight: 70,
    x: dateAxis(points),
    y: {
      type: "log",
      label,
      grid: true,
      domain,
      ticks,
      // Plot passes a log axis's labels through d3's log tick format,
      // which blanks the 5s of a 1-2-5 sequence whatever format is given;
      // the labels are drawn by the text mark below instead.
      tickFormat: () => "",
    },
    color: { ...color, legend: true },
    marks: [
      Plot.line(drawn, {
        x: "date",
        y: "value",
        stroke: "series",
        strokeWidth: 2,
        marker: "circle",
      }),
      Plot.text(ticks, {
        y: (t: number) => t,
        text: formatTickPercent,
        frameAnchor: "left",
        textAnchor: "end",
        dx: -9,
        className: "y-tick-value",
      }),
      Plot.text(
        drawn,
        Plot.selectLast({
          x: "date",
          y: "value",
          z: "series",
          text: (d: { value: number }) => formatPercent(d.value),
          dx: 6,
          textAnchor: "start",
          fill: "series",
        }),
      ),
    ],
  });
}

/**
 * Coverage (ECL / gross carrying amount, methodology §9) per stage and in
 * total over the reporting dates, on a log axis whose labelled ticks
 * cover every point; a date without a ratio (nothing drawn) has no point.
 */
export function coverageTrendChart(points: TrendPoint[]): PlotFigure {
  const data = points.flatMap((p) => [
    ...[1, 2, 3].map((k) => ({
      date: dateOf(p),
      series: `Stage ${k}`,
      value: stageGroup(p.summary, k)?.coverage ?? NaN,
    })),
    {
      date: dateOf(p),
      series: "Total",
      value: p.summary.totals.coverage ?? NaN,
    },
  ]);
  return logLines(points, data, {
    domain: ["Stage 1", "Stage 2", "Stage 3", "Total"],
    range: [...Object.values(STAGE_COLORS), "#1f2937"],
  }, "coverage (log scale)");
}

/** Colours of products, in the order of the legend. */
const PRODUCT_COLORS = [
  "#2b5c8a",
  "#c2562a",
  "#6a8f3a",
  "#8a4f9e",
  "#1f9e9a",
  "#b8860b",
  "#5f6b7a",
  "#d26f9c",
];

/**
 * Coverage per product over the reporting dates, on a log axis; `null`
 * when no summary has products (summaries of a version without them).
 */
export function coverageByProductChart(
  points: TrendPoint[],
): PlotFigure | null {
  const groups = (p: TrendPoint) => p.summary.by_product ?? [];
  const products = [
    ...new Set(points.flatMap((p) => groups(p).map((g) => g.key))),
  ].sort();
  if (products.length === 0) return null;
  const data = points.flatMap((p) =>
    groups(p).map((g) => ({
      date: dateOf(p),
      series: g.key,
      value: g.coverage ?? NaN,
    }))
  );
  return logLines(points, data, {
    domain: products,
    range: products.map((_, i) => PRODUCT_COLORS[i % PRODUCT_COLORS.length]),
  }, "coverage (log scale)");
}

/** What a stage mix chart shares out. */
export type StageMixMeasure = "count" | "ead";

/**
 * Share of facilities (`count`) or of EAD (`ead`) per stage over the
 * reporting dates, 100% stacked bars, each segment labelled with its share
 * where it has room.
 */
export function stageMixTrendChart(
  points: TrendPoint[],
  measure: StageMixMeasure = "ead",
): PlotFigure {
  const data = points.flatMap((p) =>
    [1, 2, 3].map((k) => ({
      date: p.reporting_date,
      stage: String(k),
      share: p.summary.totals[measure] > 0
        ? stageValue(p.summary, k, measure) / p.summary.totals[measure]
        : 0,
    }))
  );
  return renderPlot({
    width: WIDTH,
    height: 280,
    marginLeft: 60,
    x: { label: "reporting date", domain: points.map((p) => p.reporting_date) },
    y: {
      label: measure === "count" ? "share of facilities" : "share of EAD",
      tickFormat: "%",
      domain: [0, 1],
    },
    color: stageColorScale(),
    marks: [
      Plot.barY(data, { x: "date", y: "share", fill: "stage", order: "stage" }),
      Plot.text(
        data,
        Plot.stackY({
          x: "date",
          y: "share",
          z: "stage",
          order: "stage",
          text: (d: { share: number }) =>
            d.share >= 0.06 ? formatPercent(d.share) : "",
          fill: "white",
          fontWeight: 600,
        }),
      ),
      Plot.ruleY([0]),
    ],
  });
}

/** One bar of the allowance walk. */
interface WalkStep {
  /** Unique key of the bar on the x axis. */
  key: string;
  /** What the axis shows: a date, or a movement line. */
  label: string;
  y1: number;
  y2: number;
  amount: number;
  kind: "balance" | "increase" | "decrease";
}

/** Short labels of the stage changes of a period walked from summaries. */
const STAGE_CHANGE = ["", "Δ stage 1", "Δ stage 2", "Δ stage 3"];

/**
 * The allowance walk across the dates: the allowance at each reporting
 * date (a bar from zero) and between two dates the movement lines of that
 * period, each floating from the running balance: from `movement.json`
 * when the period has one (transfers between stages left out, as they
 * net to zero), otherwise the change of each stage's allowance from the
 * summaries.
 */
export function allowanceWalkSteps(
  points: TrendPoint[],
  movements: MovementWalk[] = [],
): WalkStep[] {
  const steps: WalkStep[] = [];
  const balance = (p: TrendPoint) => {
    steps.push({
      key: p.reporting_date,
      label: p.reporting_date,
      y1: 0,
      y2: p.summary.totals.ecl,
      amount: p.summary.totals.ecl,
      kind: "balance",
    });
  };
  const move = (key: string, label: string, amount: number) => {
    const y1 = steps.at(-1)!.y2;
    steps.push({
      key,
      label,
      y1,
      y2: y1 + amount,
      amount,
      kind: amount >= 0 ? "increase" : "decrease",
    });
  };
  balance(points[0]);
  for (let i = 1; i < points.length; i++) {
    const [from, to] = [points[i - 1], points[i]];
    const m = movements.find((m) => joins(m, from, to));
    if (m) {
      for (const l of m.allowance.lines) {
        if (
          l.key === "opening" || l.key === "closing" ||
          l.key.startsWith("transfer_")
        ) continue;
        move(
          `${to.reporting_date} ${l.key}`,
          WALK_LINES[l.key] ?? l.key,
          l.total,
        );
      }
    } else {
      for (const k of [1, 2, 3]) {
        move(
          `${to.reporting_date} stage ${k}`,
          STAGE_CHANGE[k],
          stageValue(to.summary, k, "ecl") - stageValue(from.summary, k, "ecl"),
        );
      }
    }
    balance(to);
  }
  return steps;
}

/** The allowance walk ({@link allowanceWalkSteps}) as a waterfall. */
export function allowanceWalkChart(
  points: TrendPoint[],
  movements: MovementWalk[] = [],
  unit: AmountUnit = trendUnit(points),
): PlotFigure {
  const steps = allowanceWalkSteps(points, movements);
  const labels = new Map(steps.map((s) => [s.key, s.label]));
  const cur = points[0].summary.reporting_currency;
  return renderPlot({
    // The width of the page's content: the walk has a row of its own.
    width: Math.max(1100, 40 * steps.length + 80),
    height: 320,
    marginLeft: 60,
    marginTop: 24,
    marginBottom: 80,
    x: {
      label: null,
      domain: steps.map((s) => s.key),
      tickFormat: (key: string) => labels.get(key),
      tickRotate: -35,
    },
    y: {
      label: `ECL: loss allowance + provision (${unitLabel(cur, unit)})`,
      grid: true,
      tickFormat: formatTick,
    },
    color: {
      legend: true,
      domain: ["balance", "increase", "decrease"],
      range: ["#2b5c8a", "#b8322a", "#2e7d5b"],
      tickFormat: (kind: WalkStep["kind"]) =>
        ({
          balance: "Allowance at the reporting date",
          increase: "Increase: charge",
          decrease: "Decrease: release or use",
        })[kind],
    },
    marks: waterfallMarks(steps, "key", unit),
  });
}

/**
 * Rows rejected by validation per reporting date, as bars of the reject
 * rate with the rows behind it, and the limit the rules set
 * (`validation.max_reject_rate`) as a dashed line; `null` when no date
 * rejected a row (or none has a data_quality.json), for the page to say
 * so in a sentence.
 */
export function dataQualityTrendChart(points: TrendPoint[]): PlotFigure | null {
  const data = points.filter((p) => p.dataQuality !== null).map((p) => ({
    date: p.reporting_date,
    rate: p.dataQuality!.reject_rate,
    rows: p.dataQuality!.rows_rejected,
    limit: p.dataQuality!.max_reject_rate,
  }));
  if (!data.some((d) => d.rows > 0)) return null;
  const top = Math.max(...data.map((d) => Math.max(d.rate, d.limit)));
  return renderPlot({
    width: WIDTH,
    height: 280,
    marginLeft: 60,
    marginTop: 24,
    x: { label: "reporting date", domain: points.map((p) => p.reporting_date) },
    y: {
      label: "rows rejected, share of rows read",
      grid: true,
      domain: [0, top * 1.15],
      tickFormat: "~%",
    },
    color: {
      legend: true,
      domain: ["rejected", "limit"],
      range: ["#b8322a", "#6b7280"],
      tickFormat: (k: string) =>
        k === "rejected" ? "Rows rejected" : "Limit (max_reject_rate)",
    },
    marks: [
      Plot.barY(data, { x: "date", y: "rate", fill: () => "rejected" }),
      Plot.tickY(data, {
        x: "date",
        y: "limit",
        stroke: () => "limit",
        strokeDasharray: "4,3",
        strokeWidth: 2,
      }),
      Plot.text(data, {
        x: "date",
        y: "rate",
        dy: -8,
        text: (d: { rows: number; rate: number }) =>
          `${formatCount(d.rows)} (${formatPercent(d.rate)})`,
      }),
      Plot.ruleY([0]),
    ],
  });
}

/** Options of {@link renderDashboard} and {@link writeDashboard}. */
export interface DashboardOptions {
  /**
   * Movement folders (`deno task movement --out`) between consecutive
   * runs, for the allowance walk; movement folders beside the run folders
   * are found without being named.
   */
  movements?: (string | Location)[];
  /** Told of each movement folder found beside the runs but skipped. */
  onWarning?: (warning: string) => void;
  /**
   * How the page is written (a test passes one that fails, as a full disk
   * does). @default the file system
   */
  writer?: FileWriter;
}

/** A chart, or in its place the sentence saying why there is none. */
function chartOr(
  id: string,
  title: string,
  figure: PlotFigure | null,
  otherwise: string,
  caption?: string,
): Markup {
  return figure
    ? chart(id, title, figure, caption)
    : markup`<figure class="chart" id="${id}"><figcaption>${title}</figcaption>${
      note(otherwise)
    }</figure>`;
}

/** Renders the dashboard page over the given points and movements. */
export function renderDashboard(
  points: TrendPoint[],
  movements: MovementWalk[] = [],
): string {
  const first = points[0].summary;
  const last = points.at(-1)!.summary;
  const unit = trendUnit(points);
  const cur = unitLabel(last.reporting_currency, unit);
  const amount = (v: number) => formatInUnit(v, unit);
  const change = last.totals.ecl - first.totals.ecl;
  const headline = section(
    "headline",
    `Latest: ${last.reporting_date}`,
    cards([
      {
        label: `ECL: loss allowance + provision (${cur})`,
        value: amount(last.totals.ecl),
      },
      {
        label: `Change since ${first.reporting_date} (${cur})`,
        value: formatInUnit(change, unit, { signed: true }),
        note: first.totals.ecl > 0
          ? formatPercent(change / first.totals.ecl, { signed: true })
          : "",
      },
      {
        label: "Coverage",
        value: formatPercent(last.totals.coverage),
        note: "ECL / gross carrying amount",
      },
      { label: `EAD (${cur})`, value: amount(last.totals.ead) },
      { label: "Facilities", value: formatCount(last.totals.count) },
    ]),
  );
  const periods = points.length - 1;
  const walked = movements.length;
  const walkNote: Content = periods === 0
    ? "One reporting date: the walk needs two."
    : `${
      walked === periods
        ? "Every period"
        : walked === 0
        ? "No period"
        : `${walked} of ${periods} periods`
    } walked with the lines of its movement.json (IFRS 7 §35H: new, derecognised, write-offs, remeasurement, foreign exchange; transfers between stages net to zero and are left out)${
      walked === periods
        ? ""
        : "; the other periods with the change of each stage's allowance (Δ stage) from the runs' summaries"
    }.`;
  const allowance = section("allowance", "Loss allowance", [
    grid([
      chart(
        "chart-allowance",
        `ECL by stage: loss allowance + provision (${cur})`,
        allowanceTrendChart(points, unit),
      ),
      chart(
        "chart-mix-amount",
        "Stage mix by EAD",
        stageMixTrendChart(points, "ead"),
      ),
    ]),
    chart(
      "chart-walk",
      `Allowance walk across the reporting dates (${cur})`,
      allowanceWalkChart(points, movements, unit),
      walkNote as string,
    ),
  ]);
  const coverage = section(
    "coverage",
    "Coverage",
    grid([
      chart(
        "chart-coverage",
        "Coverage by stage (ECL / gross carrying amount)",
        coverageTrendChart(points),
      ),
      chartOr(
        "chart-coverage-product",
        "Coverage by product (ECL / gross carrying amount)",
        coverageByProductChart(points),
        "The runs' summaries have no totals by product.",
      ),
    ]),
  );
  const withDq = points.filter((p) => p.dataQuality !== null).length;
  const quality = section(
    "quality",
    "Stage mix and data quality",
    grid([
      chart(
        "chart-mix-count",
        "Stage mix by number of facilities",
        stageMixTrendChart(points, "count"),
      ),
      chartOr(
        "chart-dq-trend",
        "Rows rejected by validation",
        dataQualityTrendChart(points),
        withDq === 0
          ? "No run folder has a data_quality.json."
          : `No row was rejected at any of the ${withDq} reporting dates with a data_quality.json.`,
        "Rejected rows are not computed; each run folder's rejected.parquet lists them with every rule they broke.",
      ),
    ]),
  );
  const periodsTable = table(
    [
      { label: "Reporting date", value: (p: TrendPoint) => p.reporting_date },
      { label: "Run", value: (p) => p.run_id, wrap: true },
      {
        label: "Facilities",
        value: (p) => formatCount(p.summary.totals.count),
        numeric: true,
      },
      {
        label: "Gross carrying amount",
        value: (p) => amount(p.summary.totals.gross_carrying_amount),
        numeric: true,
      },
      {
        label: "EAD",
        value: (p) => amount(p.summary.totals.ead),
        numeric: true,
      },
      ...[1, 2, 3].map((k) => ({
        label: `ECL stage ${k}`,
        value: (p: TrendPoint) => amount(stageValue(p.summary, k, "ecl")),
        numeric: true,
      })),
      {
        label: "ECL",
        value: (p) => amount(p.summary.totals.ecl),
        numeric: true,
      },
      {
        label: "Coverage",
        value: (p) => formatPercent(p.summary.totals.coverage),
        numeric: true,
      },
      {
        label: "Rows rejected",
        value: (p) =>
          p.dataQuality ? formatCount(p.dataQuality.rows_rejected) : "–",
        numeric: true,
      },
    ],
    points,
    { caption: `Per reporting date (${cur})` },
  );
  return page(
    {
      title: "IFRS 9 expected credit loss — trends",
      subtitle:
        `${points.length} reporting dates, ${first.reporting_date} to ${last.reporting_date} · amounts in ${cur}`,
      toc: [
        { id: "headline", label: "Latest" },
        { id: "allowance", label: "Loss allowance" },
        { id: "coverage", label: "Coverage" },
        { id: "quality", label: "Stage mix and data quality" },
        { id: "periods", label: "Per reporting date" },
      ],
      footer: `Built from summary.json and data_quality.json of: ${
        points.map((p) => p.dir).join(", ")
      }${
        movements.length > 0
          ? `; movement.json of: ${
            movements.map((m) => `${m.from.run_id} → ${m.to.run_id}`).join(
              ", ",
            )
          }`
          : ""
      }`,
    },
    [
      headline,
      allowance,
      coverage,
      quality,
      section("periods", "Per reporting date", periodsTable),
    ],
  );
}

/**
 * Builds the dashboard of the given run folders and writes it to `outFile`
 * (whole or not at all: under a temporary name renamed last, so a failure
 * leaves the earlier page or nothing; its folder is created when missing);
 * returns the path. `outFile` is checked before any run is read: a
 * folder, a place inside a run folder or an input is refused.
 *
 * @throws {OutputLocationError} when `outFile` cannot take the page.
 * @throws {RunFolderReadError} when a run folder is not a complete run or
 *   cannot be read (see {@link readTrend}).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Manifest, openRunFolder, type Summary } from "../run_folder/mod.ts";
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
 *   // Only a complete run is read: its manifest says so.
 *   await folder.writeJson("manifest", {
 *     run_id: date, status: "complete", reporting_date: date,
 *   } as unknown as Manifest);
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
  opts: DashboardOptions = {},
): Promise<string> {
  const inputs = [...runDirs, ...opts.movements ?? []].map((d) =>
    locate(d).href
  );
  await checkOutputFile(outFile, { inputs });
  const points = await readTrend(runDirs);
  const html = renderDashboard(
    points,
    await readMovements(points, opts.movements, opts.onWarning),
  );
  return await writeOutputFile(outFile, html, {
    inputs,
    writer: opts.writer,
  });
}
