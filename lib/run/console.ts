/**
 * What the run, demo and bench tasks print: a progress line on a terminal,
 * the headline tables, and errors as one clear message without a stack
 * trace (a batch scheduler's log should say what is wrong, not where in the
 * code it was noticed).
 *
 * @module
 */
import type { RunProgress } from "./run.ts";
import type { Group, Summary } from "../run_folder/mod.ts";
import type { DataQualityReport } from "../validation/mod.ts";
import { formatAmount, formatCount, formatPercent } from "../format.ts";
import { UserError } from "../errors.ts";

/** A one-line progress display; see {@link progressLine}. */
export interface ProgressLine {
  /** Shows the step now running (pass as `onStep`). */
  step: (name: string) => void;
  /** Shows loans done, total and rate (pass as `onProgress`). */
  update: (p: RunProgress) => void;
  /** Ends the line. */
  done: () => void;
}

/**
 * A progress display that rewrites one line on `stream` with the running
 * step, then what is done, the total and the rate (at most every 100 ms),
 * when `stream` is a terminal; a no-op otherwise, so logs of scheduled runs
 * stay clean. `activity` and `unit` name the work: "computing ECL" over
 * "loans" for a run, "generating" over "rows" for the generator.
 */
export function progressLine(
  stream: { isTerminal(): boolean; writeSync(p: Uint8Array): number } =
    Deno.stderr,
  { activity = "computing ECL", unit = "loans" } = {},
): ProgressLine {
  if (!stream.isTerminal()) {
    return { step: () => {}, update: () => {}, done: () => {} };
  }
  const enc = new TextEncoder();
  let last = 0;
  let shown = false;
  return {
    step(name) {
      shown = true;
      stream.writeSync(enc.encode(`\r\x1b[2K${name.replaceAll("_", " ")} ...`));
    },
    update(p) {
      const now = performance.now();
      if (now - last < 100 && p.loansDone < p.loansTotal) return;
      last = now;
      shown = true;
      const rate = p.elapsedMs > 0 ? p.loansDone / (p.elapsedMs / 1000) : 0;
      stream.writeSync(enc.encode(
        `\r\x1b[2K${activity}: ${formatCount(p.loansDone)} / ${
          formatCount(p.loansTotal)
        } ${unit}, ${formatCount(rate)} ${unit}/s`,
      ));
    },
    done() {
      if (shown) stream.writeSync(enc.encode("\n"));
    },
  };
}

/** Pads cells into aligned columns; numbers right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))
      .join("  ");
  return [
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(
      line,
    ),
  ].join("\n");
}

/** The figures of a row of {@link stageTable} that must be numbers. */
const STAGE_TABLE_FIGURES = [
  "count",
  "gross_carrying_amount",
  "ead",
  "ecl",
  "loss_allowance",
  "provision",
] as const;

/**
 * The headline ECL table by stage, in the reporting currency: ECL split
 * into loss allowance and provision (IFRS 7 B8E), coverage on the gross
 * carrying amount (methodology §9).
 *
 * An analyst ties these figures to the run's files, so a figure that is
 * not a finite number (NaN, Infinity, or null where `summary.json` wrote a
 * non-finite total) is not printed as a dash: the table is refused, naming
 * the key. A run never publishes such a summary (`lib/run/finite.ts`); a
 * coverage of null (an undrawn book has no ratio) shows as a dash.
 *
 * @throws {UserError} of kind `check`, naming the summary key and value.
 */
export function stageTable(summary: Summary): string {
  const row = (label: string, g: Omit<Group, "key">, key: string) => {
    for (const f of STAGE_TABLE_FIGURES) {
      const v = g[f] as unknown;
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new UserError(
          "check",
          `Cannot print the ECL by stage of run ${summary.run_id}: summary.json ${key}.${f} is ${v}, not a finite number (a run publishes no such figure: recompute the run)`,
        );
      }
    }
    if (typeof g.coverage === "number" && !Number.isFinite(g.coverage)) {
      throw new UserError(
        "check",
        `Cannot print the ECL by stage of run ${summary.run_id}: summary.json ${key}.coverage is ${g.coverage}, not a finite number (a run publishes no such figure: recompute the run)`,
      );
    }
    return tableRow(label, g);
  };
  const tableRow = (label: string, g: Omit<Group, "key">) => [
    label,
    formatCount(g.count),
    formatAmount(g.gross_carrying_amount),
    formatAmount(g.ead),
    formatAmount(g.ecl),
    formatAmount(g.loss_allowance),
    formatAmount(g.provision),
    formatPercent(g.coverage),
  ];
  const rows = summary.by_stage.map((g, i) =>
    row(`stage ${g.key}`, g, `by_stage[${i}]`)
  );
  rows.push(row("total", summary.totals, "totals"));
  return `ECL by stage (${summary.reporting_currency}, reporting date ${summary.reporting_date}; FX ${summary.fx.file} as of ${summary.fx.as_of}; coverage = ECL / gross carrying amount)\n` +
    table(
      [
        "",
        "loans",
        "gross carrying",
        "EAD",
        "ECL",
        "loss allowance",
        "provision",
        "coverage",
      ],
      rows,
    );
}

/** One warning as the tasks print it. */
export function warningLine(warning: string): string {
  return `warning: ${warning}`;
}

/** The data-quality summary: rows read, valid, rejected, and failing rules. */
export function dataQualityTable(report: DataQualityReport): string {
  const head = `Data quality of ${report.file}: ${
    formatCount(report.rows_read)
  } rows read, ${formatCount(report.rows_valid)} valid, ${
    formatCount(report.rows_rejected)
  } rejected (${formatPercent(report.reject_rate)}, limit ${
    formatPercent(report.max_reject_rate)
  }): ${report.passed ? "passed" : "FAILED"}`;
  const warnings = report.warnings.map((w) => `\n${warningLine(w)}`).join("");
  const failing = report.rules.filter((r) => r.rows_failed > 0);
  if (failing.length === 0) return head + warnings;
  return head + warnings + "\n" + table(
    ["rule", "rows failed", "examples"],
    failing.map((r) => [
      r.code,
      formatCount(r.rows_failed),
      r.examples.slice(0, 3).join(", "),
    ]),
  );
}
