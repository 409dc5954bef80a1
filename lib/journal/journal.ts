/**
 * The general-ledger journal of a movement (docs/journal.md): the IFRS 7
 * §35H loss-allowance reconciliation of `deno task movement`, facility by
 * facility (`movement_facilities.parquet`), turned into balanced
 * double-entry postings by entity (legal entity, or region when the runs
 * have none), product, stage column and facility currency, in the
 * reporting currency of the movement. Each journal line names the
 * paragraph that authorises it:
 *
 * | movement line                         | debit (amount > 0)       | credit (amount > 0)  | paragraph |
 * |---------------------------------------|--------------------------|----------------------|-----------|
 * | transfer to stage `c1` (from `c0`)    | allowance `c0`           | allowance `c1`       | IFRS 9 §5.5.3, §5.5.5 |
 * | new financial assets originated       | impairment gain or loss  | allowance `c1`       | IFRS 9 §5.5.8 |
 * | derecognised (repaid, matured)        | impairment gain or loss  | allowance `c0`       | IFRS 9 §5.5.8 |
 * | remeasurement (transferred, stayed)   | impairment gain or loss  | allowance `c1`       | IFRS 9 §5.5.8 |
 * | foreign exchange                      | FX differences           | allowance `c1`       | IAS 21 §28 |
 * | write-offs (amount < 0)               | gross carrying amount    | allowance `c1`       | IFRS 9 §5.4.4 |
 * | recoveries, cash collected (< 0)      | gross carrying amount    | recoveries clearing  | IFRS 9 Appendix A (gross carrying amount, amortised cost) |
 *
 * A negative amount swaps the sides (a release of allowance is a debit of
 * the allowance and an impairment gain). Amounts are rounded to the cent
 * per entry, both lines of an entry by the same amount, so every entry
 * balances exactly; the cents the rounding of many entries loses are put
 * back on the largest impairment entry of each stage column, so that each
 * allowance account's net change is the movement's closing minus opening
 * of that column, the columns summing to the total's change rounded to the
 * cent (largest remainders). The cents put back are the rounding's alone:
 * a column whose difference exceeds half a cent per entry of the column
 * (plus the cent of apportioning the total among the columns) is refused,
 * and so is a facility-level opening or closing of a column that is not
 * `movement.json`'s (within half a cent, the movement's default
 * tolerance): {@link JournalCheckError}. When a column has no impairment
 * entry to carry them, the cents are a separate entry posted to the
 * entity, product and facility currency of the column's largest line.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { LazyFrame } from "../frame.ts";
import { preciseSum, withPreciseSums } from "../precise_sum.ts";
import {
  COLUMNS,
  lineColumn,
  type Movement,
  RECONCILIATION_LINES,
  SIMPLIFIED,
  type StageColumn,
} from "../movement/mod.ts";
import type { GlAccount, GlAccounts } from "./accounts.ts";
import { UserError } from "../errors.ts";

/**
 * Half a cent, in the reporting currency: the tolerance of a facility-level
 * opening or closing against `movement.json` (the default `--tolerance`
 * of `deno task movement`).
 */
export const JOURNAL_TOLERANCE = 0.005;

/**
 * A movement the journal refuses to post: a stage column's facility-level
 * opening or closing is not `movement.json`'s, or its rounding difference
 * is larger than rounding to the cent can make. Kind `check` (exit 1).
 */
export class JournalCheckError extends UserError {
  /**
   * A failed check of the movement's figures.
   *
   * @param message The stage column and both figures.
   */
  constructor(message: string) {
    super("check", message);
    this.name = "JournalCheckError";
  }
}

/** The movement lines the journal posts, in the order it posts them. */
export const JOURNAL_LINES = [
  "transfer",
  "new_originated",
  "derecognised",
  "remeasurement_transferred",
  "remeasurement",
  "fx",
  "write_off",
  "recoveries",
] as const;

/** A movement line the journal posts. */
export type JournalLineKey = (typeof JOURNAL_LINES)[number];

/** The paragraph that authorises each movement line's posting. */
export const JOURNAL_REFERENCES: Record<JournalLineKey | "rounding", string> = {
  transfer: "IFRS 9 §5.5.3, §5.5.5",
  new_originated: "IFRS 9 §5.5.8",
  derecognised: "IFRS 9 §5.5.8",
  remeasurement_transferred: "IFRS 9 §5.5.8",
  remeasurement: "IFRS 9 §5.5.8",
  fx: "IAS 21 §28",
  write_off: "IFRS 9 §5.4.4",
  recoveries: "IFRS 9 Appendix A (gross carrying amount, amortised cost)",
  rounding: "IFRS 9 §5.5.8",
};

/** One line of the journal, as `journal.csv` and `journal.parquet` hold it. */
export interface JournalLine {
  /** The entry the line belongs to (`JE-2026-03-31-000001`); entries balance. */
  entry_id: string;
  /** The posting date: the later run's reporting date, `YYYY-MM-DD`. */
  date: string;
  /** The account code. */
  account: string;
  /** The account's name. */
  account_name: string;
  /** The debit, to the cent (0 on a credit line). */
  debit: number;
  /** The credit, to the cent (0 on a debit line). */
  credit: number;
  /** The currency of `debit` and `credit`: the movement's reporting currency. */
  currency: string;
  /**
   * The legal entity, or the region when the runs' loan results have no
   * `legal_entity` column ({@link Journal.entity_source}); `(none)` when
   * the facility has neither.
   */
  entity: string;
  /** The product (the class of instrument, IFRS 7 §35H, §6). */
  product: string;
  /** The stage column of the line: `1`, `2`, `3` or `simplified`. */
  stage: string;
  /** The currency the facilities of the line are denominated in. */
  facility_currency: string;
  /** What the line posts: the movement line's label and the side. */
  description: string;
  /** The paragraph that authorises the posting (`IFRS 9 §5.5.8`). */
  reference: string;
  /** The movement line key (docs/movement.md §3), or `rounding`. */
  movement_line: string;
}

/** One comparison of the trial balance. */
export interface TrialBalanceCheck {
  /** What is compared. */
  name: string;
  /** The figure of the journal. */
  journal: number;
  /** The figure it must equal. */
  expected: number;
  /** Whether they agree within the check's tolerance. */
  holds: boolean;
}

/** The trial-balance check of a journal. */
export interface TrialBalance {
  /** Entries whose debits differ from their credits (by id); none when balanced. */
  unbalanced_entries: string[];
  /** Total debits. */
  total_debit: number;
  /** Total credits. */
  total_credit: number;
  /** Debit minus credit per account code, with the account's name. */
  by_account: { account: string; name: string; net_debit: number }[];
  /**
   * Each allowance account's net credit against the movement's closing
   * minus opening of its column (within a cent), and their total (within
   * half a cent); each movement line of the facilities against
   * `movement.json` (within half a cent).
   */
  checks: TrialBalanceCheck[];
  /** Whether every entry and every check holds. */
  holds: boolean;
}

/** The journal of a movement. */
export interface Journal {
  /** Posting date: the later run's reporting date. */
  date: string;
  /** The currency of every amount. */
  currency: string;
  /** Where the `entity` dimension comes from: `legal_entity` or `region`. */
  entity_source: "legal_entity" | "region";
  /** Every journal line, entry by entry. */
  lines: JournalLine[];
  /** The number of entries. */
  entries: number;
  /** The trial balance. */
  trial_balance: TrialBalance;
}

/** Options of {@link buildJournal}. */
export interface JournalOptions {
  /**
   * The entity of each facility: `loan_id`, `entity` (from the runs' loan
   * results; docs/journal.md). Without it every line's entity is `(none)`.
   */
  entities?: LazyFrame;
  /** Where `entities` came from. @default "region" */
  entitySource?: "legal_entity" | "region";
}

const DIMS = ["entity", "product", "facility_currency"] as const;

/** Rounds to whole cents, halves away from zero. */
function toCents(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x) * 100);
}

function columnExpr(suffix: "from" | "to") {
  return pl.when(pl.col(`simplified_${suffix}`).eq(pl.lit(true)))
    .then(pl.lit(SIMPLIFIED))
    .otherwise(pl.col(`stage_${suffix}`).cast(pl.Utf8))
    .alias(`column_${suffix}`);
}

function allowanceAccount(a: GlAccounts, c: StageColumn): GlAccount {
  return c === SIMPLIFIED ? a.allowance.simplified : a.allowance[`stage_${c}`];
}

/** `stage 2`, or `the simplified column`. */
function columnName(c: StageColumn): string {
  return c === SIMPLIFIED ? "the simplified column" : `stage ${c}`;
}

/** The label of a movement line (docs/movement.md §3). */
function labelOf(line: JournalLineKey | "rounding", to: StageColumn): string {
  if (line === "rounding") {
    return `Rounding of ${
      columnName(to)
    }'s allowance movement to the cent (posted to the entity and product of the column's largest line)`;
  }
  if (line === "transfer") {
    return to === SIMPLIFIED
      ? "Transfer to the simplified approach"
      : `Transfer to stage ${to}`;
  }
  if (line === "recoveries") {
    return RECONCILIATION_LINES.gross_carrying_amount.find((l) =>
      l.key === line
    )!.label;
  }
  return RECONCILIATION_LINES.allowance.find((l) => l.key === line)!.label;
}

interface Draft {
  line: JournalLineKey | "rounding";
  dims: Record<(typeof DIMS)[number], string>;
  from: StageColumn;
  to: StageColumn;
  exact: number;
  cents: number;
  adjusted: number;
}

async function grouped(
  frame: LazyFrame,
  by: string[],
  values: string[],
): Promise<Record<string, unknown>[]> {
  const df = await withPreciseSums(
    frame.groupBy(by).agg(
      ...values.flatMap((v) => preciseSum(pl.col(v).fillNull(0), v)),
    ),
    values,
  ).sort(by).collect();
  return df.toRecords() as Record<string, unknown>[];
}

/**
 * The journal of `movement` from its facility-level lines (`facilities`,
 * as `movement_facilities.parquet` holds them), posted to `accounts`.
 * The trial balance is computed, not enforced: the caller refuses a
 * journal whose `trial_balance.holds` is false.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JOURNAL_REFERENCES } from "./journal.ts";
 * assert.equal(JOURNAL_REFERENCES.write_off, "IFRS 9 §5.4.4");
 * ```
 */
export async function buildJournal(
  movement: Movement,
  facilities: LazyFrame,
  accounts: GlAccounts,
  opts: JournalOptions = {},
): Promise<Journal> {
  let f = facilities.withColumns(columnExpr("from"), columnExpr("to"));
  if (opts.entities) {
    f = f.join(opts.entities, { on: "loan_id", how: "left" });
  } else f = f.withColumns(pl.lit(null).cast(pl.Utf8).alias("entity"));
  f = f.withColumns(
    pl.col("entity").cast(pl.Utf8).fillNull("(none)").alias("entity"),
    pl.col("product").cast(pl.Utf8).fillNull("(none)").alias("product"),
    pl.col("currency_to").fillNull(pl.col("currency_from")).fillNull("(none)")
      .alias("facility_currency"),
  );
  const A = (l: string) => lineColumn("allowance", l as never);
  const G = (l: string) => lineColumn("gross", l as never);
  const inTo = [
    "new_originated",
    "remeasurement_transferred",
    "remeasurement",
    "fx",
    "write_off",
  ];
  const drafts: Draft[] = [];
  const dimsOf = (r: Record<string, unknown>) =>
    Object.fromEntries(DIMS.map((d) => [d, String(r[d])])) as Draft["dims"];
  const push = (
    line: Draft["line"],
    r: Record<string, unknown>,
    from: StageColumn,
    to: StageColumn,
    exact: number,
  ) =>
    drafts.push({
      line,
      dims: dimsOf(r),
      from,
      to,
      exact,
      cents: toCents(exact),
      adjusted: 0,
    });
  const perColumn = () =>
    Object.fromEntries(COLUMNS.map((c) => [c, [] as number[]])) as Record<
      StageColumn,
      number[]
    >;
  const facilityOpening = perColumn(), facilityClosing = perColumn();
  // Lines booked in the closing column (docs/movement.md §3 steps 2, 4-6).
  for (
    const r of await grouped(
      f.filter(pl.col("column_to").isNotNull()),
      [...DIMS, "column_to"],
      [...inTo.map(A), G("recoveries"), G("write_off"), A("closing")],
    )
  ) {
    const c = r.column_to as StageColumn;
    (facilityClosing[c] ??= []).push(r[A("closing")] as number);
    for (const l of inTo) push(l as JournalLineKey, r, c, c, r[A(l)] as number);
    push("recoveries", r, c, c, r[G("recoveries")] as number);
  }
  // Derecognition, booked in the opening column (step 3).
  for (
    const r of await grouped(
      f.filter(pl.col("column_from").isNotNull()),
      [...DIMS, "column_from"],
      [A("derecognised"), A("opening")],
    )
  ) {
    const c = r.column_from as StageColumn;
    (facilityOpening[c] ??= []).push(r[A("opening")] as number);
    push("derecognised", r, c, c, r[A("derecognised")] as number);
  }
  // Transfers between columns at the opening amount (step 1).
  for (
    const r of await grouped(
      f.filter(
        pl.col("column_from").isNotNull().and(pl.col("column_to").isNotNull())
          .and(pl.col("column_from").neq(pl.col("column_to"))),
      ),
      [...DIMS, "column_from", "column_to"],
      [A("transfer")],
    )
  ) {
    push(
      "transfer",
      r,
      r.column_from as StageColumn,
      r.column_to as StageColumn,
      r[A("transfer")] as number,
    );
  }

  // The facility lines must be movement.json's lines (the same movement).
  const checks: TrialBalanceCheck[] = [];
  const lineOf = (key: string) =>
    movement.allowance.lines.find((l) => l.key === key);
  for (const c of COLUMNS) {
    const sum = (pred: (d: Draft) => boolean, sign = 1) =>
      Math.sumPrecise(drafts.filter(pred).map((d) => sign * d.exact));
    const mlines: [string, number][] = [
      ["new_originated", sum((d) => d.line === "new_originated" && d.to === c)],
      ["derecognised", sum((d) => d.line === "derecognised" && d.from === c)],
      [
        "remeasurement_transferred",
        sum((d) => d.line === "remeasurement_transferred" && d.to === c),
      ],
      ["remeasurement", sum((d) => d.line === "remeasurement" && d.to === c)],
      ["fx", sum((d) => d.line === "fx" && d.to === c)],
      ["write_off", sum((d) => d.line === "write_off" && d.to === c)],
      // The line "transfer to k" holds +X in column k, -X in the column
      // each facility came from.
      ...COLUMNS.map((k): [string, number] => [
        k === SIMPLIFIED ? "transfer_to_simplified" : `transfer_to_stage_${k}`,
        Math.sumPrecise([
          c === k ? sum((d) => d.line === "transfer" && d.to === k) : 0,
          sum((d) => d.line === "transfer" && d.to === k && d.from === c, -1),
        ]),
      ]),
    ];
    for (const [key, value] of mlines) {
      const expected = lineOf(key)?.by_stage[c] ?? 0;
      checks.push({
        name: `facility lines = movement.json: allowance ${key}, column ${c}`,
        journal: value,
        expected,
        holds: Math.abs(value - expected) <= 0.005,
      });
    }
  }

  // Column targets: closing minus opening per column, in cents, summing to
  // the total's change rounded to the cent (largest remainders).
  const opening = lineOf("opening")!, closing = lineOf("closing")!;
  // The facilities' opening and closing must be movement.json's.
  for (const c of COLUMNS) {
    for (
      const [what, line, parts] of [
        ["opening", opening, facilityOpening[c]],
        ["closing", closing, facilityClosing[c]],
      ] as const
    ) {
      const facilityLevel = Math.sumPrecise(parts);
      const expected = line.by_stage[c] ?? 0;
      if (!(Math.abs(facilityLevel - expected) <= JOURNAL_TOLERANCE)) {
        throw new JournalCheckError(
          `Cannot post the journal: the allowance ${what} of ${
            columnName(c)
          } is ${expected} in movement.json but ${facilityLevel} summed over movement_facilities.parquet (off by ${
            Number((facilityLevel - expected).toFixed(6))
          }, tolerance ${JOURNAL_TOLERANCE}); the two files are not the same movement: write it again with deno task movement`,
        );
      }
    }
  }
  const change = Object.fromEntries(
    COLUMNS.map((c) => [c, closing.by_stage[c] - opening.by_stage[c]]),
  ) as Record<StageColumn, number>;
  const totalChange = closing.total - opening.total;
  const target = apportion(change, toCents(totalChange));
  const net = (c: StageColumn) =>
    drafts.reduce(
      (s, d) =>
        s + (d.line === "write_off" || d.line === "recoveries"
          ? (d.line === "write_off" && d.to === c ? d.cents + d.adjusted : 0)
          : (d.to === c ? d.cents + d.adjusted : 0) -
            (d.line === "transfer" && d.from === c ? d.cents + d.adjusted : 0)),
      0,
    );
  // The entries that move each column's allowance account.
  const moves = (d: Draft, c: StageColumn) =>
    d.line === "recoveries"
      ? false
      : d.line === "transfer"
      ? d.from === c || d.to === c
      : d.to === c;
  for (const c of COLUMNS) {
    const diff = target[c] - net(c);
    if (diff === 0) continue;
    const ofColumn = drafts.filter((d) => moves(d, c) && d.exact !== 0);
    // Each entry loses at most half a cent to rounding; the column's target
    // is within a cent of its change (apportioning the total's cents).
    const limit = ofColumn.length / 2 + 1;
    if (!(Math.abs(diff) <= limit + 1e-9)) {
      throw new JournalCheckError(
        `Cannot post the journal: the allowance of ${columnName(c)} moves by ${
          (target[c] / 100).toFixed(2)
        } (closing ${closing.by_stage[c]} minus opening ${
          opening.by_stage[c]
        } in movement.json) but its ${ofColumn.length} entries post ${
          (net(c) / 100).toFixed(2)
        }: a difference of ${
          (diff / 100).toFixed(2)
        }, more than rounding to the cent can make (at most ${
          (limit / 100).toFixed(3)
        }); movement.json's lines do not add up to its closing: write the movement again with deno task movement`,
      );
    }
    const candidates = drafts.filter((d) =>
      d.to === c && d.line !== "transfer" && d.line !== "recoveries" &&
      d.line !== "write_off" && d.line !== "fx" && d.cents !== 0
    ).sort((a, b) => Math.abs(b.cents) - Math.abs(a.cents));
    if (candidates.length > 0) candidates[0].adjusted += diff;
    else {
      // Posted where the column's largest line is (an ERP import by entity
      // takes no "(all)").
      const largest = [...ofColumn].sort((a, b) =>
        Math.abs(b.exact) - Math.abs(a.exact)
      )[0];
      drafts.push({
        line: "rounding",
        dims: largest ? { ...largest.dims } : {
          entity: "(none)",
          product: "(none)",
          facility_currency: "(none)",
        },
        from: c,
        to: c,
        exact: 0,
        cents: 0,
        adjusted: diff,
      });
    }
  }

  // Entries, in a fixed order.
  const order = (l: Draft["line"]) =>
    l === "rounding" ? JOURNAL_LINES.length : JOURNAL_LINES.indexOf(l);
  const colOrder = (c: StageColumn) => COLUMNS.indexOf(c);
  drafts.sort((a, b) =>
    order(a.line) - order(b.line) ||
    a.dims.entity.localeCompare(b.dims.entity) ||
    a.dims.product.localeCompare(b.dims.product) ||
    a.dims.facility_currency.localeCompare(b.dims.facility_currency) ||
    colOrder(a.from) - colOrder(b.from) || colOrder(a.to) - colOrder(b.to)
  );
  const date = movement.to.reporting_date;
  const currency = movement.reporting_currency;
  const lines: JournalLine[] = [];
  let n = 0;
  for (const d of drafts) {
    const cents = d.cents + d.adjusted;
    if (cents === 0) continue;
    n += 1;
    const entry_id = `JE-${date}-${String(n).padStart(6, "0")}`;
    // [account debited when the amount is positive, credited when positive]
    const [debitIfUp, creditIfUp, debitStage]: [
      GlAccount,
      GlAccount,
      StageColumn,
    ] = d.line === "transfer"
      ? [
        allowanceAccount(accounts, d.from),
        allowanceAccount(accounts, d.to),
        d.from,
      ]
      : d.line === "write_off"
      ? [accounts.gross_carrying_amount, allowanceAccount(accounts, d.to), d.to]
      : d.line === "recoveries"
      ? [accounts.gross_carrying_amount, accounts.recoveries_clearing, d.to]
      : d.line === "fx"
      ? [accounts.fx_translation, allowanceAccount(accounts, d.to), d.to]
      : [accounts.impairment_expense, allowanceAccount(accounts, d.to), d.to];
    const up = cents > 0;
    const amount = Math.abs(cents) / 100;
    const label = labelOf(d.line, d.to) +
      (d.adjusted !== 0 && d.line !== "rounding"
        ? ` (includes ${
          (d.adjusted / 100).toFixed(2)
        } rounding to the cent of stage ${d.to}'s allowance movement)`
        : "");
    const base = {
      entry_id,
      date,
      currency,
      entity: d.dims.entity,
      product: d.dims.product,
      facility_currency: d.dims.facility_currency,
      reference: JOURNAL_REFERENCES[d.line],
      movement_line: d.line,
    };
    const debitAccount = up ? debitIfUp : creditIfUp;
    const creditAccount = up ? creditIfUp : debitIfUp;
    const debitStageOf = up ? debitStage : d.to;
    const creditStageOf = up ? d.to : debitStage;
    lines.push({
      ...base,
      account: debitAccount.code,
      account_name: debitAccount.name,
      debit: amount,
      credit: 0,
      stage: debitStageOf,
      description: `${label}: debit ${debitAccount.name}`,
    });
    lines.push({
      ...base,
      account: creditAccount.code,
      account_name: creditAccount.name,
      debit: 0,
      credit: amount,
      stage: creditStageOf,
      description: `${label}: credit ${creditAccount.name}`,
    });
  }
  return {
    date,
    currency,
    entity_source: opts.entitySource ?? "region",
    lines,
    entries: n,
    trial_balance: trialBalance(lines, accounts, change, totalChange, checks),
  };
}

/**
 * Whole cents per column summing to `total`: each column's change rounded
 * down, the cents left given to the largest remainders.
 */
function apportion(
  change: Record<StageColumn, number>,
  total: number,
): Record<StageColumn, number> {
  const base = Object.fromEntries(
    COLUMNS.map((c) => [c, Math.floor(change[c] * 100 + 1e-7)]),
  ) as Record<StageColumn, number>;
  let left = total - COLUMNS.reduce((s, c) => s + base[c], 0);
  if (left < 0 || left > COLUMNS.length) {
    // Not one change of a few columns: round each on its own.
    return Object.fromEntries(
      COLUMNS.map((c) => [c, toCents(change[c])]),
    ) as Record<StageColumn, number>;
  }
  const byRemainder = [...COLUMNS].sort((a, b) =>
    (change[b] * 100 - base[b]) - (change[a] * 100 - base[a])
  );
  for (const c of byRemainder) {
    if (left === 0) break;
    base[c] += 1;
    left -= 1;
  }
  return base;
}

/**
 * The trial balance of journal lines: every entry balances, debits equal
 * credits in total, and the allowance accounts' net credits equal the
 * movement's change per column (within a cent) and in total (within half a
 * cent), computed from the lines alone (in whole cents).
 */
export function trialBalance(
  lines: readonly JournalLine[],
  accounts: GlAccounts,
  change: Record<StageColumn, number>,
  totalChange: number,
  checks: TrialBalanceCheck[] = [],
): TrialBalance {
  const cents = (x: number) => Math.round(x * 100);
  const byEntry = new Map<string, number>();
  const byAccount = new Map<string, { name: string; net: number }>();
  let debit = 0, credit = 0;
  for (const l of lines) {
    const d = cents(l.debit) - cents(l.credit);
    byEntry.set(l.entry_id, (byEntry.get(l.entry_id) ?? 0) + d);
    const a = byAccount.get(l.account) ?? { name: l.account_name, net: 0 };
    a.net += d;
    byAccount.set(l.account, a);
    debit += cents(l.debit);
    credit += cents(l.credit);
  }
  const unbalanced = [...byEntry].filter(([, v]) => v !== 0).map(([k]) => k);
  const all = [...checks];
  let sum = 0;
  for (const c of COLUMNS) {
    const code = allowanceAccount(accounts, c).code;
    const netCredit = -(byAccount.get(code)?.net ?? 0);
    sum += netCredit;
    all.push({
      name: `allowance stage ${c} (${code}): net credit = closing - opening`,
      journal: netCredit / 100,
      expected: change[c],
      holds: Math.abs(netCredit / 100 - change[c]) < 0.01 + 1e-9,
    });
  }
  all.push({
    name: "allowance, all stages: net credit = closing - opening",
    journal: sum / 100,
    expected: totalChange,
    holds: Math.abs(sum / 100 - totalChange) <= 0.005 + 1e-9,
  });
  all.push({
    name: "total debits = total credits",
    journal: debit / 100,
    expected: credit / 100,
    holds: debit === credit,
  });
  return {
    unbalanced_entries: unbalanced,
    total_debit: debit / 100,
    total_credit: credit / 100,
    by_account: [...byAccount].sort(([a], [b]) => a.localeCompare(b)).map((
      [account, { name, net }],
    ) => ({ account, name, net_debit: net / 100 })),
    checks: all,
    holds: unbalanced.length === 0 && all.every((c) => c.holds),
  };
}
