/**
 * The ECL walk on the movement's page (docs/movement.md §6, ECL walk): a
 * waterfall from the opening to the closing ECL, one bar per driver in the
 * walk's order (increases of the allowance red, decreases green, as the
 * movement's waterfalls), the table of the steps by closing stage with the
 * facilities each changed, the PD and exposure effects in both orders side
 * by side, the steps by product and the facilities behind each step.
 *
 * @module
 */
import {
  type AmountUnit,
  amountUnit,
  formatCount,
  formatInUnit,
  formatTick,
  unitLabel,
} from "../format.ts";
import { type PlotFigure, renderPlot, waterfallMarks } from "../plot/mod.ts";
import { chart, details, type Markup, note, section, table } from "../page.ts";
import { WALK_DRIVERS } from "./drivers.ts";
import type { Walk, WalkStep } from "./walk.ts";

/** Short x-axis labels of the waterfall, by driver. */
const SHORT: Record<string, string> = {
  opening: "Opening",
  derecognised: "Derecog.",
  new: "New",
  stage: "Stage",
  exposure: "Exposure",
  pd: "PD",
  lgd: "LGD",
  scenarios: "Scenarios",
  rules: "Rules",
  overlays: "Overlays",
  fx: "FX",
  write_off: "Write-offs",
  closing: "Closing",
};

const COLORS = { balance: "#2b5c8a", increase: "#b8322a", decrease: "#2e7d5b" };

/** The unit the walk's amounts are shown in. */
export function walkUnit(walk: Walk): AmountUnit {
  return amountUnit([walk.opening, walk.closing]);
}

/** The walk's waterfall: opening, one bar per driver, closing. */
export function walkChart(walk: Walk, unit = walkUnit(walk)): PlotFigure {
  let level = walk.opening;
  const steps = [
    {
      label: SHORT.opening,
      y1: 0,
      y2: walk.opening,
      amount: walk.opening,
      kind: "balance",
    },
    ...walk.steps.map((s) => {
      const bar = {
        label: SHORT[s.driver] ?? s.driver,
        y1: level,
        y2: level + s.amount,
        amount: s.amount,
        kind: s.amount >= 0 ? "increase" : "decrease",
      };
      level += s.amount;
      return bar;
    }),
    {
      label: SHORT.closing,
      y1: 0,
      y2: walk.closing,
      amount: walk.closing,
      kind: "balance",
    },
  ];
  const kinds = (["balance", "increase", "decrease"] as const).filter((k) =>
    steps.some((s) => s.kind === k)
  );
  return renderPlot({
    width: 900,
    height: 320,
    marginLeft: 64,
    marginTop: 28,
    marginBottom: 58,
    x: { label: null, domain: steps.map((s) => s.label), tickRotate: -30 },
    y: {
      label: `ECL (${unitLabel(walk.reporting_currency, unit)})`,
      grid: true,
      tickFormat: formatTick,
    },
    color: {
      legend: true,
      domain: kinds,
      range: kinds.map((k) => COLORS[k]),
      tickFormat: (k: string) =>
        ({
          balance: "Opening / closing",
          increase: "Increase: charge",
          decrease: "Decrease: release",
        })[k],
    },
    marks: waterfallMarks(steps, "label", unit),
  });
}

/**
 * What each walk line measures beside the reconciliation's line of the
 * same name (docs/movement.md §6, "Beside the reconciliation").
 */
export const WALK_BRIDGE_NOTE =
  "The walk's lines are not the reconciliation's lines of the same name; each is a net ECL effect. New facilities: their ECL under the opening rules and the opening FX rates (the reconciliation books them at closing ECL and the closing rate; the rest is in the later steps). Derecognised: the opening ECL released, at opening rates, as in the reconciliation. Foreign exchange: the ECL of every facility still present, after all earlier steps, revalued from the opening to the closing rates (the reconciliation revalues the opening amount). Write-offs (net ECL effect): the ECL of the facilities written off, from their opening inputs (under the closing rules and rates) to their closing ECL; the reconciliation's write-off line is the gross amount written off (allowance used), with any top-up charged first in remeasurement.";

/** Why the walk was not computed, in place of its section of movement.html. */
export function walkSkippedSection(reason: string): Markup {
  return section("walk", "ECL walk: the change by driver", [
    note(
      `The ECL walk was not computed: ${
        reason.replace(/^Cannot compute the ECL walk: /, "")
      }. The reconciliation above stands without it; movement.json records the reason as attribution.skipped.`,
    ),
  ]);
}

/** The walk's section of movement.html. */
export function walkSection(walk: Walk): Markup {
  const unit = walkUnit(walk);
  const cur = unitLabel(walk.reporting_currency, unit);
  const amount = (x: number) => formatInUnit(x, unit, { signed: true });
  type Row = {
    label: string;
    total: number;
    s1: number;
    s2: number;
    s3: number;
    n: number | null;
  };
  const row = (
    label: string,
    total: number,
    by: Record<"1" | "2" | "3", number>,
    n: number | null,
  ): Row => ({ label, total, s1: by["1"], s2: by["2"], s3: by["3"], n });
  const rows: Row[] = [
    row("Opening ECL", walk.opening, walk.opening_by_stage, null),
    ...walk.steps.map((s) => row(s.label, s.amount, s.by_stage, s.facilities)),
    row("Closing ECL", walk.closing, walk.closing_by_stage, null),
  ];
  // Balances unsigned, steps signed.
  const shown = (r: Row, x: number) =>
    r.n === null ? formatInUnit(x, unit) : amount(x);
  const stepsTable = table(
    [
      { label: "Driver", value: (r: Row) => r.label },
      {
        label: `Total (${cur})`,
        value: (r) => shown(r, r.total),
        numeric: true,
      },
      { label: "Stage 1", value: (r) => shown(r, r.s1), numeric: true },
      { label: "Stage 2", value: (r) => shown(r, r.s2), numeric: true },
      { label: "Stage 3", value: (r) => shown(r, r.s3), numeric: true },
      {
        label: "Facilities changed",
        value: (r) => (r.n === null ? "" : formatCount(r.n)),
        numeric: true,
      },
    ],
    rows,
    { rowClass: (r) => (r.n === null ? "total" : undefined) },
  );
  const o = walk.order_sensitivity;
  const orderTable = table(
    [
      {
        label: "Effect",
        value: (r: [string, { in_order: number; reversed: number }]) => r[0],
      },
      {
        label: `Exposure first, then PD (${cur})`,
        value: (r) => amount(r[1].in_order),
        numeric: true,
      },
      {
        label: `PD first, then exposure (${cur})`,
        value: (r) => amount(r[1].reversed),
        numeric: true,
      },
      {
        label: "Difference",
        value: (r) => amount(r[1].reversed - r[1].in_order),
        numeric: true,
      },
    ],
    [["Exposure", o.exposure], ["PD", o.pd]],
  );
  const products = [
    ...new Set(walk.steps.flatMap((s) => Object.keys(s.by_product))),
  ].sort();
  const productTable = table(
    [
      { label: "Driver", value: (s: WalkStep) => s.label },
      ...products.map((p) => ({
        label: p,
        value: (s: WalkStep) => amount(s.by_product[p] ?? 0),
        numeric: true,
      })),
    ],
    walk.steps,
  );
  const topTables = walk.steps.filter((s) => s.top.length > 0).map((s) =>
    details(
      `${s.label}: ${
        formatCount(s.facilities)
      } facilities, the largest ${s.top.length}`,
      table(
        [
          {
            label: "Facility",
            value: (f: WalkStep["top"][0]) => f.loan_id,
            // A loan_id may be up to 256 characters (methodology §1): it
            // wraps rather than push the amounts out of view.
            wrap: true,
          },
          { label: "Product", value: (f) => f.product },
          {
            label: "Closing stage",
            value: (f) => String(f.stage),
            numeric: true,
          },
          {
            label: `Effect (${walk.reporting_currency})`,
            value: (f) =>
              f.amount.toLocaleString("en-US", {
                minimumFractionDigits: 2,
                maximumFractionDigits: 2,
              }),
            numeric: true,
          },
        ],
        s.top,
      ),
    )
  );
  return section("walk", "ECL walk: the change by driver", [
    note(
      `Each step replaces one group of drivers by its closing value and runs the engine again, in this order: ${
        WALK_DRIVERS.join(", ")
      }; its effect is the change in total ECL, so the steps add up to the change exactly. Stage columns are the facility's closing stage (opening stage for facilities derecognised). Facilities written off keep their opening inputs until the write-off step. Method: docs/movement.md §6.`,
    ),
    chart("chart-walk", `ECL walk (${cur})`, walkChart(walk, unit)),
    stepsTable,
    note(WALK_BRIDGE_NOTE),
    note(
      "How much the split depends on the order, for one pair of steps: the exposure and PD effects computed in the walk's order (exposure first) and in the reverse order (PD first), from the same state after the stage step; their sum is the same. Other pairs are not recomputed: their interaction also goes to the later step.",
    ),
    orderTable,
    details("By product (closing product)", productTable),
    ...topTables,
  ]);
}
