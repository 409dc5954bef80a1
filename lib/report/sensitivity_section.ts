/**
 * The "Sensitivity and stress" section of report.html, and the page of
 * `deno task sensitivity` (docs/sensitivity.md): one table (a row per
 * variant: ECL in the reporting currency, by stage, change against the
 * probability-weighted line, facilities in stages 2 and 3, the staging
 * applied) and one chart (a bar per variant, a line at the weighted
 * ECL), from `summary.json`'s `sensitivity` section. Every figure is the
 * summary's of an engine pass (lib/sensitivity); nothing is computed here
 * but the unit.
 *
 * @module
 */
import {
  type AmountUnit,
  amountUnit,
  formatCount,
  formatInUnit,
  formatPercent,
  formatTick,
  unitLabel,
} from "../format.ts";
import {
  chart,
  type Column,
  type Markup,
  note,
  page,
  section,
  table,
  warningList,
} from "../page.ts";
import {
  bandAxisMargin,
  endLabelMargin,
  Plot,
  type PlotFigure,
  renderPlot,
} from "../plot/mod.ts";
import type { SensitivityLine, SensitivitySummary } from "../run_folder/mod.ts";

/** The section's id in the page (its navigation link). */
export const SENSITIVITY_SECTION_ID = "sensitivity";

const INK = "#1f2937";
const ACCENT = "#2b5c8a";
const WIDTH = 640;

/** A line's label in the table and the chart. */
export function sensitivityLabel(l: SensitivityLine): string {
  return l.kind === "weighted"
    ? "probability-weighted"
    : l.kind === "scenario"
    ? `${l.name} (100%)`
    : `stress: ${l.name}`;
}

/** The page unit of a table: thousands, or millions from a billion. */
export function sensitivityUnit(s: SensitivitySummary): AmountUnit {
  return amountUnit(s.lines.map((l) => l.ecl));
}

/**
 * A bar per line (ECL in the page's unit), coloured by kind, with a
 * vertical rule at the probability-weighted ECL and each bar's amount at
 * its end.
 */
export function sensitivityChart(
  s: SensitivitySummary,
  unit: AmountUnit = sensitivityUnit(s),
): PlotFigure {
  const data = s.lines.map((l) => ({
    label: sensitivityLabel(l),
    kind: l.kind,
    shown: l.ecl / unit.divisor,
    text: formatInUnit(l.ecl, unit),
  }));
  const weighted = s.lines.find((l) => l.kind === "weighted");
  const labels = data.map((d) => d.label);
  return renderPlot({
    width: WIDTH,
    height: 40 + 28 * data.length,
    marginLeft: bandAxisMargin(labels),
    marginRight: endLabelMargin(data.map((d) => d.text)),
    marginTop: 10,
    marginBottom: 36,
    x: {
      label: `ECL (${unitLabel(s.reporting_currency, unit)})`,
      grid: true,
      tickFormat: formatTick,
    },
    y: { label: null, domain: labels },
    color: {
      domain: ["weighted", "scenario", "stress"],
      range: [ACCENT, "#8aa9c7", "#c98b4a"],
    },
    marks: [
      Plot.barX(data, { y: "label", x: "shown", fill: "kind" }),
      Plot.text(data, {
        y: "label",
        x: "shown",
        text: "text",
        textAnchor: "start",
        dx: 6,
        fill: INK,
      }),
      ...(weighted === undefined ? [] : [
        Plot.ruleX([weighted.ecl / unit.divisor], {
          stroke: INK,
          strokeDasharray: "4,3",
        }),
      ]),
      Plot.ruleX([0]),
    ],
  });
}

/** The table's columns. */
function columns(
  s: SensitivitySummary,
  unit: AmountUnit,
): Column<SensitivityLine>[] {
  const amount = (v: number) => formatInUnit(v, unit);
  const stage = (l: SensitivityLine, key: string) =>
    l.by_stage.find((g) => g.key === key) ?? { count: 0, ecl: 0 };
  const weighted = s.lines.find((l) => l.kind === "weighted")?.ecl ?? 0;
  return [
    { label: "Variant", value: (l) => sensitivityLabel(l), wrap: true },
    { label: "ECL", value: (l) => amount(l.ecl), numeric: true },
    ...["1", "2", "3"].map((key) => ({
      label: `Stage ${key} ECL`,
      value: (l: SensitivityLine) => amount(stage(l, key).ecl),
      numeric: true,
    })),
    {
      label: "Change vs weighted",
      value: (l) =>
        l.kind === "weighted"
          ? "—"
          : formatInUnit(l.change_vs_weighted, unit, { signed: true }),
      numeric: true,
    },
    {
      label: "Change %",
      value: (l) =>
        l.kind === "weighted" || weighted === 0
          ? "—"
          : formatPercent(l.change_vs_weighted / weighted),
      numeric: true,
    },
    {
      label: "Stage 2 facilities",
      value: (l) => formatCount(stage(l, "2").count),
      numeric: true,
    },
    {
      label: "Stage 3 facilities",
      value: (l) => formatCount(stage(l, "3").count),
      numeric: true,
    },
    { label: "Staging", value: stagingWords },
  ];
}

/** The staging a line used, in words. */
const stagingWords = (l: SensitivityLine) =>
  l.staging === "restaged" ? "re-staged" : "the run's";

/** The table and chart of a sensitivity summary, with the staging rule. */
function body(s: SensitivitySummary, unit: AmountUnit): Markup[] {
  const cur = unitLabel(s.reporting_currency, unit);
  // Plugins that changed the run are not run again for the lines.
  const warnings = warningList(s.warnings ?? []);
  return [
    ...(warnings === "" ? [] : [warnings]),
    chart(
      "chart-sensitivity",
      `ECL per variant (${cur}); the dashed line is the probability-weighted ECL`,
      sensitivityChart(s, unit),
    ),
    table(columns(s, unit), s.lines, {
      caption:
        `Sensitivity of the allowance (${cur}): each line computed by the engine`,
    }),
    table(
      [
        {
          label: "Variant",
          value: (l: SensitivityLine) => sensitivityLabel(l),
        },
        { label: "What changes", value: (l) => l.variant, wrap: true },
        { label: "Staging", value: stagingWords },
      ],
      s.lines,
      { caption: "What each line changes" },
    ),
    note(
      `Each line is a new engine pass over the run's valid rows (staging, ECL with the overlays, the run's summary), never a formula on the weighted result: the probability-weighted line is the run's allowance; a scenario line has that scenario alone at 100% weight; a stress changes the inputs or the scenario paths as said. ${s.staging_rule} Amounts in ${cur}; the change is the line's ECL minus the weighted line's. See docs/sensitivity.md.`,
    ),
  ];
}

/** The report section of a run's sensitivity summary. */
export function sensitivitySection(
  s: SensitivitySummary,
  unit: AmountUnit = sensitivityUnit(s),
): Markup {
  return section(
    SENSITIVITY_SECTION_ID,
    "Sensitivity and stress",
    body(s, unit),
  );
}

/** What the stand-alone page says about its inputs. */
export interface SensitivityPageInfo {
  /** The portfolio file. */
  portfolio: string;
  /** The rules file. */
  rules: string;
  /** The FX table. */
  fx: string;
  /** The reporting date `YYYY-MM-DD`. */
  reportingDate: string;
  /** Facilities computed (the valid rows). */
  facilities: number;
}

/** The page `deno task sensitivity` writes (sensitivity.html). */
export function sensitivityPage(
  s: SensitivitySummary,
  info: SensitivityPageInfo,
): string {
  const unit = sensitivityUnit(s);
  return page(
    {
      title: `IFRS 9 sensitivity and stress — ${info.reportingDate}`,
      subtitle: `${info.portfolio} · ${
        formatCount(info.facilities)
      } facilities · rules ${info.rules} · FX ${info.fx} · amounts in ${
        unitLabel(s.reporting_currency, unit)
      }`,
      footer:
        "Generated by deno task sensitivity; sensitivity.json and sensitivity.csv hold the figures to the cent.",
    },
    [section(SENSITIVITY_SECTION_ID, "Sensitivity and stress", body(s, unit))],
  );
}
