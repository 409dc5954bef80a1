/**
 * The ECL walk by sequential substitution (docs/movement.md §6, ECL walk):
 * from the opening state (opening inputs, rules and FX table) the drivers
 * of `WALK_DRIVERS` are replaced one group at a time by their closing
 * values and the engine (`computeEcl`, methodology §4-§9; overlays §8; the
 * reporting currency §12) is run again on the facilities whose inputs the
 * step changes (every facility present when a rules section changes). Each
 * step's effect is the difference of the total ECL in the reporting
 * currency between two consecutive states, per facility, so the steps add
 * up to the total change by construction. The first state is checked
 * against the opening run and the last against the closing run, per stage,
 * in total and facility by facility (`ecl_rc`), to the cent; a difference
 * is an internal error (the walk does not recompute what the runs
 * computed), never a residual line.
 *
 * Facilities are matched by `loan_id`. A step's `by_stage` is keyed by the
 * facility's closing stage (its opening stage when it was derecognised),
 * `by_product` by its closing product (opening when derecognised), so each
 * facility is in one key for every step. Facilities written off in the
 * period (`write_off_amount > 0` in the closing run) keep their opening
 * facility inputs until the `write_off` step, which takes them to their
 * closing state: their release of allowance is that step, not spread over
 * the stage, exposure and PD steps.
 *
 * The PD and exposure effects are also computed in the reverse order (PD
 * first, then exposure) from the state after the stage step, to show how
 * much the split depends on the order (for that pair only).
 *
 * Speed: a state recomputes the facilities whose inputs it changes, and
 * every facility only when the rules the kernel reads change (`modelKey`:
 * not `staging`, `validation` or `overlays`); the overlays' input frame is
 * rebuilt only when the facilities present or their stage and exposure
 * columns change.
 *
 * @module
 */
import pl from "nodejs-polars";
import { UserError } from "../errors.ts";
import type { DataFrame, Series } from "../frame.ts";
import type { Rules } from "../rules.ts";
import { type FxTable, reportingRates } from "../fx.ts";
import { applyOverlays, computeEcl, stageFacilities } from "../engine/mod.ts";
import type { RunFolder } from "../run_folder/mod.ts";
import {
  DRIVER_COLUMNS,
  DRIVER_LABELS,
  type FacilityDriver,
  stateFx,
  stateRules,
  WALK_DRIVERS,
  type WalkDriver,
} from "./drivers.ts";
import type { WalkInputs } from "./inputs.ts";

/** Amounts per stage key, `"1"`, `"2"`, `"3"`. */
export type WalkByStage = Record<"1" | "2" | "3", number>;

/** One facility behind a step. */
export interface WalkFacility {
  /** The facility. */
  loan_id: string;
  /** Its product key (closing, or opening when derecognised). */
  product: string;
  /** Its stage key (closing, or opening when derecognised). */
  stage: number;
  /** Its part of the step, in the reporting currency. */
  amount: number;
}

/** One step of the walk. */
export interface WalkStep {
  /** The driver substituted (`WALK_DRIVERS`). */
  driver: WalkDriver;
  /** Its label on the page. */
  label: string;
  /** The change of total ECL in the reporting currency. */
  amount: number;
  /** The same by closing stage. */
  by_stage: WalkByStage;
  /** The same by closing product. */
  by_product: Record<string, number>;
  /** Facilities whose ECL the step changed. */
  facilities: number;
  /** The facilities with the largest effects, largest first. */
  top: WalkFacility[];
}

/** The ECL walk between two runs (the `attribution` of movement.json). */
export interface Walk {
  /** The opening run's reporting date. */
  from_date: string;
  /** The closing run's reporting date. */
  to_date: string;
  /** Currency of every amount. */
  reporting_currency: string;
  /** Total ECL of the opening run. */
  opening: number;
  /** Total ECL of the closing run. */
  closing: number;
  /** Opening ECL by closing stage (opening stage when derecognised). */
  opening_by_stage: WalkByStage;
  /** Closing ECL by closing stage. */
  closing_by_stage: WalkByStage;
  /** Opening ECL by closing product (opening when derecognised). */
  opening_by_product: Record<string, number>;
  /** Closing ECL by closing product. */
  closing_by_product: Record<string, number>;
  /** The steps in `WALK_DRIVERS` order; they add up to closing - opening. */
  steps: WalkStep[];
  /**
   * The PD and exposure effects in the walk's order (exposure, then PD)
   * and reversed (PD, then exposure).
   */
  order_sensitivity: {
    exposure: { in_order: number; reversed: number };
    pd: { in_order: number; reversed: number };
  };
  /**
   * Largest difference of the recomputed end states from the runs: per
   * stage or in total (`*_difference`), and of one facility's ECL
   * (`*_facility_difference`).
   */
  checks: {
    /** Opening state against the opening run, per stage and in total. */
    opening_difference: number;
    /** Closing state against the closing run, per stage and in total. */
    closing_difference: number;
    /** Largest one facility's difference from the opening run. */
    opening_facility_difference: number;
    /** Largest one facility's difference from the closing run. */
    closing_facility_difference: number;
  };
  /** Facilities of either run. */
  facilities: number;
  /** Milliseconds spent. */
  elapsed_ms: number;
}

/** Options of {@link computeWalk}. */
export interface WalkOptions {
  /** Facilities listed behind each step. @default 10 */
  top?: number;
  /** Called with each driver as its step starts. */
  onStep?: (driver: string) => void;
  /** Largest accepted difference from the runs, per stage, in total and per facility. @default 0.005 */
  tolerance?: number;
}

const FACILITY_DRIVERS = Object.keys(DRIVER_COLUMNS) as FacilityDriver[];
const ALL_COLUMNS = [...new Set(Object.values(DRIVER_COLUMNS).flat())];
/**
 * Columns whose change marks a facility as changed by a driver
 * (`days_past_due` for the simplified approach only, below).
 */
const CHANGE_COLUMNS: Record<FacilityDriver, string[]> = {
  stage: ["stage"],
  exposure: DRIVER_COLUMNS.exposure.filter((c) => c !== "reporting_date"),
  pd: ["pd_12m_current"],
  lgd: ["collateral_value"],
};

/** One state of the walk. */
interface State {
  applied: Set<WalkDriver>;
  present: Uint8Array;
  model: Float64Array;
  ead: Float64Array;
  /** ECL in the reporting currency, 0 where absent. */
  rc: Float64Array;
  rules: Rules;
  fx: FxTable;
  /** The overlays' input frame, reused while `overlayFrameKey` holds. */
  overlayFrame: { key: string; frame: DataFrame } | null;
}

/** What every state shares: the facilities of both runs side by side. */
interface Book {
  /** `__i`, `c__0`, `c__1` for every driver column, flags. */
  frame: DataFrame;
  n: number;
  in0: Uint8Array;
  in1: Uint8Array;
  writtenOff: Uint8Array;
  changed: Record<FacilityDriver, Uint8Array>;
  /** Currency codes (into `currencies`) of each side. */
  currency0: Int32Array;
  currency1: Int32Array;
  currencies: string[];
  /** Closing stage, opening stage when derecognised. */
  stageKey: Int32Array;
  /** Closing product code (into `products`), opening when derecognised. */
  productKey: Int32Array;
  products: string[];
  /** Each run's own ECL in the reporting currency; NaN where absent. */
  runEcl: [Float64Array, Float64Array];
  /** Each run's facility count. */
  runCount: [number, number];
  open: WalkInputs;
  close: WalkInputs;
}

const v = (c: string, side: 0 | 1) => `${c}__${side}`;

function bool(s: Series): Uint8Array {
  return s.cast(pl.UInt8).fillNull("zero").toTypedArray() as Uint8Array;
}

/** Both runs' staged facilities, side by side by `loan_id`. */
async function buildBook(
  open: WalkInputs,
  close: WalkInputs,
  runs: [RunFolder, RunFolder],
): Promise<Book> {
  const side = async (
    w: WalkInputs,
    s: 0 | 1,
  ) => (await stageFacilities(w.valid.lazy(), w.rules).select(
    pl.col("loan_id"),
    ...ALL_COLUMNS.map((c) => pl.col(c).alias(v(c, s))),
    pl.lit(true).alias(`__in${s}`),
  ).collect());
  const [s0, s1] = await Promise.all([side(open, 0), side(close, 1)]);
  let joined = s0.join(s1, { on: "loan_id", how: "full", coalesce: true });
  joined = joined.withColumns(
    pl.col("__in0").fillNull(false),
    pl.col("__in1").fillNull(false),
  );
  joined = joined.withColumns(
    ...ALL_COLUMNS.flatMap((c) => [
      pl.when(pl.col("__in0")).then(pl.col(v(c, 0))).otherwise(pl.col(v(c, 1)))
        .alias(v(c, 0)),
      pl.when(pl.col("__in1")).then(pl.col(v(c, 1))).otherwise(pl.col(v(c, 0)))
        .alias(v(c, 1)),
    ]),
  );
  const changedExpr = (cols: string[]) =>
    cols.map((c) => {
      const a = pl.col(v(c, 0));
      const b = pl.col(v(c, 1));
      return a.eq(b).fillNull(a.isNull().and(b.isNull())).not();
    }).reduce((x, y) => x.or(y));
  const simplified = [open.rules, close.rules].flatMap((r) =>
    Object.entries(r.products).filter(([, p]) => p.approach === "simplified")
      .map(([name]) => name)
  );
  const onSimplified = simplified.length === 0
    ? pl.lit(false)
    : pl.col(v("product", 0)).isIn(simplified).or(
      pl.col(v("product", 1)).isIn(simplified),
    ).fillNull(false);
  // Written off in the period: in both runs, write_off_amount > 0 at close.
  const carrying = runs[1].carrying.select(
    pl.col("loan_id"),
    pl.col("write_off_amount").cast(pl.Float64).gt(0).alias("__wo_amount"),
  );
  joined = (await joined.lazy().join(carrying, { on: "loan_id", how: "left" })
    .withColumns(
      pl.col("__wo_amount").fillNull(false).and(pl.col("__in0")).and(
        pl.col("__in1"),
      ).alias("__wo"),
      ...FACILITY_DRIVERS.map((d) =>
        (d === "stage"
          // Days past due reach the ECL only through a provision matrix.
          ? changedExpr(["stage"]).or(
            changedExpr(["days_past_due"]).and(onSimplified),
          )
          : changedExpr(CHANGE_COLUMNS[d])).alias(`__chg_${d}`)
      ),
    ).collect()).withRowIndex("__i");
  // Each run's own ECL in the reporting currency, for the end checks.
  const runCount: [number, number] = [0, 0];
  for (const s of [0, 1] as const) {
    const rates = runs[s].summary.fx.rates;
    const r = await runs[s].results.select("loan_id", "currency", "ecl")
      .join(
        pl.DataFrame({
          currency: Object.keys(rates),
          __rate: Object.values(rates),
        }, { schema: { currency: pl.Utf8, __rate: pl.Float64 } }).lazy(),
        { on: "currency", how: "left" },
      ).select(
        pl.col("loan_id"),
        pl.col("ecl").cast(pl.Float64).mul(pl.col("__rate")).alias(`__run${s}`),
      ).collect();
    runCount[s] = r.height;
    joined = joined.join(r, { on: "loan_id", how: "left" });
  }
  // Row i is facility __i in every array below, whatever order the joins
  // left the rows in.
  joined = joined.sort("__i");
  const n = joined.height;
  const keys = await joined.lazy().select(
    pl.when(pl.col("__in1")).then(pl.col(v("stage", 1)))
      .otherwise(pl.col(v("stage", 0))).cast(pl.Int32).alias("stage"),
    pl.when(pl.col("__in1")).then(pl.col(v("product", 1)))
      .otherwise(pl.col(v("product", 0))).alias("product"),
    pl.col(v("currency", 0)).alias("c0"),
    pl.col(v("currency", 1)).alias("c1"),
  ).collect();
  const [productKey, products] = await codes(keys, ["product"]);
  const [[currency0, currency1], currencies] = await codes(keys, ["c0", "c1"])
    .then(([c, names]) => [c, names] as const);
  const f64 = async (c: string) =>
    (await joined.lazy().select(
      pl.col(c).fillNull(pl.lit(NaN)).cast(pl.Float64),
    )
      .collect()).getColumn(c).toTypedArray() as Float64Array;
  return {
    frame: joined,
    n,
    in0: bool(joined.getColumn("__in0")),
    in1: bool(joined.getColumn("__in1")),
    writtenOff: bool(joined.getColumn("__wo")),
    changed: Object.fromEntries(
      FACILITY_DRIVERS.map((d) => [d, bool(joined.getColumn(`__chg_${d}`))]),
    ) as Record<FacilityDriver, Uint8Array>,
    currency0,
    currency1,
    currencies,
    stageKey: keys.getColumn("stage").toTypedArray() as Int32Array,
    productKey: productKey[0],
    products,
    runEcl: [await f64("__run0"), await f64("__run1")],
    runCount,
    open,
    close,
  };
}

/**
 * The values of string columns as codes into one sorted list of names
 * (through a join with the names, so no string crosses into JavaScript
 * per row).
 */
async function codes(
  df: DataFrame,
  columns: string[],
): Promise<[Int32Array[], string[]]> {
  const names = [
    ...new Set(
      columns.flatMap((c) =>
        df.getColumn(c).unique().toArray() as (string | null)[]
      ),
    ),
  ].filter((x): x is string => x !== null).sort();
  const dict = pl.DataFrame({
    __name: names,
    __code: names.map((_, i) => i),
  }, { schema: { __name: pl.Utf8, __code: pl.Int32 } }).lazy();
  const out: Int32Array[] = [];
  for (const c of columns) {
    const coded = await df.lazy().select(pl.col(c).alias("__name"))
      .withRowIndex("__row")
      .join(dict, { on: "__name", how: "left" })
      .sort("__row")
      .select(pl.col("__code").fillNull(-1)).collect();
    out.push(coded.getColumn("__code").toTypedArray() as Int32Array);
  }
  return [out, names];
}

/** A facility's loan_id, by row. */
function loanId(book: Book, i: number): string {
  return book.frame.getColumn("loan_id").get(i) as string;
}

/** Whether row `i` carries the closing value of facility driver `d`. */
function closingOf(
  book: Book,
  applied: ReadonlySet<WalkDriver>,
  d: FacilityDriver,
  i: number,
): boolean {
  if (!applied.has(d)) return false;
  return !(book.writtenOff[i] && !applied.has("write_off"));
}

/**
 * The rules as the kernel sees them (`computeEcl` after staging: products,
 * segments, scenarios, the reporting currency): a change elsewhere
 * (`staging`, `validation`, `overlays`) recomputes no facility.
 */
function modelKey(rules: Rules): string {
  return JSON.stringify([
    rules.reporting_currency,
    rules.products,
    rules.segments,
    rules.scenario_adjustment,
    rules.scenario_reversion_years ?? null,
    rules.scenarios,
  ]);
}

/**
 * What the overlays' input frame of a state depends on: which facilities
 * are present and whose stage and exposure columns are closing.
 */
function overlayFrameKey(applied: ReadonlySet<WalkDriver>): string {
  return (["derecognised", "new", "stage", "exposure", "write_off"] as const)
    .map((d) => applied.has(d) ? 1 : 0).join("");
}

/** The engine's input frame of the rows in `mask`, as in state `applied`. */
function inputFrame(
  book: Book,
  applied: ReadonlySet<WalkDriver>,
  mask: Uint8Array,
): DataFrame {
  const wo = pl.col("__wo").and(pl.lit(!applied.has("write_off")));
  const selected = book.frame.withColumns(
    pl.Series("__m", mask).cast(pl.Bool),
  ).filter(pl.col("__m"));
  const exprs = FACILITY_DRIVERS.flatMap((d) =>
    DRIVER_COLUMNS[d].map((c) =>
      (applied.has(d)
        ? pl.when(wo).then(pl.col(v(c, 0))).otherwise(pl.col(v(c, 1)))
        : pl.col(v(c, 0))).alias(c)
    )
  );
  return selected.select(pl.col("__i"), pl.col("loan_id"), ...exprs);
}

/** State `applied` from state `prev`: the engine on what changed. */
async function nextState(
  book: Book,
  prev: State | null,
  applied: Set<WalkDriver>,
): Promise<State> {
  const { open, close, n } = book;
  const rules = stateRules(open.rules, close.rules, applied);
  const fx = stateFx(open.fx, close.fx, applied);
  const present = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    present[i] =
      (book.in0[i] && !(applied.has("derecognised") && !book.in1[i])) ||
        (applied.has("new") && !book.in0[i] && book.in1[i])
        ? 1
        : 0;
  }
  const model = prev ? prev.model.slice() : new Float64Array(n);
  const ead = prev ? prev.ead.slice() : new Float64Array(n);
  const all = prev === null || modelKey(prev.rules) !== modelKey(rules);
  const mask = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!present[i]) {
      model[i] = 0;
      ead[i] = 0;
      continue;
    }
    let m = all || !prev!.present[i];
    if (!m) {
      for (const d of FACILITY_DRIVERS) {
        if (
          book.changed[d][i] &&
          closingOf(book, prev!.applied, d, i) !==
            closingOf(book, applied, d, i)
        ) {
          m = true;
          break;
        }
      }
    }
    if (m) {
      mask[i] = 1;
      count++;
    }
  }
  if (count > 0) {
    const input = inputFrame(book, applied, mask);
    const results = await computeEcl(input.lazy(), rules, { overlays: false });
    const idx = input.getColumn("__i").toTypedArray() as Uint32Array;
    const m = results.getColumn("ecl_model").toTypedArray() as Float64Array;
    const e = results.getColumn("ead").toTypedArray() as Float64Array;
    for (let k = 0; k < idx.length; k++) {
      model[idx[k]] = m[k];
      ead[idx[k]] = e[k];
    }
  }
  const key = overlayFrameKey(applied);
  const overlayFrame = rules.overlays.length === 0
    ? null
    : prev?.overlayFrame?.key === key
    ? prev.overlayFrame
    : { key, frame: overlayInputs(book, applied, present) };
  const ecl = overlayFrame === null
    ? model
    : await withOverlays(book, overlayFrame.frame, model, ead, rules, fx);
  const rates = reportingRates(fx, rules.reporting_currency);
  const rateOf = Float64Array.from(book.currencies, (c) => rates[c] ?? NaN);
  const rc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!present[i]) continue;
    const code = closingOf(book, applied, "exposure", i)
      ? book.currency1[i]
      : book.currency0[i];
    const rate = code < 0 ? NaN : rateOf[code];
    if (Number.isNaN(rate)) {
      throw new UserError(
        "input",
        `Cannot compute the ECL walk: neither FX table (${open.fx.file}, ${close.fx.file}) has a rate for ${
          book.currencies[code] ?? "a null currency"
        } (loan ${loanId(book, i)})`,
      );
    }
    rc[i] = ecl[i] * rate;
  }
  return { applied, present, model, ead, rc, rules, fx, overlayFrame };
}

/** The columns the overlays select on, of the facilities present. */
function overlayInputs(
  book: Book,
  applied: ReadonlySet<WalkDriver>,
  present: Uint8Array,
): DataFrame {
  return inputFrame(book, applied, present).select(
    "__i",
    "product",
    "segment",
    "region",
    "stage",
    "currency",
  );
}

/** The ECL after the state's overlays (methodology §8), facility currency. */
async function withOverlays(
  book: Book,
  frame: DataFrame,
  model: Float64Array,
  ead: Float64Array,
  rules: Rules,
  fx: FxTable,
): Promise<Float64Array> {
  const idx = frame.getColumn("__i").toTypedArray() as Uint32Array;
  const m = new Float64Array(idx.length);
  const e = new Float64Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    m[k] = model[idx[k]];
    e[k] = ead[idx[k]];
  }
  const lf = frame.select(
    "product",
    "segment",
    "region",
    "stage",
    "currency",
  ).withColumns(pl.Series("ead", e), pl.Series("ecl_model", m)).lazy();
  const out = await (await applyOverlays(lf, rules.overlays, {
    fx,
    reportingCurrency: rules.reporting_currency,
  })).select("ecl").collect();
  const adjusted = out.getColumn("ecl").toTypedArray() as Float64Array;
  const ecl = new Float64Array(book.n);
  for (let k = 0; k < idx.length; k++) ecl[idx[k]] = adjusted[k];
  return ecl;
}

/** Totals of `values` by stage key and product key. */
function totals(book: Book, values: Float64Array) {
  const stage = new Float64Array(4);
  const product = new Float64Array(book.products.length);
  let total = 0;
  for (let i = 0; i < book.n; i++) {
    const x = values[i];
    if (x === 0) continue;
    total += x;
    stage[book.stageKey[i]] += x;
    product[book.productKey[i]] += x;
  }
  const byStage: WalkByStage = { "1": stage[1], "2": stage[2], "3": stage[3] };
  const byProduct: Record<string, number> = {};
  book.products.forEach((p, k) => byProduct[p] = product[k]);
  return { total, byStage, byProduct };
}

/**
 * The largest difference, per stage of the run and in total, between a
 * state and the run it must reproduce (`worst`), and the largest of one
 * facility's ECL (`ecl_rc`) from the run's (`facility`).
 */
function difference(
  book: Book,
  state: State,
  side: 0 | 1,
): { worst: number; where: string; facility: number; loan: string } {
  const stages = book.frame.getColumn(v("stage", side)).cast(pl.Int32)
    .toTypedArray() as Int32Array;
  const run = book.runEcl[side];
  const mine = new Float64Array(5);
  const theirs = new Float64Array(5);
  let count = 0;
  let facility = 0;
  let at = -1;
  for (let i = 0; i < book.n; i++) {
    if (!state.present[i]) continue;
    count++;
    const s = stages[i];
    mine[s] += state.rc[i];
    mine[4] += state.rc[i];
    const r = run[i];
    if (Number.isNaN(r)) {
      return {
        worst: Infinity,
        where: `facility ${loanId(book, i)} is not in the run's results`,
        facility: Infinity,
        loan: loanId(book, i),
      };
    }
    const f = Math.abs(state.rc[i] - r);
    if (!(f <= facility)) {
      facility = f;
      at = i;
    }
    theirs[s] += r;
    theirs[4] += r;
  }
  if (count !== book.runCount[side]) {
    return {
      worst: Infinity,
      where: `${count} facilities recomputed, ${
        book.runCount[side]
      } in the run`,
      facility: Infinity,
      loan: "",
    };
  }
  let worst = 0;
  let where = "total";
  for (let k = 1; k <= 4; k++) {
    const d = Math.abs(mine[k] - theirs[k]);
    if (d > worst) {
      worst = d;
      where = k === 4 ? "total" : `stage ${k}`;
    }
  }
  return { worst, where, facility, loan: at < 0 ? "" : loanId(book, at) };
}

/** A step from two consecutive states. */
function step(
  book: Book,
  driver: WalkDriver,
  before: State,
  after: State,
  top: number,
): WalkStep {
  const delta = new Float64Array(book.n);
  let facilities = 0;
  const best: { i: number; a: number }[] = [];
  for (let i = 0; i < book.n; i++) {
    const d = after.rc[i] - before.rc[i];
    delta[i] = d;
    if (d === 0) continue;
    facilities++;
    const a = Math.abs(d);
    if (best.length < top || a > best[best.length - 1].a) {
      best.push({ i, a });
      best.sort((x, y) => y.a - x.a);
      if (best.length > top) best.pop();
    }
  }
  const t = totals(book, delta);
  return {
    driver,
    label: DRIVER_LABELS[driver],
    amount: t.total,
    by_stage: t.byStage,
    by_product: t.byProduct,
    facilities,
    top: best.map(({ i }) => ({
      loan_id: loanId(book, i),
      product: book.products[book.productKey[i]],
      stage: book.stageKey[i],
      amount: delta[i],
    })),
  };
}

/**
 * The ECL walk from the opening run to the closing run (module doc).
 *
 * @param open The opening run's inputs (`readWalkInputs`) and folder.
 * @param close The closing run's.
 * @throws {UserError} `internal` when the recomputed first or last state
 *   differs from its run by more than `tolerance` per stage or in total.
 */
export async function computeWalk(
  open: { inputs: WalkInputs; run: RunFolder },
  close: { inputs: WalkInputs; run: RunFolder },
  opts: WalkOptions = {},
): Promise<Walk> {
  const t0 = performance.now();
  const top = opts.top ?? 10;
  const tolerance = opts.tolerance ?? 0.005;
  const book = await buildBook(open.inputs, close.inputs, [
    open.run,
    close.run,
  ]);
  opts.onStep?.("walk_opening");
  const s0 = await nextState(book, null, new Set());
  const states: State[] = [s0];
  const applied = new Set<WalkDriver>();
  let afterStage: State | null = null;
  for (const d of WALK_DRIVERS) {
    opts.onStep?.(`walk_${d}`);
    applied.add(d);
    const s = await nextState(
      book,
      states[states.length - 1],
      new Set(applied),
    );
    states.push(s);
    if (d === "stage") afterStage = s;
  }
  const last = states[states.length - 1];
  // The end states must be the runs' figures, per stage and in total.
  const d0 = difference(book, s0, 0);
  const d1 = difference(book, last, 1);
  for (
    const [d, which, run] of [[d0, "opening", open.run.dir], [
      d1,
      "closing",
      close.run.dir,
    ]] as const
  ) {
    if (!(d.worst <= tolerance)) {
      throw new UserError(
        "internal",
        `Internal error: the ECL walk's ${which} state differs from run ${run} by ${d.worst} (${d.where}), more than ${tolerance}; the walk cannot add up to the movement (a bug, or a run computed by another engine version)`,
      );
    }
    if (!(d.facility <= tolerance)) {
      throw new UserError(
        "internal",
        `Internal error: the ECL walk's ${which} state gives facility ${d.loan} an ECL (ecl_rc) ${d.facility} away from run ${run}'s, more than ${tolerance}; the walk's facility effects would not be the run's (a bug, or a run computed by another engine version)`,
      );
    }
  }
  const steps = WALK_DRIVERS.map((d, k) =>
    step(book, d, states[k], states[k + 1], top)
  );
  // The PD and exposure effects in the reverse order, from after the stage step.
  opts.onStep?.("walk_reversed");
  const pdFirst = await nextState(
    book,
    afterStage!,
    new Set([...afterStage!.applied, "pd"]),
  );
  const afterPd = states[WALK_DRIVERS.indexOf("pd") + 1];
  const sum = (s: State) => totals(book, s.rc).total;
  const opening = totals(book, s0.rc);
  const closing = totals(book, last.rc);
  const walk: Walk = {
    from_date: open.inputs.reportingDate,
    to_date: close.inputs.reportingDate,
    reporting_currency: close.inputs.rules.reporting_currency,
    opening: opening.total,
    closing: closing.total,
    opening_by_stage: opening.byStage,
    closing_by_stage: closing.byStage,
    opening_by_product: opening.byProduct,
    closing_by_product: closing.byProduct,
    steps,
    order_sensitivity: {
      exposure: {
        in_order: steps[WALK_DRIVERS.indexOf("exposure")].amount,
        reversed: sum(afterPd) - sum(pdFirst),
      },
      pd: {
        in_order: steps[WALK_DRIVERS.indexOf("pd")].amount,
        reversed: sum(pdFirst) - sum(afterStage!),
      },
    },
    checks: {
      opening_difference: d0.worst,
      closing_difference: d1.worst,
      opening_facility_difference: d0.facility,
      closing_facility_difference: d1.facility,
    },
    facilities: book.n,
    elapsed_ms: 0,
  };
  checkSteps(walk, tolerance);
  walk.elapsed_ms = performance.now() - t0;
  return walk;
}

/**
 * The steps add up to the change, per stage and in total (docs/movement.md,
 * "ECL walk"); anything else is an internal error.
 */
export function checkSteps(walk: Walk, tolerance = 0.005): void {
  const keys = ["1", "2", "3"] as const;
  const fail = (where: string, sum: number, change: number) => {
    throw new UserError(
      "internal",
      `Internal error: the ECL walk's steps add up to ${sum} ${where}, the change is ${change}`,
    );
  };
  const total = walk.steps.reduce((a, s) => a + s.amount, 0);
  const change = walk.closing - walk.opening;
  if (!(Math.abs(total - change) <= tolerance)) fail("in total", total, change);
  for (const k of keys) {
    const sum = walk.steps.reduce((a, s) => a + s.by_stage[k], 0);
    const ch = walk.closing_by_stage[k] - walk.opening_by_stage[k];
    if (!(Math.abs(sum - ch) <= tolerance)) fail(`in stage ${k}`, sum, ch);
  }
}
