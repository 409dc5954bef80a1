/**
 * Writing the movement analysis: `movement.json` (the whole result),
 * `movement.parquet` (the reconciliation lines in long form, one row per
 * measure, line and stage, for BI tools), `movement_facilities.parquet`
 * (the facility-level attribution the lines sum) and `movement.html`
 * (a self-contained page with the waterfalls, the migration heat map and
 * the tables).
 *
 * @module
 */
import pl from "nodejs-polars";
import {
  cards,
  chartPanel,
  type Column,
  escapeHtml,
  fmtAmount,
  fmtCount,
  page,
  section,
  table,
  warningList,
} from "../report/html.ts";
import { joinPath } from "../report/run_folder.ts";
import { migrationHeatmap, waterfallChart } from "./charts.ts";
import type {
  MigrationCell,
  Movement,
  Reconciliation,
  ReconciliationLine,
} from "./reconciliation.ts";

/**
 * The reconciliation lines in long form: from_date, to_date, measure,
 * line_order, line, label, stage (`"1"`, `"2"`, `"3"` or `"total"`) and
 * amount (reporting currency). The dates make files of several periods
 * stack into one table.
 */
export function movementLines(m: Movement): pl.DataFrame {
  const rows: {
    measure: string;
    line_order: number;
    line: string;
    label: string;
    stage: string;
    amount: number;
  }[] = [];
  for (const r of [m.allowance, m.gross_carrying_amount]) {
    r.lines.forEach((l, i) => {
      for (const stage of ["1", "2", "3"] as const) {
        rows.push({
          measure: r.measure,
          line_order: i + 1,
          line: l.key,
          label: l.label,
          stage,
          amount: l.by_stage[stage],
        });
      }
      rows.push({
        measure: r.measure,
        line_order: i + 1,
        line: l.key,
        label: l.label,
        stage: "total",
        amount: l.total,
      });
    });
  }
  const date = (d: string) => new Date(`${d}T00:00:00Z`);
  return pl.DataFrame(rows, {
    schema: {
      measure: pl.Utf8,
      line_order: pl.Int32,
      line: pl.Utf8,
      label: pl.Utf8,
      stage: pl.Utf8,
      amount: pl.Float64,
    },
  }).select(
    pl.lit(date(m.from.reporting_date)).cast(pl.Date).alias("from_date"),
    pl.lit(date(m.to.reporting_date)).cast(pl.Date).alias("to_date"),
    pl.col("*"),
  );
}

function reconciliationTable(r: Reconciliation, cur: string): string {
  const cols: Column<ReconciliationLine>[] = [
    { label: "", value: (l) => l.label },
    {
      label: "Stage 1",
      value: (l) => fmtAmount(l.by_stage["1"]),
      numeric: true,
    },
    {
      label: "Stage 2",
      value: (l) => fmtAmount(l.by_stage["2"]),
      numeric: true,
    },
    {
      label: "Stage 3",
      value: (l) => fmtAmount(l.by_stage["3"]),
      numeric: true,
    },
    { label: "Total", value: (l) => fmtAmount(l.total), numeric: true },
  ];
  const closing = r.lines.filter((l) => l.key === "closing");
  return table(cols, r.lines.filter((l) => l.key !== "closing"), {
    caption: r.measure === "allowance"
      ? `Loss allowance (${cur}), IFRS 7 §35H`
      : `Gross carrying amount (${cur}), IFRS 7 §35I`,
    footer: closing,
  });
}

function migrationTable(cells: MigrationCell[]): string {
  const from = ["1", "2", "3", "new"];
  const to = ["1", "2", "3", "written_off", "derecognised"];
  const label: Record<string, string> = {
    "1": "Stage 1",
    "2": "Stage 2",
    "3": "Stage 3",
    new: "New",
    written_off: "Written off",
    derecognised: "Derecognised",
  };
  const get = (f: string, t: string) =>
    cells.find((c) => c.from === f && c.to === t);
  const cols: Column<string>[] = [
    { label: "Opening \\ closing", value: (f) => label[f] },
    ...to.map((t): Column<string> => ({
      label: label[t],
      value: (f) => {
        const c = get(f, t);
        return c ? fmtCount(c.count) : "";
      },
      numeric: true,
    })),
    {
      label: "Total",
      value: (f) =>
        fmtCount(
          cells.filter((c) => c.from === f).reduce((a, c) => a + c.count, 0),
        ),
      numeric: true,
    },
  ];
  return table(cols, from, {
    caption: "Facilities by opening and closing state",
  });
}

/** Renders `movement.html` (no file written). */
export function renderMovementHtml(m: Movement): string {
  const cur = m.reporting_currency;
  const closing = m.allowance.lines.find((l) => l.key === "closing")!;
  const opening = m.allowance.lines.find((l) => l.key === "opening")!;
  const failed = m.checks.filter((c) => !c.passed);
  const headline = section(
    "headline",
    "Headline",
    cards([
      { label: `Opening allowance (${cur})`, value: fmtAmount(opening.total) },
      { label: `Closing allowance (${cur})`, value: fmtAmount(closing.total) },
      {
        label: `Change (${cur})`,
        value: fmtAmount(closing.total - opening.total),
      },
      {
        label: "Facilities that changed stage",
        value: fmtCount(m.facilities.transferred),
        note: `${fmtCount(m.facilities.new)} new, ${
          fmtCount(m.facilities.derecognised)
        } derecognised, ${fmtCount(m.facilities.written_off)} written off`,
      },
      {
        label: "Invariants",
        value: failed.length === 0
          ? `${m.checks.length} hold`
          : `${failed.length} fail`,
      },
    ]) + warningList(m.warnings),
  );
  // The total and one waterfall per stage, each on its own scale.
  const waterfalls = (r: Reconciliation, id: string) =>
    `<div class="grid2">${
      (["total", "1", "2", "3"] as const).map((k) =>
        chartPanel(
          `${id}-${k}`,
          k === "total" ? `All stages (${cur})` : `Stage ${k} (${cur})`,
          waterfallChart(r, cur, k).html,
        )
      ).join("")
    }</div>`;
  const allowance = section(
    "allowance",
    "Loss allowance reconciliation",
    reconciliationTable(m.allowance, cur) +
      waterfalls(m.allowance, "chart-waterfall") +
      `<p class="note">Red: charge to profit or loss; green: release or use; grey: transfers between stages. Transfers are measured at the opening allowance of the facilities that changed stage and net to zero across stages; their remeasurement (for example from 12-month to lifetime ECL) is shown in the stage they moved to (docs/movement.md §3).</p>`,
  );
  const gross = section(
    "gross",
    "Gross carrying amount reconciliation",
    reconciliationTable(m.gross_carrying_amount, cur) +
      waterfalls(m.gross_carrying_amount, "chart-waterfall-gross"),
  );
  const migration = section(
    "migration",
    "Stage migration",
    chartPanel(
      "chart-migration",
      "Migration heat map: count and gross carrying amount",
      migrationHeatmap(m.migration).html,
      "Shade: share of the opening state's facilities. Amounts at the opening date, for new facilities at the closing date.",
    ) + migrationTable(m.migration),
  );
  const checks = section(
    "checks",
    "Invariants",
    table([
      {
        label: "Check",
        value: (c: Movement["checks"][0]) => c.name,
      },
      { label: "Result", value: (c) => (c.passed ? "holds" : "FAILS") },
      {
        label: `Largest difference (${cur})`,
        value: (c) => c.difference.toExponential(2),
        numeric: true,
      },
      { label: "Detail", value: (c) => c.detail },
    ], m.checks),
  );
  const runs = section(
    "runs",
    "Runs compared",
    table([
      { label: "", value: (r: [string, Movement["from"]]) => r[0] },
      { label: "Run", value: (r) => r[1].run_id },
      { label: "Reporting date", value: (r) => r[1].reporting_date },
      { label: "FX as of", value: (r) => r[1].fx_as_of },
      {
        label: "Rates",
        value: (r) =>
          Object.entries(r[1].rates).map(([c, v]) => `${c} ${v}`).join(", "),
      },
      { label: "Folder", value: (r) => r[1].dir },
    ], [["From", m.from], ["To", m.to]]),
  );
  return page({
    title:
      `Movement in loss allowance ${m.from.reporting_date} → ${m.to.reporting_date}`,
    subtitle: `Runs ${m.from.run_id} → ${m.to.run_id} · amounts in ${
      escapeHtml(cur)
    }`,
    toc: [
      { id: "headline", label: "Headline" },
      { id: "allowance", label: "Loss allowance" },
      { id: "gross", label: "Gross carrying amount" },
      { id: "migration", label: "Migration" },
      { id: "checks", label: "Invariants" },
      { id: "runs", label: "Runs" },
    ],
    body: [headline, allowance, gross, migration, checks, runs].join("\n"),
    footer: "Computed by lib/movement; method in docs/movement.md.",
  });
}

/** Paths of the files {@link writeMovementOutputs} writes. */
export interface MovementFiles {
  json: string;
  parquet: string;
  facilities: string;
  html: string;
}

/**
 * Writes movement.json, movement.parquet, movement_facilities.parquet and
 * movement.html into `outDir` (created when missing).
 */
export async function writeMovementOutputs(
  movement: Movement,
  facilities: pl.DataFrame,
  outDir: string,
): Promise<MovementFiles> {
  await Deno.mkdir(outDir, { recursive: true });
  const files: MovementFiles = {
    json: joinPath(outDir, "movement.json"),
    parquet: joinPath(outDir, "movement.parquet"),
    facilities: joinPath(outDir, "movement_facilities.parquet"),
    html: joinPath(outDir, "movement.html"),
  };
  await Deno.writeTextFile(files.json, JSON.stringify(movement, null, 2));
  movementLines(movement).writeParquet(files.parquet);
  facilities.writeParquet(files.facilities);
  await Deno.writeTextFile(files.html, renderMovementHtml(movement));
  return files;
}
