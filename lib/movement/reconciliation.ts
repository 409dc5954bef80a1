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
  FACILITY_LINES,
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
  /**
   * Called as each step starts (`check_rates`, `attribute_facilities`,
   * `aggregate`, `check_invariants`), for a progress display: two
   * ten-million-loan runs take half a minute.
   */
  onStep?: (step: string) => void;
}

const MEASURE_PREFIX = {
  allowance: "allowance",
  gross_carrying_amount: "gross",
} as const;

/** Lines booked at the opening stage; the others at the closing stage. */
const AT_OPENING_STAGE = new Set<FacilityLine>(["opening", "derecognised"]);

/**
 * Facilities sharing an opening stage, a closing stage and a status, with
 * their count and the sum of every line of both measures.
 */
interface LineGroup {
  stage_from: number | null;
  stage_to: number | null;
  status: string;
  count: number;
  /** Keyed by line column (`allowance_opening`, `gross_fx`, ...). */
  sums: Record<string, number>;
}

const LINE_COLUMNS = (["allowance", "gross"] as const).flatMap((m) =>
  FACILITY_LINES.map((l) => lineColumn(m, l))
);

/**
 * One pass over the facilities: at most a few dozen groups by opening
 * stage, closing stage and status, each line summed exactly to the cent
 * (precise_sum.ts). Every figure of the movement (both reconciliations, the
 * migration matrix, the counts) is a sum of these groups, so ten million
 * facilities are aggregated once, not once per line.
 */
async function lineGroups(facilities: pl.DataFrame): Promise<LineGroup[]> {
  const groups = await withPreciseSums(
    facilities.lazy()
      .groupBy(["stage_from", "stage_to", "status"])
      .agg(
        pl.len().cast(pl.Float64).alias("count"),
        ...LINE_COLUMNS.flatMap((c) => preciseSum(pl.col(c), c)),
      ),
    LINE_COLUMNS,
  ).collect();
  return groups.toRecords().map((g) => ({
    stage_from: g.stage_from === null ? null : Number(g.stage_from),
    stage_to: g.stage_to === null ? null : Number(g.stage_to),
    status: String(g.status),
    count: Number(g.count),
    sums: Object.fromEntries(LINE_COLUMNS.map((c) => [c, Number(g[c])])),
  }));
}

/**
 * A per-stage reconciliation table from the line groups. Which stage a line
 * is booked to: opening and derecognised at the opening stage; new,
 * write-off, remeasurement, FX and closing at the closing stage; a transfer
 * out of the opening stage and into the closing stage (IFRS 7 §35H).
 */
function reconciliation(
  groups: LineGroup[],
  measure: Reconciliation["measure"],
): Reconciliation {
  const col = (l: FacilityLine) => lineColumn(MEASURE_PREFIX[measure], l);
  const amounts = new Map<
    ReconciliationLineKey,
    Record<"1" | "2" | "3", number>
  >(
    RECONCILIATION_LINES.map(({ key }) => [key, { "1": 0, "2": 0, "3": 0 }]),
  );
  const add = (key: ReconciliationLineKey, stage: number | null, v: number) => {
    if (stage !== null) {
      amounts.get(key)![String(stage) as "1" | "2" | "3"] += v;
    }
  };
  for (const g of groups) {
    for (const line of FACILITY_LINES) {
      if (line === "transfer") continue;
      add(
        line,
        AT_OPENING_STAGE.has(line) ? g.stage_from : g.stage_to,
        g.sums[col(line)],
      );
    }
    if (
      g.stage_from !== null && g.stage_to !== null &&
      g.stage_from !== g.stage_to
    ) {
      const key = `transfer_to_stage_${g.stage_to}` as ReconciliationLineKey;
      add(key, g.stage_to, g.sums[col("transfer")]);
      add(key, g.stage_from, -g.sums[col("transfer")]);
    }
  }
  return {
    measure,
    lines: RECONCILIATION_LINES.map(({ key, label }) => {
      const by = amounts.get(key)!;
      return { key, label, by_stage: by, total: by["1"] + by["2"] + by["3"] };
    }),
  };
}

/** The migration matrix from the line groups. */
function migration(groups: LineGroup[]): MigrationCell[] {
  const cells = new Map<string, MigrationCell>();
  for (const g of groups) {
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
    cell.count += g.count;
    cell.gross_opening += g.sums[lineColumn("gross", "opening")];
    cell.gross_closing += g.sums[lineColumn("gross", "closing")];
    cells.set(key, cell);
  }
  const order = (c: MigrationCell) => `${c.from}|${c.to}`;
  return [...cells.values()].sort((x, y) =>
    order(x) < order(y) ? -1 : order(x) > order(y) ? 1 : 0
  );
}

/** Facilities per status, and those whose stage changed. */
function facilityCounts(groups: LineGroup[]): Movement["facilities"] {
  const count = (keep: (g: LineGroup) => boolean) =>
    groups.filter(keep).reduce((n, g) => n + g.count, 0);
  return {
    stayed: count((g) => g.status === MOVEMENT_STATUS.stayed),
    new: count((g) => g.status === MOVEMENT_STATUS.new),
    derecognised: count((g) => g.status === MOVEMENT_STATUS.derecognised),
    written_off: count((g) => g.status === MOVEMENT_STATUS.writtenOff),
    transferred: count((g) =>
      g.stage_from !== null && g.stage_to !== null &&
      g.stage_from !== g.stage_to
    ),
  };
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
  opts.onStep?.("check_rates");
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
  opts.onStep?.("attribute_facilities");
  const facilities = await (await facilityMovements(sideOf(from), sideOf(to)))
    .collect();
  // A null here means a facility without a carrying amount or without a
  // rate; it would drop out of the sums silently, so it is refused.
  const anyNull = [
    lineColumn("allowance", "remeasurement"),
    lineColumn("gross", "opening"),
    lineColumn("gross", "closing"),
    lineColumn("gross", "remeasurement"),
  ].map((c) => pl.col(c).isNull()).reduce((x, y) => x.or(y));
  const nulls = facilities.filter(anyNull);
  if (nulls.height > 0) {
    throw new MovementError(
      `Cannot compare runs ${from.dir} and ${to.dir}: loan ${
        nulls.getColumn("loan_id").get(0)
      } has no gross carrying amount in carrying_amounts.parquet or no rate for its currency`,
    );
  }
  opts.onStep?.("aggregate");
  const groups = await lineGroups(facilities);
  const partial = {
    reporting_currency: a.reporting_currency,
    from: ref(from),
    to: ref(to),
    facilities: facilityCounts(groups),
    migration: migration(groups),
    allowance: reconciliation(groups, "allowance"),
    gross_carrying_amount: reconciliation(groups, "gross_carrying_amount"),
  };
  opts.onStep?.("check_invariants");
  const checks = checkMovement(partial, a, b, tolerance);
  const movement: Movement = { ...partial, checks, warnings: fxWarnings(a, b) };
  const failed = checks.filter((c) => !c.passed);
  if (failed.length > 0 && (opts.throwOnFailure ?? true)) {
    throw new MovementError(
      `Movement from ${from.dir} to ${to.dir} does not reconcile:\n` +
        failed.map((c) => `  - ${c.name}: ${c.detail}`).join("\n"),
    );
  }
  return { movement, facilities };
}
