/**
 * IRB capital of a run's loan results (docs/capital.md): per facility
 * `rwa`, `capital_k` and `regulatory_el` from the same 12-month PD
 * (`pd_12m`) and EAD (`ead`, EAD at month 1) as the allowance, with the
 * floors of the rules' `capital:` section; and the summary: RWA and capital
 * by asset class and stage, regulatory expected loss against the IFRS 9
 * allowance (BCBS CRE35).
 *
 * - Not in default: `PD = max(pd_floor[class], pd_12m)`,
 *   `LGD = max(lgd_floor[class], LGD_reg)` (Basel III (2017) final floors by
 *   asset class, CRE32; lib/capital_rules.ts), `K` by
 *   {@link irbRiskWeight} (CRE31), `regulatory_el = PD × LGD × EAD`
 *   (CRE35).
 * - In default ({@link isDefaulted}: stage 3, or a floored PD of 1; the same
 *   test for a facility's K and for the CRE35 pools): `K = max(0, LGD − BEEL)`
 *   (CRE31, defaulted exposures; Basel II §272, §328), the best-estimate EL
 *   `BEEL = ecl / ead`, the facility's IFRS 9 ECL rate; `regulatory_el =
 *   BEEL × EAD = ecl` (CRE35).
 * - `rwa = 12.5 × K × EAD` in the facility's currency; capital = `K × EAD`.
 * - Regulatory EL against the allowance (BCBS CRE35, paragraph numbers not verified, Basel II §43
 *   and §380-386; the split of the two pools is EU CRR Art. 159(2):
 *   "specific credit risk adjustments on exposures in default shall not be
 *   used to cover expected loss amounts on other exposures", which the
 *   Basel text does not state): `net = (EL_nd − P_nd) + max(0, EL_d − P_d)`;
 *   shortfall (deducted from CET1) `= max(0, net)`; excess `= max(0, −net)`,
 *   eligible for Tier 2 up to 0.6% of the credit RWA (CRE35 / Basel II
 *   §43). A non-defaulted excess offsets a defaulted shortfall; a defaulted
 *   excess offsets nothing.
 *
 * The framework is Basel III final (December 2017) with no 1.06 scaling
 * factor. The PD is the allowance's point-in-time 12-month PD, not the
 * long-run average of one-year default rates CRE36 requires of an IRB PD.
 *
 * `LGD_reg` is the rules' `regulatory` LGD, or the LGD at month 1 of the
 * base scenario (methodology §6: collateral with that scenario's haircut,
 * the segment's `lgd_unsecured`, `lgd_floor` and recovery lag) plus the
 * `downturn_add_on`, capped at 1.
 *
 * The summary's sums are kept as additive cells ({@link CapitalCells}: per
 * inclusion, asset class, stage and default, the precise sums' parts not
 * yet reduced), computed batch by batch ({@link capitalCells}), merged
 * exactly ({@link mergeCapitalCells}) and turned into the summary
 * ({@link capitalSummaryFromCells}), the same as {@link capitalSummary} of
 * the whole book (docs/capital.md §4).
 *
 * @module
 */
import pl from "nodejs-polars";
import {
  columnTypesProblem,
  type DataFrame,
  type DataType,
  type Expr,
  type LazyFrame,
} from "../frame.ts";
import { UserError } from "../errors.ts";
import {
  preciseSumParts,
  preciseSumPartTypes,
  preciseSumRowParts,
  sumPreciseParts,
  withPreciseSums,
} from "../precise_sum.ts";
import { type Rules, RulesError, type Scenario } from "../rules.ts";
import { ASSET_CLASSES, type AssetClass, irbRiskWeight } from "./irb.ts";

/**
 * Whether a facility is in default for capital: stage 3, or a floored PD of
 * 1 (CRE32: the PD of a defaulted borrower is 100%). The one test for a
 * facility's K and regulatory EL and for the CRE35 pools.
 */
export function isDefaulted(stage: number, pd: number | null): boolean {
  return stage === 3 || (pd ?? 1) >= 1;
}

/** The per-facility columns a run with a `capital:` section adds. */
export const CAPITAL_COLUMNS = ["rwa", "capital_k", "regulatory_el"] as const;

/** The asset class of a product and segment, or undefined when unmapped. */
export function assetClassOf(
  rules: Rules,
  product: string,
  segment: string | null,
): AssetClass | undefined {
  const map = rules.capital?.asset_classes;
  if (map === undefined) return undefined;
  if (rules.products[product]?.approach === "simplified") return undefined;
  return (segment !== null ? map.segments[segment] : undefined) ??
    map.products[product];
}

/** The scenario whose LGD the downturn add-on is applied to. */
export function lgdScenario(rules: Rules): Scenario {
  const name = rules.capital?.lgd_scenario;
  if (name === undefined) {
    return rules.scenarios.find((s) => s.name === "base") ?? rules.scenarios[0];
  }
  const s = rules.scenarios.find((x) => x.name === name);
  if (s === undefined) {
    throw new RulesError("rules", [{
      path: "capital.lgd_scenario",
      message: `names no scenario: ${JSON.stringify(name)} (scenarios: ${
        rules.scenarios.map((x) => x.name).join(", ")
      })`,
    }]);
  }
  return s;
}

/**
 * `results` (a chunk of loan results, §9 columns) with `rwa`, `capital_k`
 * and `regulatory_el` added (null for a facility with no asset class or on
 * the simplified approach). `inputs` are the chunk's valid portfolio rows,
 * for `collateral_value` and `interest_rate` (the base scenario's LGD);
 * unused with a `regulatory` LGD. Without a `capital:` section, `results`
 * unchanged.
 */
export function withCapital(
  results: DataFrame,
  inputs: DataFrame,
  rules: Rules,
): DataFrame {
  const cap = rules.capital;
  if (cap === undefined) return results;
  const n = results.height;
  // The columns as typed arrays (a JS array of a million values costs ten
  // times more to make), nulls as the arithmetic below treated them: 0,
  // and a mask for the PD, whose null means "in default".
  const classes = ASSET_CLASSES;
  const segmentNames = Object.keys(rules.segments);
  const typed = results.select(
    assetClassIndex(rules).alias("class"),
    segmentIndex(segmentNames).alias("seg"),
    pl.col("stage").cast(pl.Float64).fillNull(0).alias("stage"),
    pl.col("ead").cast(pl.Float64).fillNull(0).alias("ead"),
    pl.col("pd_12m").cast(pl.Float64).fillNull(0).alias("pd"),
    pl.col("pd_12m").isNull().cast(pl.Float64).alias("pd_null"),
    pl.col("ecl").cast(pl.Float64).fillNull(0).alias("ecl"),
    pl.col("remaining_term_months").cast(pl.Float64).fillNull(0).alias("term"),
  );
  const arr = (frame: DataFrame, c: string) =>
    frame.getColumn(c).toTypedArray() as Float64Array;
  const classOf = arr(typed, "class");
  const segOf = arr(typed, "seg");
  const stages = arr(typed, "stage");
  const eads = arr(typed, "ead");
  const pdValues = arr(typed, "pd");
  const pdNull = arr(typed, "pd_null");
  const ecls = arr(typed, "ecl");
  const terms = arr(typed, "term");
  const regulatory = "regulatory" in cap.lgd ? cap.lgd.regulatory : undefined;
  const addOn = "downturn_add_on" in cap.lgd ? cap.lgd.downturn_add_on : 0;
  let baseLgd: (i: number) => number = () => 0;
  if (regulatory === undefined) {
    const scenario = lgdScenario(rules);
    // The input row of each result: the same row when the chunk's rows
    // are in the same order (as a run computes them), else by loan_id.
    const ids = results.getColumn("loan_id");
    const aligned = inputs.height === n &&
      inputs.getColumn("loan_id").seriesEqual(ids);
    let rowOf: (i: number) => number = (i) => i;
    if (!aligned) {
      const row = new Map<string, number>();
      (inputs.getColumn("loan_id").toArray() as string[]).forEach((id, j) =>
        row.set(id, j)
      );
      const idList = ids.toArray() as string[];
      rowOf = (i) => {
        const j = row.get(idList[i]);
        if (j === undefined) {
          throw new Error(`withCapital: no input row for ${idList[i]}`);
        }
        return j;
      };
    }
    const own = inputs.select(
      (inputs.columns.includes("collateral_value")
        ? pl.col("collateral_value").cast(pl.Float64).fillNull(0)
        : pl.lit(0).cast(pl.Float64)).alias("collateral"),
      pl.col("interest_rate").cast(pl.Float64).fillNull(0).alias("rate"),
    );
    const collateral = inputs.height === 0
      ? new Float64Array(0)
      : arr(own, "collateral");
    const rates = arr(own, "rate");
    baseLgd = (i) => {
      const ead = eads[i];
      if (!(ead > 0)) return 0;
      const j = rowOf(i);
      const seg = rules.segments[segmentNames[segOf[i]]];
      const c = collateral[j];
      const lag = (1 + rates[j] / 12) ** -seg.recovery_lag_months;
      const recovery = Math.min(ead, c * (1 - scenario.collateral_haircut)) *
        lag;
      return Math.max(
        seg.lgd_floor,
        (ead - recovery) * seg.lgd_unsecured / ead,
      );
    };
  }
  const rwa = new Float64Array(n);
  const kCol = new Float64Array(n);
  const el = new Float64Array(n);
  const included = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = classOf[i];
    if (c < 0) continue;
    const assetClass = classes[c];
    included[i] = 1;
    const ead = eads[i];
    const lgd = Math.max(
      cap.lgd_floor[assetClass],
      regulatory ?? Math.min(1, baseLgd(i) + addOn),
    );
    const pd = Math.max(
      cap.pd_floor[assetClass],
      pdNull[i] === 1 ? 1 : pdValues[i],
    );
    let k: number;
    if (isDefaulted(stages[i], pd)) {
      const beel = ead > 0 ? ecls[i] / ead : 0;
      k = Math.max(0, lgd - beel);
      el[i] = ecls[i];
    } else {
      const maturityYears = assetClass !== "corporate"
        ? undefined
        : cap.maturity === "remaining"
        ? Math.min(5, Math.max(1, terms[i] / 12))
        : cap.maturity;
      k = irbRiskWeight({ assetClass, pd, lgd, maturityYears }).k;
      el[i] = pd * lgd * ead;
    }
    kCol[i] = k;
    rwa[i] = 12.5 * k * ead;
  }
  // Null for a facility with no asset class (a NaN computed stays NaN).
  const isIn = pl.col("__included").eq(1);
  const masked = (name: string) =>
    pl.when(isIn).then(pl.col(name)).otherwise(pl.lit(null).cast(pl.Float64))
      .alias(name);
  return results.withColumns(
    pl.Series("rwa", rwa),
    pl.Series("capital_k", kCol),
    pl.Series("regulatory_el", el),
    pl.Series("__included", included),
  ).withColumns(masked("rwa"), masked("capital_k"), masked("regulatory_el"))
    .drop("__included");
}

/**
 * The place in {@link ASSET_CLASSES} of each facility's asset class
 * ({@link assetClassOf}: none on the simplified approach, else its
 * segment's, else its product's), -1 for none; with `simplifiedHaveNone`
 * false, the segment's or product's class whatever the approach (as the
 * capital summary reads the classes of facilities that have an `rwa`).
 */
function assetClassIndex(rules: Rules, simplifiedHaveNone = true): Expr {
  const map = rules.capital!.asset_classes;
  const simplified = !simplifiedHaveNone ? [] : Object.keys(rules.products)
    .filter((p) => rules.products[p].approach === "simplified");
  const place = (c: AssetClass) => pl.lit(ASSET_CLASSES.indexOf(c));
  // deno-lint-ignore no-explicit-any
  let e: any = pl.when(
    simplified.length === 0
      ? pl.lit(false)
      : pl.col("product").isIn(simplified),
  ).then(pl.lit(-1));
  for (const [segment, c] of Object.entries(map.segments)) {
    e = e.when(pl.col("segment").eq(pl.lit(segment))).then(place(c));
  }
  for (const [product, c] of Object.entries(map.products)) {
    e = e.when(pl.col("product").eq(pl.lit(product))).then(place(c));
  }
  return (e.otherwise(pl.lit(-1)) as Expr).cast(pl.Float64);
}

/**
 * The place in `names` (the rules' segments) of each facility's segment
 * parameters: its segment's, else its product's, else `default`.
 */
function segmentIndex(names: readonly string[]): Expr {
  const key = pl.when(pl.col("segment").isNull()).then(pl.col("product"))
    .otherwise(pl.col("segment"));
  // deno-lint-ignore no-explicit-any
  let e: any = null;
  names.forEach((name, i) => {
    const cond = key.eq(pl.lit(name));
    e = e === null
      ? pl.when(cond).then(pl.lit(i))
      : e.when(cond).then(pl.lit(i));
  });
  const fallback = pl.lit(names.indexOf("default"));
  return (e === null ? fallback : e.otherwise(fallback) as Expr).cast(
    pl.Float64,
  );
}

/** RWA and capital of one asset class and stage (reporting currency). */
export interface CapitalGroup {
  /** The asset class. */
  asset_class: AssetClass;
  /** The IFRS 9 stage, 1 to 3. */
  stage: number;
  /** Facilities. */
  count: number;
  /** EAD (the allowance's EAD at month 1). */
  ead: number;
  /** Risk-weighted assets, 12.5 × K × EAD. */
  rwa: number;
  /** Capital requirement K × EAD (8% of RWA). */
  capital: number;
  /** Regulatory expected loss (CRE35). */
  regulatory_el: number;
  /** The IFRS 9 allowance (ECL) of the same facilities. */
  allowance: number;
}

/** Regulatory EL against the allowance for one pool (CRE35). */
export interface ElComparison {
  /** Regulatory expected loss. */
  regulatory_el: number;
  /** The IFRS 9 allowance (loss allowance plus provision, `ecl`). */
  allowance: number;
  /** max(0, EL − allowance): deducted from CET1 (CRE35). */
  shortfall: number;
  /** max(0, allowance − EL): Tier 2 up to a cap (CRE35). */
  excess: number;
}

/** The `capital` section of `summary.json` (docs/capital.md). */
export interface CapitalSummary {
  /** What the figures were computed from, in words. */
  basis: string;
  /** The `capital:` rules used (floors, LGD, maturity). */
  parameters: {
    /** PD floor by asset class. */
    pd_floor: Record<AssetClass, number>;
    /** LGD floor by asset class. */
    lgd_floor: Record<AssetClass, number>;
    /** Regulatory LGD, or the downturn add-on to which scenario's LGD. */
    lgd: string;
    /** Corporate effective maturity rule. */
    maturity: number | "remaining";
  };
  /** Facilities with an asset class. */
  facilities: number;
  /** Facilities left out: no asset class, or on the simplified approach. */
  excluded_facilities: number;
  /** Totals over the facilities with an asset class. */
  totals: {
    /** EAD. */
    ead: number;
    /** Risk-weighted assets. */
    rwa: number;
    /** Capital requirement (8% of RWA). */
    capital: number;
  };
  /** By asset class and stage. */
  by_asset_class_stage: CapitalGroup[];
  /** Regulatory EL against the allowance (CRE35). */
  el_vs_allowance: {
    /** Exposures not in default ({@link isDefaulted} false). */
    non_defaulted: ElComparison;
    /** Defaulted exposures (stage 3, or a floored PD of 1). */
    defaulted: ElComparison;
    /** Both pools, added without the pool rule (for reference). */
    total: ElComparison;
    /**
     * The excess `max(0, −net)`, `net = (EL_nd − P_nd) + max(0, EL_d −
     * P_d)` (a defaulted excess offsets nothing, EU CRR Art. 159(2)),
     * before the Tier 2 cap.
     */
    excess: number;
    /** 0.6% of the credit RWA: the cap on the Tier 2 excess (CRE35; Basel II §43). */
    tier2_cap: number;
    /** Excess eligible for Tier 2: `min(excess, tier2_cap)`. */
    tier2_eligible_excess: number;
    /** CET1 deduction: the shortfall `max(0, net)` (CRE35). */
    cet1_deduction: number;
  };
}

const AMOUNTS = ["ead", "rwa", "capital", "regulatory_el", "allowance"];

/**
 * The file a part of a partitioned run keeps its capital cells in
 * (docs/partitions.md): {@link CapitalCells.frame} as Parquet; the name of
 * `PART_FILES.capitalCells` (lib/run_folder, which this area may not
 * import).
 */
export const CAPITAL_CELLS_FILE = "capital_cells.parquet";

/** The keys of a capital cell, in order. */
export const CAPITAL_CELL_KEYS = [
  "included",
  "asset_class",
  "stage",
  "defaulted",
] as const;

/**
 * The capital summary's sums of some loan results as additive cells, in
 * the reporting currency, with the precise sums' parts not yet reduced
 * (`lib/precise_sum.ts`), so that the cells of slices of a book (a run's
 * batches, the parts of a partitioned run) merge exactly
 * ({@link mergeCapitalCells}) and {@link capitalSummaryFromCells} gives
 * the same summary as {@link capitalSummary} of the whole book.
 */
export interface CapitalCells {
  /**
   * Columns: `included` (Boolean: the facility has an asset class and is
   * not on the simplified approach, `rwa` not null), `asset_class` (Utf8),
   * `stage` (Int32), `defaulted` (Boolean, {@link isDefaulted}), `count`
   * (Float64) and the precise-sum parts (`preciseSumPartTypes`) of `ead`,
   * `rwa`, `capital`, `regulatory_el` and `allowance` (zero in the cells
   * of facilities not included, which count only).
   */
  frame: DataFrame;
}

/** The types of the columns of capital cells, in order. */
function capitalCellTypes(): Record<string, DataType> {
  const types: Record<string, DataType> = {
    included: pl.Bool,
    asset_class: pl.Utf8,
    stage: pl.Int32,
    defaulted: pl.Bool,
    count: pl.Float64,
  };
  for (const a of AMOUNTS) Object.assign(types, preciseSumPartTypes(a));
  return types;
}

/** Cells added up by key, in key order, columns in order and typed. */
function addUpCapital(cells: LazyFrame): DataFrame {
  const types = capitalCellTypes();
  return cells.groupBy([...CAPITAL_CELL_KEYS]).agg(
    pl.col("count").sum(),
    ...AMOUNTS.flatMap(preciseSumParts).map((c) => pl.col(c).sum()),
  ).select(
    ...Object.entries(types).map(([c, t]) => pl.col(c).cast(t)),
  ).sort([...CAPITAL_CELL_KEYS]).collectSync();
}

/**
 * The capital cells of some loan results (`rwa`, `capital_k`,
 * `regulatory_el`, `fx_rate`, `ecl_rc`, `ead_rc`, `ead`, `pd_12m`,
 * `stage`, `product`, `segment`): one pass, grouped by what decides a
 * facility's asset class and default (segment, product, stage, a 12-month
 * PD missing or of 1), the classes named on the few groups.
 */
export async function capitalCells(
  results: LazyFrame,
  rules: Rules,
): Promise<CapitalCells> {
  const cap = rules.capital;
  if (cap === undefined) throw new Error("capitalCells: no capital rules");
  const fx = pl.col("fx_rate");
  const pd = pl.col("pd_12m");
  const groups = await results.select(
    pl.col("rwa").isNotNull().alias("included"),
    // The class as its place in ASSET_CLASSES: an integer key groups
    // faster than the segment and product names.
    assetClassIndex(rules, false).alias("class"),
    pl.col("stage").cast(pl.Int32),
    // The PD floors are below 1 (lib/capital_rules.ts), so a floored PD is
    // 1 exactly when pd_12m is missing or at least 1 (isDefaulted); a
    // floor of 1 is handled on the groups below.
    pd.isNull().or(pd.gtEq(1)).alias("pd_default"),
    pl.col("ead_rc").alias("ead"),
    pl.col("rwa").mul(fx).alias("rwa"),
    pl.col("capital_k").mul(pl.col("ead")).mul(fx).alias("capital"),
    pl.col("regulatory_el").mul(fx).alias("regulatory_el"),
    pl.col("ecl_rc").alias("allowance"),
  ).withColumns(
    // Each amount's cents and rest once per row, not once per part of
    // its precise sum in the agg (preciseSumRowParts).
    ...AMOUNTS.flatMap((a) => preciseSumRowParts(pl.col(a), a)),
  ).groupBy(["included", "class", "stage", "pd_default"]).agg(
    pl.len().cast(pl.Float64).alias("count"),
    ...AMOUNTS.flatMap(sumPreciseParts),
  ).collect();
  let cls = pl.lit(null).cast(pl.Utf8) as Expr;
  let pdFloor = pl.lit(null).cast(pl.Float64) as Expr;
  ASSET_CLASSES.forEach((c, i) => {
    const here = pl.col("class").eq(pl.lit(i));
    cls = pl.when(here).then(pl.lit(c)).otherwise(cls) as Expr;
    pdFloor = pl.when(here).then(pl.lit(cap.pd_floor[c])).otherwise(
      pdFloor,
    ) as Expr;
  });
  const included = pl.col("included");
  const types = capitalCellTypes();
  // Facilities not included count, and nothing else.
  const onlyIncluded = AMOUNTS.flatMap(preciseSumParts).map((c) =>
    pl.when(included).then(pl.col(c)).otherwise(pl.lit(0)).cast(types[c])
      .alias(c)
  );
  return {
    frame: addUpCapital(
      groups.lazy().select(
        included,
        pl.when(included).then(cls).otherwise(pl.lit(null).cast(pl.Utf8))
          .alias("asset_class"),
        pl.col("stage"),
        included.and(
          pl.col("stage").eq(3).or(pl.col("pd_default")).or(
            pdFloor.gtEq(1).fillNull(false),
          ),
        ).alias("defaulted"),
        pl.col("count"),
        ...onlyIncluded,
      ),
    ),
  };
}

/** Adds up the capital cells of slices of one book, exactly. */
export function mergeCapitalCells(
  parts: readonly CapitalCells[],
): CapitalCells {
  if (parts.length === 1) return parts[0];
  const types = capitalCellTypes();
  if (parts.length === 0) {
    return {
      frame: pl.DataFrame(
        Object.fromEntries(
          Object.entries(types).map(([c, t]) => [c, pl.Series(c, [], t)]),
        ),
      ),
    };
  }
  return {
    frame: addUpCapital(
      pl.concat(parts.map((p) => p.frame.select(...Object.keys(types))))
        .lazy(),
    ),
  };
}

/**
 * What is wrong with a frame read back as capital cells (a missing column,
 * or one of another type), or null when it is capital cells.
 */
export function capitalCellsProblem(frame: DataFrame): string | null {
  const problem = columnTypesProblem(frame, capitalCellTypes());
  return problem === null
    ? null
    : `${problem}, so it holds no capital cells (lib/capital/run.ts); rerun the part that wrote it`;
}

/**
 * Checks a frame read back as capital cells (a part's
 * `capital_cells.parquet`): every column, with its type.
 *
 * @param where the file, for the message.
 * @throws {UserError} (`input`) naming the file and the column at fault.
 */
export function capitalCellsOf(frame: DataFrame, where: string): CapitalCells {
  const problem = capitalCellsProblem(frame);
  if (problem !== null) throw new UserError("input", `${where}: ${problem}`);
  return { frame: frame.select(...Object.keys(capitalCellTypes())) };
}

/**
 * The capital summary of a run's loan results (`rwa`, `capital_k`,
 * `regulatory_el`, `fx_rate`, `ecl_rc`, `ead_rc`), amounts in the reporting
 * currency (each facility's figure times its `fx_rate`), every sum exact to
 * the cent (lib/precise_sum.ts): {@link capitalSummaryFromCells} of their
 * {@link capitalCells}.
 */
export async function capitalSummary(
  results: LazyFrame,
  rules: Rules,
): Promise<CapitalSummary> {
  if (rules.capital === undefined) {
    throw new Error("capitalSummary: no capital rules");
  }
  return capitalSummaryFromCells(await capitalCells(results, rules), rules);
}

/**
 * The capital summary of (merged) capital cells: RWA and capital by asset
 * class and stage, and regulatory EL against the allowance in the two
 * pools (CRE35, EU CRR Art. 159(2)), from the cells' precise sums.
 */
export function capitalSummaryFromCells(
  cells: CapitalCells,
  rules: Rules,
): CapitalSummary {
  const cap = rules.capital;
  if (cap === undefined) {
    throw new Error("capitalSummaryFromCells: no capital rules");
  }
  const lf = cells.frame.lazy().filter(pl.col("included"));
  const sums = AMOUNTS.flatMap(preciseSumParts).map((c) => pl.col(c).sum());
  const groups = withPreciseSums(
    lf.groupBy(["asset_class", "stage"]).agg(pl.col("count").sum(), ...sums),
    AMOUNTS,
  ).sort(["asset_class", "stage"]).collectSync()
    .toRecords() as unknown as CapitalGroup[];
  const pool = (filter: Expr) =>
    withPreciseSums(
      lf.filter(filter).select(pl.col("count").sum(), ...sums),
      AMOUNTS,
    ).collectSync().toRecords()[0] as Record<string, number>;
  const all = pool(pl.lit(true));
  const nd = pool(pl.col("defaulted").not());
  const d = pool(pl.col("defaulted"));
  const count = Number(
    cells.frame.select(pl.col("count").sum()).getColumn("count").get(0) ?? 0,
  );
  const cmp = (p: Record<string, number>): ElComparison => ({
    regulatory_el: p.regulatory_el ?? 0,
    allowance: p.allowance ?? 0,
    shortfall: Math.max(0, (p.regulatory_el ?? 0) - (p.allowance ?? 0)),
    excess: Math.max(0, (p.allowance ?? 0) - (p.regulatory_el ?? 0)),
  });
  const nonDefaulted = cmp(nd);
  const defaulted = cmp(d);
  const net = (nonDefaulted.regulatory_el - nonDefaulted.allowance) +
    defaulted.shortfall;
  const excess = Math.max(0, -net);
  const tier2Cap = 0.006 * (all.rwa ?? 0);
  const facilities = Number(all.count ?? 0);
  const lgd = "regulatory" in cap.lgd
    ? `regulatory ${cap.lgd.regulatory}`
    : `downturn add-on ${cap.lgd.downturn_add_on} to the LGD of scenario ${
      lgdScenario(rules).name
    }`;
  return {
    basis: "Basel III final (BCBS, December 2017) IRB formulas (CRE31), " +
      "no 1.06 scaling factor; PD = the allowance's point-in-time " +
      "12-month PD (pd_12m), not the long-run average PD CRE36 requires, " +
      "floored per asset class (pd_floor); LGD floored per asset class " +
      "(lgd_floor); EAD = the allowance's EAD at month 1 (ead); defaulted " +
      "(stage 3 or a floored PD of 1): K = max(0, LGD - ECL/EAD), " +
      "regulatory EL = ECL; shortfall/excess = the non-defaulted pool's " +
      "net plus the defaulted pool's shortfall (a defaulted excess offsets " +
      "nothing, EU CRR Art. 159(2)); Tier 2 excess capped at 0.6% of RWA",
    parameters: {
      pd_floor: cap.pd_floor,
      lgd_floor: cap.lgd_floor,
      lgd,
      maturity: cap.maturity,
    },
    facilities,
    excluded_facilities: Number(count) - facilities,
    totals: { ead: all.ead ?? 0, rwa: all.rwa ?? 0, capital: all.capital ?? 0 },
    by_asset_class_stage: groups.map((g) => ({
      ...g,
      count: Number(g.count),
      stage: Number(g.stage),
    })),
    el_vs_allowance: {
      non_defaulted: nonDefaulted,
      defaulted,
      total: cmp(all),
      excess,
      tier2_cap: tier2Cap,
      tier2_eligible_excess: Math.min(excess, tier2Cap),
      cet1_deduction: Math.max(0, net),
    },
  };
}
