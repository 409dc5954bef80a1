/**
 * The stand-alone sensitivity table (`deno task sensitivity`,
 * docs/sensitivity.md): a portfolio read and validated like a run's
 * (lib/io, lib/validation, the rules' PD sources), the table of
 * {@link sensitivityAnalysis} over its valid rows, written as the folder
 * `out` (`sensitivity.json`, `sensitivity.html`, `sensitivity.csv`), whole
 * or not at all (`writeOutputFolder`).
 *
 * The order is a run's: the output folder and the rules are checked
 * before any data is read; a rejected share above
 * `validation.max_reject_rate` fails (exit code 1) before anything is
 * computed. The FX table is `fx` when given, else the one of the
 * validated reporting date (IAS 21 §23): `fx_rates_<date>.yaml` beside
 * the portfolio, else in the project's `config/`, else
 * `config/fx_rates.yaml`, as a run chooses it.
 *
 * @module
 */
import { dirname } from "node:path";
import type { DataQualityReport } from "../validation/mod.ts";
import {
  assertRejectRate,
  requireColumns,
  validatePortfolio,
} from "../validation/mod.ts";
import { loadRules } from "../rules.ts";
import { fxDateWarning, fxFileFor, loadFx } from "../fx.ts";
import { projectPath } from "../project.ts";
import { scanPortfolio } from "../io/mod.ts";
import {
  applyPdSources,
  loadPdSources,
  preparePdSourceFrame,
} from "../pd_model/pd_source.ts";
import {
  checkOutputFolder,
  type SensitivityLine,
  type SensitivitySummary,
  writeOutputFolder,
} from "../run_folder/mod.ts";
import { sensitivityPage } from "../report/sensitivity_section.ts";
import { sensitivityAnalysis, type Summarizer } from "./analysis.ts";

/** The files of a sensitivity folder. */
export const SENSITIVITY_FILES = {
  /** The table and its inputs, amounts unrounded (to the cent and below). */
  json: "sensitivity.json",
  /** The page: the table and the chart. */
  html: "sensitivity.html",
  /** One row per line, amounts with two decimals. */
  csv: "sensitivity.csv",
} as const;

/** Options of {@link runSensitivity}. */
export interface RunSensitivityOptions {
  /** The portfolio file (CSV, Parquet or Arrow IPC). */
  portfolio: string;
  /** The rules file; without a `sensitivity:` section, each scenario alone. */
  rules: string;
  /** The FX table. @default the reporting date's, as a run chooses it */
  fx?: string;
  /** The folder written. */
  out: string;
  /** lib/run's `summarize` (see {@link Summarizer}). */
  summarize: Summarizer;
  /** Limits for an untrusted portfolio, as a run's `--max-bytes`. */
  maxBytes?: number;
  /** See `maxBytes`. */
  maxRows?: number;
  /** Called when a line starts, with its kind and name. */
  onLine?: (kind: SensitivityLine["kind"], name: string) => void;
}

/** What `sensitivity.json` holds. */
export interface SensitivityFile {
  /** The portfolio file. */
  portfolio: string;
  /** The rules file. */
  rules: string;
  /** The FX table's path and as-of date. */
  fx: { file: string; as_of: string };
  /** The reporting date `YYYY-MM-DD`. */
  reporting_date: string;
  /** Rows read, valid (computed) and rejected by validation. */
  rows: { read: number; valid: number; rejected: number };
  /** Warnings (an FX table not as of the reporting date). */
  warnings: string[];
  /** The table. */
  sensitivity: SensitivitySummary;
}

/** The CSV's columns, in order. */
export const SENSITIVITY_CSV_COLUMNS = [
  "kind",
  "name",
  "variant",
  "staging",
  "ecl",
  "ecl_model",
  "change_vs_weighted",
  "ecl_stage_1",
  "ecl_stage_2",
  "ecl_stage_3",
  "count_stage_1",
  "count_stage_2",
  "count_stage_3",
] as const;

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
const field = (v: string) =>
  /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;

/** The table as CSV text (amounts in the reporting currency, two decimals). */
export function sensitivityCsv(s: SensitivitySummary): string {
  const stage = (l: SensitivityLine, key: string) =>
    l.by_stage.find((g) => g.key === key) ?? { count: 0, ecl: 0 };
  const rows = s.lines.map((l) =>
    [
      l.kind,
      l.name,
      field(l.variant),
      l.staging,
      l.ecl.toFixed(2),
      l.ecl_model.toFixed(2),
      l.change_vs_weighted.toFixed(2),
      ...["1", "2", "3"].map((k) => stage(l, k).ecl.toFixed(2)),
      ...["1", "2", "3"].map((k) => String(stage(l, k).count)),
    ].join(",")
  );
  return [SENSITIVITY_CSV_COLUMNS.join(","), ...rows].join("\n") + "\n";
}

/**
 * Validates `portfolio`, computes its sensitivity table and writes the
 * folder `out`.
 *
 * @throws {OutputLocationError} when `out` cannot take the output (before
 *   anything is read).
 * @throws {RulesError | FxError | PortfolioReadError} for a broken input,
 *   naming it and the key or row.
 * @throws {RejectRateError} when too many rows are rejected.
 */
export async function runSensitivity(
  opts: RunSensitivityOptions,
): Promise<{ file: SensitivityFile; dir: string }> {
  const inputs = [opts.portfolio, opts.rules, ...(opts.fx ? [opts.fx] : [])];
  const files = Object.values(SENSITIVITY_FILES);
  await checkOutputFolder(opts.out, files, { inputs });
  const rules = await loadRules(opts.rules);
  const pdSources = await loadPdSources(rules, opts.rules);
  const given = opts.fx === undefined ? undefined : await loadFx(opts.fx);
  const scanned = preparePdSourceFrame(
    scanPortfolio(opts.portfolio, {
      maxBytes: opts.maxBytes,
      maxRows: opts.maxRows,
    }),
    pdSources,
    opts.portfolio,
    rules,
  );
  requireColumns(scanned, opts.portfolio, rules);
  const scored = (await applyPdSources(scanned, pdSources, rules, {
    file: opts.portfolio,
  })).frame;
  const validation = await validatePortfolio(scored, rules, {
    file: opts.portfolio,
  });
  const report: DataQualityReport = validation.report;
  assertRejectRate(report);
  const reportingDate = report.reporting_date ?? "";
  const fx = given ?? await loadFx(
    await fxFileFor(reportingDate, [
      dirname(opts.portfolio),
      projectPath("config"),
    ]),
  );
  const warning = fxDateWarning(fx, reportingDate);
  const sensitivity = await sensitivityAnalysis(
    validation.valid.lazy(),
    rules,
    fx,
    { reportingDate, summarize: opts.summarize, onLine: opts.onLine },
  );
  const file: SensitivityFile = {
    portfolio: opts.portfolio,
    rules: opts.rules,
    fx: { file: fx.file, as_of: fx.as_of },
    reporting_date: reportingDate,
    rows: {
      read: report.rows_read,
      valid: report.rows_valid,
      rejected: report.rows_rejected,
    },
    warnings: warning === null ? [] : [warning],
    sensitivity,
  };
  const { folder } = await writeOutputFolder(
    opts.out,
    files,
    async (_, out) => {
      await out.text(
        SENSITIVITY_FILES.json,
        JSON.stringify(file, null, 2) + "\n",
      );
      await out.text(
        SENSITIVITY_FILES.html,
        sensitivityPage(sensitivity, {
          portfolio: opts.portfolio,
          rules: opts.rules,
          fx: fx.file,
          reportingDate,
          facilities: report.rows_valid,
        }),
      );
      await out.text(SENSITIVITY_FILES.csv, sensitivityCsv(sensitivity));
    },
    { inputs: [...inputs, fx.file] },
  );
  return { file, dir: folder.href };
}
