/**
 * `report.html` of a run folder: one self-contained page with the headline
 * numbers, the charts, the summary tables, the data-quality section and the
 * run manifest (architecture.md, "A run's outputs").
 *
 * @module
 */
import { chartSource, missingRateCurrencies, runCharts } from "./charts.ts";
import {
  cards,
  chartPanel,
  type Column,
  escapeHtml,
  fmtAmount,
  fmtCount,
  fmtPct,
  page,
  section,
  table,
  warningList,
} from "./html.ts";
import { fxDateWarning } from "../fx.ts";
import type { Manifest } from "../run/manifest.ts";
import {
  type CurrencyGroup,
  type Group,
  overlayWarnings,
  type Summary,
} from "../run/summary.ts";
import type { RuleReport } from "../validation/mod.ts";
import {
  joinPath,
  readRunFolder,
  type RunFolder,
  RunFolderReadError,
} from "./run_folder.ts";

/** Options of {@link writeRunReport} and {@link renderRunReport}. */
export interface RunReportOptions {
  /**
   * The manifest as it stands while the run is still writing its folder
   * (the run writes manifest.json after the report). When absent the
   * folder's manifest.json is used, if there is one.
   */
  manifest?: Manifest;
}

function groupTable(
  title: string,
  groups: Group[],
  totals: RunFolder["summary"]["totals"],
  keyLabel: string,
): string {
  const cols: Column<Group>[] = [
    { label: keyLabel, value: (g) => g.key },
    { label: "Facilities", value: (g) => fmtCount(g.count), numeric: true },
    {
      label: "Gross carrying amount",
      value: (g) => fmtAmount(g.gross_carrying_amount),
      numeric: true,
    },
    { label: "EAD", value: (g) => fmtAmount(g.ead), numeric: true },
    { label: "ECL", value: (g) => fmtAmount(g.ecl), numeric: true },
    {
      label: "Loss allowance",
      value: (g) => fmtAmount(g.loss_allowance),
      numeric: true,
    },
    {
      label: "Provision",
      value: (g) => fmtAmount(g.provision),
      numeric: true,
    },
    { label: "Coverage", value: (g) => fmtPct(g.coverage), numeric: true },
    {
      label: "Share of ECL",
      value: (g) => fmtPct(totals.ecl > 0 ? g.ecl / totals.ecl : NaN),
      numeric: true,
    },
  ];
  return table(cols, groups, {
    caption: title,
    footer: [{
      key: "Total",
      count: totals.count,
      gross_carrying_amount: totals.gross_carrying_amount,
      ead: totals.ead,
      ecl: totals.ecl,
      loss_allowance: totals.loss_allowance,
      provision: totals.provision,
      coverage: totals.coverage,
    }],
  });
}

/** One line of the overlay table: an overlay, the floor or the total. */
interface OverlayLine {
  name: string;
  reason: string;
  adjustment: string;
  facilities: number | null;
  ecl_impact: number;
}

/**
 * The post-model adjustments in the order applied, each with its
 * adjustment, facilities and ECL impact (methodology §8), then the floor at
 * 0 and the total, which is the ECL after overlays less the model ECL.
 */
function overlayTable(s: Summary): string {
  if (s.overlays.length === 0) {
    return `<p class="muted">No post-model adjustment applied.</p>`;
  }
  const cur = s.reporting_currency;
  const lines: OverlayLine[] = s.overlays.map((o) => ({
    name: o.name,
    reason: o.reason,
    adjustment: o.multiplier !== undefined
      ? `× ${o.multiplier}`
      : o.add !== undefined
      ? `${o.add < 0 ? "−" : "+"} ${fmtAmount(Math.abs(o.add))} ${cur}`
      : "",
    facilities: o.facilities,
    ecl_impact: o.ecl_impact,
  }));
  const floor: OverlayLine = {
    name: "Floor at 0",
    reason: "no facility's ECL below 0 after the overlays",
    adjustment: "",
    facilities: s.overlay_floor.facilities,
    ecl_impact: s.overlay_floor.ecl_impact,
  };
  const total: OverlayLine = {
    name: "Total",
    reason: "ECL after overlays less model ECL",
    adjustment: "",
    facilities: null,
    ecl_impact: s.totals.ecl - s.totals.ecl_model,
  };
  return table<OverlayLine>(
    [
      { label: "Overlay", value: (o) => o.name },
      { label: "Reason", value: (o) => o.reason, wrap: true },
      { label: "Adjustment", value: (o) => o.adjustment },
      {
        label: "Facilities",
        value: (o) => o.facilities === null ? "" : fmtCount(o.facilities),
        numeric: true,
      },
      {
        label: `ECL impact (${cur})`,
        value: (o) => fmtAmount(o.ecl_impact),
        numeric: true,
      },
    ],
    [...lines, floor],
    {
      caption: "Post-model adjustments, in the order applied",
      footer: [total],
    },
  );
}

function currencyTable(groups: CurrencyGroup[], reporting: string): string {
  return table<CurrencyGroup>(
    [
      { label: "Currency", value: (g) => g.key },
      { label: "Facilities", value: (g) => fmtCount(g.count), numeric: true },
      {
        label: "EAD (local)",
        value: (g) => fmtAmount(g.ead_local),
        numeric: true,
      },
      {
        label: "ECL (local)",
        value: (g) => fmtAmount(g.ecl_local),
        numeric: true,
      },
      {
        label: `EAD (${reporting})`,
        value: (g) => fmtAmount(g.ead),
        numeric: true,
      },
      {
        label: `ECL (${reporting})`,
        value: (g) => fmtAmount(g.ecl),
        numeric: true,
      },
      { label: "Coverage", value: (g) => fmtPct(g.coverage), numeric: true },
    ],
    groups,
    { caption: "By currency" },
  );
}

function dataQualitySection(run: RunFolder, dqSvg: string | null): string {
  const dq = run.dataQuality;
  if (!dq) {
    return section(
      "data-quality",
      "Data quality",
      `<p class="muted">This run folder has no data_quality.json.</p>`,
    );
  }
  const badge = dq.passed
    ? `<span class="badge ok">passed</span>`
    : `<span class="badge bad">failed</span>`;
  const head = cards([
    { label: "Rows read", value: fmtCount(dq.rows_read) },
    { label: "Rows valid", value: fmtCount(dq.rows_valid) },
    { label: "Rows rejected", value: fmtCount(dq.rows_rejected) },
    {
      label: "Reject rate",
      value: fmtPct(dq.reject_rate),
      note: `limit ${fmtPct(dq.max_reject_rate)}`,
    },
  ]);
  const ruleColumns: Column<RuleReport>[] = [
    { label: "Rule", value: (r) => r.code },
    { label: "Description", value: (r) => r.description, wrap: true },
    {
      label: "Rows checked",
      value: (r) => fmtCount(r.rows_checked),
      numeric: true,
    },
    {
      label: "Rows failed",
      value: (r) => fmtCount(r.rows_failed),
      numeric: true,
    },
    {
      label: "Examples (loan_id)",
      value: (r) => r.examples.join(", "),
      wrap: true,
    },
  ];
  const failing = dq.rules.filter((r) => r.rows_failed > 0)
    .sort((a, b) => b.rows_failed - a.rows_failed);
  const passing = dq.rules.filter((r) => r.rows_failed === 0);
  // Every rule is listed (a reviewer sees what was checked), the passing
  // ones folded away so the failures stay on screen.
  const rules =
    (failing.length > 0
      ? table(ruleColumns, failing, { caption: "Rules with failures" })
      : "") +
    `<details><summary>${passing.length} rules without failures</summary>${
      table(ruleColumns, passing)
    }</details>`;
  return section(
    "data-quality",
    "Data quality",
    `<p>Validation of <code>${escapeHtml(dq.file)}</code>: ${badge}. ` +
      `Rejected rows are not computed; they are listed with every rule they broke in <code>rejected.parquet</code>.</p>` +
      head +
      warningList(dq.warnings ?? []) +
      (dqSvg ? chartPanel("chart-dq", "Rows failed by rule", dqSvg) : "") +
      rules,
  );
}

function manifestSection(run: RunFolder, given?: Manifest): string {
  const m = given ?? run.manifest;
  if (!m) {
    return section(
      "manifest",
      "Run manifest",
      `<p class="muted">The manifest is written when the run completes; this report was produced before it.</p>`,
    );
  }
  const inputs = table(
    [
      {
        label: "Input",
        value: (r: [string, { path: string; sha256: string }]) => r[0],
      },
      { label: "Path", value: (r) => r[1].path, wrap: true },
      { label: "SHA-256", value: (r) => r[1].sha256, wrap: true },
    ],
    Object.entries(m.inputs),
    { caption: "Inputs", className: "mono" },
  );
  const timings = table(
    [
      { label: "Step", value: (r: [string, number]) => r[0] },
      { label: "Time (ms)", value: (r) => fmtCount(r[1]), numeric: true },
    ],
    Object.entries(m.timings_ms),
    { caption: "Timings" },
  );
  const facts = cards([
    { label: "Status", value: m.status },
    { label: "Run", value: m.run_id },
    { label: "Rows read", value: fmtCount(m.rows.read) },
    { label: "Rows computed", value: fmtCount(m.rows.computed) },
    { label: "Code version", value: m.code_version },
    {
      label: "Methodology",
      value: m.methodology_version === undefined
        ? "version 1"
        : `version ${m.methodology_version}`,
    },
  ]);
  return section(
    "manifest",
    "Run manifest",
    facts +
      `<p class="muted">Started ${escapeHtml(m.started_at)}${
        m.finished_at
          ? `, finished ${escapeHtml(m.finished_at)}`
          : "; the report was written while the run was finishing, so the last steps and the final status are in manifest.json"
      }.</p>` +
      warningList(m.warnings) +
      `<div class="grid2">${inputs}${timings}</div>`,
  );
}

/**
 * Renders the report page of a run folder (no file written).
 *
 * @param run A run folder as read by `readRunFolder`.
 * @param opts The in-progress manifest, when the run has not written it.
 * @returns The HTML text.
 */
export async function renderRunReport(
  run: RunFolder,
  opts: RunReportOptions = {},
): Promise<string> {
  const s = run.summary;
  const t = s.totals;
  const cur = s.reporting_currency;
  // A facility whose currency has no rate would drop out of every chart's
  // sums without a trace; refuse instead, naming the currency.
  const missing = await missingRateCurrencies(chartSource(run));
  if (missing.length > 0) {
    throw new RunFolderReadError(
      run.dir,
      "summary.json",
      `fx.rates has no rate for ${
        missing.join(", ")
      }, used by loan_results.parquet`,
    );
  }
  const charts = await runCharts(run);
  const fxWarning = fxDateWarning(s.fx, s.reporting_date);
  const stage = (k: string) => s.by_stage.find((g) => g.key === k);
  const stage3 = stage("3");
  const overlayImpact = t.ecl - t.ecl_model;
  const warnings = [
    ...(fxWarning === null ? [] : [fxWarning]),
    ...overlayWarnings(s),
  ];
  const headline = section(
    "headline",
    "Headline",
    cards([
      {
        label: `Expected credit loss (${cur})`,
        value: fmtAmount(t.ecl),
        note: `model ${fmtAmount(t.ecl_model)}; overlays ${
          fmtAmount(overlayImpact)
        }`,
      },
      {
        label: `Loss allowance (${cur})`,
        value: fmtAmount(t.loss_allowance),
        note: "deducted from the gross carrying amount",
      },
      {
        label: `Provision (${cur})`,
        value: fmtAmount(t.provision),
        note: "ECL above the drawn amount: undrawn commitments",
      },
      {
        label: "Coverage",
        value: fmtPct(t.coverage),
        note: "ECL / gross carrying amount",
      },
      {
        label: `Gross carrying amount (${cur})`,
        value: fmtAmount(t.gross_carrying_amount),
      },
      { label: `EAD (${cur})`, value: fmtAmount(t.ead) },
      { label: "Facilities", value: fmtCount(t.count) },
      {
        label: "Stage 3 share of EAD",
        value: fmtPct(stage3 && t.ead > 0 ? stage3.ead / t.ead : 0),
        note: `${fmtCount(stage3?.count ?? 0)} credit-impaired facilities`,
      },
    ]) +
      `<p class="note">Amounts in ${
        escapeHtml(cur)
      }, converted from each facility's currency with the FX table ${
        escapeHtml(s.fx.file)
      } (as of ${escapeHtml(s.fx.as_of)}; rate = ${
        escapeHtml(cur)
      } per unit of the facility currency). Where a facility's ECL exceeds its gross carrying amount, the part up to it is loss allowance and the excess a provision (IFRS 7 B8E); coverage is ECL over the gross carrying amount.</p>` +
      warningList(warnings),
  );
  const scenarioRows = s.scenarios.map((x) => ({ ...x }));
  const scenarios = section(
    "scenarios",
    "Scenarios and overlays",
    `<div class="grid2">${
      chartPanel(
        "chart-scenarios",
        `ECL per scenario, weighted and after overlays (${cur})`,
        charts.scenarios.html,
        "Each scenario's ECL is computed on its own PD path; the weighted figure is the probability-weighted ECL of IFRS 9 §5.5.17(a).",
      )
    }<div>${
      table(
        [
          { label: "Scenario", value: (r: typeof scenarioRows[0]) => r.name },
          { label: "Weight", value: (r) => fmtPct(r.weight), numeric: true },
          {
            label: `ECL (${cur})`,
            value: (r) => fmtAmount(r.ecl),
            numeric: true,
          },
          {
            label: "Weighted contribution",
            value: (r) => fmtAmount(r.weight * r.ecl),
            numeric: true,
          },
        ],
        scenarioRows,
        { caption: "Scenarios" },
      )
    }</div></div>${overlayTable(s)}`,
  );
  const stagesSection = section(
    "stages",
    "Staging",
    `<div class="grid2">${
      chartPanel(
        "chart-stages",
        "Stage distribution: facilities and EAD",
        charts.stages.html,
        "Stage 1: 12-month ECL; stage 2: significant increase in credit risk, lifetime ECL; stage 3: credit-impaired (IFRS 9 §5.5.3, §5.5.5).",
      )
    }${
      chartPanel(
        "chart-ecl-stage",
        `ECL and coverage by stage (${cur})`,
        charts.eclByStage.html,
      )
    }</div>${groupTable("By stage", s.by_stage, t, "Stage")}`,
  );
  const portfolio = section(
    "portfolio",
    "Products, regions and segments",
    `<div class="grid2">${
      chartPanel(
        "chart-ecl-product",
        `ECL and coverage by product (${cur})`,
        charts.eclByProduct.html,
      )
    }${
      chartPanel(
        "chart-ecl-region",
        `ECL and coverage by region (${cur})`,
        charts.eclByRegion.html,
      )
    }</div>${groupTable("By product", s.by_product, t, "Product")}${
      currencyTable(s.by_currency, cur)
    }<details><summary>By region (${s.by_region.length})</summary>${
      groupTable("By region", s.by_region, t, "Region")
    }</details><details><summary>By segment (${s.by_segment.length})</summary>${
      groupTable("By segment", s.by_segment, t, "Segment")
    }</details>`,
  );
  const risk = section(
    "parameters",
    "Risk parameters and concentrations",
    `<div class="grid2">${
      chartPanel(
        "chart-pd",
        "12-month PD distribution (facilities, by stage)",
        charts.pd.html,
      )
    }${
      chartPanel(
        "chart-lgd",
        "LGD distribution (facilities, by stage)",
        charts.lgd.html,
      )
    }</div>${
      chartPanel(
        "chart-top",
        `Top 10 facilities by ECL (${cur})`,
        charts.top.html,
      )
    }`,
  );
  const body = [
    headline,
    stagesSection,
    portfolio,
    scenarios,
    risk,
    dataQualitySection(run, charts.dataQuality?.html ?? null),
    manifestSection(run, opts.manifest),
  ].join("\n");
  return page({
    title: `IFRS 9 expected credit loss — ${s.reporting_date}`,
    subtitle: `Run ${s.run_id} · reporting date ${s.reporting_date} · ${
      fmtCount(t.count)
    } facilities · amounts in ${cur}`,
    toc: [
      { id: "headline", label: "Headline" },
      { id: "stages", label: "Staging" },
      { id: "portfolio", label: "Portfolio" },
      { id: "scenarios", label: "Scenarios" },
      { id: "parameters", label: "Risk parameters" },
      { id: "data-quality", label: "Data quality" },
      { id: "manifest", label: "Manifest" },
    ],
    body,
    footer:
      `Generated from run folder files summary.json, loan_results.parquet, data_quality.json and manifest.json.`,
  });
}

/**
 * Writes `report.html` into a run folder and returns its path. Reads the
 * files from the directory given (the run may still have its temporary
 * `.<run_id>.partial-*` name).
 *
 * @example
 * ```ts ignore
 * const path = await writeRunReport("data/runs/2025-12-31_ab12");
 * ```
 *
 * @throws {RunFolderReadError} When a required file of the folder is missing.
 */
export async function writeRunReport(
  runDir: string,
  opts: RunReportOptions = {},
): Promise<string> {
  const run = await readRunFolder(runDir);
  const html = await renderRunReport(run, opts);
  const path = joinPath(runDir, "report.html");
  await Deno.writeTextFile(path, html);
  return path;
}
