/**
 * The run summary (`summary.json`): portfolio totals of the loan results by
 * stage, product, segment, region and currency, each with count, gross
 * carrying amount, EAD, ECL, its split into loss allowance and provision
 * (IFRS 7 B8E) and the coverage ratio (ECL / gross carrying amount,
 * methodology §9), plus the probability-weighted scenario ECLs and the
 * effect of each post-model overlay and of the floor at 0 (§8).
 *
 * The overlay figures are sums of what the engine recorded per facility
 * (`overlay_impacts`, `overlay_floor`, see `lib/engine/overlays.ts`): the
 * overlay formula lives in the engine only, so the attribution cannot
 * drift from what was applied, and the overlays' impacts plus the floor's
 * add up to `ecl - ecl_model`.
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
import {
  OVERLAY_FLOOR,
  OVERLAY_IMPACTS,
  OVERLAYS_APPLIED,
} from "../engine/mod.ts";
import { allowanceSplit, LOSS_ALLOWANCE, PROVISION } from "../allowance.ts";

/** Column of the carrying-amounts table: the balance at the reporting date. */
export const GROSS_CARRYING_AMOUNT = "gross_carrying_amount";

/** Totals of one group of facilities, in the reporting currency. */
export interface Group {
  key: string;
  count: number;
  gross_carrying_amount: number;
  ead: number;
  ecl: number;
  /**
   * The part of `ecl` up to each facility's gross carrying amount: the
   * loss allowance deducted from the assets (IFRS 7 B8E, `allowanceSplit`).
   */
  loss_allowance: number;
  /**
   * The part of `ecl` beyond each facility's gross carrying amount: the
   * provision for undrawn commitments (IFRS 7 B8E).
   */
  provision: number;
  /**
   * `ecl / gross_carrying_amount` (methodology §9; see {@link coverageRatio}):
   * 0 when both are 0, null when only the gross carrying amount is (an
   * undrawn book has no ratio).
   */
  coverage: number | null;
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
    /** ECL after overlays and the floor: loss allowance plus provision. */
    ecl: number;
    /** See {@link Group}. */
    loss_allowance: number;
    provision: number;
    coverage: number | null;
  };
  by_stage: Group[];
  by_product: Group[];
  by_segment: Group[];
  by_region: Group[];
  by_currency: CurrencyGroup[];
  /**
   * Each configured overlay, in the order applied: its adjustment, how many
   * facilities it applied to, the ECL it added (negative when it released
   * allowance) in the reporting currency, and how many of its facilities it
   * helped take below 0 (its impact on them was negative and the floor
   * applied). Read from the engine's per-facility `overlay_impacts`.
   */
  overlays: {
    name: string;
    reason: string;
    multiplier?: number;
    /** In the reporting currency, for the selected facilities as a whole. */
    add?: number;
    facilities: number;
    ecl_impact: number;
    floored_facilities: number;
  }[];
  /**
   * What the floor at 0 after the overlays added back (methodology §8), in
   * the reporting currency, and on how many facilities: with the overlays'
   * impacts it makes up `totals.ecl - totals.ecl_model`.
   */
  overlay_floor: { facilities: number; ecl_impact: number };
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
  allowance: number;
  provision: number;
  eadLocal: number;
  eclLocal: number;
}

const newAcc = (): Acc => ({
  count: 0,
  gca: 0,
  ead: 0,
  ecl: 0,
  allowance: 0,
  provision: 0,
  eadLocal: 0,
  eclLocal: 0,
});

/**
 * The coverage ratio of methodology §9: ECL over the gross carrying
 * amount, as banks disclose it. 0 when both are 0 (nothing lent, nothing
 * provided); null when there is ECL but no gross carrying amount (undrawn
 * commitments only), which has no ratio.
 *
 * @example
 * ```ts
 * import { coverageRatio } from "./summary.ts";
 * coverageRatio(25, 1000); // 0.025
 * coverageRatio(0, 0); // 0
 * coverageRatio(30, 0); // null
 * ```
 */
export function coverageRatio(
  ecl: number,
  grossCarryingAmount: number,
): number | null {
  if (grossCarryingAmount > 0) return ecl / grossCarryingAmount;
  return ecl === 0 ? 0 : null;
}

const toGroup = (key: string, a: Acc): Group => ({
  key,
  count: a.count,
  gross_carrying_amount: a.gca,
  ead: a.ead,
  ecl: a.ecl,
  loss_allowance: a.allowance,
  provision: a.provision,
  coverage: coverageRatio(a.ecl, a.gca),
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
  /**
   * By currency and overlay name: `count`, `impact` (the recorded
   * `overlay_impacts`) and `floored`. Null when the rules configure no
   * overlay or no facility has one applied.
   */
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
  LOSS_ALLOWANCE,
  PROVISION,
  // Without overlays there is nothing to floor (methodology §8).
  ...(rules.overlays.length > 0 ? [OVERLAY_FLOOR] : []),
  ...rules.scenarios.map((s) => scenarioEclColumn(s.name)),
];

/** Keys of the overlay cells. */
const OVERLAY_KEYS = [COL.currency, OVERLAYS_APPLIED];

/** Cell column: facilities the floor at 0 applied to. */
const FLOORED = "floored";

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
  const columns = results.columns;
  const has = (c: string) => columns.includes(c);
  if (
    rules.overlays.length > 0 &&
    !(has(OVERLAYS_APPLIED) && has(OVERLAY_IMPACTS) && has(OVERLAY_FLOOR))
  ) {
    throw new RangeError(
      `Cannot summarize: the rules configure overlays but the loan results lack ${
        [OVERLAYS_APPLIED, OVERLAY_IMPACTS, OVERLAY_FLOOR].filter((c) =>
          !has(c)
        ).join(", ")
      } (compute them with computeEcl or applyOverlays)`,
    );
  }
  const withOverlays = rules.overlays.length > 0;
  const facilities = results.withColumns(
    // IFRS 7 B8E per facility: a facility's ECL above its own gross
    // carrying amount is a provision even when its group's total is not.
    ...allowanceSplit(pl.col("ecl"), pl.col(GROSS_CARRYING_AMOUNT)),
  );
  // Exact to the cent however many facilities a cell holds (precise_sum.ts):
  // the movement reconciliation ties to these totals to the cent.
  const sums = sumColumns(rules);
  const groups = withPreciseSums(
    facilities
      .groupBy(GROUP_KEYS)
      .agg(
        pl.col(COL.loanId).count().cast(pl.Float64).alias("count"),
        ...(withOverlays
          ? [pl.col(OVERLAY_FLOOR).gt(0).cast(pl.Float64).sum().alias(FLOORED)]
          : []),
        ...sums.flatMap((c) => preciseSum(pl.col(c), c)),
      ),
    sums,
  );
  // One row per facility and overlay applied, its recorded impact beside
  // its name; grouped by currency and overlay.
  const overlays = !withOverlays ? null : withPreciseSums(
    facilities
      .filter(pl.col(OVERLAYS_APPLIED).lst.lengths().gt(0))
      .select(
        pl.col(COL.currency),
        pl.col(OVERLAYS_APPLIED),
        pl.col(OVERLAY_IMPACTS),
        pl.col(OVERLAY_FLOOR),
      )
      .explode([OVERLAYS_APPLIED, OVERLAY_IMPACTS])
      .groupBy(OVERLAY_KEYS)
      .agg(
        pl.len().cast(pl.Float64).alias("count"),
        pl.col(OVERLAY_FLOOR).gt(0).and(pl.col(OVERLAY_IMPACTS).lt(0))
          .cast(pl.Float64).sum().alias(FLOORED),
        ...preciseSum(pl.col(OVERLAY_IMPACTS), "impact"),
      ),
    ["impact"],
  );
  const overlayCells = overlays === null ? null : await overlays.collect();
  return {
    groups: await groups.collect(),
    overlays: overlayCells === null || overlayCells.height === 0
      ? null
      : overlayCells,
  };
}

/** Adds up the cells of slices of one portfolio. */
export function mergeSummaryCells(parts: SummaryCells[]): SummaryCells {
  if (parts.length === 1) return parts[0];
  const groups = pl.concat(parts.map((p) => p.groups)).groupBy(GROUP_KEYS)
    .agg(pl.exclude(GROUP_KEYS).sum());
  const withOverlays = parts.map((p) => p.overlays).filter((o) => o !== null);
  const overlays = withOverlays.length === 0 ? null : pl.concat(withOverlays)
    .groupBy(OVERLAY_KEYS).agg(pl.exclude(OVERLAY_KEYS).sum());
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
  const floor = { facilities: 0, ecl_impact: 0 };
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
    const allowance = Number(r[LOSS_ALLOWANCE]) * rate;
    const provision = Number(r[PROVISION]) * rate;
    const add = (a: Acc) => {
      a.count += count;
      a.gca += gcaLocal * rate;
      a.ead += eadLocal * rate;
      a.ecl += eclLocal * rate;
      a.allowance += allowance;
      a.provision += provision;
      a.eadLocal += eadLocal;
      a.eclLocal += eclLocal;
    };
    add(totals);
    eclModel += Number(r.ecl_model) * rate;
    floor.facilities += Number(r[FLOORED] ?? 0);
    floor.ecl_impact += Number(r[OVERLAY_FLOOR] ?? 0) * rate;
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
      loss_allowance: totals.allowance,
      provision: totals.provision,
      coverage: coverageRatio(totals.ecl, totals.gca),
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
    overlay_floor: floor,
  };
}

/**
 * Facilities and ECL impact (reporting currency) of each overlay, from the
 * recorded per-facility impacts: the configured overlays in order, then any
 * overlay the results record that the rules do not name (results computed
 * with other rules), so the impacts still add up.
 */
function overlaySummary(
  cells: pl.DataFrame | null,
  rules: Rules,
  rates: Record<string, number>,
): Summary["overlays"] {
  const rows = cells === null
    ? []
    : cells.sort(OVERLAY_KEYS).toRecords() as Row[];
  const entries = new Map<string, Summary["overlays"][number]>();
  for (const o of rules.overlays) {
    entries.set(o.name, {
      name: o.name,
      reason: o.reason,
      ...(o.multiplier === undefined ? {} : { multiplier: o.multiplier }),
      ...(o.add === undefined ? {} : { add: o.add }),
      facilities: 0,
      ecl_impact: 0,
      floored_facilities: 0,
    });
  }
  for (const r of rows) {
    const name = String(r[OVERLAYS_APPLIED]);
    if (!entries.has(name)) {
      entries.set(name, {
        name,
        reason: "(not in the rules file given to the summary)",
        facilities: 0,
        ecl_impact: 0,
        floored_facilities: 0,
      });
    }
    const e = entries.get(name)!;
    e.facilities += Number(r.count);
    e.ecl_impact += Number(r.impact) * rates[String(r[COL.currency])];
    e.floored_facilities += Number(r[FLOORED]);
  }
  return [...entries.values()];
}

/**
 * The warnings a run records about its overlays (methodology §8): the
 * floor at 0 changed an ECL (naming the overlays that took ECL below 0),
 * or an `add` selected no facility, so its amount is not in the allowance.
 * Summaries written before the floor was recorded give none.
 *
 * @example
 * ```ts ignore
 * manifest.warnings.push(...overlayWarnings(summary));
 * ```
 */
export function overlayWarnings(summary: Summary): string[] {
  const cur = summary.reporting_currency;
  const amount = (v: number) =>
    v.toLocaleString("en-US", {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
  const warnings: string[] = [];
  for (const o of summary.overlays) {
    if (o.add !== undefined && o.add !== 0 && o.facilities === 0) {
      warnings.push(
        `Overlay ${o.name} selects no facility: its add of ${
          amount(o.add)
        } ${cur} is not in the allowance`,
      );
    }
  }
  const floor = summary.overlay_floor;
  if (floor !== undefined && floor.facilities > 0) {
    const named = summary.overlays.filter((o) =>
      (o.floored_facilities ?? 0) > 0
    ).map((o) => o.name);
    const n = floor.facilities;
    warnings.push(
      `${
        named.length === 0
          ? "The overlays"
          : `Overlay${named.length > 1 ? "s" : ""} ${named.join(", ")}`
      } took the ECL of ${n} ${
        n === 1 ? "facility" : "facilities"
      } below 0: the floor at 0 (methodology §8) added ${
        amount(floor.ecl_impact)
      } ${cur} back`,
    );
  }
  return warnings;
}
