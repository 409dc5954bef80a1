/**
 * `report.html` of a run folder: one self-contained page with the headline
 * numbers, the change since the previous run of the same book
 * (`compare.ts`), the charts, the summary tables, the data-quality section
 * and the run manifest (architecture.md, "A run's outputs"). Amounts are
 * in thousands or millions of the reporting currency, the unit named in
 * each heading; the run folder's files keep them to the cent.
 *
 * @module
 */
import {
  chartSource,
  missingRateCurrencies,
  runCharts,
  summaryUnit,
} from "./charts.ts";
import {
  bookName,
  comparisonSection,
  findPreviousRun,
  noComparisonSection,
  type PreviousRun,
  readGivenRun,
} from "./compare.ts";
import {
  type AmountUnit,
  formatCount,
  formatInUnit,
  formatPercent,
  unitLabel,
} from "../format.ts";
import {
  badge,
  cards,
  chart,
  type Column,
  details,
  grid,
  type Markup,
  markup,
  note,
  page,
  section,
  table,
  warningList,
} from "../page.ts";
import { raw } from "hono/html";
import type { PlotFigure } from "../plot/mod.ts";
import { fxDateWarning } from "../fx.ts";
import type { RuleReport } from "../validation/mod.ts";
import {
  type CurrencyGroup,
  type Group,
  locate,
  type Location,
  type Manifest,
  overlayWarnings,
  readRunFolder,
  RUN_FILES,
  type RunFolder,
  RunFolderReadError,
  type Summary,
} from "../run_folder/mod.ts";
import { type Narrative, narrativeSection } from "../narrative/mod.ts";
import { UserError } from "../errors.ts";
import { CAPITAL_SECTION_ID, capitalSection } from "../capital/report.ts";
import { disclosuresOf, ifrs7Section } from "../disclosure/mod.ts";
import {
  SENSITIVITY_SECTION_ID,
  sensitivitySection,
} from "./sensitivity_section.ts";

/** Options of {@link writeRunReport} and {@link renderRunReport}. */
export interface RunReportOptions {
  /**
   * The manifest as it stands while the run is still writing its folder
   * (the run writes manifest.json after the report). When absent the
   * folder's manifest.json is used, if there is one.
   */
  manifest?: Manifest;
  /**
   * The run folder to compare with (an earlier reporting date, the same
   * reporting currency); `false` for no comparison. When absent, the
   * latest complete run of the same book beside this one, if any
   * (`compare.ts` says what "the same book" is).
   */
  compare?: string | Location | false;
  /**
   * Sections the run's plugins add (their `onReport` hooks,
   * docs/plugins.md), in order, after the run's own: each title is
   * escaped, each body is the plugin's HTML as given.
   */
  sections?: readonly { title: string; html: string }[];
  /**
   * The run's narrative (lib/narrative), shown after the headline with
   * who wrote it; none when absent.
   */
  narrative?: Narrative | null;
}

function groupTable(
  title: string,
  groups: Group[],
  s: Summary,
  keyLabel: string,
  unit: AmountUnit,
): Markup {
  const totals = s.totals;
  const amount = (v: number) => formatInUnit(v, unit);
  const cols: Column<Group>[] = [
    { label: keyLabel, value: (g) => g.key },
    { label: "Facilities", value: (g) => formatCount(g.count), numeric: true },
    {
      label: "Gross carrying amount",
      value: (g) => amount(g.gross_carrying_amount),
      numeric: true,
    },
    { label: "EAD", value: (g) => amount(g.ead), numeric: true },
    { label: "ECL", value: (g) => amount(g.ecl), numeric: true },
    {
      label: "Loss allowance",
      value: (g) => amount(g.loss_allowance),
      numeric: true,
    },
    {
      label: "Provision",
      value: (g) => amount(g.provision),
      numeric: true,
    },
    {
      label: "Coverage",
      value: (g) => formatPercent(g.coverage),
      numeric: true,
    },
    {
      label: "Share of ECL",
      value: (g) => formatPercent(totals.ecl > 0 ? g.ecl / totals.ecl : NaN),
      numeric: true,
    },
  ];
  return table(cols, groups, {
    caption: `${title} (${unitLabel(s.reporting_currency, unit)})`,
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
function overlayTable(s: Summary, unit: AmountUnit): Markup {
  if (s.overlays.length === 0) {
    return note("No post-model adjustment applied.");
  }
  const cur = unitLabel(s.reporting_currency, unit);
  const lines: OverlayLine[] = s.overlays.map((o) => ({
    name: o.name,
    reason: o.reason,
    adjustment: o.multiplier !== undefined
      ? `× ${o.multiplier}`
      : o.add !== undefined
      ? `${o.add < 0 ? "−" : "+"} ${formatInUnit(Math.abs(o.add), unit)}`
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
      // The reason wraps, so the figures on the right stay on screen
      // whatever a bank writes there.
      { label: "Overlay", value: (o) => o.name },
      { label: "Reason", value: (o) => o.reason, wrap: true },
      { label: `Adjustment (× or ${cur})`, value: (o) => o.adjustment },
      {
        label: "Facilities",
        value: (o) => o.facilities === null ? "" : formatCount(o.facilities),
        numeric: true,
      },
      {
        label: `ECL impact (${cur})`,
        value: (o) => formatInUnit(o.ecl_impact, unit, { signed: true }),
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

function currencyTable(
  groups: CurrencyGroup[],
  reporting: string,
  unit: AmountUnit,
): Markup {
  const amount = (v: number) => formatInUnit(v, unit);
  return table<CurrencyGroup>(
    [
      { label: "Currency", value: (g) => g.key },
      {
        label: "Facilities",
        value: (g) => formatCount(g.count),
        numeric: true,
      },
      {
        label: `EAD (local, ${unit.name})`,
        value: (g) => amount(g.ead_local),
        numeric: true,
      },
      {
        label: `ECL (local, ${unit.name})`,
        value: (g) => amount(g.ecl_local),
        numeric: true,
      },
      {
        label: `EAD (${unitLabel(reporting, unit)})`,
        value: (g) => amount(g.ead),
        numeric: true,
      },
      {
        label: `ECL (${unitLabel(reporting, unit)})`,
        value: (g) => amount(g.ecl),
        numeric: true,
      },
      {
        label: "Coverage",
        value: (g) => formatPercent(g.coverage),
        numeric: true,
      },
    ],
    groups,
    { caption: "By currency" },
  );
}

function dataQualitySection(
  run: RunFolder,
  dqChart: PlotFigure | null,
): Markup {
  const dq = run.dataQuality;
  if (!dq) {
    return section(
      "data-quality",
      "Data quality",
      note("This run folder has no data_quality.json."),
    );
  }
  const head = cards([
    { label: "Rows read", value: formatCount(dq.rows_read) },
    { label: "Rows valid", value: formatCount(dq.rows_valid) },
    { label: "Rows rejected", value: formatCount(dq.rows_rejected) },
    {
      label: "Reject rate",
      value: formatPercent(dq.reject_rate),
      note: `limit ${formatPercent(dq.max_reject_rate)}`,
    },
  ]);
  const ruleColumns: Column<RuleReport>[] = [
    { label: "Rule", value: (r) => r.code },
    { label: "Description", value: (r) => r.description, wrap: true },
    {
      label: "Rows checked",
      value: (r) => formatCount(r.rows_checked),
      numeric: true,
    },
    {
      label: "Rows failed",
      value: (r) => formatCount(r.rows_failed),
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
  return section("data-quality", "Data quality", [
    markup`<p>Validation of <code>${dq.file}</code>: ${
      dq.passed ? badge("ok", "passed") : badge("bad", "failed")
    }. Rejected rows are not computed; they are listed with every rule they broke in <code>rejected.parquet</code>.</p>`,
    head,
    warningList(dq.warnings ?? []),
    dqChart ? chart("chart-dq", "Rows failed by rule", dqChart) : note(
      `No validation rule failed: each of the ${
        formatCount(dq.rows_read)
      } rows read passed all ${dq.rules.length} rules.`,
    ),
    // Every rule is listed (a reviewer sees what was checked), the passing
    // ones folded away so the failures stay on screen.
    failing.length > 0 &&
    table(ruleColumns, failing, { caption: "Rules with failures" }),
    details(
      `${passing.length} rules without failures`,
      table(ruleColumns, passing),
    ),
  ]);
}

function manifestSection(run: RunFolder, given?: Manifest): Markup {
  const m = given ?? run.manifest;
  if (!m) {
    return section(
      "manifest",
      "Run manifest",
      note(
        "The manifest is written when the run completes; this report was produced before it.",
      ),
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
      {
        label: "Time (ms)",
        value: (r) => formatCount(r[1]),
        numeric: true,
      },
    ],
    Object.entries(m.timings_ms),
    { caption: "Timings" },
  );
  const facts = cards([
    { label: "Status", value: m.status },
    { label: "Run", value: m.run_id },
    { label: "Rows read", value: formatCount(m.rows.read) },
    { label: "Rows computed", value: formatCount(m.rows.computed) },
    { label: "Code version", value: m.code_version },
    {
      label: "Methodology",
      value: m.methodology_version === undefined
        ? "version 1"
        : `version ${m.methodology_version}`,
    },
  ]);
  const finished = m.finished_at
    ? `, finished ${m.finished_at}`
    : "; the report was written while the run was finishing, so the last steps and the final status are in manifest.json";
  return section("manifest", "Run manifest", [
    facts,
    note(`Started ${m.started_at}${finished}.`),
    warningList(m.warnings),
    grid([inputs, timings]),
  ]);
}

/**
 * Renders the report page of a run folder (no file written).
 *
 * @param run A run folder as read by `readRunFolder`.
 * @param opts The in-progress manifest, when the run has not written it;
 *   the run to compare with.
 * @returns The HTML text.
 * @throws {ComparisonError} When the run given to compare with reports in
 *   another currency or not at an earlier date.
 */
export async function renderRunReport(
  run: RunFolder,
  opts: RunReportOptions = {},
): Promise<string> {
  const s = run.summary;
  const t = s.totals;
  const unit = summaryUnit(s);
  const cur = unitLabel(s.reporting_currency, unit);
  const amount = (v: number) => formatInUnit(v, unit);
  const comparison = await previousPeriod(run, opts);
  // A facility whose currency has no rate would drop out of every chart's
  // sums without a trace; refuse instead, naming the currency.
  const missing = await missingRateCurrencies(chartSource(run));
  if (missing.length > 0) {
    throw new RunFolderReadError(
      run.dir,
      RUN_FILES.summary,
      `fx.rates has no rate for ${
        missing.join(", ")
      }, used by ${RUN_FILES.loanResults}`,
    );
  }
  const charts = await runCharts(run);
  const fxWarning = fxDateWarning(s.fx, s.reporting_date);
  const stage3 = s.by_stage.find((g) => g.key === "3");
  const warnings = [
    ...(fxWarning === null ? [] : [fxWarning]),
    ...overlayWarnings(s),
  ];
  const headline = section("headline", "Headline", [
    cards([
      {
        label: `Expected credit loss (${cur})`,
        value: amount(t.ecl),
        note: `model ${amount(t.ecl_model)}; overlays ${
          formatInUnit(t.ecl - t.ecl_model, unit, { signed: true })
        }`,
      },
      {
        label: `Loss allowance (${cur})`,
        value: amount(t.loss_allowance),
        note: "deducted from the gross carrying amount",
      },
      {
        label: `Provision (${cur})`,
        value: amount(t.provision),
        note: "ECL above the drawn amount: undrawn commitments",
      },
      {
        label: "Coverage",
        value: formatPercent(t.coverage),
        note: "ECL / gross carrying amount",
      },
      {
        label: `Gross carrying amount (${cur})`,
        value: amount(t.gross_carrying_amount),
      },
      { label: `EAD (${cur})`, value: amount(t.ead) },
      { label: "Facilities", value: formatCount(t.count) },
      {
        label: "Stage 3 share of EAD",
        value: formatPercent(stage3 && t.ead > 0 ? stage3.ead / t.ead : 0),
        note: `${formatCount(stage3?.count ?? 0)} credit-impaired facilities`,
      },
    ]),
    note(
      `Amounts in ${cur} (thousands or millions of the reporting currency, one decimal; the run folder's summary.json and loan_results.parquet hold them to the cent), converted from each facility's currency with the FX table ${s.fx.file} (as of ${s.fx.as_of}; rate = ${s.reporting_currency} per unit of the facility currency). Where a facility's ECL exceeds its gross carrying amount, the part up to it is loss allowance and the excess a provision (IFRS 7 B8E); coverage is ECL over the gross carrying amount.`,
    ),
    warningList(warnings),
  ]);
  const scenarios = section("scenarios", "Scenarios and overlays", [
    grid([
      chart(
        "chart-scenarios",
        `ECL per scenario, weighted and after overlays (${cur})`,
        charts.scenarios,
        "Each scenario's ECL is computed on its own PD path; the weighted figure is the probability-weighted ECL of IFRS 9 §5.5.17(a).",
      ),
      markup`<div>${
        table(
          [
            {
              label: "Scenario",
              value: (r: Summary["scenarios"][0]) => r.name,
            },
            {
              label: "Weight",
              value: (r) => formatPercent(r.weight),
              numeric: true,
            },
            {
              label: `ECL (${cur})`,
              value: (r) => amount(r.ecl),
              numeric: true,
            },
            {
              label: `Weighted contribution (${cur})`,
              value: (r) => amount(r.weight * r.ecl),
              numeric: true,
            },
          ],
          s.scenarios,
          { caption: "Scenarios" },
        )
      }</div>`,
    ]),
    overlayTable(s, unit),
  ]);
  const stages = section("stages", "Staging", [
    grid([
      chart(
        "chart-stages",
        "Stage distribution: facilities and EAD",
        charts.stages,
        stageNote(s.simplified_products),
      ),
      chart(
        "chart-ecl-stage",
        `ECL and coverage by stage (${cur})`,
        charts.eclByStage,
      ),
    ]),
    groupTable("By stage", s.by_stage, s, "Stage", unit),
  ]);
  const portfolio = section("portfolio", "Products, regions and segments", [
    grid([
      chart(
        "chart-ecl-product",
        `ECL and coverage by product (${cur})`,
        charts.eclByProduct,
      ),
      chart(
        "chart-ecl-region",
        `ECL and coverage by region (${cur})`,
        charts.eclByRegion,
      ),
    ]),
    groupTable("By product", s.by_product, s, "Product", unit),
    currencyTable(s.by_currency, s.reporting_currency, unit),
    details(
      `By region (${s.by_region.length})`,
      groupTable("By region", s.by_region, s, "Region", unit),
    ),
    details(
      `By segment (${s.by_segment.length})`,
      groupTable("By segment", s.by_segment, s, "Segment", unit),
    ),
  ]);
  // IFRS 7 §35M/§35K(c)/§35L tables, when the run's summary carries them.
  const ifrs7Tables = disclosuresOf(s);
  const ifrs7 = ifrs7Tables && ifrs7Section(ifrs7Tables, unit);
  const risk = section("parameters", "Risk parameters and concentrations", [
    grid([
      charts.pd === null ? noModelNote("12-month PD") : chart(
        "chart-pd",
        "12-month PD distribution (facilities, by stage)",
        charts.pd,
      ),
      charts.lgd === null ? noModelNote("LGD") : chart(
        "chart-lgd",
        "LGD distribution (facilities, by stage)",
        charts.lgd,
      ),
    ]),
    chart("chart-top", `Top 10 facilities by ECL (${cur})`, charts.top),
  ]);
  return page(
    {
      title: `IFRS 9 expected credit loss — ${s.reporting_date}`,
      subtitle: `Run ${s.run_id} · reporting date ${s.reporting_date} · ${
        formatCount(t.count)
      } facilities · amounts in ${cur}`,
      toc: [
        { id: "headline", label: "Headline" },
        ...(opts.narrative ? [{ id: "narrative", label: "Narrative" }] : []),
        ...(comparison.found
          ? [{
            id: "comparison",
            label: `Since ${comparison.found.summary.reporting_date}`,
          }]
          : []),
        { id: "stages", label: "Staging" },
        { id: "portfolio", label: "Portfolio" },
        { id: "scenarios", label: "Scenarios" },
        ...(s.sensitivity
          ? [{ id: SENSITIVITY_SECTION_ID, label: "Sensitivity" }]
          : []),
        { id: "parameters", label: "Risk parameters" },
        ...(s.capital
          ? [{ id: CAPITAL_SECTION_ID, label: "IRB capital" }]
          : []),
        ...(ifrs7 ? [{ id: "ifrs7", label: "IFRS 7 credit risk" }] : []),
        { id: "data-quality", label: "Data quality" },
        { id: "manifest", label: "Manifest" },
        ...(opts.sections ?? []).map((x, i) => ({
          id: `plugin-${i + 1}`,
          label: x.title,
        })),
      ],
      footer:
        "Generated from run folder files summary.json, loan_results.parquet, data_quality.json and manifest.json.",
    },
    [
      headline,
      opts.narrative && narrativeSection(opts.narrative),
      comparison.found
        ? comparisonSection(s, comparison.found, unit)
        : comparison.reason && noComparisonSection(comparison.reason),
      stages,
      portfolio,
      scenarios,
      s.sensitivity && sensitivitySection(s.sensitivity, unit),
      risk,
      s.capital && capitalSection(s.capital, s.reporting_currency, unit),
      ifrs7,
      dataQualitySection(run, charts.dataQuality),
      manifestSection(run, opts.manifest),
      ...(opts.sections ?? []).map((x, i) =>
        // The plugin's HTML as given (it escapes its own text); the
        // page's Content-Security-Policy still runs no script.
        section(`plugin-${i + 1}`, x.title, raw(x.html))
      ),
    ],
  );
}

/**
 * The run to compare with (given, or found beside the run), or why there
 * is none: a sentence for the page, or nothing when the caller asked for
 * no comparison.
 */
async function previousPeriod(
  run: RunFolder,
  opts: RunReportOptions,
): Promise<{ found: PreviousRun | null; reason?: string }> {
  if (opts.compare === false) return { found: null };
  if (opts.compare !== undefined) {
    return { found: await readGivenRun(opts.compare, run.summary) };
  }
  const manifest = opts.manifest ?? run.manifest;
  if (manifest === null || manifest === undefined) {
    return {
      found: null,
      reason:
        "This run folder has no manifest.json naming its portfolio, so no earlier run of the same book can be found; give one to compare with (deno task run --compare RUN_DIR, or writeRunReport's compare option).",
    };
  }
  const found = await findPreviousRun(run.dir, run.summary, manifest);
  return found ? { found } : {
    found: null,
    reason: `No complete run of the book ${
      bookName(manifest.inputs.portfolio.path)
    } under the same rules file and methodology with a reporting date before ${run.summary.reporting_date} beside this run folder, so there is nothing to compare with. Runs of one book have their portfolio files in one folder, with one name once its date is taken out, and one reporting currency; give another run to compare with by deno task run --compare RUN_DIR.`,
  };
}

/**
 * A run folder's `narrative.json`, checked for what the page shows.
 *
 * @throws {UserError} of kind `input` naming `where` when it is not JSON
 *   or has no text.
 */
function parseNarrative(text: string, where: string): Narrative {
  let n: Narrative;
  try {
    n = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      "input",
      `Cannot read ${where}: not valid JSON (${
        (e as Error).message
      }); delete it or run the portfolio again`,
    );
  }
  if (
    typeof n !== "object" || n === null || typeof n.text !== "string" ||
    typeof n.provider !== "string" || typeof n.facts !== "object" ||
    n.facts === null
  ) {
    throw new UserError(
      "input",
      `Cannot read ${where}: keys text, provider and facts are missing or of the wrong type; delete it or run the portfolio again`,
    );
  }
  return n;
}

/**
 * Writes `report.html` into a run folder and returns its path. Reads the
 * files from the directory given (the run may still have its temporary
 * `.<run_id>.partial-*` name). `runPortfolio` writes the page of a new
 * run itself; this redraws the page of an existing run folder, compared
 * with the run given as `compare` or found beside it (`compare.ts`).
 *
 * @throws {UserError} of kind `input` naming the file when the folder's
 *   `narrative.json` is not valid JSON or lacks its text.
 * @throws {RunFolderReadError} When a required file of the folder, or the
 *   summary.json of the run to compare with, is missing.
 * @throws {ComparisonError} When the run given to compare with reports in
 *   another currency or not at an earlier date.
 */
export async function writeRunReport(
  runDir: string | Location,
  opts: RunReportOptions = {},
): Promise<string> {
  const folder = locate(runDir);
  // The narrative the run wrote, unless one is given.
  const narrative = opts.narrative !== undefined ||
      !(await folder.list()).includes(RUN_FILES.narrative)
    ? opts.narrative
    : parseNarrative(
      await folder.readText(RUN_FILES.narrative),
      folder.child(RUN_FILES.narrative).href,
    );
  const html = await renderRunReport(await readRunFolder(folder), {
    ...opts,
    narrative,
  });
  await folder.writeText(RUN_FILES.report, html);
  return folder.child(RUN_FILES.report).href;
}

/**
 * What the stages mean, and for products on the simplified approach what
 * they mean there: lifetime ECL from a provision matrix without any SICR
 * assessment (IFRS 9 §5.5.15), so their stage 2 says "not credit-impaired"
 * rather than "significant increase in credit risk".
 */
function stageNote(simplified: readonly string[]): string {
  const general =
    "Stage 1: 12-month ECL; stage 2: significant increase in credit risk, lifetime ECL; stage 3: credit-impaired (IFRS 9 §5.5.3, §5.5.5).";
  return simplified.length === 0
    ? general
    : `${general} ${
      simplified.join(", ")
    }: simplified approach (IFRS 9 §5.5.15), lifetime ECL from a provision matrix without a SICR assessment; stage 2 there means not credit-impaired.`;
}

/** In place of a PD or LGD chart when no facility has that model. */
function noModelNote(parameter: string) {
  return note(
    `No ${parameter} distribution: every facility is on the simplified approach (provision matrix), which has no ${parameter} model.`,
  );
}
