/**
 * The movement between two runs: the stage migration matrix, the
 * loss-allowance reconciliation in the IFRS 7 §35H layout and the
 * gross-carrying-amount reconciliation of IFRS 7 §35I, each per stage (and a
 * column for the simplified approach), in total and per class of instrument
 * (product), the split of the allowance into loss allowance and provision
 * (IFRS 7 B8E), and the invariants that make them trustworthy
 * (docs/movement.md §4).
 *
 * @module
 */
import { UserError } from "../errors.ts";
import pl from "nodejs-polars";
import type { DataFrame } from "../frame.ts";
import { fxDateWarning } from "../fx.ts";
import {
  figuresOf,
  inexactSumWarning,
  preciseSum,
  withPreciseSums,
} from "../precise_sum.ts";
import {
  NULL_KEY,
  rulesChangeWarning,
  RUN_FILES,
  type RunFolder,
  stageOfKey,
  type Summary,
} from "../run_folder/mod.ts";
import {
  FACILITY_LINES,
  type FacilityLine,
  type FacilityMeasure,
  facilityMovements,
  lineColumn,
  missingRates,
  MOVEMENT_STATUS,
  type MovementSide,
  SIMPLIFIED,
  SPLIT_COLUMNS,
} from "./attribution.ts";

/** The stages of IFRS 9 §5.5. */
export const STAGES = [1, 2, 3] as const;

/**
 * The columns of the reconciliations, in order: stages 1, 2 and 3 of the
 * general approach and the facilities on the simplified approach, whatever
 * their stage (IFRS 7 §35H(b)(iii)).
 */
export const COLUMNS = ["1", "2", "3", SIMPLIFIED] as const;

/** A column of the reconciliations. */
export type StageColumn = (typeof COLUMNS)[number];

/** Amounts per column, in the reporting currency. */
export type ByColumn = Record<StageColumn, number>;

/** The line of the transfers into each column. */
export const TRANSFER_LINES = [
  { key: "transfer_to_stage_1", label: "Transfer to stage 1" },
  { key: "transfer_to_stage_2", label: "Transfer to stage 2" },
  { key: "transfer_to_stage_3", label: "Transfer to stage 3" },
  {
    key: "transfer_to_simplified",
    label: "Transfer to the simplified approach",
  },
] as const;

/** The transfer line key of transfers into a column. */
export function transferLine(
  column: StageColumn,
): (typeof TRANSFER_LINES)[number]["key"] {
  return column === SIMPLIFIED
    ? "transfer_to_simplified"
    : `transfer_to_stage_${column}`;
}

/**
 * The reconciliation lines of each table, in the order IFRS 7 §35H (loss
 * allowance) and §35I (gross carrying amount) tables show them.
 */
export const RECONCILIATION_LINES = {
  allowance: [
    { key: "opening", label: "Opening balance" },
    ...TRANSFER_LINES,
    {
      key: "remeasurement_transferred",
      label: "Remeasurement of facilities transferred between stages",
    },
    { key: "new_originated", label: "New financial assets originated" },
    {
      key: "derecognised",
      label: "Financial assets derecognised (repaid, prepaid or matured)",
    },
    { key: "write_off", label: "Write-offs" },
    {
      key: "remeasurement",
      label: "Remeasurement of facilities that stayed in their stage",
    },
    { key: "fx", label: "Foreign exchange" },
    { key: "closing", label: "Closing balance" },
  ],
  gross_carrying_amount: [
    { key: "opening", label: "Opening balance" },
    ...TRANSFER_LINES,
    { key: "new_originated", label: "New financial assets originated" },
    {
      key: "derecognised",
      label: "Financial assets derecognised (repaid, prepaid or matured)",
    },
    { key: "write_off", label: "Write-offs" },
    {
      key: "recoveries",
      label: "Recoveries on facilities written off (cash collected)",
    },
    {
      key: "remeasurement",
      label: "Repayments, drawdowns and other changes in balances",
    },
    { key: "fx", label: "Foreign exchange" },
    { key: "closing", label: "Closing balance" },
  ],
} as const;

/** A reconciliation line key of either table. */
export type ReconciliationLineKey =
  (typeof RECONCILIATION_LINES)[Reconciliation["measure"]][number]["key"];

/** One line of a reconciliation: amount per column and in total. */
export interface ReconciliationLine {
  /**
   * The line's key in `movement.json` and `movement.parquet` (`opening`,
   * `transfer_to_stage_2`, `fx`, ...; docs/movement.md §3).
   */
  key: ReconciliationLineKey;
  /** The line's caption in the tables, from {@link RECONCILIATION_LINES}. */
  label: string;
  /**
   * Amounts in the reporting currency, keyed by column: stage `"1"`, `"2"`,
   * `"3"` and `"simplified"` (0 when no product is on that approach).
   */
  by_stage: ByColumn;
  /**
   * The sum of the four columns, in the reporting currency (0 on a transfer
   * line, which moves amounts between columns).
   */
  total: number;
}

/** A whole reconciliation table. */
export interface Reconciliation {
  /**
   * Which table: `allowance`, the IFRS 7 §35H reconciliation of the whole
   * ECL (loss allowance plus provision, the runs' `ecl`), or
   * `gross_carrying_amount`, the §35I reconciliation of the balances.
   */
  measure: "allowance" | "gross_carrying_amount";
  /**
   * Every line of the table, opening to closing, in the order of
   * {@link RECONCILIATION_LINES}, zero lines included.
   */
  lines: ReconciliationLine[];
}

/** The reconciliations of one class of instrument (IFRS 7 §35H, §6). */
export interface ProductMovement {
  /** The product; `(none)` for facilities without one. */
  product: string;
  /** The allowance (ECL) reconciliation of this product's facilities. */
  allowance: Reconciliation;
  /** The gross-carrying-amount reconciliation of this product's facilities. */
  gross_carrying_amount: Reconciliation;
}

/** Amounts per column and in total. */
export interface ColumnAmounts {
  /**
   * Amounts in the reporting currency, keyed by column: stage `"1"`, `"2"`,
   * `"3"` and `"simplified"`.
   */
  by_stage: ByColumn;
  /** The sum of the four columns, in the reporting currency. */
  total: number;
}

/**
 * The ECL at one date split as IFRS 7 B8E asks: the loss allowance (up to
 * each facility's gross carrying amount, deducted from the asset) and the
 * provision (the excess, for undrawn commitments, a liability).
 */
export interface AllowanceSplitAt {
  /**
   * The loss allowance, `min(ecl, max(gross carrying amount, 0))` per
   * facility, at the date's rate in the reporting currency, per column
   * the facilities are in at that date.
   */
  loss_allowance: ColumnAmounts;
  /** The provision, `ecl` minus the loss allowance, likewise. */
  provision: ColumnAmounts;
}

/** The stages of IFRS 9 §5.5 as keys. */
export type StageKey = "1" | "2" | "3";

/**
 * The simplified column by the facilities' stage (2, or 3 when
 * credit-impaired), at one date: the runs' `by_stage` totals count them
 * there, so the tie of the columns to the runs uses these.
 */
export interface SimplifiedByStageAt {
  /**
   * The ECL (loss allowance plus provision) of the simplified column's
   * facilities in each stage, in the reporting currency at the date's rate;
   * 0 in stage 1, which the simplified approach never gives.
   */
  allowance: Record<StageKey, number>;
  /** Their gross carrying amount in each stage, likewise. */
  gross_carrying_amount: Record<StageKey, number>;
  /** The B8E parts of `allowance`. */
  loss_allowance: Record<StageKey, number>;
  /** The provision part of `allowance` (IFRS 7 B8E), per stage. */
  provision: Record<StageKey, number>;
}

/** A state of the migration matrix. */
export type MigrationState =
  | "1"
  | "2"
  | "3"
  | "simplified"
  | "new"
  | "derecognised"
  | "written_off";

/** One cell of the stage migration matrix. */
export interface MigrationCell {
  /** `"1"`, `"2"`, `"3"`, `"simplified"` or `"new"`. */
  from: MigrationState;
  /** `"1"`, `"2"`, `"3"`, `"simplified"`, `"derecognised"` or `"written_off"`. */
  to: MigrationState;
  /** Facilities that went from `from` to `to`. */
  count: number;
  /** At the opening date (0 for new facilities). */
  gross_opening: number;
  /** At the closing date (0 for derecognised facilities). */
  gross_closing: number;
}

/** The outcome of one invariant. */
export interface MovementCheck {
  /**
   * The invariant of docs/movement.md §4, prefixed by the table it is
   * checked on, e.g. `allowance: transfers net to zero across stages`.
   */
  name: string;
  /** Whether every comparison agreed within the tolerance. */
  passed: boolean;
  /** Largest absolute difference found, in the reporting currency. */
  difference: number;
  /**
   * `holds` when it passed; otherwise each failing comparison, the figure
   * found, the one expected and the difference, separated by `; `.
   */
  detail: string;
}

/** Where a run of the comparison came from. */
export interface MovementRunRef {
  /** The run's id, from its `summary.json`. */
  run_id: string;
  /** The run folder's path (or URL) as it was read. */
  dir: string;
  /** The run's reporting date, `YYYY-MM-DD`. */
  reporting_date: string;
  /**
   * The date of the run's FX table (`fx.as_of`), `YYYY-MM-DD`; when it is
   * not `reporting_date`, `warnings` says so (IAS 21 §23).
   */
  fx_as_of: string;
  /**
   * The run's FX rates (`fx.rates` of its `summary.json`): units of the
   * reporting currency per one unit of each facility currency.
   */
  rates: Record<string, number>;
}

/** The movement between two runs, as written to `movement.json`. */
export interface Movement {
  /** The ISO 4217 code of every amount, the same in both runs. */
  reporting_currency: string;
  /** The earlier run: the opening balances. */
  from: MovementRunRef;
  /** The later run: the closing balances. */
  to: MovementRunRef;
  /**
   * Products on the simplified approach in either run: the `simplified`
   * column holds their facilities (empty: the column is all zero).
   */
  simplified_products: string[];
  /**
   * Facilities of either run by status (docs/movement.md §1): `stayed` is
   * in both runs and not written off, whether or not it changed stage;
   * `new`, `derecognised` and `written_off` as their names say. The four
   * add up to the facilities of either run.
   */
  facilities: {
    stayed: number;
    new: number;
    derecognised: number;
    written_off: number;
    /** In both runs, in another column at the later date. */
    transferred: number;
    /** Of those, moved between the general and the simplified approach. */
    changed_approach: number;
  };
  /**
   * The stage migration matrix (docs/movement.md §2), its non-empty cells
   * only, ordered by opening then closing state.
   */
  migration: MigrationCell[];
  /**
   * The loss-allowance reconciliation of IFRS 7 §35H for the whole book,
   * in the reporting currency: the whole ECL, provision included.
   */
  allowance: Reconciliation;
  /**
   * The gross-carrying-amount reconciliation of IFRS 7 §35I for the whole
   * book, in the reporting currency.
   */
  gross_carrying_amount: Reconciliation;
  /** The B8E split of the opening and closing ECL, per column. */
  allowance_split: { opening: AllowanceSplitAt; closing: AllowanceSplitAt };
  /** The simplified column's opening and closing by stage. */
  simplified_by_stage: {
    opening: SimplifiedByStageAt;
    closing: SimplifiedByStageAt;
  };
  /** Both reconciliations per class of instrument, by product name. */
  by_product: ProductMovement[];
  /**
   * Every invariant of docs/movement.md §4 and its outcome. The B8E tie to
   * a run is left out when its `summary.json` has no loss allowance.
   */
  checks: MovementCheck[];
  /**
   * What makes a line less meaningful without breaking an invariant: a run
   * whose FX table is not as of its reporting date, or both runs at the
   * same rates (the foreign-exchange line is then zero by construction).
   */
  warnings: string[];
}

/**
 * The columns tables show: the simplified column only when a run has
 * products on the simplified approach (otherwise it is zero throughout).
 */
export function visibleColumns(
  m: Pick<Movement, "simplified_products">,
): StageColumn[] {
  return COLUMNS.filter((c) =>
    c !== SIMPLIFIED || m.simplified_products.length > 0
  );
}

/**
 * The lines tables show: the transfer to the simplified approach only when
 * a facility changed approach between the runs (otherwise it is zero).
 */
export function visibleLines(
  m: Pick<Movement, "facilities">,
  r: Reconciliation,
): ReconciliationLine[] {
  return r.lines.filter((l) =>
    l.key !== "transfer_to_simplified" || m.facilities.changed_approach > 0
  );
}

/** Thrown when the runs cannot be compared or an invariant breaks. */
export class MovementError extends UserError {
  /**
   * The error; `message` names the runs and what is wrong.
   *
   * @param kind `input` when the runs cannot be compared, `check` when an
   *   invariant fails.
   */
  constructor(message: string, kind: "input" | "check" = "check") {
    super(kind, message);
    this.name = "MovementError";
  }
}

/**
 * Largest `tolerance` accepted (`--tolerance` of `deno task movement`), in
 * the reporting currency: 1,000,000. The tolerance allows for rounding
 * (half a cent by default); a larger one would let a reconciliation off by
 * millions pass as holding, and 1e308 would make every invariant hold
 * whatever the figures.
 */
export const MAX_MOVEMENT_TOLERANCE = 1_000_000;

/**
 * Smallest `tolerance` accepted: a millionth of a unit of the reporting
 * currency. Figures that must agree are sums of floating-point amounts,
 * which differ by rounding alone (about 1e-12 on a small book, more on a
 * large one), so a tolerance of 0 fails every movement whatever its
 * figures.
 */
export const MIN_MOVEMENT_TOLERANCE = 1e-6;

/** Tolerances of the invariants (docs/movement.md §4). */
export interface MovementOptions {
  /**
   * Largest difference accepted between figures that must agree, in the
   * reporting currency: half a cent, so that they agree to the cent. At
   * least {@link MIN_MOVEMENT_TOLERANCE} and at most
   * {@link MAX_MOVEMENT_TOLERANCE}.
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
} as const satisfies Record<Reconciliation["measure"], FacilityMeasure>;

/** Lines booked at the opening column; the others at the closing column. */
const AT_OPENING_COLUMN = new Set<FacilityLine>(["opening", "derecognised"]);

/**
 * Facilities sharing an opening and closing column, stage, status and
 * class, with their count and the sum of every line of both measures and
 * of the B8E split.
 */
interface LineGroup {
  column_from: StageColumn | null;
  column_to: StageColumn | null;
  stage_from: number | null;
  stage_to: number | null;
  status: string;
  product: string;
  count: number;
  /** Keyed by line column (`allowance_opening`, `gross_fx`, ...). */
  sums: Record<string, number>;
}

const SUM_COLUMNS = [
  ...(["allowance", "gross"] as const).flatMap((m) =>
    FACILITY_LINES[m].map((l) => lineColumn(m, l))
  ),
  ...SPLIT_COLUMNS,
];

/**
 * One pass over the facilities: at most a few hundred groups by opening and
 * closing column and stage, status and product, each line summed exactly
 * to the cent (precise_sum.ts). Every figure of the movement (both
 * reconciliations in total and per product, the B8E split, the migration
 * matrix, the counts) is a sum of these groups, so ten million facilities
 * are aggregated once, not once per line.
 */
async function lineGroups(facilities: DataFrame): Promise<LineGroup[]> {
  const groups = await withPreciseSums(
    facilities.lazy()
      .groupBy([
        "simplified_from",
        "simplified_to",
        "stage_from",
        "stage_to",
        "status",
        "product",
      ])
      .agg(
        pl.len().cast(pl.Float64).alias("count"),
        ...SUM_COLUMNS.flatMap((c) => preciseSum(pl.col(c), c)),
      ),
    SUM_COLUMNS,
  ).collect();
  const stage = (v: unknown) =>
    v === null || v === undefined ? null : Number(v);
  // A facility's column at a date: `simplified`, or its stage.
  const column = (simplified: unknown, s: unknown): StageColumn | null =>
    s === null || s === undefined
      ? null
      : simplified === true
      ? SIMPLIFIED
      : String(s) as StageColumn;
  return groups.toRecords().map((g) => ({
    column_from: column(g.simplified_from, g.stage_from),
    column_to: column(g.simplified_to, g.stage_to),
    stage_from: stage(g.stage_from),
    stage_to: stage(g.stage_to),
    status: String(g.status),
    product: g.product === null || g.product === undefined
      ? NULL_KEY
      : String(g.product),
    count: Number(g.count),
    sums: Object.fromEntries(SUM_COLUMNS.map((c) => [c, Number(g[c])])),
  }));
}

/**
 * The warning for a movement whose figures are too large to be exact to
 * the cent (`inexactSumWarning` of `lib/precise_sum.ts`), the
 * reconciliations' figures named first, or null. Its invariants compare
 * figures within `tolerance`, which such figures may miss by rounding
 * alone, so it gives the spacing of Float64 numbers at the largest.
 */
function inexactMovementWarning(
  m: Omit<Movement, "checks" | "warnings">,
  tolerance: number,
): string | null {
  const { gross_carrying_amount, allowance, ...rest } = m;
  const figures = [
    ...figuresOf(gross_carrying_amount, "gross_carrying_amount"),
    ...figuresOf(allowance, "allowance"),
    ...figuresOf(rest),
  ];
  const warning = inexactSumWarning(
    `Movement from ${m.from.run_id} to ${m.to.run_id}`,
    figures,
  );
  if (warning === null) return null;
  const largest = Math.max(
    ...figures.map(([, v]) => Number.isFinite(v) ? Math.abs(v) : 0),
  );
  const spacing = 2 ** (Math.floor(Math.log2(largest)) - 52);
  return `${warning}. The invariants compare figures to within the tolerance (${tolerance}); at ${largest} Float64 numbers are ${spacing} apart, so figures that agree may differ by rounding alone: a tolerance of a few times ${spacing} allows for it`;
}

/**
 * Refuses facilities with a NaN or infinite line (a run folder written
 * before runs checked their figures, or changed by hand), naming the first
 * facility and line: it would make every sum it enters NaN, and the
 * invariants would fail without saying why.
 */
async function refuseNonFinite(
  groups: LineGroup[],
  facilities: DataFrame,
  from: RunFolder,
  to: RunFolder,
): Promise<void> {
  const column = SUM_COLUMNS.find((c) =>
    groups.some((g) => !Number.isFinite(g.sums[c]))
  );
  if (column === undefined) return;
  const row = (await facilities.lazy()
    .filter(pl.col(column).isFinite().not())
    .select(pl.col("loan_id"), pl.col(column))
    .head(1)
    .collect()).toRecords()[0] ?? {};
  throw new MovementError(
    `Cannot compare runs ${from.dir} and ${to.dir}: loan ${
      row.loan_id ?? "(unknown)"
    }: its ${column} is ${
      row[column] ?? "not finite"
    }, from a NaN or infinite figure in ${RUN_FILES.loanResults} or ${RUN_FILES.carryingAmounts} of one of the runs; recompute that run (a run checks its figures before it is published)`,
  );
}

const zeros = (): ByColumn => ({ "1": 0, "2": 0, "3": 0, simplified: 0 });
const totalOf = (by: ByColumn) => COLUMNS.reduce((a, c) => a + by[c], 0);

/** In both runs and in another column at the later date. */
const isTransfer = (g: LineGroup) =>
  g.column_from !== null && g.column_to !== null &&
  g.column_from !== g.column_to;

/**
 * A reconciliation table from the line groups. Which column a line is
 * booked to: opening and derecognised at the opening column; new,
 * write-off, remeasurement, recoveries, FX and closing at the closing
 * column; a transfer out of the opening column and into the closing column
 * (IFRS 7 §35H), on the line of the column it goes to.
 */
function reconciliation(
  groups: LineGroup[],
  measure: Reconciliation["measure"],
): Reconciliation {
  const prefix = MEASURE_PREFIX[measure];
  const amounts = new Map<string, ByColumn>(
    RECONCILIATION_LINES[measure].map(({ key }) => [key, zeros()]),
  );
  const add = (key: string, column: StageColumn | null, v: number) => {
    if (column !== null) amounts.get(key)![column] += v;
  };
  for (const g of groups) {
    for (const line of FACILITY_LINES[prefix]) {
      if (line === "transfer") continue;
      add(
        line,
        AT_OPENING_COLUMN.has(line) ? g.column_from : g.column_to,
        g.sums[lineColumn(prefix, line)],
      );
    }
    if (isTransfer(g)) {
      const moved = g.sums[lineColumn(prefix, "transfer")];
      const key = transferLine(g.column_to!);
      add(key, g.column_to, moved);
      add(key, g.column_from, -moved);
    }
  }
  return {
    measure,
    lines: RECONCILIATION_LINES[measure].map(({ key, label }) => {
      const by = amounts.get(key)!;
      return { key, label, by_stage: by, total: totalOf(by) };
    }),
  };
}

/** The B8E split at the opening (opening column) and closing (closing column). */
function allowanceSplitOf(groups: LineGroup[]): Movement["allowance_split"] {
  const at = (date: "opening" | "closing"): AllowanceSplitAt => {
    const la = zeros();
    const pv = zeros();
    for (const g of groups) {
      const column = date === "opening" ? g.column_from : g.column_to;
      if (column === null) continue;
      la[column] += g.sums[`loss_allowance_${date}`];
      pv[column] += g.sums[`provision_${date}`];
    }
    return {
      loss_allowance: { by_stage: la, total: totalOf(la) },
      provision: { by_stage: pv, total: totalOf(pv) },
    };
  };
  return { opening: at("opening"), closing: at("closing") };
}

/** The simplified column's opening and closing by the facilities' stage. */
function simplifiedByStage(
  groups: LineGroup[],
): Movement["simplified_by_stage"] {
  const at = (date: "opening" | "closing"): SimplifiedByStageAt => {
    const stages = () => ({ "1": 0, "2": 0, "3": 0 });
    const out = {
      allowance: stages(),
      gross_carrying_amount: stages(),
      loss_allowance: stages(),
      provision: stages(),
    };
    for (const g of groups) {
      const column = date === "opening" ? g.column_from : g.column_to;
      const stage = date === "opening" ? g.stage_from : g.stage_to;
      if (column !== SIMPLIFIED || stage === null) continue;
      const k = String(stage) as StageKey;
      out.allowance[k] += g.sums[lineColumn("allowance", date)];
      out.gross_carrying_amount[k] += g.sums[lineColumn("gross", date)];
      out.loss_allowance[k] += g.sums[`loss_allowance_${date}`];
      out.provision[k] += g.sums[`provision_${date}`];
    }
    return out;
  };
  return { opening: at("opening"), closing: at("closing") };
}

/** Both reconciliations of each product, products in name order. */
function byProduct(groups: LineGroup[]): ProductMovement[] {
  const products = [...new Set(groups.map((g) => g.product))].sort();
  return products.map((product) => {
    const own = groups.filter((g) => g.product === product);
    return {
      product,
      allowance: reconciliation(own, "allowance"),
      gross_carrying_amount: reconciliation(own, "gross_carrying_amount"),
    };
  });
}

/**
 * The migration matrix from the line groups. A facility's state is its
 * column: a receivable on the simplified approach is in state
 * `simplified` at both dates, whether or not it became credit-impaired
 * (the matrix shows movements between the columns of the reconciliation).
 */
function migration(groups: LineGroup[]): MigrationCell[] {
  const cells = new Map<string, MigrationCell>();
  for (const g of groups) {
    const from: MigrationState = g.column_from ?? "new";
    const to: MigrationState = g.status === MOVEMENT_STATUS.derecognised
      ? "derecognised"
      : g.status === MOVEMENT_STATUS.writtenOff
      ? "written_off"
      : g.column_to!;
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

/** Facilities per status, those that changed column and approach. */
function facilityCounts(groups: LineGroup[]): Movement["facilities"] {
  const count = (keep: (g: LineGroup) => boolean) =>
    groups.filter(keep).reduce((n, g) => n + g.count, 0);
  return {
    stayed: count((g) => g.status === MOVEMENT_STATUS.stayed),
    new: count((g) => g.status === MOVEMENT_STATUS.new),
    derecognised: count((g) => g.status === MOVEMENT_STATUS.derecognised),
    written_off: count((g) => g.status === MOVEMENT_STATUS.writtenOff),
    transferred: count(isTransfer),
    changed_approach: count((g) =>
      isTransfer(g) &&
      (g.column_from === SIMPLIFIED || g.column_to === SIMPLIFIED)
    ),
  };
}

function lineOf(r: Reconciliation, key: ReconciliationLineKey) {
  return r.lines.find((l) => l.key === key)!;
}

/** A summary amount the movement ties to. */
type SummaryField =
  | "ecl"
  | "gross_carrying_amount"
  | "loss_allowance"
  | "provision";

function summaryStage(s: Summary, stage: number, field: SummaryField) {
  const g = s.by_stage.find((x) => stageOfKey(x.key) === stage);
  return g?.[field] ?? 0;
}

/** The run's total of its products on the simplified approach. */
function summarySimplified(s: Summary, field: SummaryField) {
  const products = new Set(s.simplified_products ?? []);
  return s.by_product.filter((g) => products.has(g.key))
    .reduce((a, g) => a + (g[field] ?? 0), 0);
}

/**
 * The comparisons of one date's column amounts with a run's summary: in
 * total; per stage, the stage's column plus the simplified facilities of
 * that stage (`by_stage` counts them there); the simplified column with
 * the run's simplified products.
 */
function tiePairs(
  amounts: ColumnAmounts,
  simplified: Record<StageKey, number>,
  s: Summary,
  field: SummaryField,
  prefix = "",
): [string, number, number][] {
  return [
    [`${prefix}total`, amounts.total, s.totals[field] ?? 0],
    ...STAGES.map((k): [string, number, number] => [
      `${prefix}stage ${k} (with the simplified facilities in stage ${k})`,
      amounts.by_stage[`${k}`] + simplified[`${k}`],
      summaryStage(s, k, field),
    ]),
    [
      `${prefix}simplified (the run's simplified products)`,
      amounts.by_stage.simplified,
      summarySimplified(s, field),
    ],
  ];
}

/**
 * The invariants of docs/movement.md §4: transfers net to zero across
 * columns; opening plus movements equals closing per column; the opening
 * column equals the earlier run's totals and the closing column the later
 * run's, in total, per stage (general-approach column plus the simplified
 * facilities of that stage) and for the simplified column (the run's
 * simplified products), to the cent; the B8E parts add up to the
 * allowance and equal the runs' loss allowance and provision where the
 * summaries carry them; the per-product tables add up to the total tables; the
 * migration matrix's rows and columns add up to the two runs' facility
 * counts.
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
      TRANSFER_LINES.map(({ key }) => [key, lineOf(r, key).total, 0]),
    );
    add(
      `${r.measure}: opening + movements = closing per stage`,
      COLUMNS.map((k) => {
        const moved = r.lines.filter((l) => l.key !== "closing")
          .reduce((a, l) => a + l.by_stage[k], 0);
        return [
          `${
            k === SIMPLIFIED ? "simplified" : `stage ${k}`
          } opening + movements`,
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
      add(
        `${r.measure}: ${key} equals the ${which} run's totals`,
        tiePairs(
          lineOf(r, key),
          m.simplified_by_stage[key][r.measure],
          s,
          field,
        ),
      );
    }
  }
  for (
    const [date, s, which] of [
      ["opening", fromSummary, "earlier"],
      ["closing", toSummary, "later"],
    ] as const
  ) {
    // Summaries written before the B8E split have no parts to tie to.
    if (typeof s.totals.loss_allowance !== "number") continue;
    add(
      `allowance: ${date} loss allowance and provision equal the ${which} run's (B8E)`,
      (["loss_allowance", "provision"] as const).flatMap((part) =>
        tiePairs(
          m.allowance_split[date][part],
          m.simplified_by_stage[date][part],
          s,
          part,
          `${part} `,
        )
      ),
    );
  }
  add(
    "allowance: loss allowance + provision = allowance per stage (B8E)",
    (["opening", "closing"] as const).flatMap((date) =>
      COLUMNS.map((k): [string, number, number] => [
        `${date} ${k}`,
        m.allowance_split[date].loss_allowance.by_stage[k] +
        m.allowance_split[date].provision.by_stage[k],
        lineOf(m.allowance, date).by_stage[k],
      ])
    ),
  );
  for (const measure of ["allowance", "gross_carrying_amount"] as const) {
    add(
      `${measure}: the products' tables add up to the total table`,
      m[measure].lines.flatMap((l, i) =>
        [...COLUMNS, "total" as const].map((k): [string, number, number] => {
          const amount = (x: ReconciliationLine) =>
            k === "total" ? x.total : x.by_stage[k];
          return [
            `${l.key} ${k}`,
            m.by_product.reduce((a, p) => a + amount(p[measure].lines[i]), 0),
            amount(l),
          ];
        })
      ),
    );
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
 * A comparison across a change of methodology (docs/methodology.md, the
 * version each manifest records; a manifest without one was written under
 * version 1): the effect of the change itself lands in remeasurement and
 * derecognition, where IAS 8 §39 wants a change in estimate shown and
 * explained, so the page says so.
 */
export function methodologyWarnings(from: RunFolder, to: RunFolder): string[] {
  const version = (run: RunFolder) =>
    run.manifest === null ? null : run.manifest.methodology_version ?? 1;
  const [v0, v1] = [version(from), version(to)];
  const warnings: string[] = [];
  if (v0 !== null && v1 !== null && v0 !== v1) {
    warnings.push(
      `Run ${from.summary.run_id} follows methodology version ${v0} and run ${to.summary.run_id} version ${v1}: the effect of the change of method is part of remeasurement and derecognition; rerun ${from.summary.run_id} under version ${v1} to separate it`,
    );
  }
  // What differs, key by key, when both manifests recorded the rules'
  // parameters (lib/run_folder/manifest.ts).
  const rules = rulesChangeWarning(
    [from.summary.run_id, from.manifest],
    [to.summary.run_id, to.manifest],
  );
  if (rules !== null) warnings.push(rules);
  return warnings;
}

/**
 * Facilities are matched by `loan_id` alone (docs/movement.md). A facility
 * keeps its product and currency for life, so when many of the matched
 * ones changed either, the two runs are most likely of different books
 * whose identifiers happen to overlap: the page says so, with an example,
 * rather than presenting their differences as a movement.
 */
async function identityWarning(
  from: RunFolder,
  to: RunFolder,
): Promise<string | null> {
  const key = (run: RunFolder, suffix: string) =>
    run.results.select(
      pl.col("loan_id"),
      pl.col("product").alias(`product${suffix}`),
      pl.col("currency").alias(`currency${suffix}`),
    );
  const matched = await key(from, "_0")
    .join(key(to, "_1"), { on: "loan_id", how: "inner" })
    .withColumns(
      pl.col("product_0").neq(pl.col("product_1"))
        .or(pl.col("currency_0").neq(pl.col("currency_1")))
        .alias("changed"),
    )
    .collect();
  if (matched.height === 0) return null;
  const changed = matched.filter(pl.col("changed")).sort("loan_id");
  // A product change of a few facilities is real (a restructuring); a
  // tenth of the book changing product or currency is not.
  if (changed.height === 0 || changed.height < 0.1 * matched.height) {
    return null;
  }
  const row = changed.row(0);
  const [id, p0, c0, p1, c1] = [0, 1, 2, 3, 4].map((i) => String(row[i]));
  return `${changed.height} of ${matched.height} facilities matched by loan_id between runs ${from.summary.run_id} and ${to.summary.run_id} changed product or currency (e.g. ${id}: ${p0} ${c0} then ${p1} ${c1}): a facility keeps both for life, so check that the two runs are of the same book`;
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
    simplifiedProducts: run.summary.simplified_products ?? [],
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRunFolder } from "../run_folder/mod.ts";
 * import { runPortfolio } from "../run/mod.ts";
 * import { computeMovement } from "./reconciliation.ts";
 *
 * // The sample book at its two quarter-ends.
 * const out = await Deno.makeTempDir();
 * const [q3, q4] = await Promise.all(["2025-09-30", "2025-12-31"].map((date) =>
 *   runPortfolio({
 *     portfolio: `data/sample/portfolio_${date}.parquet`,
 *     out, runId: date, report: false,
 *   }).then((run) => readRunFolder(run.dir))
 * ));
 * const { movement, facilities } = await computeMovement(q3, q4);
 * const lines = movement.allowance.lines;
 * assert.equal(lines[0].key, "opening");
 * assert.ok(Math.abs(lines[0].total - q3.summary.totals.ecl) < 0.005);
 * assert.ok(Math.abs(lines.at(-1)!.total - q4.summary.totals.ecl) < 0.005);
 * assert.ok(movement.checks.every((c) => c.passed));
 * assert.ok(facilities.height >= q4.summary.totals.count);
 * await Deno.remove(out, { recursive: true });
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
): Promise<{ movement: Movement; facilities: DataFrame }> {
  const tolerance = opts.tolerance ?? 0.005;
  if (
    !(tolerance >= MIN_MOVEMENT_TOLERANCE &&
      tolerance <= MAX_MOVEMENT_TOLERANCE)
  ) {
    throw new UserError(
      "usage",
      `Cannot compute the movement with tolerance ${tolerance}: give a number from ${MIN_MOVEMENT_TOLERANCE} (MIN_MOVEMENT_TOLERANCE: floating-point sums differ by rounding alone) to ${MAX_MOVEMENT_TOLERANCE} (MAX_MOVEMENT_TOLERANCE, in the reporting currency)`,
    );
  }
  const a = from.summary;
  const b = to.summary;
  if (a.reporting_currency !== b.reporting_currency) {
    throw new MovementError(
      `Cannot compare runs ${from.dir} and ${to.dir}: reporting currencies differ (${a.reporting_currency} vs ${b.reporting_currency})`,
      "input",
    );
  }
  if (!(a.reporting_date < b.reporting_date)) {
    throw new MovementError(
      `Cannot compare runs ${from.dir} and ${to.dir}: --from reporting date ${a.reporting_date} is not before --to reporting date ${b.reporting_date}`,
      "input",
    );
  }
  opts.onStep?.("check_rates");
  for (const run of [from, to]) {
    const missing = await missingRates(sideOf(run));
    if (missing.length > 0) {
      throw new MovementError(
        `Cannot read run folder ${run.dir}: ${RUN_FILES.summary}: fx.rates has no rate for ${
          missing.join(", ")
        }, used by ${RUN_FILES.loanResults}`,
        "input",
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
      } has no gross carrying amount in ${RUN_FILES.carryingAmounts} or no rate for its currency`,
      "input",
    );
  }
  opts.onStep?.("aggregate");
  const groups = await lineGroups(facilities);
  // A precise sum keeps a NaN or infinite line (it does not drop it), so
  // the groups tell whether any facility has one; only then is it looked
  // for, to name it.
  await refuseNonFinite(groups, facilities, from, to);
  const partial = {
    reporting_currency: a.reporting_currency,
    from: ref(from),
    to: ref(to),
    simplified_products: [
      ...new Set([
        ...(a.simplified_products ?? []),
        ...(b.simplified_products ?? []),
      ]),
    ].sort(),
    facilities: facilityCounts(groups),
    migration: migration(groups),
    allowance: reconciliation(groups, "allowance"),
    gross_carrying_amount: reconciliation(groups, "gross_carrying_amount"),
    allowance_split: allowanceSplitOf(groups),
    simplified_by_stage: simplifiedByStage(groups),
    by_product: byProduct(groups),
  };
  opts.onStep?.("check_invariants");
  const checks = checkMovement(partial, a, b, tolerance);
  // Figures above 2^53 cents cannot be exact to the cent (precise_sum.ts):
  // the movement says so rather than presenting them as tied to the cent.
  const inexact = inexactMovementWarning(partial, tolerance);
  const identity = await identityWarning(from, to);
  const movement: Movement = {
    ...partial,
    checks,
    warnings: [
      ...(identity === null ? [] : [identity]),
      ...methodologyWarnings(from, to),
      ...fxWarnings(a, b),
      ...(inexact === null ? [] : [inexact]),
    ],
  };
  const failed = checks.filter((c) => !c.passed);
  if (failed.length > 0 && (opts.throwOnFailure ?? true)) {
    throw new MovementError(
      `Movement from ${from.dir} to ${to.dir} does not reconcile:\n` +
        failed.map((c) => `  - ${c.name}: ${c.detail}`).join("\n") +
        (inexact === null ? "" : `\n(${inexact})`),
    );
  }
  return { movement, facilities };
}
