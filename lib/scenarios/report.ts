/**
 * The fit report of the satellite model (docs/scenarios.md §5): a JSON
 * document (`fit.json`: the fit, the scenario adjustments it produced and
 * the scenario file's sources) whose SHA-256 the rules fragment records,
 * and an HTML page (`fit.html`, lib/page.ts conventions, charts by
 * lib/plot): headline, warnings, coefficients with their tests per
 * segment, observed against fitted credit-cycle index, the macro paths of
 * each scenario and the `z` paths written.
 *
 * @module
 */
import {
  badge,
  cards,
  chart,
  type Column,
  details,
  grid,
  note,
  page,
  section,
  table,
  warningList,
} from "../page.ts";
import { Plot, type PlotFigure, renderPlot } from "../plot/mod.ts";
import type { ScenarioAdjustments } from "./project.ts";
import {
  fitWarnings,
  type SatelliteFit,
  type SegmentFit,
} from "./satellite.ts";
import type { MacroSource, ScenarioFile } from "./scenario_file.ts";

/** The fit report's JSON (`fit.json`). */
export interface FitReport {
  /** Format version. */
  report_version: 1;
  /** The fitted model. */
  fit: SatelliteFit;
  /** What it produced from the scenario file. */
  adjustments: ScenarioAdjustments;
  /** The scenario file's sources, and which series are illustrative. */
  sources: Record<string, MacroSource>;
  /** Series marked illustrative, as `path: why`. */
  illustrative: string[];
  /** Every warning of the fit. */
  warnings: string[];
  /**
   * When the history was generated with known coefficients
   * (`--generate-history`): the generating terms, and per segment whether
   * the selection chose exactly their variables and lags.
   */
  generating?: {
    /** The terms the history was generated with. */
    terms: { variable: string; lag: number; coefficient: number }[];
    /** Standard deviation of the generator's noise `e_t`. */
    noise_sd?: number;
    /** Per segment: the selected terms and whether they are the generating ones. */
    segments: { segment: string; selected: string[]; recovered: boolean }[];
  };
}

/** Options of {@link fitReport}. */
export interface FitReportOptions {
  /** The generating terms, when the history was generated. */
  generating?: {
    /** The terms the history was generated with. */
    terms: readonly { variable: string; lag: number; coefficient: number }[];
    /** Standard deviation of the generator's noise. */
    noise_sd?: number;
  };
}

/** The report of a fit and its adjustments. */
export function fitReport(
  fit: SatelliteFit,
  adjustments: ScenarioAdjustments,
  file: ScenarioFile,
  options: FitReportOptions = {},
): FitReport {
  const illustrative: string[] = [];
  for (const [region, vars] of Object.entries(file.history)) {
    for (const [v, s] of Object.entries(vars)) {
      if (s.illustrative) illustrative.push(`history.${region}.${v}: ${s.why}`);
    }
  }
  for (const sc of file.scenarios) {
    for (const [region, vars] of Object.entries(sc.paths)) {
      for (const [v, s] of Object.entries(vars)) {
        if (s.illustrative) {
          illustrative.push(`${sc.name}.${region}.${v}: ${s.why}`);
        }
      }
    }
  }
  const warnings = fitWarnings(fit);
  let generating: FitReport["generating"];
  if (options.generating !== undefined) {
    const truth = new Set(
      options.generating.terms.map((t) => `${t.variable}(t-${t.lag})`),
    );
    const segments = fit.segments.map((s) => {
      const selected = s.terms.map((t) => `${t.variable}(t-${t.lag})`);
      return {
        segment: s.segment,
        selected,
        recovered: selected.length === truth.size &&
          selected.every((t) => truth.has(t)),
      };
    });
    const k = segments.filter((s) => s.recovered).length;
    if (k < segments.length) {
      warnings.push(
        `the selection chose exactly the generating terms (${
          [...truth].join(", ")
        }) in ${k} of ${segments.length} segments (sampling noise of ${
          fit.segments[0]?.n ?? 0
        } years; see "Generating terms")`,
      );
    }
    generating = {
      terms: options.generating.terms.map((t) => ({ ...t })),
      ...(options.generating.noise_sd === undefined
        ? {}
        : { noise_sd: options.generating.noise_sd }),
      segments,
    };
  }
  return {
    report_version: 1,
    fit,
    adjustments,
    sources: file.sources,
    illustrative,
    warnings,
    ...(generating === undefined ? {} : { generating }),
  };
}

/** The report as the bytes of `fit.json`. */
export function fitReportJson(report: FitReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}

const WIDTH = 620;
const HEIGHT = 260;
const f = (d: number) => (v: number) => Number.isFinite(v) ? v.toFixed(d) : "–";

/** Observed and fitted `Z`, weighted over the segments, per year. */
export function fittedChart(fit: SatelliteFit): PlotFigure {
  const byYear = new Map<number, { z: number; fitted: number; w: number }>();
  for (const s of fit.segments) {
    s.years.forEach((y, i) => {
      const e = byYear.get(y) ?? { z: 0, fitted: 0, w: 0 };
      e.z += s.weight * s.z[i];
      e.fitted += s.weight * s.fitted[i];
      e.w += s.weight;
      byYear.set(y, e);
    });
  }
  const data = [...byYear.entries()].sort((a, b) => a[0] - b[0]).flatMap((
    [year, e],
  ) => [
    { year, value: e.z / e.w, series: "observed Z" },
    { year, value: e.fitted / e.w, series: "fitted Z" },
  ]);
  return renderPlot({
    width: WIDTH,
    height: HEIGHT,
    marginLeft: 44,
    x: { label: "year", tickFormat: "d" },
    y: { label: "credit-cycle index Z", grid: true },
    color: {
      legend: true,
      domain: ["observed Z", "fitted Z"],
      range: ["#2b5c8a", "#d99a1e"],
    },
    marks: [
      Plot.ruleY([0]),
      Plot.line(data, { x: "year", y: "value", stroke: "series" }),
      Plot.dot(data.filter((d) => d.series === "observed Z"), {
        x: "year",
        y: "value",
        fill: "series",
        r: 2.5,
      }),
    ],
  });
}

/** The `z` path of each scenario per forecast year. */
export function zPathChart(adj: ScenarioAdjustments): PlotFigure {
  const data = adj.scenarios.flatMap((s) =>
    s.z.map((z, i) => ({ year: adj.years[i], z, scenario: s.name }))
  );
  return renderPlot({
    width: WIDTH,
    height: HEIGHT,
    marginLeft: 44,
    x: { label: "year", tickFormat: "d", ticks: adj.years },
    y: { label: "z (methodology §4)", grid: true },
    color: { legend: true, domain: adj.scenarios.map((s) => s.name) },
    marks: [
      Plot.ruleY([0]),
      Plot.line(data, { x: "year", y: "z", stroke: "scenario" }),
      Plot.dot(data, { x: "year", y: "z", fill: "scenario", r: 3 }),
    ],
  });
}

/** Colours of the observed history and of up to eight scenarios. */
const SERIES_COLOURS = [
  "#9ca3af",
  "#2b5c8a",
  "#2e7d5b",
  "#b8322a",
  "#d99a1e",
  "#7b4ea3",
  "#3f8f9c",
  "#a0522d",
  "#555555",
];

/**
 * One variable's path in every region: the last observed years in grey,
 * then each scenario from the last observed year on.
 */
export function macroChart(file: ScenarioFile, variable: string): PlotFigure {
  const tail = file.history_years.slice(-5);
  const last = file.history_years.at(-1)!;
  const data = Object.keys(file.regions).flatMap((region) => {
    const h = file.history[region][variable];
    const observed = (y: number) => h.values[y - h.years[0]];
    return [
      ...tail.map((y) => ({
        region,
        year: y,
        value: observed(y),
        series: "observed",
      })),
      ...file.scenarios.flatMap((sc) => {
        const p = sc.paths[region][variable];
        return [
          { region, year: last, value: observed(last), series: sc.name },
          ...p.years.map((y, i) => ({
            region,
            year: y,
            value: p.values[i],
            series: sc.name,
          })),
        ];
      }),
    ];
  });
  const domain = ["observed", ...file.scenarios.map((s) => s.name)];
  return renderPlot({
    width: WIDTH,
    height: 70 * Object.keys(file.regions).length + 40,
    marginLeft: 44,
    marginRight: 40,
    x: { label: "year", tickFormat: "d" },
    y: { label: `${variable} (%)`, grid: true },
    fy: { label: null },
    color: {
      legend: true,
      domain,
      range: SERIES_COLOURS.slice(0, domain.length),
    },
    marks: [
      Plot.line(data, {
        x: "year",
        y: "value",
        stroke: "series",
        fy: "region",
      }),
    ],
  });
}

const termColumns: Column<
  {
    name: string;
    coefficient: number;
    std_error: number;
    t_stat: number;
    p_value: number;
    check: string;
  }
>[] = [
  { label: "term", value: (r) => r.name },
  { label: "coefficient", value: (r) => f(4)(r.coefficient), numeric: true },
  { label: "std. error", value: (r) => f(4)(r.std_error), numeric: true },
  { label: "t", value: (r) => f(2)(r.t_stat), numeric: true },
  { label: "p-value", value: (r) => f(4)(r.p_value), numeric: true },
  {
    label: "check",
    value: (r) =>
      r.check === ""
        ? ""
        : r.check === "ok"
        ? badge("ok", "ok")
        : badge("bad", r.check),
  },
];

/** One segment's coefficient table and statistics. */
function segmentBlock(s: SegmentFit) {
  const rows = [
    { name: "intercept", ...s.intercept, check: "" },
    ...s.terms.map((t) => ({
      name: `${t.variable} (t-${t.lag})`,
      coefficient: t.coefficient,
      std_error: t.std_error,
      t_stat: t.t_stat,
      p_value: t.p_value,
      check: !t.sign_ok
        ? "wrong sign"
        : !t.significant
        ? "not significant"
        : "ok",
    })),
  ];
  return details(
    `${s.segment} (${s.region}): R² ${f(3)(s.r2)}, adj. R² ${
      f(3)(s.adj_r2)
    }, DW ${f(2)(s.durbin_watson)}, JB p ${f(3)(s.jarque_bera_p)}, n ${s.n}${
      s.warnings.length ? `, ${s.warnings.length} warning(s)` : ""
    }`,
    [
      table(termColumns, rows),
      note(
        `PD ttc ${f(5)(s.pd_ttc)} (${
          s.estimated.pd_ttc ? "estimated" : "given"
        }), rho ${f(4)(s.rho)} (${
          s.estimated.rho ? "estimated" : "given"
        }), weight ${f(4)(s.weight)}, residual s.e. ${f(3)(s.sigma)}, years ${
          s.years[0]
        }-${s.years.at(-1)}. Selection: ${s.selection.join("; ")}`,
      ),
    ],
  );
}

/**
 * The fit report as an HTML page.
 *
 * @param report The report ({@link fitReport}).
 * @param file The scenario file fitted against.
 */
export function fitReportHtml(report: FitReport, file: ScenarioFile): string {
  const { fit, adjustments: adj } = report;
  const headline = section("headline", "Headline", [
    cards([
      { label: "Segments", value: String(fit.segments.length) },
      {
        label: "Scenarios",
        value: String(adj.scenarios.length),
        note: adj.scenarios.map((s) => `${s.name} ${s.weight}`).join(", "),
      },
      {
        label: "Forecast years",
        value: `${adj.years[0]}-${adj.years.at(-1)}`,
      },
      { label: "Warnings", value: String(report.warnings.length) },
    ]),
    warningList(report.warnings),
  ]);
  const scenarios = section("scenarios", "Scenario adjustments written", [
    table<(typeof adj.scenarios)[number]>([
      { label: "scenario", value: (s) => s.name },
      { label: "weight", value: (s) => f(4)(s.weight), numeric: true },
      ...adj.years.map((y, i) => ({
        label: `z ${y}`,
        value: (s: (typeof adj.scenarios)[number]) => f(3)(s.z[i]),
        numeric: true,
      })),
      {
        label: "collateral haircut",
        value: (s) => f(4)(s.collateral_haircut),
        numeric: true,
      },
    ], adj.scenarios),
    note(
      `z: the segments' projected credit-cycle index combined by their weights (docs/scenarios.md §4). Haircut = min(${adj.haircut.max_haircut}, ${adj.haircut.base} + ${adj.haircut.sensitivity} × peak-to-trough house-price fall over the horizon).${
        adj.shifts.length
          ? ` Macro paths shifted: ${
            adj.shifts.map((s) =>
              `${s.variable} ${s.delta > 0 ? "+" : ""}${s.delta} pp${
                s.region ? ` in ${s.region}` : ""
              }${s.scenario ? ` (${s.scenario})` : ""}`
            ).join(", ")
          }.`
          : ""
      }`,
    ),
    table<(typeof adj.detail)[number]>([
      { label: "scenario", value: (d) => d.scenario },
      ...adj.years.map((y, i) => ({
        label: `PD ratio ${y}`,
        value: (d: (typeof adj.detail)[number]) => {
          const all = Object.values(d.pd_ratio ?? {}).map((r) => r[i]);
          return all.length === 0
            ? "–"
            : `${f(3)(d.pd_ratio_weighted?.[i] ?? NaN)} (${
              f(2)(Math.min(...all))
            }–${f(2)(Math.max(...all))})`;
        },
        numeric: true,
      })),
    ], adj.detail),
    note(
      `z is measured from each segment's fitted index in ${adj.anchor_year} with the median correction: Z = Zhat[y] − Zhat[${adj.anchor_year}] + c(p), c(p) = PhiInv(p) (1 − sqrt(1 − rho)) / sqrt(rho), p the segment's fitted ${adj.anchor_year} PD (docs/scenarios.md §4). Today's point-in-time PD already holds the ${adj.anchor_year} economy: a scenario that keeps the macro variables at their ${adj.anchor_year} values leaves a PD of p unchanged. PD ratio: the factor the engine's z_shift applies to each segment's ${adj.anchor_year} PD p at the scenario's z, Phi((PhiInv(p) − sqrt(rho) z) / sqrt(1 − rho)) / p, averaged with the segments' weights (lowest–highest segment).`,
    ),
    grid([
      chart("z-paths", "z per scenario and year", zPathChart(adj)),
      chart(
        "fitted",
        "Credit-cycle index: observed and fitted",
        fittedChart(fit),
        "Weighted over the segments by their weights.",
      ),
    ]),
  ]);
  const fits = section("fit", "Satellite model by segment", [
    note(
      "Z = (PhiInv(PD) − sqrt(1 − rho) PhiInv(DR)) / sqrt(rho), regressed by OLS on lagged macro variables of the segment's region. Expected signs: GDP and house prices +, unemployment and policy rate −.",
    ),
    fit.segments.map(segmentBlock),
  ]);
  const gen = report.generating;
  const generating = gen === undefined ? "" : section(
    "generating",
    "Generating terms against the selected ones",
    [
      note(
        `The history was generated (docs/scenarios.md §6) with Z = a + ${
          gen.terms.map((t) => `${t.coefficient} × ${t.variable}(t-${t.lag})`)
            .join(" + ")
        } + e${
          gen.noise_sd === undefined ? "" : `, sd(e) = ${gen.noise_sd}`
        }. The selection recovered exactly these terms in ${
          gen.segments.filter((s) => s.recovered).length
        } of ${gen.segments.length} segments.`,
      ),
      table<(typeof gen.segments)[number]>([
        { label: "segment", value: (s) => s.segment },
        { label: "selected", value: (s) => s.selected.join(", "), wrap: true },
        {
          label: "generating terms",
          value: (s) =>
            s.recovered ? badge("ok", "recovered") : badge("bad", "differ"),
        },
      ], gen.segments),
    ],
  );
  const skipped = fit.skipped ?? [];
  const skippedSection = skipped.length === 0 ? "" : section(
    "skipped",
    "Segments not fitted",
    [
      table<(typeof skipped)[number]>([
        { label: "segment", value: (s) => s.segment },
        { label: "why", value: (s) => s.reason, wrap: true },
      ], skipped),
      note("They write no rho and take no part in the combined z."),
    ],
  );
  const macro = section("macro", "Macro paths per scenario", [
    grid(
      file.variables.map((v) => chart(`macro-${v}`, v, macroChart(file, v))),
    ),
    note(
      `The last ${
        Math.min(5, file.history_years.length)
      } observed years, then each scenario's path.`,
    ),
  ]);
  const sources = section("sources", "Sources", [
    table<[string, MacroSource]>([
      { label: "key", value: ([k]) => k },
      { label: "publication", value: ([, s]) => s.publication },
      { label: "date", value: ([, s]) => s.date ?? "" },
      { label: "note", value: ([, s]) => s.note ?? "", wrap: true },
    ], Object.entries(report.sources)),
    report.illustrative.length
      ? details(
        `${report.illustrative.length} series marked illustrative`,
        markupList(report.illustrative),
      )
      : "",
  ]);
  return page(
    {
      title: `Satellite model: ${fit.history.file}`,
      subtitle:
        `scenario file ${fit.scenario_file.file} (reporting date ${fit.reporting_date}); method Vasicek index on macro variables, lags 0-${fit.options.max_lag}, alpha ${fit.options.alpha}`,
      toc: [
        { id: "headline", label: "Headline" },
        { id: "scenarios", label: "Scenario adjustments" },
        { id: "fit", label: "Fit by segment" },
        ...(skipped.length ? [{ id: "skipped", label: "Not fitted" }] : []),
        ...(gen ? [{ id: "generating", label: "Generating terms" }] : []),
        { id: "macro", label: "Macro paths" },
        { id: "sources", label: "Sources" },
      ],
      footer: "Figures from fit.json (lib/scenarios, docs/scenarios.md).",
    },
    [headline, scenarios, fits, skippedSection, generating, macro, sources],
  );
}

/** Lines as a table of one column. */
function markupList(lines: string[]) {
  return table<string>([{
    label: "series: why illustrative",
    value: (l) => l,
    wrap: true,
  }], lines);
}
