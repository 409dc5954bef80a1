/**
 * The movement between two runs: the stage migration matrix, the
 * loss-allowance reconciliation in the IFRS 7 §35H layout and the
 * gross-carrying-amount reconciliation of IFRS 7 §35I, each per stage, and
 * the invariants that make them trustworthy (docs/movement.md §4).
 *
 * @module
 */
import pl from "nodejs-polars";
import { type RunFolder, stageOfKey } from "../report/run_folder.ts";
import { fxDateWarning } from "../fx.ts";
import { preciseSum, withPreciseSums } from "../precise_sum.ts";
import type { Summary } from "../run/summary.ts";
import {
  type FacilityLine,
  facilityMovements,
  lineColumn,
  missingRates,
  MOVEMENT_STATUS,
  type MovementSide,
} from "./attribution.ts";

/** The stages of IFRS 9 §5.5 in column order. */
export const STAGES = [1, 2, 3] as const;

/** The reconciliation lines, in the order IFRS 7 §35H tables show them. */
export const RECONCILIATION_LINES = [
  { key: "opening", label: "Opening balance" },
  { key: "transfer_to_stage_1", label: "Transfer to stage 1" },
  { key: "transfer_to_stage_2", label: "Transfer to stage 2" },
  { key: "transfer_to_stage_3", label: "Transfer to stage 3" },
  { key: "new_originated", label: "New financial assets originated" },
  {
    key: "derecognised",
    label: "Financial assets derecognised (repaid, prepaid or matured)",
  },
  { key: "write_off", label: "Write-offs" },
  {
    key: "remeasurement",
    label:
      "Remeasurement (risk parameters and balances of facilities that stayed)",
  },
  { key: "fx", label: "Foreign exchange" },
  { key: "closing", label: "Closing balance" },
] as const;

/** A reconciliation line key. */
export type ReconciliationLineKey =
  (typeof RECONCILIATION_LINES)[number]["key"];

/** One line of a reconciliation: amount per stage and in total. */
export interface ReconciliationLine {
  key: ReconciliationLineKey;
  label: string;
  /** Amounts in the reporting currency, keyed by stage `"1"`, `"2"`, `"3"`. */
  by_stage: Record<"1" | "2" | "3", number>;
  total: number;
}

/** A whole reconciliation table. */
export interface Reconciliation {
  measure: "allowance" | "gross_carrying_amount";
  lines: ReconciliationLine[];
}

/** A state of the migration matrix. */
export type MigrationState =
  | "1"
  | "2"
  | "3"
  | "new"
  | "derecognised"
  | "written_off";

/** One cell of the stage migration matrix. */
export interface MigrationCell {
  /** `"1"`, `"2"`, `"3"` or `"new"`. */
  from: MigrationState;
  /** `"1"`, `"2"`, `"3"`, `"derecognised"` or `"written_off"`. */
  to: MigrationState;
  count: number;
  /** At the opening date (0 for new facilities). */
  gross_opening: number;
  /** At the closing date (0 for derecognised facilities). */
  gross_closing: number;
}

/** The outcome of one invariant. */
export interface MovementCheck {
  name: string;
  passed: boolean;
  /** Largest absolute difference found, in the reporting currency. */
  difference: number;
  detail: string;
}

/** Where a run of the comparison came from. */
export interface MovementRunRef {
  run_id: string;
  dir: string;
  reporting_date: string;
  fx_as_of: string;
  rates: Record<string, number>;
}

/** The movement between two runs, as written to `movement.json`. */
export interface Movement {
  reporting_currency: string;
  from: MovementRunRef;
  to: MovementRunRef;
  facilities: {
    stayed: number;
    new: number;
    derecognised: number;
    written_off: number;
    transferred: number;
  };
  migration: MigrationCell[];
  allowance: Reconciliation;
  gross_carrying_amount: Reconciliation;
  checks: MovementCheck[];
  /**
   * What makes a line less meaningful without breaking an invariant: a run
   * whose FX table is not as of its reporting date, or both runs at the
   * same rates (the foreign-exchange line is then zero by construction).
   */
  warnings: string[];
}

/** Thrown when the runs cannot be compared or an invariant breaks. */
export class MovementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MovementError";
  }
}

/** Tolerances of the invariants (docs/movement.md §4). */
export interface MovementOptions {
  /**
   * Largest difference accepted between figures that must agree, in the
   * reporting currency: half a cent, so that they agree to the cent.
   * @default 0.005
   */
  tolerance?: number;
  /**
   * Throw {@link MovementError} when an invariant fails (the task does);
   * a notebook may set false to look at the failing figures.
   * @default true
   */
  throwOnFailure?: boolean;
}

const MEASURE_PREFIX = {
  allowance: "allowance",
  gross_carrying_amount: "gross",
} as const;

/** Lines booked at the opening stage and at the closing stage (IFRS 7 §35H). */
const AT_OPENING_STAGE = ["opening", "derecognised"] as const;
const AT_CLOSING_STAGE = [
  "new_originated",
  "write_off",
  "remeasurement",
  "fx",
  "closing",
] as const;

/** Per-stage precise sums of `columns`, keyed by `stageColumn`'s value. */
async function sumsByStage(
  facilities: pl.DataFrame,
  stageColumn: string,
  columns: string[],
): Promise<Map<number, Record<string, number>>> {
  const sums = await withPreciseSums(
    facilities.lazy()
      .filter(pl.col(stageColumn).isNotNull())
      .groupBy(stageColumn)
      .agg(...columns.flatMap((c) => preciseSum(pl.col(c), c))),
    columns,
  ).collect();
  return new Map(
    (sums.toRecords() as Record<string, number>[]).map((r) => [
      Number(r[stageColumn]),
      r,
    ]),
  );
}

/**
 * Sums the facility lines into a per-stage table. Which stage a line is
 * booked to: opening and derecognised at the opening stage; new,
 * write-off, remeasurement, FX and closing at the closing stage; a transfer
 * out of the opening stage and into the closing stage (IFRS 7 §35H).
 *
 * Three group-bys over the facilities (by opening stage, by closing stage,
 * by the pair for transfers) give every line of both measures: no frame
 * larger than the facilities is built, which matters at 10M facilities.
 */
async function reconcileAll(
  facilities: pl.DataFrame,
): Promise<Record<Reconciliation["measure"], Reconciliation>> {
  const measures = Object.keys(MEASURE_PREFIX) as Reconciliation["measure"][];
  const cols = (lines: readonly FacilityLine[]) =>
    measures.flatMap((m) => lines.map((l) => lineColumn(MEASURE_PREFIX[m], l)));
  const transferCols = cols(["transfer"]);
  const [atOpening, atClosing, transfers] = await Promise.all([
    sumsByStage(facilities, "stage_from", cols(AT_OPENING_STAGE)),
    sumsByStage(facilities, "stage_to", cols(AT_CLOSING_STAGE)),
    withPreciseSums(
      facilities.lazy()
        .filter(pl.col("stage_from").neq(pl.col("stage_to")))
        .groupBy(["stage_from", "stage_to"])
        .agg(...transferCols.flatMap((c) => preciseSum(pl.col(c), c))),
      transferCols,
    ).collect(),
  ]);
  const transferRows = transfers.toRecords() as Record<string, number>[];

  const table = (measure: Reconciliation["measure"]): Reconciliation => {
    const m = MEASURE_PREFIX[measure];
    const col = (l: FacilityLine) => lineColumn(m, l);
    const line = (
      key: ReconciliationLineKey,
    ): Record<"1" | "2" | "3", number> => {
      const by = { "1": 0, "2": 0, "3": 0 };
      const stageKey = (k: number) => String(k) as "1" | "2" | "3";
      if ((AT_OPENING_STAGE as readonly string[]).includes(key)) {
        for (const k of STAGES) {
          by[stageKey(k)] = atOpening.get(k)?.[col(key as FacilityLine)] ?? 0;
        }
      } else if ((AT_CLOSING_STAGE as readonly string[]).includes(key)) {
        for (const k of STAGES) {
          by[stageKey(k)] = atClosing.get(k)?.[col(key as FacilityLine)] ?? 0;
        }
      } else {
        // transfer_to_stage_k: in at k, out of each stage facilities left.
        const to = Number(key.slice("transfer_to_stage_".length));
        for (const r of transferRows) {
          if (Number(r.stage_to) !== to) continue;
          by[stageKey(to)] += r[col("transfer")];
          by[stageKey(Number(r.stage_from))] -= r[col("transfer")];
        }
      }
      return by;
    };
    return {
      measure,
      lines: RECONCILIATION_LINES.map(({ key, label }) => {
        const by = line(key);
        return { key, label, by_stage: by, total: by["1"] + by["2"] + by["3"] };
      }),
    };
  };
  return {
    allowance: table("allowance"),
    gross_carrying_amount: table("gross_carrying_amount"),
  };
}

/**
 * The migration matrix: grouped on the stages and the status (integers and
 * four strings), the few groups then labelled and merged here, instead of
 * building two label strings per facility.
 */
async function migration(facilities: pl.DataFrame): Promise<MigrationCell[]> {
  const groups = await withPreciseSums(
    facilities.lazy()
      .groupBy(["stage_from", "stage_to", "status"])
      .agg(
        pl.len().cast(pl.Float64).alias("count"),
        ...preciseSum(pl.col("gross_opening"), "gross_opening"),
        ...preciseSum(pl.col("gross_closing"), "gross_closing"),
      ),
    ["gross_opening", "gross_closing"],
  ).collect();
  const cells = new Map<string, MigrationCell>();
  for (const g of groups.toRecords()) {
    const from =
      (g.stage_from === null ? "new" : String(g.stage_from)) as MigrationState;
    const to = (g.status === MOVEMENT_STATUS.derecognised
      ? "derecognised"
      : g.status === MOVEMENT_STATUS.writtenOff
      ? "written_off"
      : String(g.stage_to)) as MigrationState;
    const key = `${from}|${to}`;
    const cell = cells.get(key) ??
      { from, to, count: 0, gross_opening: 0, gross_closing: 0 };
    cell.count += Number(g.count);
    cell.gross_opening += Number(g.gross_opening);
    cell.gross_closing += Number(g.gross_closing);
    cells.set(key, cell);
  }
  const order = (c: MigrationCell) => `${c.from}|${c.to}`;
  return [...cells.values()].sort((x, y) =>
    order(x) < order(y) ? -1 : order(x) > order(y) ? 1 : 0
  );
}

function lineOf(r: Reconciliation, key: ReconciliationLineKey) {
  return r.lines.find((l) => l.key === key)!;
}

function summaryStage(
  s: Summary,
  stage: number,
  field: "ecl" | "gross_carrying_amount",
) {
  const g = s.by_stage.find((x) => stageOfKey(x.key) === stage);
  return g ? g[field] : 0;
}

/**
 * The invariants of docs/movement.md §4: transfers net to zero across
 * stages; opening plus movements equals closing per stage; the opening
 * column equals the earlier run's totals and the closing column the later
 * run's, per stage and in total, to the cent; the migration matrix's rows
 * and columns add up to the two runs' facility counts.
 */
export function checkMovement(
  m: Omit<Movement, "checks" | "warnings">,
  fromSummary: Summary,
  toSummary: Summary,
  tolerance = 0.005,
): MovementCheck[] {
  const checks: MovementCheck[] = [];
  // Each comparison is [what, figure found, figure it must equal].
  const add = (name: string, pairs: [string, number, number][]) => {
    let worst = 0;
    const bad: string[] = [];
    for (const [label, found, expected] of pairs) {
      const d = found - expected;
      worst = Math.max(worst, Math.abs(d));
      if (!(Math.abs(d) <= tolerance)) {
        bad.push(`${label} is ${found}, expected ${expected} (off by ${d})`);
      }
    }
    checks.push({
      name,
      passed: bad.length === 0,
      difference: worst,
      detail: bad.length === 0 ? "holds" : bad.join("; "),
    });
  };
  for (const r of [m.allowance, m.gross_carrying_amount]) {
    add(
      `${r.measure}: transfers net to zero across stages`,
      STAGES.map((k) => [
        `transfer_to_stage_${k}`,
        lineOf(r, `transfer_to_stage_${k}`).total,
        0,
      ]),
    );
    add(
      `${r.measure}: opening + movements = closing per stage`,
      (["1", "2", "3"] as const).map((k) => {
        const moved = r.lines.filter((l) => l.key !== "closing")
          .reduce((a, l) => a + l.by_stage[k], 0);
        return [
          `stage ${k} opening + movements`,
          moved,
          lineOf(r, "closing").by_stage[k],
        ];
      }),
    );
    const field = r.measure === "allowance" ? "ecl" : "gross_carrying_amount";
    for (
      const [key, s, which] of [
        ["opening", fromSummary, "earlier"],
        ["closing", toSummary, "later"],
      ] as const
    ) {
      const line = lineOf(r, key);
      add(`${r.measure}: ${key} equals the ${which} run's totals`, [
        ["total", line.total, s.totals[field]],
        ...STAGES.map((k): [string, number, number] => [
          `stage ${k}`,
          line.by_stage[`${k}`],
          summaryStage(s, k, field),
        ]),
      ]);
    }
  }
  const rowCount = (pred: (c: MigrationCell) => boolean) =>
    m.migration.filter(pred).reduce((a, c) => a + c.count, 0);
  add("migration: rows add up to the earlier run's facility count", [[
    "count",
    rowCount((c) => c.from !== "new"),
    fromSummary.totals.count,
  ]]);
  add("migration: columns add up to the later run's facility count", [[
    "count",
    rowCount((c) => c.to !== "derecognised"),
    toSummary.totals.count,
  ]]);
  return checks;
}

/**
 * The FX caveats of a comparison: the foreign-exchange line revalues at the
 * later run's rates what the earlier run converted at its own (docs/movement.md
 * §3, step 4), so it is a closing-rate-to-closing-rate movement only when
 * each run used its reporting date's table.
 */
function fxWarnings(a: Summary, b: Summary): string[] {
  const warnings: string[] = [];
  for (const s of [a, b]) {
    const w = fxDateWarning(s.fx, s.reporting_date);
    if (w !== null) warnings.push(`Run ${s.run_id}: ${w}`);
  }
  const sameRates = Object.keys(a.fx.rates).every((c) =>
    b.fx.rates[c] === a.fx.rates[c]
  );
  if (sameRates) {
    warnings.push(
      `Both runs converted at the same rates (${a.fx.file} as of ${a.fx.as_of}, ${b.fx.file} as of ${b.fx.as_of}): the foreign-exchange line is zero by construction`,
    );
  }
  return warnings;
}

function sideOf(run: RunFolder): MovementSide {
  return {
    results: run.results,
    carrying: run.carrying,
    rates: run.summary.fx.rates,
  };
}

function ref(run: RunFolder): MovementRunRef {
  return {
    run_id: run.summary.run_id,
    dir: run.dir,
    reporting_date: run.summary.reporting_date,
    fx_as_of: run.summary.fx.as_of,
    rates: run.summary.fx.rates,
  };
}

/**
 * Computes the movement from an earlier run to a later one and checks its
 * invariants.
 *
 * @example
 * ```ts ignore
 * const m = await computeMovement(await readRunFolder(a), await readRunFolder(b));
 * m.allowance.lines.at(-1)!.total; // the later run's total ECL
 * ```
 *
 * @returns The movement and the facility-level attribution it sums.
 * @throws {MovementError} When the runs are in a different reporting
 *   currency, in the wrong order, a currency has no rate, or (unless
 *   `throwOnFailure` is false) an invariant fails.
 */
export async function computeMovement(
  from: RunFolder,
  to: RunFolder,
  opts: MovementOptions = {},
): Promise<{ movement: Movement; facilities: pl.DataFrame }> {
  const tolerance = opts.tolerance ?? 0.005;
  const a = from.summary;
  const b = to.summary;
  if (a.reporting_currency !== b.reporting_currency) {
    throw new MovementError(
      `Cannot compare runs ${from.dir} and ${to.dir}: reporting currencies differ (${a.reporting_currency} vs ${b.reporting_currency})`,
    );
  }
  if (!(a.reporting_date < b.reporting_date)) {
    throw new MovementError(
      `Cannot compare runs ${from.dir} and ${to.dir}: --from reporting date ${a.reporting_date} is not before --to reporting date ${b.reporting_date}`,
    );
  }
  for (const run of [from, to]) {
    const missing = await missingRates(sideOf(run));
    if (missing.length > 0) {
      throw new MovementError(
        `Cannot read run folder ${run.dir}: summary.json: fx.rates has no rate for ${
          missing.join(", ")
        }, used by loan_results.parquet`,
      );
    }
  }
  const facilities = await (await facilityMovements(sideOf(from), sideOf(to)))
    .collect();
  const withGross = facilities.withColumns(
    pl.col(lineColumn("gross", "opening")).alias("gross_opening"),
    pl.col(lineColumn("gross", "closing")).alias("gross_closing"),
  );
  // A null here means a facility without a carrying amount or without a
  // rate; it would drop out of the sums silently, so it is refused.
  const anyNull = [
    lineColumn("allowance", "remeasurement"),
    lineColumn("gross", "opening"),
    lineColumn("gross", "closing"),
    lineColumn("gross", "remeasurement"),
  ].map((c) => pl.col(c).isNull()).reduce((x, y) => x.or(y));
  const nulls = withGross.filter(anyNull);
  if (nulls.height > 0) {
    throw new MovementError(
      `Cannot compare runs ${from.dir} and ${to.dir}: loan ${
        nulls.getColumn("loan_id").get(0)
      } has no gross carrying amount in carrying_amounts.parquet or no rate for its currency`,
    );
  }
  // Counted in Polars: ten million status strings copied into JavaScript
  // took seconds.
  const counts = (await withGross.lazy().select(
    ...Object.values(MOVEMENT_STATUS).map((s) =>
      pl.col("status").eq(pl.lit(s)).sum().cast(pl.Float64).alias(s)
    ),
    pl.col("stage_from").neq(pl.col("stage_to")).sum().cast(pl.Float64)
      .alias("transferred"),
  ).collect()).toRecords()[0] as Record<string, number>;
  const countOf = (s: string) => counts[s];
  const transfers = counts.transferred;
  const partial = {
    reporting_currency: a.reporting_currency,
    from: ref(from),
    to: ref(to),
    facilities: {
      stayed: countOf(MOVEMENT_STATUS.stayed),
      new: countOf(MOVEMENT_STATUS.new),
      derecognised: countOf(MOVEMENT_STATUS.derecognised),
      written_off: countOf(MOVEMENT_STATUS.writtenOff),
      transferred: transfers,
    },
    migration: await migration(withGross),
    ...await reconcileAll(withGross),
  };
  const checks = checkMovement(partial, a, b, tolerance);
  const movement: Movement = { ...partial, checks, warnings: fxWarnings(a, b) };
  const failed = checks.filter((c) => !c.passed);
  if (failed.length > 0 && (opts.throwOnFailure ?? true)) {
    throw new MovementError(
      `Movement from ${from.dir} to ${to.dir} does not reconcile:\n` +
        failed.map((c) => `  - ${c.name}: ${c.detail}`).join("\n"),
    );
  }
  return { movement, facilities: withGross };
}
