/**
 * Writing the movement analysis: `movement.json` (the whole result),
 * `movement.parquet` (the reconciliation lines in long form, one row per
 * measure, line and stage, for BI tools), `movement_facilities.parquet`
 * (the facility-level attribution the lines sum) and `movement.html`
 * (a self-contained page with the narrative, the waterfalls, the
 * migration heat map and the tables) and `narrative.json` (the narrative
 * and its fact sheet, lib/narrative); with the ECL walk by driver
 * (lib/walk, docs/movement.md §6) given, its `attribution` section in
 * movement.json, `movement_walk.parquet` and its section of the page.
 * The page shows amounts in thousands or millions of the reporting currency, the unit in every heading ({@link movementUnit});
 * movement.json and the Parquet files keep them to the cent.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame } from "../frame.ts";
import {
  type AmountUnit,
  amountUnit,
  formatCount,
  formatInUnit,
  formatPercent,
  unitLabel,
} from "../format.ts";
import {
  cards,
  chart,
  type Column,
  details,
  grid,
  type Markup,
  note,
  page,
  section,
  table,
  warningList,
} from "../page.ts";
import {
  type FileWriter,
  MOVEMENT_FILES,
  readRunFolder,
  writeOutputFolder,
} from "../run_folder/mod.ts";
import {
  buildFactSheet,
  type ExplainSettings,
  explainSettings,
  type Narrative,
  narrativeSection,
  recordedExplain,
  runWarnings,
  safeNarrative,
  writeNarrative,
} from "../narrative/mod.ts";
import {
  migrationHeatmap,
  migrationStateLabel,
  migrationStates,
  waterfallChart,
} from "./charts.ts";
import {
  type ColumnAmounts,
  COLUMNS,
  type MigrationCell,
  type MigrationState,
  type Movement,
  type Reconciliation,
  type StageColumn,
  visibleColumns,
  visibleLines,
} from "./reconciliation.ts";
import {
  type Walk,
  walkLines,
  walkSection,
  walkSkippedSection,
} from "../walk/mod.ts";

/**
 * The reconciliation lines in long form: from_date, to_date, measure,
 * line_order, line, label, stage (`"1"`, `"2"`, `"3"`, `"simplified"` or
 * `"total"`) and amount (reporting currency). The dates make files of
 * several periods stack into one table. The total tables only: the
 * per-product tables are in movement.json.
 */
export function movementLines(m: Movement): DataFrame {
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
      for (const stage of [...COLUMNS, "total" as const]) {
        rows.push({
          measure: r.measure,
          line_order: i + 1,
          line: l.key,
          label: l.label,
          stage,
          amount: stage === "total" ? l.total : l.by_stage[stage],
        });
      }
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

/**
 * The unit of the movement page: from its largest balance, the gross
 * carrying amount at either date.
 */
export function movementUnit(m: Movement): AmountUnit {
  return amountUnit(
    m.gross_carrying_amount.lines.concat(m.allowance.lines).map((l) => l.total),
  );
}

/** A column heading: `Stage 1` ... or `Simplified`. */
const columnLabel = (c: StageColumn) =>
  c === "simplified" ? "Simplified" : `Stage ${c}`;

/**
 * A table of labelled amounts, one column per visible column and a total.
 * Every such table has the class `recon`, whose amount columns share one
 * width, so the total and the per-product tables line up column for
 * column at any screen width.
 */
function amountsTable<T extends ColumnAmounts & { label: string }>(
  m: Movement,
  rows: T[],
  opts: { caption: string; footer?: T[] },
): Markup {
  const unit = movementUnit(m);
  const cols: Column<T>[] = [
    { label: "", value: (l) => l.label, wrap: true },
    ...visibleColumns(m).map((c): Column<T> => ({
      label: columnLabel(c),
      value: (l) => formatInUnit(l.by_stage[c], unit),
      numeric: true,
    })),
    {
      label: "Total",
      value: (l) => formatInUnit(l.total, unit),
      numeric: true,
    },
  ];
  return table(cols, rows, { ...opts, className: "recon" });
}

function reconciliationTable(
  m: Movement,
  r: Reconciliation,
  caption?: string,
): Markup {
  const cur = unitLabel(m.reporting_currency, movementUnit(m));
  const lines = visibleLines(m, r);
  return amountsTable(m, lines.filter((l) => l.key !== "closing"), {
    caption: caption ??
      (r.measure === "allowance"
        ? `ECL: loss allowance and provision (${cur}), IFRS 7 §35H`
        : `Gross carrying amount (${cur}), IFRS 7 §35I`),
    footer: lines.filter((l) => l.key === "closing"),
  });
}

/** The B8E split of the opening and closing ECL. */
function splitTable(m: Movement): Markup {
  const rows = (["opening", "closing"] as const).flatMap((date) => {
    const s = m.allowance_split[date];
    const when = date === "opening" ? m.from : m.to;
    const ecl = m.allowance.lines.find((l) => l.key === date)!;
    return [
      {
        ...s.loss_allowance,
        label:
          `${when.reporting_date}: loss allowance (deducted from the asset)`,
      },
      {
        ...s.provision,
        label:
          `${when.reporting_date}: provision (undrawn commitments, a liability)`,
      },
      { ...ecl, label: `${when.reporting_date}: expected credit losses` },
    ];
  });
  return amountsTable(m, rows, {
    caption: `Loss allowance and provision (${
      unitLabel(m.reporting_currency, movementUnit(m))
    }), IFRS 7 B8E`,
  });
}

/**
 * The migration matrix as a table: each cell the number of facilities and
 * its share of the row (of the facilities in that opening state), the
 * totals of each row and, in the footer, of each closing state.
 */
function migrationTable(cells: MigrationCell[]): Markup {
  const { from, to } = migrationStates(cells);
  const count = (f: string | null, t: string | null) =>
    cells.filter((c) =>
      (f === null || c.from === f) && (t === null || c.to === t)
    )
      .reduce((a, c) => a + c.count, 0);
  /** A row of the table: an opening state, or the total of all of them. */
  type Row = MigrationState | null;
  const cell = (n: number, of: number) =>
    n === 0 ? "" : `${formatCount(n)} (${formatPercent(n / of)})`;
  const cols: Column<Row>[] = [
    {
      label: "Opening \\ closing",
      value: (f) => (f === null ? "Total" : migrationStateLabel(f)),
    },
    ...to.map((t): Column<Row> => ({
      label: migrationStateLabel(t),
      value: (f) => cell(count(f, t), count(f, null)),
      numeric: true,
    })),
    {
      label: "Total",
      value: (f) => formatCount(count(f, null)),
      numeric: true,
    },
  ];
  return table(cols, from, {
    caption:
      "Facilities by opening and closing state (share of the opening state's facilities)",
    footer: [null],
  });
}

/**
 * The allowance by class of instrument (IFRS 7 §35H read with §6): one row
 * per product with its opening and closing allowance, then each product's
 * two reconciliations in a collapsed block of its own.
 */
function productSection(m: Movement): Markup[] {
  const unit = movementUnit(m);
  const amount = (v: number) => formatInUnit(v, unit);
  const cur = unitLabel(m.reporting_currency, unit);
  const total = (r: Reconciliation, key: "opening" | "closing") =>
    r.lines.find((l) => l.key === key)!.total;
  const summary = table(
    [
      { label: "Product", value: (p: Movement["by_product"][0]) => p.product },
      {
        label: `Opening ECL (${cur})`,
        value: (p) => amount(total(p.allowance, "opening")),
        numeric: true,
      },
      {
        label: `Closing ECL (${cur})`,
        value: (p) => amount(total(p.allowance, "closing")),
        numeric: true,
      },
      {
        label: `Change (${cur})`,
        value: (p) =>
          formatInUnit(
            total(p.allowance, "closing") - total(p.allowance, "opening"),
            unit,
            { signed: true },
          ),
        numeric: true,
      },
      {
        label: `Closing gross carrying amount (${cur})`,
        value: (p) => amount(total(p.gross_carrying_amount, "closing")),
        numeric: true,
      },
      {
        label: "Approach",
        value: (p) =>
          m.simplified_products.includes(p.product) ? "simplified" : "general",
      },
    ],
    m.by_product,
    {
      caption:
        `ECL (loss allowance and provision) by class of instrument (${cur})`,
    },
  );
  return [
    summary,
    note(
      "Each facility is in the class of its product at the closing date (at the opening date when derecognised). The product tables add up to the total tables, line by line and column by column (an invariant below). Open a product for its reconciliations.",
    ),
    ...m.by_product.map((p) =>
      details(
        `${p.product}: ECL ${amount(total(p.allowance, "opening"))} → ${
          amount(total(p.allowance, "closing"))
        } ${cur}`,
        [
          reconciliationTable(
            m,
            p.allowance,
            `${p.product}: ECL, loss allowance and provision (${cur}), IFRS 7 §35H`,
          ),
          reconciliationTable(
            m,
            p.gross_carrying_amount,
            `${p.product}: gross carrying amount (${cur}), IFRS 7 §35I`,
          ),
        ],
      )
    ),
  ];
}

/**
 * Renders `movement.html` (no file written), with the narrative after the
 * headline when one is given.
 */
export function renderMovementHtml(
  m: Movement,
  narrative?: Narrative | null,
  walk?: Walk | null,
  walkSkipped?: string | null,
): string {
  const unit = movementUnit(m);
  const amount = (v: number) => formatInUnit(v, unit);
  const cur = unitLabel(m.reporting_currency, unit);
  const closing = m.allowance.lines.find((l) => l.key === "closing")!;
  const opening = m.allowance.lines.find((l) => l.key === "opening")!;
  const failed = m.checks.filter((c) => !c.passed);
  const headline = section("headline", "Headline", [
    cards([
      {
        label: `Opening ECL (${cur})`,
        value: amount(opening.total),
      },
      {
        label: `Closing ECL (${cur})`,
        value: amount(closing.total),
        note: `loss allowance ${
          amount(m.allowance_split.closing.loss_allowance.total)
        } + provision ${
          amount(m.allowance_split.closing.provision.total)
        } (B8E)`,
      },
      {
        label: `Change (${cur})`,
        value: formatInUnit(closing.total - opening.total, unit, {
          signed: true,
        }),
        note: formatPercent(
          opening.total > 0 ? closing.total / opening.total - 1 : null,
          { signed: true },
        ),
      },
      {
        label: "Facilities that changed stage",
        value: formatCount(m.facilities.transferred),
        note: `${formatCount(m.facilities.new)} new, ${
          formatCount(m.facilities.derecognised)
        } derecognised, ${formatCount(m.facilities.written_off)} written off`,
      },
      {
        label: "Invariants",
        value: failed.length === 0
          ? `${m.checks.length} hold`
          : `${failed.length} fail`,
      },
    ]),
    warningList(m.warnings),
  ]);
  // The total and one waterfall per column, each on its own scale.
  const skip =
    visibleLines(m, m.allowance).some((l) => l.key === "transfer_to_simplified")
      ? []
      : ["transfer_to_simplified"];
  const waterfalls = (r: Reconciliation, id: string) =>
    grid(
      (["total", ...visibleColumns(m)] as const).map((k) =>
        chart(
          `${id}-${k}`,
          k === "total" ? `All stages (${cur})` : `${columnLabel(k)} (${cur})`,
          waterfallChart(r, m.reporting_currency, {
            column: k,
            skip,
            unit,
          }),
        )
      ),
    );
  const simplifiedNote = m.simplified_products.length === 0
    ? ""
    : ` Simplified: facilities of ${
      m.simplified_products.join(", ")
    }, on the simplified approach (lifetime ECL at all times, IFRS 9 §5.5.15, IFRS 7 §35H(b)(iii)), whatever their stage; the runs' totals by stage count them in stage 2, or in stage 3 when credit-impaired.`;
  const allowance = section("allowance", "Loss allowance reconciliation", [
    reconciliationTable(m, m.allowance),
    note(
      `Transfers are measured at the opening allowance, at the opening rate, of the facilities that changed stage: each moves out of its opening stage and into its closing stage, so each transfer line nets to zero across stages. The change in the allowance of those facilities after the transfer (for example from 12-month to lifetime ECL on a move to stage 2) is the line "Remeasurement of facilities transferred between stages", booked in the stage they moved to; "Remeasurement of facilities that stayed in their stage" is the change of all other facilities in both runs (docs/movement.md §3).${simplifiedNote}`,
    ),
    splitTable(m),
    note(
      "Where a facility's ECL exceeds its gross carrying amount (an undrawn commitment), the part up to the gross carrying amount is the loss allowance and the excess a provision (IFRS 7 B8E), facility by facility; the two add up to the ECL.",
    ),
    waterfalls(m.allowance, "chart-waterfall"),
  ]);
  const gross = section("gross", "Gross carrying amount reconciliation", [
    reconciliationTable(m, m.gross_carrying_amount),
    note(
      "Recoveries: on facilities written off in the period, the change in gross carrying amount other than the write-off and foreign exchange, that is the cash collected before the rest was written off (negative). Repayments, drawdowns and other changes in balances: the same change for every other facility in both runs (docs/movement.md §3).",
    ),
    waterfalls(m.gross_carrying_amount, "chart-waterfall-gross"),
  ]);
  const migration = section("migration", "Stage migration", [
    chart(
      "chart-migration",
      "Migration heat map: count and gross carrying amount",
      migrationHeatmap(m.migration, unit),
      `Each cell: facilities and their share of the opening state's facilities; below, their gross carrying amount (${cur}) at the opening date, for new facilities at the closing date.`,
    ),
    migrationTable(m.migration),
  ]);
  const checks = section(
    "checks",
    "Invariants",
    table(
      [
        { label: "Check", value: (c: Movement["checks"][0]) => c.name },
        { label: "Result", value: (c) => (c.passed ? "holds" : "FAILS") },
        {
          label: `Largest difference (${m.reporting_currency})`,
          value: (c) => c.difference.toExponential(2),
          numeric: true,
        },
        { label: "Detail", value: (c) => c.detail, wrap: true },
      ],
      m.checks,
      { rowClass: (c) => (c.passed ? undefined : "bad") },
    ),
  );
  const runs = section(
    "runs",
    "Runs compared",
    table(
      [
        { label: "", value: (r: [string, Movement["from"]]) => r[0] },
        { label: "Run", value: (r) => r[1].run_id },
        { label: "Reporting date", value: (r) => r[1].reporting_date },
        { label: "FX as of", value: (r) => r[1].fx_as_of },
        {
          label: "Rates",
          value: (r) =>
            Object.entries(r[1].rates).map(([c, v]) => `${c} ${v}`).join(", "),
          wrap: true,
        },
        { label: "Folder", value: (r) => r[1].dir, wrap: true },
      ],
      [["From", m.from], ["To", m.to]],
    ),
  );
  return page(
    {
      title:
        `Movement in loss allowance ${m.from.reporting_date} → ${m.to.reporting_date}`,
      subtitle: `Runs ${m.from.run_id} → ${m.to.run_id} · amounts in ${cur}`,
      toc: [
        { id: "headline", label: "Headline" },
        ...(narrative ? [{ id: "narrative", label: "Narrative" }] : []),
        { id: "allowance", label: "Loss allowance" },
        ...(walk || walkSkipped ? [{ id: "walk", label: "ECL walk" }] : []),
        { id: "gross", label: "Gross carrying amount" },
        { id: "products", label: "By product" },
        { id: "migration", label: "Migration" },
        { id: "checks", label: "Invariants" },
        { id: "runs", label: "Runs" },
      ],
      footer: "Computed by lib/movement; method in docs/movement.md.",
    },
    [
      headline,
      narrative && narrativeSection(narrative),
      allowance,
      walk ? walkSection(walk) : walkSkipped && walkSkippedSection(walkSkipped),
      gross,
      section("products", "By class of instrument", productSection(m)),
      migration,
      checks,
      runs,
    ],
  );
}

/**
 * Paths of the files {@link writeMovementOutputs} wrote (`narrative.json`
 * is beside them).
 */
export type MovementFiles =
  & Record<Exclude<keyof typeof MOVEMENT_FILES, "narrative" | "walk">, string>
  & {
    /** `movement_walk.parquet`, when the movement has its ECL walk. */
    walk?: string;
  };

/** Options of {@link writeMovementOutputs}. */
export interface WriteMovementOptions {
  /**
   * How the files are written (a test passes one that fails part-way, as
   * a full disk does). @default the file system
   */
  writer?: FileWriter;
  /**
   * The narrative of the movement and its later run (lib/narrative).
   * @default written here from the later run's folder and the movement,
   *   by the later run's rules' `explain` section (recorded in its
   *   manifest) with {@link WriteMovementOptions.explain} over it
   */
  narrative?: Narrative;
  /** Who writes the narrative, over the later run's rules. */
  explain?: Partial<ExplainSettings>;
  /**
   * The ECL walk (lib/walk): written as the `attribution` section of
   * movement.json, as movement_walk.parquet and on the page. @default none
   */
  walk?: Walk | null;
  /**
   * Why the ECL walk was not computed (a run's inputs missing or changed,
   * rules or FX tables the walk cannot span), when it was asked for but
   * skipped: written as `attribution: { skipped }` in movement.json and
   * in the walk's place on the page. Ignored when `walk` is given.
   * @default none (no walk asked for: no `attribution`)
   */
  walkSkipped?: string | null;
}

/**
 * The narrative of a movement and its later run: the fact sheet of the
 * later run folder (read again, as the movement read it) and of the
 * movement, written by the provider its rules name.
 */
export async function movementNarrative(
  movement: Movement,
  explain: Partial<ExplainSettings> = {},
): Promise<Narrative> {
  const to = await readRunFolder(movement.to.dir);
  const settings = explainSettings(recordedExplain(to.manifest), explain);
  return await writeNarrative(
    buildFactSheet({
      summary: to.summary,
      manifest: to.manifest,
      dataQuality: to.dataQuality,
      movement,
      warnings: runWarnings(to),
    }),
    settings,
  );
}

/**
 * Writes movement.json, movement.parquet, movement_facilities.parquet and
 * movement.html as the folder `outDir`, whole or not at all: they are
 * written beside it and take its place at once, replacing an earlier
 * movement there; a failure (a full disk) leaves nothing under `outDir`
 * but what was there. A file, a folder holding other files (a run folder
 * among them), either run's folder or a place inside a run folder is
 * refused (`writeOutputFolder`); `checkOutputFolder` with
 * `MOVEMENT_FILES` checks the same before the movement is computed.
 *
 * @throws {OutputLocationError} when `outDir` cannot take the movement.
 * @throws {UserError} of kind `output` when a file cannot be written,
 *   naming `outDir`.
 */
export async function writeMovementOutputs(
  movement: Movement,
  facilities: DataFrame,
  outDir: string,
  opts: WriteMovementOptions = {},
): Promise<MovementFiles> {
  // A narrative that cannot be written leaves a minimal text with the
  // reason, never a failed movement (lib/narrative/fallback.ts).
  const narrative = opts.narrative ??
    await safeNarrative(() => movementNarrative(movement, opts.explain), {
      run_id: movement.to.run_id,
      reporting_date: movement.to.reporting_date,
      reporting_currency: movement.reporting_currency,
    });
  const walk = opts.walk ?? null;
  const skipped = walk === null ? opts.walkSkipped ?? null : null;
  const html = renderMovementHtml(movement, narrative, walk, skipped);
  const { folder } = await writeOutputFolder(
    outDir,
    Object.values(MOVEMENT_FILES),
    async (_, out) => {
      await out.text(
        MOVEMENT_FILES.json,
        JSON.stringify(
          walk !== null
            ? { ...movement, attribution: walk }
            : skipped !== null
            ? { ...movement, attribution: { skipped } }
            : movement,
          null,
          2,
        ),
      );
      if (walk !== null) {
        await out.parquet(MOVEMENT_FILES.walk, walkLines(walk));
      }
      await out.parquet(MOVEMENT_FILES.parquet, movementLines(movement));
      await out.parquet(MOVEMENT_FILES.facilities, facilities);
      await out.text(MOVEMENT_FILES.html, html);
      await out.text(
        MOVEMENT_FILES.narrative,
        JSON.stringify(narrative, null, 2) + "\n",
      );
    },
    { writer: opts.writer, inputs: [movement.from.dir, movement.to.dir] },
  );
  const href = (file: keyof typeof MOVEMENT_FILES) =>
    folder.child(MOVEMENT_FILES[file]).href;
  return {
    json: href("json"),
    parquet: href("parquet"),
    facilities: href("facilities"),
    html: href("html"),
    ...(walk === null ? {} : { walk: href("walk") }),
  };
}
