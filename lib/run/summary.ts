/**
 * Computing the run summary (`summary.json`, whose contents are defined in
 * `lib/run_folder/summary.ts`): portfolio totals of the loan results by
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
 * which is converted and rolled up to each dimension in TypeScript.
 * Conversion after summation is exact up to floating-point rounding, because a currency's rate is a constant within a group.
 *
 * The cells' sums are precise sums (`lib/precise_sum.ts`): exact to the
 * cent below 2^53 cents, and no amount ever drops out of them, however
 * large; a NaN or infinite figure of a facility makes the totals it enters
 * NaN or infinite rather than vanish. A run refuses such a summary, and
 * warns about totals too large to be exact to the cent, in its final check
 * before publishing (`finite.ts`).
 *
 * @module
 */
import { UserError } from "../errors.ts";
import pl from "nodejs-polars";
import type { DataFrame, LazyFrame } from "../frame.ts";
import { requireValidRules, type Rules } from "../rules.ts";
import { COL, scenarioEclColumn } from "../schema.ts";
import { type FxTable, reportingRates } from "../fx.ts";
import {
  preciseSum,
  preciseSumParts,
  preciseSumRowParts,
  sumPreciseParts,
  withPreciseSums,
} from "../precise_sum.ts";
import {
  OVERLAY_FLOOR,
  OVERLAY_IMPACTS,
  OVERLAYS_APPLIED,
} from "../engine/mod.ts";
import { allowanceSplit, LOSS_ALLOWANCE, PROVISION } from "../allowance.ts";
import {
  coverageRatio,
  GROSS_CARRYING_AMOUNT,
  type Group,
  locate,
  type Location,
  NULL_KEY,
  PART_FILES,
  readFolderParquet,
  RunFolderReadError,
  type Summary,
} from "../run_folder/mod.ts";
import { join } from "node:path";

/** Options of {@link summarize}. */
export interface SummarizeOptions {
  /** The run id the summary records. */
  runId: string;
  /** Reporting date `YYYY-MM-DD`. */
  reportingDate: string;
  /** The rules: reporting currency, scenarios, overlays, products. */
  rules: Rules;
  /** The FX table converting into the reporting currency. */
  fx: FxTable;
}

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
 * Sums of loan results in each facility's own currency, by stage, product,
 * segment, region and currency (and, per overlay, by currency). Sums add
 * up, so the cells of slices of a portfolio merge into the cells of the
 * whole ({@link mergeSummaryCells}): a run computed in chunks, or in
 * partitions on several machines, summarises exactly like one pass. Each
 * amount is held as the unreduced parts of its precise sum
 * (`preciseSumPartTypes`: whole cents in two integer parts, and the
 * sub-cent rest in three fixed-point integer parts), which add exactly, in
 * any order; {@link summaryFromCells} reduces them.
 */
export interface SummaryCells {
  /** By stage, product, segment, region and currency: count and sums. */
  groups: DataFrame;
  /**
   * By currency and overlay name: `count`, `impact` (the recorded
   * `overlay_impacts`) and `floored`, in order of first appearance. Null
   * when no facility has an overlay applied.
   */
  overlays: DataFrame | null;
}

const GROUP_KEYS = [
  "stage",
  COL.product,
  COL.segment,
  COL.region,
  COL.currency,
];

const sumColumns = (rules: Rules, withOverlays: boolean) => [
  GROSS_CARRYING_AMOUNT,
  "ead",
  "ecl_model",
  "ecl",
  LOSS_ALLOWANCE,
  PROVISION,
  // Without overlays there is nothing to floor (methodology §8).
  ...(withOverlays ? [OVERLAY_FLOOR] : []),
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
  results: LazyFrame,
  rules: Rules,
): Promise<SummaryCells> {
  const columns = results.columns;
  const has = (c: string) => columns.includes(c);
  if (
    rules.overlays.length > 0 &&
    !(has(OVERLAYS_APPLIED) && has(OVERLAY_IMPACTS) && has(OVERLAY_FLOOR))
  ) {
    throw new UserError(
      "usage",
      `Cannot summarize: the rules configure overlays but the loan results lack ${
        [OVERLAYS_APPLIED, OVERLAY_IMPACTS, OVERLAY_FLOOR].filter((c) =>
          !has(c)
        ).join(", ")
      } (compute them with computeEcl or applyOverlays)`,
    );
  }
  // The overlays the results record are summarised whether the rules
  // configure them or something else applied them (a plugin's overlays,
  // appended to the same columns), so the model-to-final bridge adds up.
  const withOverlays = rules.overlays.length > 0 ||
    (has(OVERLAYS_APPLIED) && has(OVERLAY_IMPACTS) && has(OVERLAY_FLOOR));
  const facilities = results.withColumns(
    // IFRS 7 B8E per facility: a facility's ECL above its own gross
    // carrying amount is a provision even when its group's total is not.
    ...allowanceSplit(pl.col("ecl"), pl.col(GROSS_CARRYING_AMOUNT)),
  );
  // Exact to the cent however many facilities a cell holds (precise_sum.ts):
  // the movement reconciliation ties to these totals to the cent.
  // The parts of each precise sum are kept (not reduced) until
  // summaryFromCells, so that cells merge exactly: whole cents add up as
  // integers (docs/partitions.md, "Exact merge").
  const sums = sumColumns(rules, withOverlays);
  // Each amount's cents and rest once per row, not once per part of its
  // precise sum in the agg (preciseSumRowParts).
  const groups = facilities
    .withColumns(...sums.flatMap((c) => preciseSumRowParts(pl.col(c), c)))
    .groupBy(GROUP_KEYS)
    .agg(
      pl.col(COL.loanId).count().cast(pl.Float64).alias("count"),
      ...(withOverlays
        ? [pl.col(OVERLAY_FLOOR).gt(0).cast(pl.Float64).sum().alias(FLOORED)]
        : []),
      ...sums.flatMap(sumPreciseParts),
    );
  // One row per facility and overlay applied, its recorded impact beside
  // its name; grouped by currency and overlay, in order of first
  // appearance (the order the summary lists overlays the rules do not name).
  const overlays = !withOverlays ? null : facilities
    .filter(pl.col(OVERLAYS_APPLIED).lst.lengths().gt(0))
    .select(
      pl.col(COL.currency),
      pl.col(OVERLAYS_APPLIED),
      pl.col(OVERLAY_IMPACTS),
      pl.col(OVERLAY_FLOOR),
    )
    .explode([OVERLAYS_APPLIED, OVERLAY_IMPACTS])
    .groupBy(OVERLAY_KEYS, true)
    .agg(
      pl.len().cast(pl.Float64).alias("count"),
      pl.col(OVERLAY_FLOOR).gt(0).and(pl.col(OVERLAY_IMPACTS).lt(0))
        .cast(pl.Float64).sum().alias(FLOORED),
      ...preciseSum(pl.col(OVERLAY_IMPACTS), "impact"),
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
    .lazy().groupBy(OVERLAY_KEYS, true).agg(pl.exclude(OVERLAY_KEYS).sum())
    .collectSync();
  return { groups, overlays };
}

/**
 * Writes the cells of a part of a partitioned run into its (staging) run
 * folder `dir`: `summary_cells.parquet` and, when an overlay applied,
 * `summary_cells_overlays.parquet` (`PART_FILES`, docs/partitions.md),
 * with the precise sums' parts unreduced.
 */
export function writeSummaryCells(dir: string, cells: SummaryCells): void {
  cells.groups.writeParquet(join(dir, PART_FILES.summaryCells));
  cells.overlays?.writeParquet(join(dir, PART_FILES.summaryCellsOverlays));
}

/**
 * Reads the cells a part wrote ({@link writeSummaryCells}) from its run
 * folder (a path, an `s3://` prefix or a location).
 *
 * @throws {RunFolderReadError} when `summary_cells.parquet` is missing or
 *   is not a readable Parquet file of precise-sum parts, naming the folder.
 */
export async function readSummaryCells(
  folder: string | Location,
): Promise<SummaryCells> {
  const location = locate(folder);
  const groups = await readFolderParquet(location, PART_FILES.summaryCells);
  if (groups === null) {
    throw new RunFolderReadError(
      location.href,
      PART_FILES.summaryCells,
      "file is missing: only the run folder of a part (deno task run --partition K/N) has it",
    );
  }
  if (!groups.columns.some((c) => c.endsWith(HI_SUFFIX))) {
    throw new RunFolderReadError(
      location.href,
      PART_FILES.summaryCells,
      "it holds no precise-sum parts (<column>__cents_hi): not the cells of a part",
    );
  }
  return {
    groups,
    overlays: await readFolderParquet(
      location,
      PART_FILES.summaryCellsOverlays,
    ),
  };
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
 * import assert from "node:assert/strict";
 * import { attachCarryingAmounts, readRunFolder } from "../run_folder/mod.ts";
 * import { loadFx } from "../fx.ts";
 * import { loadRules } from "../rules.ts";
 * import { DEFAULT_FX, DEFAULT_RULES, runPortfolio } from "./run.ts";
 * import { summarize } from "./summary.ts";
 * const tmp = await Deno.makeTempDir();
 *
 * // A run folder of the built-in sample book, re-summarised from its files:
 * const run = await runPortfolio({
 *   portfolio: "data/sample/portfolio_2025-12-31.parquet",
 *   out: tmp,
 *   runId: "sample-2025-12-31",
 *   report: false,
 * });
 * const folder = await readRunFolder(run.dir);
 * const summary = await summarize(
 *   attachCarryingAmounts(
 *     await folder.results.collect(),
 *     await folder.carrying.collect(),
 *   ).lazy(),
 *   {
 *     runId: "sample-2025-12-31",
 *     reportingDate: "2025-12-31",
 *     rules: await loadRules(DEFAULT_RULES),
 *     fx: await loadFx(DEFAULT_FX),
 *   },
 * );
 * // The same totals the run wrote into its summary.json (which adds the
 * // IFRS 7 tables, lib/disclosure, from the portfolio's rating and collateral):
 * const { disclosures: _, ...totals } = run.summary as typeof run.summary & {
 *   disclosures?: unknown;
 * };
 * assert.deepEqual(summary, totals);
 * await Deno.remove(tmp, { recursive: true });
 * ```
 */
export async function summarize(
  results: LazyFrame,
  opts: SummarizeOptions,
): Promise<Summary> {
  const rules = requireValidRules(opts.rules, "summarize()");
  return summaryFromCells(await summaryCells(results, rules), {
    ...opts,
    rules,
  });
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
  const rows = reduced(cells.groups).sort(GROUP_KEYS).toRecords() as Row[];
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
    overlays: overlaySummary(
      cells.overlays === null ? null : reduced(cells.overlays),
      rules,
      rates,
    ),
    overlay_floor: floor,
  };
}

/** The suffix of the high part of a precise sum's columns. */
const HI_SUFFIX = preciseSumParts("")[0];

/**
 * Cells with each precise sum's parts replaced by the sum itself
 * (`withPreciseSums`, once, after every merge): the columns named
 * `<col>__cents_hi` say which sums there are.
 */
function reduced(cells: DataFrame): DataFrame {
  const names = cells.columns.filter((c) => c.endsWith(HI_SUFFIX)).map((c) =>
    c.slice(0, -HI_SUFFIX.length)
  );
  return withPreciseSums(cells.lazy(), names).collectSync();
}

/**
 * Facilities and ECL impact (reporting currency) of each overlay, from the
 * recorded per-facility impacts: the configured overlays in order, then any
 * overlay the results record that the rules do not name (a plugin's
 * overlays, or results computed with other rules), in order of first
 * appearance, so the impacts still add up.
 */
function overlaySummary(
  cells: DataFrame | null,
  rules: Rules,
  rates: Record<string, number>,
): Summary["overlays"] {
  const rows = cells === null
    ? []
    : cells.sort(OVERLAY_KEYS).toRecords() as Row[];
  // Names in order of first appearance (the cells' order); the sums run
  // over the sorted rows so they do not depend on that order.
  const seen = cells === null
    ? []
    : (cells.getColumn(OVERLAYS_APPLIED).toArray() as unknown[]).map(String);
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
  for (const name of seen) {
    if (!entries.has(name)) {
      entries.set(name, {
        name,
        reason:
          "(not in the rules file given to the summary: applied by a plugin or by other rules)",
        facilities: 0,
        ecl_impact: 0,
        floored_facilities: 0,
      });
    }
  }
  for (const r of rows) {
    const name = String(r[OVERLAYS_APPLIED]);
    const e = entries.get(name)!;
    e.facilities += Number(r.count);
    e.ecl_impact += Number(r.impact) * rates[String(r[COL.currency])];
    e.floored_facilities += Number(r[FLOORED]);
  }
  return [...entries.values()];
}
