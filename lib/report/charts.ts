/**
 * The run's charts, rendered server-side with Observable Plot through
 * `lib/plot/` (SVG text plus an inline Jupyter display).
 *
 * Every chart is a function of a {@link ChartSource}: the loan results as a
 * lazy frame and the FX rates that bring their amounts (held in the
 * facility's currency, methodology §9) into the reporting currency. The
 * aggregation runs in Polars, so only a few rows reach the chart, whatever
 * the size of the book. Titles live in the page or notebook around the
 * charts; a chart coloured by stage carries the stage legend (Plot then
 * wraps it in an HTML figure). Amounts are drawn in thousands or millions
 * of the reporting currency ({@link ChartSource.unit}), the unit named on
 * the axis, like the tables of the pages.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame, Expr, LazyFrame } from "../frame.ts";
import {
  type AmountUnit,
  amountUnit,
  formatCount,
  formatInUnit,
  formatPercent,
  formatTick,
  formatTickPercent,
  unitLabel,
} from "../format.ts";
import {
  bandAxisMargin,
  countTicks,
  endLabelMargin,
  Plot,
  type PlotFigure,
  renderPlot,
} from "../plot/mod.ts";
import type { DataQualityReport } from "../validation/mod.ts";
import {
  coverageRatio,
  NULL_KEY,
  type RunFolder,
  type Summary,
} from "../run_folder/mod.ts";

/** The loan results and the rates that convert them (summary.json fx.rates). */
export interface ChartSource {
  /**
   * `loan_results.parquet` or `computeEcl`'s output, as a lazy frame; with
   * `gross_carrying_amount` attached (`attachCarryingAmounts`) the ECL
   * charts show coverage ratios without a summary.
   */
  results: LazyFrame;
  /** Reporting-currency units per unit of each facility currency. */
  rates: Record<string, number>;
  /** The reporting currency, for axis labels. */
  currency: string;
  /**
   * The run's summary: the ECL charts take their groups from it (the same
   * figures as the report's tables, coverage on the gross carrying
   * amount) instead of scanning the results.
   */
  summary?: Summary;
  /**
   * Thousands or millions of the reporting currency: the unit of the page
   * the chart is on. Without one, the unit of the summary's totals
   * ({@link summaryUnit}), or of the figures the chart draws.
   */
  unit?: AmountUnit;
  /**
   * Rows a chart query reads at a time. @default {@link REPORT_SLICE_ROWS}
   */
  sliceRows?: number;
}

/**
 * The unit of a run's pages and charts: from its largest total (gross
 * carrying amount or EAD), so every amount of the run is in one unit.
 */
export function summaryUnit(summary: Summary): AmountUnit {
  const t = summary.totals;
  return amountUnit([t.gross_carrying_amount, t.ead, t.ecl]);
}

/** The chart source of a run folder, in the unit of its totals. */
export function chartSource(run: RunFolder): ChartSource {
  return {
    results: run.results,
    rates: run.summary.fx.rates,
    currency: run.summary.reporting_currency,
    summary: run.summary,
    unit: summaryUnit(run.summary),
  };
}

/** The unit a chart of `src` draws its amounts in (see `ChartSource.unit`). */
function unitOf(src: ChartSource, amounts: number[]): AmountUnit {
  return src.unit ??
    (src.summary ? summaryUnit(src.summary) : amountUnit(amounts));
}

/** Stage colours shared by every chart and table of the reports. */
export const STAGE_COLORS: Record<string, string> = {
  "1": "#2e7d5b",
  "2": "#d99a1e",
  "3": "#b8322a",
};

/**
 * The colour scale of the stages with its legend (`Stage 1` …), for every
 * chart whose marks are coloured by stage, so no reader has to guess what
 * green, amber and red stand for.
 */
export function stageColorScale(): Plot.ScaleOptions {
  return {
    legend: true,
    domain: Object.keys(STAGE_COLORS),
    range: Object.values(STAGE_COLORS),
    tickFormat: (stage: string) => `Stage ${stage}`,
  };
}

const INK = "#1f2937";
const ACCENT = "#2b5c8a";
const WIDTH = 640;

/**
 * Pipeline step: adds `rate` and the reporting-currency amounts `ead_rc`,
 * `ecl_rc`, `ecl_model_rc` and one `<col>_rc` per extra column named.
 * Facilities whose currency has no rate get null amounts, which the sums
 * skip; {@link missingRateCurrencies} finds them first.
 */
export function inReportingCurrency(
  results: LazyFrame,
  rates: Record<string, number>,
  extra: string[] = [],
): LazyFrame {
  // A when/then chain over the few currencies of a run: several times
  // cheaper than joining a rate table on a string key for every chart.
  let rate: Expr = pl.lit(null).cast(pl.Float64);
  for (const [currency, r] of Object.entries(rates).reverse()) {
    rate = pl.when(pl.col("currency").eq(pl.lit(currency))).then(pl.lit(r))
      .otherwise(rate);
  }
  return results.withColumns(rate.cast(pl.Float64).alias("rate")).withColumns(
    ...["ead", "ecl", "ecl_model", ...extra].map((c) =>
      pl.col(c).mul(pl.col("rate")).alias(`${c}_rc`)
    ),
  );
}

/** Currencies in the results that have no rate. */
export async function missingRateCurrencies(
  src: ChartSource,
): Promise<string[]> {
  if (src.summary?.by_currency) {
    // The summary's currencies are the results' (a null currency is
    // NULL_KEY there): no scan of the results.
    return src.summary.by_currency.map((g) => g.key)
      .filter((c) => c !== NULL_KEY && !(c in src.rates)).sort();
  }
  const df = await src.results.select(pl.col("currency").unique()).collect();
  return (df.getColumn("currency").toArray() as string[])
    .filter((c) => c !== null && !(c in src.rates)).sort();
}

type Row = Record<string, unknown>;

async function records(lf: LazyFrame): Promise<Row[]> {
  return (await lf.collect()).toRecords() as Row[];
}

/**
 * Rows of the loan results one chart query reads at a time. A query over
 * the whole file holds its columns for every facility (measured on a
 * 10M-loan run: the parameter bins 1.0 GiB, the top exposures 1.5 GiB,
 * three times that at 30M), so the report's memory would grow with the
 * book; query by query, slice by slice, it is set by this (issue 17).
 */
export const REPORT_SLICE_ROWS = 1_000_000;

/**
 * `query` run on each slice of `sliceRows` ({@link REPORT_SLICE_ROWS}
 * unless the source says) rows of the results, one after another; the caller adds the slices' answers up.
 */
async function bySlice(
  { results, sliceRows = REPORT_SLICE_ROWS }: ChartSource,
  query: (slice: LazyFrame) => LazyFrame,
): Promise<DataFrame[]> {
  const rows = (await results.select(pl.len().alias("n")).collect())
    .getColumn("n").get(0) as number;
  const out: DataFrame[] = [];
  for (let offset = 0; offset < Math.max(rows, 1); offset += sliceRows) {
    out.push(await query(results.slice(offset, sliceRows)).collect());
  }
  return out;
}

/**
 * Stage distribution: the share of facilities and of EAD in each stage, as
 * two 100% bars labelled with stage and share (IFRS 9 §5.5.3 / §5.5.5).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { stageDistributionChart } from "./charts.ts";
 *
 * // Two EUR facilities in stage 1 and one USD facility in stage 2.
 * const results = pl.DataFrame({
 *   stage: [1, 1, 2],
 *   currency: ["EUR", "EUR", "USD"],
 *   ead: [1000, 800, 500],
 *   ecl: [10, 5, 300],
 *   ecl_model: [10, 5, 300],
 * }).lazy();
 * const fig = await stageDistributionChart({
 *   results,
 *   rates: { EUR: 1, USD: 0.9 },
 *   currency: "EUR",
 * });
 * // Stage 1: 2 of 3 facilities, 1,800 of 2,250 EUR of EAD (in thousands).
 * assert.match(fig.html, />S1 66\.67% \(2\)</);
 * assert.match(fig.html, />S1 80\.00% \(1\.8\)</);
 * assert.match(fig.html, />Stage 2</); // the legend
 * ```
 */
export async function stageDistributionChart(
  src: ChartSource,
): Promise<PlotFigure> {
  // The summary's counts and EAD by stage when the source has one (the
  // same figures as the report's tables, exact to the cent), else a scan.
  const rows = src.summary?.by_stage
    ? src.summary.by_stage.map((g) => ({
      stage: g.key,
      count: g.count,
      ead_rc: g.ead,
    }))
    : await records(
      inReportingCurrency(src.results, src.rates)
        .groupBy("stage")
        .agg(pl.len().cast(pl.Float64).alias("count"), pl.col("ead_rc").sum())
        .sort("stage"),
    );
  const totalCount = rows.reduce((a, r) => a + (r.count as number), 0);
  const totalEad = rows.reduce((a, r) => a + (r.ead_rc as number), 0);
  const unit = unitOf(src, [totalEad]);
  const eadLabel = `EAD (${unitLabel(src.currency, unit)})`;
  const data = rows.flatMap((r) => [
    {
      measure: "Facilities",
      stage: String(r.stage),
      share: totalCount > 0 ? (r.count as number) / totalCount : 0,
      value: formatCount(r.count as number),
    },
    {
      measure: eadLabel,
      stage: String(r.stage),
      share: totalEad > 0 ? (r.ead_rc as number) / totalEad : 0,
      value: formatInUnit(r.ead_rc as number, unit),
    },
  ]);
  const measures = ["Facilities", eadLabel];
  return renderPlot({
    width: WIDTH,
    height: 150,
    marginLeft: bandAxisMargin(measures),
    x: { label: "share", tickFormat: "%", domain: [0, 1] },
    y: { label: null, domain: measures },
    color: stageColorScale(),
    marks: [
      Plot.barX(data, {
        x: "share",
        y: "measure",
        fill: "stage",
        order: "stage",
        insetRight: 1,
      }),
      Plot.text(
        data,
        Plot.stackX({
          x: "share",
          y: "measure",
          z: "stage",
          order: "stage",
          // Full label where the segment has room, the share alone where
          // it is narrow, nothing where even that would overflow.
          text: (d: { stage: string; share: number; value: string }) =>
            d.share >= 0.25
              ? `S${d.stage} ${formatPercent(d.share)} (${d.value})`
              : d.share >= 0.06
              ? formatPercent(d.share)
              : "",
          fill: "white",
          fontWeight: 600,
        }),
      ),
      Plot.ruleX([0]),
    ],
  });
}

/** Dimensions the ECL chart groups by. */
export type EclDimension = "stage" | "product" | "region" | "segment";

/** ECL and coverage of each group of a dimension, in the reporting currency. */
async function eclGroups(
  src: ChartSource,
  by: EclDimension,
): Promise<{ key: string; ecl: number; coverage: number | null }[]> {
  const groups = src.summary?.[`by_${by}`];
  if (groups) {
    return groups.map((g) => ({
      key: g.key,
      ecl: g.ecl,
      coverage: g.coverage,
    }));
  }
  const gca = src.results.columns.includes("gross_carrying_amount");
  const rows = await records(
    inReportingCurrency(
      src.results,
      src.rates,
      gca ? ["gross_carrying_amount"] : [],
    )
      .groupBy(by)
      .agg(
        pl.col("ecl_rc").sum(),
        ...(gca ? [pl.col("gross_carrying_amount_rc").sum()] : []),
      )
      .sort(by),
  );
  return rows.map((r) => ({
    key: String(r[by] ?? "(none)"),
    ecl: r.ecl_rc as number,
    coverage: gca
      ? coverageRatio(r.ecl_rc as number, r.gross_carrying_amount_rc as number)
      : null,
  }));
}

/**
 * ECL by stage, product, region or segment in the reporting currency, one
 * bar per group, labelled with its ECL and coverage ratio (ECL / gross
 * carrying amount, methodology §9), from the source's summary or, without
 * one, from the results (coverage only when they carry
 * `gross_carrying_amount`). Stages are vertical bars in stage order; other
 * dimensions are horizontal bars, largest ECL first, so that twenty
 * regions stay legible.
 */
export async function eclByChart(
  src: ChartSource,
  by: EclDimension,
): Promise<PlotFigure> {
  const groups = await eclGroups(src, by);
  const unit = unitOf(src, groups.map((g) => g.ecl));
  const rows = groups.map((g) => ({
    ...g,
    shown: g.ecl / unit.divisor,
    label: g.coverage === null
      ? formatInUnit(g.ecl, unit)
      : `${formatInUnit(g.ecl, unit)} · ${formatPercent(g.coverage)}`,
  }));
  const axis = `ECL (${unitLabel(src.currency, unit)})`;
  if (by === "stage") {
    return renderPlot({
      width: WIDTH,
      height: 260,
      marginTop: 24,
      marginLeft: 60,
      x: {
        label: null,
        domain: rows.map((r) => r.key),
        tickFormat: (k: string) => `Stage ${k}`,
      },
      y: { label: axis, grid: true, tickFormat: formatTick },
      color: stageColorScale(),
      marks: [
        Plot.barY(rows, { x: "key", y: "shown", fill: "key" }),
        Plot.text(rows, {
          x: "key",
          y: "shown",
          dy: -8,
          text: "label",
          fill: INK,
        }),
        Plot.ruleY([0]),
      ],
    });
  }
  rows.sort((a, b) => b.ecl - a.ecl);
  // Room for the longest name on the left and the longest label on the
  // right; the chart widens rather than cut a name, and the page scales
  // it to the panel.
  const marginLeft = bandAxisMargin(rows.map((r) => r.key));
  const marginRight = endLabelMargin(rows.map((r) => r.label));
  return renderPlot({
    width: Math.max(WIDTH, marginLeft + marginRight + 320),
    height: 40 + 20 * Math.max(1, rows.length),
    marginLeft,
    marginRight,
    x: { label: axis, grid: true, tickFormat: formatTick },
    y: { label: null, domain: rows.map((r) => r.key) },
    marks: [
      Plot.barX(rows, { x: "shown", y: "key", fill: ACCENT }),
      Plot.text(rows, {
        x: "shown",
        y: "key",
        dx: 6,
        textAnchor: "start",
        text: "label",
        fill: INK,
      }),
      Plot.ruleX([0]),
    ],
  });
}

/** ECL columns of the loan results that hold one scenario each (§9). */
export function scenarioColumns(results: LazyFrame): string[] {
  const fixed = new Set(["ecl_12m", "ecl_lifetime", "ecl_model", "ecl"]);
  return results.columns.filter((c) =>
    c.startsWith("ecl_") && !fixed.has(c) && !c.endsWith("_rc")
  );
}

/**
 * Each scenario's ECL side by side with the probability-weighted model ECL
 * and the ECL after overlays (methodology §8), in the reporting currency.
 */
export async function scenarioEclChart(src: ChartSource): Promise<PlotFigure> {
  const summary = src.summary;
  // The summary's scenario ECLs and totals when the source has one (exact
  // to the cent, no scan), else sums over the results.
  const cols = summary?.scenarios && summary.totals
    ? summary.scenarios.map((x) => `ecl_${x.name}`)
    : scenarioColumns(src.results);
  const s: Row = summary?.scenarios && summary.totals
    ? {
      ...Object.fromEntries(
        summary.scenarios.map((x) => [`ecl_${x.name}`, x.ecl]),
      ),
      ecl_model: summary.totals.ecl_model,
      ecl: summary.totals.ecl,
    }
    : (await records(
      inReportingCurrency(src.results, src.rates, cols).select(
        ...cols.map((c) => pl.col(`${c}_rc`).sum().alias(c)),
        pl.col("ecl_model_rc").sum().alias("ecl_model"),
        pl.col("ecl_rc").sum().alias("ecl"),
      ),
    ))[0] ?? {};
  const unit = unitOf(src, [s.ecl as number, s.ecl_model as number]);
  const data = [
    ...cols.map((c) => ({
      name: c.slice(4),
      ecl: s[c] as number,
      kind: "scenario",
    })),
    // Labels no scenario can take (names are letters, digits and _ only),
    // so a scenario called "weighted" keeps a bar of its own.
    {
      name: "probability-weighted",
      ecl: s.ecl_model as number,
      kind: "weighted",
    },
    { name: "after overlays", ecl: s.ecl as number, kind: "final" },
  ].map((d) => ({ ...d, shown: d.ecl / unit.divisor }));
  return renderPlot({
    width: WIDTH,
    height: 260,
    marginTop: 24,
    marginLeft: 60,
    x: { label: null, domain: data.map((d) => d.name) },
    y: {
      label: `ECL (${unitLabel(src.currency, unit)})`,
      grid: true,
      tickFormat: formatTick,
    },
    color: {
      domain: ["scenario", "weighted", "final"],
      range: ["#8aa9c7", ACCENT, INK],
    },
    marks: [
      Plot.barY(data, { x: "name", y: "shown", fill: "kind" }),
      Plot.text(data, {
        x: "name",
        y: "shown",
        dy: -8,
        text: (d: { ecl: number }) => formatInUnit(d.ecl, unit),
        fill: INK,
      }),
      Plot.ruleY([0]),
    ],
  });
}

/** Which parameter a distribution chart shows. */
export type ParameterColumn = "pd_12m" | "lgd";

/**
 * Distribution of the 12-month PD (bins of a fifth of a decade on a log
 * axis, PDs span orders of magnitude) or of the LGD (bins of 0.05), as
 * facility counts, bars coloured by stage and stacked, with the stage
 * legend and whole-number count ticks. Facilities under
 * the simplified approach have no PD or LGD model (their `lgd` is null)
 * and are left out; `null` when no facility is left.
 */
export async function parameterDistributionChart(
  src: ChartSource,
  column: ParameterColumn,
): Promise<PlotFigure | null> {
  return parameterChart(column, (await parameterBins(src))[column]);
}

/** Facilities per bin and stage of one parameter, in bin then stage order. */
export type ParameterBins = { bin: number; stage: string; count: number }[];

/** The bin width of each parameter: a fifth of a decade of PD, 0.05 of LGD. */
const BIN_WIDTH: Record<ParameterColumn, number> = { pd_12m: 0.2, lgd: 0.05 };

/**
 * The bins of both distribution charts in one pass over the results:
 * facilities by PD bin, LGD bin and stage (integers, a few hundred
 * groups), then added up per parameter. A facility with no LGD (the
 * simplified approach) is in neither; one with no PD or a PD of 0 is in
 * the LGD chart only.
 */
export async function parameterBins(
  src: ChartSource,
): Promise<Record<ParameterColumn, ParameterBins>> {
  const bin = (column: ParameterColumn) => {
    const isPd = column === "pd_12m";
    const width = BIN_WIDTH[column];
    const x = isPd ? pl.col(column).log(10) : pl.col(column);
    return pl.when(
      pl.col(column).gt(isPd ? 0 : -1).and(pl.col("lgd").isNotNull()),
    ).then(
      // Clip so that an LGD or PD of exactly 1 falls in the last bin.
      x.div(width).floor().clip(isPd ? -1e9 : 0, isPd ? -1 : 1 / width - 1),
    ).otherwise(pl.lit(null).cast(pl.Float64)).alias(column);
  };
  // Counts per slice (bySlice), added up by `of` below.
  const groups = pl.concat(
    await bySlice(
      src,
      (slice) =>
        slice
          .select(pl.col("stage"), bin("pd_12m"), bin("lgd"))
          .groupBy(["stage", "pd_12m", "lgd"])
          .agg(pl.len().cast(pl.Float64).alias("count")),
    ),
  );
  const of = async (column: ParameterColumn) =>
    (await records(
      groups.lazy().filter(pl.col(column).isNotNull())
        .select(
          pl.col(column).alias("bin"),
          pl.col("stage").cast(pl.Utf8).alias("stage"),
          pl.col("count"),
        )
        .groupBy(["bin", "stage"])
        .agg(pl.col("count").sum())
        .sort(["bin", "stage"]),
    )) as ParameterBins;
  return { pd_12m: await of("pd_12m"), lgd: await of("lgd") };
}

/** The distribution chart of one parameter's bins; null without any. */
function parameterChart(
  column: ParameterColumn,
  rows: ParameterBins,
): PlotFigure | null {
  const isPd = column === "pd_12m";
  const width = BIN_WIDTH[column];
  if (rows.length === 0) return null;
  // The highest stack, for count ticks that end on a label.
  const perBin = new Map<number, number>();
  for (const r of rows) {
    perBin.set(
      r.bin as number,
      (perBin.get(r.bin as number) ?? 0) + (r.count as number),
    );
  }
  const yTicks = countTicks(Math.max(...perBin.values()));
  const data = rows.map((r) => {
    const lo = (r.bin as number) * width;
    return {
      stage: r.stage as string,
      count: r.count as number,
      x1: isPd ? 10 ** lo : lo,
      x2: isPd ? 10 ** (lo + width) : lo + width,
    };
  });
  return renderPlot({
    width: WIDTH,
    height: 240,
    marginLeft: 60,
    x: isPd
      ? { type: "log", label: "12-month PD", tickFormat: formatTickPercent }
      : { label: "LGD", tickFormat: "%", domain: [0, 1] },
    y: {
      label: "facilities",
      grid: true,
      domain: [0, yTicks.at(-1)!],
      ticks: yTicks,
      tickFormat: formatTick,
    },
    color: stageColorScale(),
    marks: [
      Plot.rectY(
        data,
        Plot.stackY({
          x1: "x1",
          x2: "x2",
          y: "count",
          fill: "stage",
          insetLeft: 0.5,
        }),
      ),
      Plot.ruleY([0]),
    ],
  });
}

/**
 * The `n` facilities with the largest ECL in the reporting currency,
 * labelled with loan id, product and stage (colour, with the legend), each
 * bar with its ECL and EAD.
 */
export async function topExposuresChart(
  src: ChartSource,
  n = 10,
): Promise<PlotFigure> {
  // The top n of each slice (bySlice), then the top n of those.
  const top = (lf: LazyFrame) =>
    lf.sort("ecl_rc", true).head(n)
      .select("loan_id", "product", "stage", "ecl_rc", "ead_rc");
  const rows = await records(
    top(
      pl.concat(
        await bySlice(
          src,
          (slice) => top(inReportingCurrency(slice, src.rates)),
        ),
      ).lazy(),
    ),
  );
  const unit = unitOf(src, rows.map((r) => r.ead_rc as number));
  const data = rows.map((r) => ({
    label: `${r.loan_id} · ${r.product} · S${r.stage}`,
    stage: String(r.stage),
    shown: (r.ecl_rc as number) / unit.divisor,
    text: `${formatInUnit(r.ecl_rc as number, unit)} of EAD ${
      formatInUnit(r.ead_rc as number, unit)
    }`,
  }));
  // Room for the longest id on the left and label on the right: a bank's
  // loan ids run to twenty characters and more.
  const marginLeft = bandAxisMargin(data.map((d) => d.label));
  const marginRight = endLabelMargin(data.map((d) => d.text));
  return renderPlot({
    width: Math.max(WIDTH, marginLeft + marginRight + 280),
    height: 40 + 22 * Math.max(1, data.length),
    marginLeft,
    marginRight,
    x: {
      label: `ECL (${unitLabel(src.currency, unit)})`,
      grid: true,
      tickFormat: formatTick,
    },
    y: { label: null, domain: data.map((d) => d.label) },
    color: stageColorScale(),
    marks: [
      Plot.barX(data, { x: "shown", y: "label", fill: "stage" }),
      Plot.text(data, {
        x: "shown",
        y: "label",
        dx: 6,
        textAnchor: "start",
        text: "text",
        fill: INK,
      }),
      Plot.ruleX([0]),
    ],
  });
}

/**
 * Rows failed per validation rule (the validator's data_quality.json),
 * rules without failures left out, on an axis of whole rows; `null` when
 * no rule failed, since a chart of nothing says less than the sentence a
 * page writes instead.
 */
export function dataQualityChart(dq: DataQualityReport): PlotFigure | null {
  const data = dq.rules.filter((r) => r.rows_failed > 0)
    .sort((a, b) => b.rows_failed - a.rows_failed)
    .map((r) => ({ code: r.code, failed: r.rows_failed }));
  if (data.length === 0) return null;
  const ticks = countTicks(data[0].failed);
  const marginLeft = bandAxisMargin(data.map((d) => d.code));
  const marginRight = endLabelMargin(data.map((d) => formatCount(d.failed)));
  return renderPlot({
    width: Math.max(WIDTH, marginLeft + marginRight + 320),
    height: 40 + 22 * data.length,
    marginLeft,
    marginRight,
    x: {
      label: "rows failed",
      grid: true,
      domain: [0, ticks.at(-1)!],
      ticks,
      tickFormat: formatTick,
    },
    y: { label: null, domain: data.map((d) => d.code) },
    marks: [
      Plot.barX(data, { x: "failed", y: "code", fill: "#b8322a" }),
      Plot.text(data, {
        x: "failed",
        y: "code",
        dx: 6,
        textAnchor: "start",
        text: (d: { failed: number }) => formatCount(d.failed),
        fill: INK,
      }),
      Plot.ruleX([0]),
    ],
  });
}

/** Every chart of a run, keyed by a stable id (the report's anchors). */
export interface RunCharts {
  /**
   * Share of facilities and of EAD in each stage
   * ({@link stageDistributionChart}).
   */
  stages: PlotFigure;
  /**
   * ECL and coverage (ECL over gross carrying amount) per stage, in the
   * reporting currency ({@link eclByChart}).
   */
  eclByStage: PlotFigure;
  /** ECL and coverage per product, in the reporting currency. */
  eclByProduct: PlotFigure;
  /** ECL and coverage per region, in the reporting currency. */
  eclByRegion: PlotFigure;
  /**
   * Each scenario's model ECL, the probability-weighted ECL before overlays
   * and the ECL after them, in the reporting currency (methodology §8;
   * {@link scenarioEclChart}).
   */
  scenarios: PlotFigure;
  /**
   * Facilities by 12-month PD, stacked by stage
   * ({@link parameterDistributionChart}); null when every facility is on
   * the simplified approach.
   */
  pd: PlotFigure | null;
  /** Facilities by LGD, stacked by stage. */
  lgd: PlotFigure | null;
  /**
   * The 10 facilities with the largest ECL, in the reporting currency
   * ({@link topExposuresChart}).
   */
  top: PlotFigure;
  /**
   * Rows failed per validation rule ({@link dataQualityChart}); null when
   * no rule failed or the run folder has no `data_quality.json`.
   */
  dataQuality: PlotFigure | null;
}

/**
 * All charts of one run folder, for the report and for a notebook (a cell
 * whose value is one of them shows it inline, as notebook 07_reporting
 * does).
 */
export async function runCharts(run: RunFolder): Promise<RunCharts> {
  const src = chartSource(run);
  // One query at a time: each scans loan_results.parquet, and running them
  // together on a 10-million-loan run doubles the peak memory for little
  // gain in time.
  // The stage and scenario charts take their figures from the summary;
  // both distributions come from one scan.
  const bins = await parameterBins(src);
  return {
    stages: await stageDistributionChart(src),
    eclByStage: await eclByChart(src, "stage"),
    eclByProduct: await eclByChart(src, "product"),
    eclByRegion: await eclByChart(src, "region"),
    scenarios: await scenarioEclChart(src),
    pd: parameterChart("pd_12m", bins.pd_12m),
    lgd: parameterChart("lgd", bins.lgd),
    top: await topExposuresChart(src),
    dataQuality: run.dataQuality ? dataQualityChart(run.dataQuality) : null,
  };
}
