/**
 * The run summary (`summary.json`): portfolio totals of the loan results by
 * stage, product, segment, region and currency, each with count, gross
 * carrying amount, EAD, ECL and coverage, plus the probability-weighted
 * scenario ECLs and the effect of each post-model overlay.
 *
 * Loan results are in each facility's own currency (methodology §9); every
 * amount here is converted into the rules' reporting currency with the run's
 * FX table, and the summary names that table (file, SHA-256, base, as-of
 * date, rates used) so a reader can reproduce the conversion (IFRS 7 §35H
 * reconciliations are presented in one currency).
 *
 * The data is read once: a single lazy `groupBy` over every combination of
 * stage, product, segment, region and currency yields a frame of at most a
 * few hundred rows (the "cells", additive across slices of a portfolio),
 * which is converted and rolled up to each dimension in TypeScript. Conversion after summation is exact up to floating-point
 * rounding, because a currency's rate is a constant within a group.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Rules } from "../rules.ts";
import { COL, scenarioEclColumn } from "../schema.ts";
import { type FxTable, reportingRates } from "../fx.ts";
import { preciseSum, withPreciseSums } from "../precise_sum.ts";
import { OVERLAYS_APPLIED } from "../engine/mod.ts";

/** Column of the carrying-amounts table: the balance at the reporting date. */
export const GROSS_CARRYING_AMOUNT = "gross_carrying_amount";

/** Totals of one group of facilities, in the reporting currency. */
export interface Group {
  key: string;
  count: number;
  gross_carrying_amount: number;
  ead: number;
  ecl: number;
  /** `ecl / ead`; 0 when the group's EAD is 0 (no exposure, no allowance). */
  coverage: number;
}

/** A currency group also carries its amounts in the currency itself. */
export interface CurrencyGroup extends Group {
  ead_local: number;
  ecl_local: number;
}

/** The portfolio totals of a run (`summary.json`). */
export interface Summary {
  run_id: string;
  reporting_date: string;
  reporting_currency: string;
  /**
   * Products on the simplified approach (IFRS 9 §5.5.15): their facilities
   * form a column of their own in the IFRS 7 §35H movement (§35H(b)(iii)).
   */
  simplified_products: string[];
  fx: {
    file: string;
    sha256: string;
    base: string;
    as_of: string;
    /** Reporting-currency units per one unit of each currency in the run. */
    rates: Record<string, number>;
  };
  /** Model ECL under each scenario alone, before overlays (methodology §8). */
  scenarios: { name: string; weight: number; ecl: number }[];
  totals: {
    count: number;
    gross_carrying_amount: number;
    ead: number;
    /** Probability-weighted ECL before overlays. */
    ecl_model: number;
    /** ECL after overlays: the loss allowance. */
    ecl: number;
    coverage: number;
  };
  by_stage: Group[];
  by_product: Group[];
  by_segment: Group[];
  by_region: Group[];
  by_currency: CurrencyGroup[];
  /**
   * Each configured overlay: how many facilities it applied to and the ECL
   * it added (negative when it released allowance), in the reporting
   * currency.
   */
  overlays: {
    name: string;
    reason: string;
    facilities: number;
    ecl_impact: number;
  }[];
}

/** Options of {@link summarize}. */
export interface SummarizeOptions {
  runId: string;
  /** Reporting date `YYYY-MM-DD`. */
  reportingDate: string;
  rules: Rules;
  fx: FxTable;
}

/** Key under which facilities with a null grouping value are reported. */
export const NULL_KEY = "(none)";

type Row = Record<string, unknown>;

const DIMENSIONS = [
  ["by_stage", "stage"],
  ["by_product", COL.product],
  ["by_segment", COL.segment],
  ["by_region", COL.region],
] as const;

interface Acc {
  count: number;
  gca: number;
  ead: number;
  ecl: number;
  eadLocal: number;
  eclLocal: number;
}

const newAcc = (): Acc => ({
  count: 0,
  gca: 0,
  ead: 0,
  ecl: 0,
  eadLocal: 0,
  eclLocal: 0,
});

const coverage = (ecl: number, ead: number) => ead === 0 ? 0 : ecl / ead;

const toGroup = (key: string, a: Acc): Group => ({
  key,
  count: a.count,
  gross_carrying_amount: a.gca,
  ead: a.ead,
  ecl: a.ecl,
  coverage: coverage(a.ecl, a.ead),
});

const keyOf = (v: unknown) =>
  v === null || v === undefined ? NULL_KEY : String(v);

/** Orders stage keys numerically and every other key alphabetically. */
const byKey = (a: Group, b: Group) => {
  const na = Number(a.key), nb = Number(b.key);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
};

/**
 * Replays the overlays on `ecl_model` in configuration order and returns,
 * per overlay, the change it made to each facility's ECL. Methodology §8
 * applies overlays after weighting, each to the result of the ones before;
 * attributing the change step by step makes the impacts add up to
 * `ecl - ecl_model` even when several overlays hit one facility.
 */
function overlayImpactExprs(rules: Rules): pl.Expr[] {
  const exprs: pl.Expr[] = [];
  let before: pl.Expr = pl.col("ecl_model");
  rules.overlays.forEach((o, i) => {
    const applies = pl.col(OVERLAYS_APPLIED).lst.contains(o.name);
    const adjusted = o.multiplier !== undefined
      ? before.mul(o.multiplier)
      : before.add(o.add ?? 0);
    const after = pl.when(applies).then(adjusted).otherwise(before);
    exprs.push(
      applies.cast(pl.Int64).alias(`_ov${i}_n`),
      after.sub(before).alias(`_ov${i}_impact`),
    );
    before = after;
  });
  return exprs;
}

/**
 * The loan results with each facility's `gross_carrying_amount` (or the
 * carrying-amount columns named) attached. A run writes both files in the
 * same facility order, so the columns are usually attached side by side
 * after checking the `loan_id`s line up (milliseconds for a million loans,
 * where a join on string keys takes a quarter of a second); otherwise they
 * are joined on `loan_id`.
 *
 * @param carrying `loan_id` and the columns per facility.
 */
export function attachCarryingAmounts(
  results: pl.DataFrame,
  carrying: pl.DataFrame,
  columns: string[] = [GROSS_CARRYING_AMOUNT],
): pl.DataFrame {
  const aligned = results.height === carrying.height &&
    results.getColumn(COL.loanId).seriesEqual(carrying.getColumn(COL.loanId));
  return aligned
    ? results.withColumns(...columns.map((c) => carrying.getColumn(c)))
    : results.join(carrying.select(COL.loanId, ...columns), {
      on: COL.loanId,
      how: "left",
    });
}

/**
 * Sums of loan results in each facility's own currency, by stage, product,
 * segment, region and currency (and, per overlay, by currency). Sums add
 * up, so the cells of slices of a portfolio merge into the cells of the
 * whole ({@link mergeSummaryCells}): a run computed in chunks, or in
 * partitions on several machines, summarises exactly like one pass.
 */
export interface SummaryCells {
  groups: pl.DataFrame;
  /** Null when the rules configure no overlay. */
  overlays: pl.DataFrame | null;
}

const GROUP_KEYS = [
  "stage",
  COL.product,
  COL.segment,
  COL.region,
  COL.currency,
];

const sumColumns = (rules: Rules) => [
  GROSS_CARRYING_AMOUNT,
  "ead",
  "ecl_model",
  "ecl",
  ...rules.scenarios.map((s) => scenarioEclColumn(s.name)),
];

/**
 * The summary cells of some loan results: one lazy pass, a frame of at
 * most a few hundred rows out.
 *
 * @param results loan results (methodology §9 columns, `ecl_<scenario>`
 *   per scenario and `overlays_applied`, as `computeEcl` returns them) with
 *   `gross_carrying_amount` attached ({@link attachCarryingAmounts}).
 */
export async function summaryCells(
  results: pl.LazyDataFrame,
  rules: Rules,
): Promise<SummaryCells> {
  // Exact to the cent however many facilities a cell holds (precise_sum.ts):
  // the movement reconciliation ties to these totals to the cent.
  const sums = sumColumns(rules);
  const groups = withPreciseSums(
    results
      .groupBy(GROUP_KEYS)
      .agg(
        pl.col(COL.loanId).count().cast(pl.Float64).alias("count"),
        ...sums.flatMap((c) => preciseSum(pl.col(c), c)),
      ),
    sums,
  );
  const overlays = rules.overlays.length === 0 ? null : results
    .filter(pl.col(OVERLAYS_APPLIED).lst.lengths().gt(0))
    .select(pl.col(COL.currency), ...overlayImpactExprs(rules))
    .groupBy(COL.currency)
    .agg(pl.exclude(COL.currency).sum());
  return {
    groups: await groups.collect(),
    overlays: overlays === null ? null : await overlays.collect(),
  };
}

/** Adds up the cells of slices of one portfolio. */
export function mergeSummaryCells(parts: SummaryCells[]): SummaryCells {
  if (parts.length === 1) return parts[0];
  const groups = pl.concat(parts.map((p) => p.groups)).groupBy(GROUP_KEYS)
    .agg(pl.exclude(GROUP_KEYS).sum());
  const withOverlays = parts.map((p) => p.overlays).filter((o) => o !== null);
  const overlays = withOverlays.length === 0 ? null : pl.concat(withOverlays)
    .groupBy(COL.currency).agg(pl.exclude(COL.currency).sum());
  return { groups, overlays };
}

/**
 * Totals of a run's loan results in the reporting currency.
 *
 * @param results loan results with `gross_carrying_amount` attached; see
 *   {@link summaryCells}.
 * @throws {FxError} when a currency of the results is missing from the FX
 *   table, naming the currency and the FX file.
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { loadFx } from "../fx.ts";
 * import { loadRules } from "../rules.ts";
 * import { runPortfolio } from "./run.ts";
 * // A run folder of the built-in sample book, re-summarised from its files:
 * const run = await runPortfolio({
 *   portfolio: "data/sample/portfolio_2025-12-31.parquet",
 *   out: await Deno.makeTempDir(),
 *   runId: "sample-2025-12-31",
 *   report: false,
 * });
 * const results = pl.readParquet(`${run.dir}/loan_results.parquet`);
 * const carrying = pl.readParquet(`${run.dir}/carrying_amounts.parquet`);
 * const summary = await summarize(
 *   attachCarryingAmounts(results, carrying).lazy(),
 *   {
 *     runId: "sample-2025-12-31",
 *     reportingDate: "2025-12-31",
 *     rules: await loadRules("config/ifrs9_rules.yaml"),
 *     fx: await loadFx("config/fx_rates.yaml"),
 *   },
 * );
 * // The same totals the run wrote into its summary.json:
 * if (summary.totals.ecl !== run.summary.totals.ecl) throw new Error("differs");
 * ```
 */
export async function summarize(
  results: pl.LazyDataFrame,
  opts: SummarizeOptions,
): Promise<Summary> {
  return summaryFromCells(await summaryCells(results, opts.rules), opts);
}

/**
 * The summary of (merged) cells: converts each cell with its currency's
 * rate and rolls the cells up to each dimension.
 *
 * @throws {FxError} when a currency is missing from the FX table.
 */
export function summaryFromCells(
  cells: SummaryCells,
  opts: SummarizeOptions,
): Summary {
  const { rules, fx } = opts;
  const scenarioCols = rules.scenarios.map((s) => scenarioEclColumn(s.name));
  // Sorted so that the floating-point sums do not depend on the order in
  // which Polars happened to emit the groups.
  const rows = cells.groups.sort(GROUP_KEYS).toRecords() as Row[];
  const rates = reportingRates(
    fx,
    rules.reporting_currency,
    rows.map((r) => String(r[COL.currency])),
  );

  const totals = newAcc();
  let eclModel = 0;
  const scenarioEcl = new Array<number>(scenarioCols.length).fill(0);
  const dims = new Map<string, Map<string, Acc>>(
    [...DIMENSIONS.map(([name]) => name), "by_currency"].map((
      n,
    ) => [n, new Map()]),
  );
  for (const r of rows) {
    const rate = rates[String(r[COL.currency])];
    const count = Number(r.count);
    const gcaLocal = Number(r[GROSS_CARRYING_AMOUNT] ?? 0);
    const eadLocal = Number(r.ead);
    const eclLocal = Number(r.ecl);
    const add = (a: Acc) => {
      a.count += count;
      a.gca += gcaLocal * rate;
      a.ead += eadLocal * rate;
      a.ecl += eclLocal * rate;
      a.eadLocal += eadLocal;
      a.eclLocal += eclLocal;
    };
    add(totals);
    eclModel += Number(r.ecl_model) * rate;
    scenarioCols.forEach((c, i) => scenarioEcl[i] += Number(r[c]) * rate);
    for (const [name, col] of DIMENSIONS) {
      const m = dims.get(name)!;
      const k = keyOf(r[col]);
      if (!m.has(k)) m.set(k, newAcc());
      add(m.get(k)!);
    }
    const m = dims.get("by_currency")!;
    const k = keyOf(r[COL.currency]);
    if (!m.has(k)) m.set(k, newAcc());
    add(m.get(k)!);
  }

  const groups = (name: string) =>
    [...dims.get(name)!].map(([k, a]) => toGroup(k, a)).sort(byKey);

  return {
    run_id: opts.runId,
    reporting_date: opts.reportingDate,
    reporting_currency: rules.reporting_currency,
    simplified_products: Object.keys(rules.products).filter((p) =>
      rules.products[p].approach === "simplified"
    ),
    fx: {
      file: fx.file,
      sha256: fx.sha256,
      base: fx.base,
      as_of: fx.as_of,
      rates,
    },
    scenarios: rules.scenarios.map((s, i) => ({
      name: s.name,
      weight: s.weight,
      ecl: scenarioEcl[i],
    })),
    totals: {
      count: totals.count,
      gross_carrying_amount: totals.gca,
      ead: totals.ead,
      ecl_model: eclModel,
      ecl: totals.ecl,
      coverage: coverage(totals.ecl, totals.ead),
    },
    by_stage: groups("by_stage"),
    by_product: groups("by_product"),
    by_segment: groups("by_segment"),
    by_region: groups("by_region"),
    by_currency: [...dims.get("by_currency")!]
      .map(([k, a]) => ({
        ...toGroup(k, a),
        ead_local: a.eadLocal,
        ecl_local: a.eclLocal,
      }))
      .sort(byKey),
    overlays: overlaySummary(cells.overlays, rules, rates),
  };
}

/** Facilities and ECL impact (reporting currency) of each overlay. */
function overlaySummary(
  cells: pl.DataFrame | null,
  rules: Rules,
  rates: Record<string, number>,
): Summary["overlays"] {
  const rows = cells === null
    ? []
    : cells.sort(COL.currency).toRecords() as Row[];
  return rules.overlays.map((o, i) => {
    let facilities = 0, impact = 0;
    for (const r of rows) {
      facilities += Number(r[`_ov${i}_n`]);
      impact += Number(r[`_ov${i}_impact`]) * rates[String(r[COL.currency])];
    }
    return { name: o.name, reason: o.reason, facilities, ecl_impact: impact };
  });
}
