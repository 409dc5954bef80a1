/**
 * Charts of the movement analysis: a per-stage waterfall of a
 * reconciliation (IFRS 7 §35H / §35I) and the stage migration heat map.
 * Both render server-side through `lib/plot/`, with a legend of their
 * colours; the heat map uses a threshold colour scale because a
 * continuous one cannot be drawn without a canvas. Amounts are drawn in
 * thousands or millions of the reporting currency (`AmountUnit`), named on
 * the axis, like the tables of the movement page.
 *
 * @module
 */
import {
  Plot,
  type PlotFigure,
  renderPlot,
  waterfallMarks,
} from "../plot/mod.ts";
import {
  type AmountUnit,
  amountUnit,
  formatCount,
  formatInUnit,
  formatPercent,
  formatTick,
  unitLabel,
} from "../format.ts";
import type {
  MigrationCell,
  MigrationState,
  Reconciliation,
  StageColumn,
} from "./reconciliation.ts";

/** Short labels for the waterfall's x axis, by line key. */
const SHORT: Record<string, string> = {
  opening: "Opening",
  transfer_to_stage_1: "→ S1",
  transfer_to_stage_2: "→ S2",
  transfer_to_stage_3: "→ S3",
  transfer_to_simplified: "→ Simpl.",
  remeasurement_transferred: "Remeas. transf.",
  new_originated: "New",
  derecognised: "Derecog.",
  write_off: "Write-offs",
  recoveries: "Recoveries",
  remeasurement: "Remeas.",
  fx: "FX",
  closing: "Closing",
};

/** The short label of a line; the gross table's remainder is balances. */
function shortLabel(r: Reconciliation, key: string): string {
  return r.measure === "gross_carrying_amount" && key === "remeasurement"
    ? "Balances"
    : SHORT[key];
}

/** Which column of a reconciliation a waterfall shows. */
export type WaterfallColumn = StageColumn | "total";

/** One bar of a waterfall: from `y1` to `y2`. */
export interface WaterfallStep {
  line: string;
  label: string;
  y1: number;
  y2: number;
  amount: number;
  /** Transfers move allowance between stages; they are no charge. */
  kind: "balance" | "transfer" | "increase" | "decrease";
}

/**
 * The waterfall steps of one column of a reconciliation: opening and
 * closing bars from zero, each movement a floating bar from the running
 * balance. In the total column the transfer lines are left out: they net
 * to zero across stages (docs/movement.md §4). Lines named in `skip` are
 * left out too (the page leaves out the transfer to the simplified
 * approach when no facility changed approach).
 */
export function waterfallSteps(
  r: Reconciliation,
  column: WaterfallColumn = "total",
  skip: readonly string[] = [],
): WaterfallStep[] {
  const steps: WaterfallStep[] = [];
  let running = 0;
  for (const l of r.lines) {
    if (column === "total" && l.key.startsWith("transfer_")) continue;
    if (skip.includes(l.key)) continue;
    const v = column === "total" ? l.total : l.by_stage[column];
    const balance = l.key === "opening" || l.key === "closing";
    const y1 = balance ? 0 : running;
    const y2 = balance ? v : running + v;
    running = y2;
    steps.push({
      line: l.key,
      label: shortLabel(r, l.key),
      y1,
      y2,
      amount: v,
      kind: balance
        ? "balance"
        : l.key.startsWith("transfer_")
        ? "transfer"
        : v >= 0
        ? "increase"
        : "decrease",
    });
  }
  return steps;
}

/** The kinds of waterfall bars, in the order of the legend. */
const KINDS: WaterfallStep["kind"][] = [
  "balance",
  "transfer",
  "increase",
  "decrease",
];
/** Allowance: an increase is a charge (red), a decrease a release (green). */
const ALLOWANCE_COLORS: Record<WaterfallStep["kind"], string> = {
  balance: "#2b5c8a",
  transfer: "#9aa5b5",
  increase: "#b8322a",
  decrease: "#2e7d5b",
};
/** Gross carrying amount: no charge or release, neutral colours. */
const GROSS_COLORS: Record<WaterfallStep["kind"], string> = {
  balance: "#2b5c8a",
  transfer: "#9aa5b5",
  increase: "#5b8fc7",
  decrease: "#d0a35a",
};

/** Options of {@link waterfallChart}. */
export interface WaterfallOptions {
  /** The stage column, or the total. @default "total" */
  column?: WaterfallColumn;
  /** Lines left out (see {@link waterfallSteps}). @default [] */
  skip?: readonly string[];
  /**
   * Thousands or millions: the unit of the page. @default the unit of the
   * reconciliation's largest line
   */
  unit?: AmountUnit;
}

/** The unit of a reconciliation's amounts, from its largest line. */
export function reconciliationUnit(r: Reconciliation): AmountUnit {
  return amountUnit(r.lines.map((l) => l.total));
}

/**
 * The waterfall of one stage (or the total) of a reconciliation: opening
 * balance, each movement, closing balance, each stage on its own scale so
 * that a small stage 3 stays readable beside a large stage 1. Increases
 * of the allowance are red (a charge), decreases green (a release or use),
 * transfers between stages grey; the legend says so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { waterfallChart } from "./charts.ts";
 *
 * const line = (key: "opening" | "new_originated" | "closing", total: number) =>
 *   ({ key, label: key, by_stage: { "1": total, "2": 0, "3": 0, simplified: 0 }, total });
 * const fig = waterfallChart({
 *   measure: "allowance",
 *   lines: [line("opening", 1_250_000), line("new_originated", 30_000), line("closing", 1_280_000)],
 * }, "EUR");
 * assert.match(fig.html, /loss allowance \(EUR thousands\)/);
 * assert.match(fig.html, />1,280\.0</);
 * assert.match(fig.html, />Increase: charge</);
 * ```
 */
export function waterfallChart(
  r: Reconciliation,
  currency: string,
  opts: WaterfallOptions = {},
): PlotFigure {
  const unit = opts.unit ?? reconciliationUnit(r);
  const steps = waterfallSteps(r, opts.column ?? "total", opts.skip ?? []);
  const allowance = r.measure === "allowance";
  const what = allowance ? "loss allowance" : "gross carrying amount";
  return renderPlot({
    width: 600,
    height: 280,
    marginLeft: 56,
    marginTop: 28,
    marginBottom: 58,
    x: { label: null, domain: steps.map((d) => d.label), tickRotate: -30 },
    y: {
      label: `${what} (${unitLabel(currency, unit)})`,
      grid: true,
      tickFormat: formatTick,
    },
    color: {
      legend: true,
      // The kinds this waterfall draws (the total has no transfers), each
      // in its colour.
      domain: KINDS.filter((k) => steps.some((d) => d.kind === k)),
      range: KINDS.filter((k) => steps.some((d) => d.kind === k))
        .map((k) => (allowance ? ALLOWANCE_COLORS : GROSS_COLORS)[k]),
      tickFormat: (kind: WaterfallStep["kind"]) =>
        ({
          balance: "Opening / closing",
          transfer: "Transfer between stages",
          increase: allowance ? "Increase: charge" : "Increase",
          decrease: allowance ? "Decrease: release or use" : "Decrease",
        })[kind],
    },
    marks: waterfallMarks(steps, "label", unit),
  });
}

const FROM_ORDER: MigrationState[] = ["1", "2", "3", "simplified", "new"];
const TO_ORDER: MigrationState[] = [
  "1",
  "2",
  "3",
  "simplified",
  "written_off",
  "derecognised",
];
const STATE_LABEL: Record<MigrationState, string> = {
  "1": "Stage 1",
  "2": "Stage 2",
  "3": "Stage 3",
  simplified: "Simplified",
  new: "New",
  derecognised: "Derecognised",
  written_off: "Written off",
};

/**
 * The states a matrix shows in order: every state but `simplified`, which
 * only when a cell holds it (a book without receivables on the simplified
 * approach keeps the four-by-five matrix).
 */
export function migrationStates(
  cells: MigrationCell[],
): { from: MigrationState[]; to: MigrationState[] } {
  const simplified = cells.some((c) =>
    c.from === "simplified" || c.to === "simplified"
  );
  const keep = (s: MigrationState) => simplified || s !== "simplified";
  return { from: FROM_ORDER.filter(keep), to: TO_ORDER.filter(keep) };
}

/** A migration state's label: `Stage 1`, `Simplified`, `Written off`. */
export function migrationStateLabel(s: MigrationState): string {
  return STATE_LABEL[s];
}

/**
 * The stage migration matrix as a heat map: rows the opening state, columns
 * the closing state, each cell's shade its share of the row's facilities
 * (in five classes, with their legend), labelled with the count, that
 * share and the gross carrying amount (at opening; at closing for new
 * facilities) in `unit` (by default the unit of the largest row).
 */
export function migrationHeatmap(
  cells: MigrationCell[],
  unit?: AmountUnit,
): PlotFigure {
  const rowTotal = new Map<string, number>();
  const rowGross = new Map<string, number>();
  const gross = (c: MigrationCell) =>
    c.from === "new" ? c.gross_closing : c.gross_opening;
  for (const c of cells) {
    rowTotal.set(c.from, (rowTotal.get(c.from) ?? 0) + c.count);
    rowGross.set(c.from, (rowGross.get(c.from) ?? 0) + gross(c));
  }
  const shown = unit ?? amountUnit(rowGross.values());
  const data = cells.map((c) => {
    const share = c.count / (rowTotal.get(c.from) || 1);
    return {
      from: STATE_LABEL[c.from],
      to: STATE_LABEL[c.to],
      share,
      label: `${formatCount(c.count)} · ${formatPercent(share)}\n${
        formatInUnit(gross(c), shown)
      }`,
    };
  });
  const states = migrationStates(cells);
  return renderPlot({
    width: 640 + (states.to.length - 5) * 110,
    height: 300 + (states.from.length - 4) * 60,
    marginLeft: 90,
    marginTop: 40,
    x: {
      label: "closing state",
      axis: "top",
      domain: states.to.map((s) => STATE_LABEL[s]),
    },
    y: {
      label: "opening state",
      domain: states.from.map((s) => STATE_LABEL[s]),
    },
    color: {
      type: "threshold",
      legend: true,
      label: "share of the opening state's facilities",
      tickFormat: "~%",
      domain: [0.05, 0.2, 0.5, 0.8],
      range: ["#eef3f8", "#c6d9ec", "#8fb3d9", "#4f86bf", "#23568f"],
    },
    marks: [
      Plot.cell(data, { x: "to", y: "from", fill: "share", inset: 1 }),
      // Two text marks, light on dark cells, so labels stay legible.
      ...[true, false].map((dark) =>
        Plot.text(data.filter((d) => (d.share >= 0.5) === dark), {
          x: "to",
          y: "from",
          text: "label",
          fill: dark ? "white" : "#1f2937",
          lineHeight: 1.2,
        })
      ),
    ],
  });
}
