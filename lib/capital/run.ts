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
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame, LazyFrame } from "../frame.ts";
import { preciseSum, withPreciseSums } from "../precise_sum.ts";
import { type Rules, RulesError, type Scenario } from "../rules.ts";
import { type AssetClass, irbRiskWeight } from "./irb.ts";

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
  const col = (name: string) => results.getColumn(name).toArray() as unknown[];
  const ids = col("loan_id") as string[];
  const products = col("product") as string[];
  const segments = col("segment") as (string | null)[];
  const stages = col("stage") as number[];
  const eads = col("ead") as number[];
  const pds = col("pd_12m") as (number | null)[];
  const ecls = col("ecl") as number[];
  const terms = col("remaining_term_months") as number[];
  const regulatory = "regulatory" in cap.lgd ? cap.lgd.regulatory : undefined;
  const addOn = "downturn_add_on" in cap.lgd ? cap.lgd.downturn_add_on : 0;
  let baseLgd: (i: number) => number = () => 0;
  if (regulatory === undefined) {
    const scenario = lgdScenario(rules);
    const row = new Map<string, number>();
    (inputs.getColumn("loan_id").toArray() as string[]).forEach((id, j) =>
      row.set(id, j)
    );
    const collateral = inputs.columns.includes("collateral_value")
      ? inputs.getColumn("collateral_value").toArray() as (number | null)[]
      : [];
    const rates = inputs.getColumn("interest_rate").toArray() as number[];
    baseLgd = (i) => {
      const ead = eads[i];
      if (!(ead > 0)) return 0;
      const j = row.get(ids[i]);
      if (j === undefined) {
        throw new Error(`withCapital: no input row for ${ids[i]}`);
      }
      const seg = rules.segments[segments[i] ?? products[i]] ??
        rules.segments.default;
      const c = collateral[j] ?? 0;
      const lag = (1 + rates[j] / 12) ** -seg.recovery_lag_months;
      const recovery = Math.min(ead, c * (1 - scenario.collateral_haircut)) *
        lag;
      return Math.max(
        seg.lgd_floor,
        (ead - recovery) * seg.lgd_unsecured / ead,
      );
    };
  }
  const rwa: (number | null)[] = new Array(n);
  const kCol: (number | null)[] = new Array(n);
  const el: (number | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const assetClass = assetClassOf(rules, products[i], segments[i]);
    const ead = eads[i];
    if (assetClass === undefined) {
      rwa[i] = kCol[i] = el[i] = null;
      continue;
    }
    const lgd = Math.max(
      cap.lgd_floor[assetClass],
      regulatory ?? Math.min(1, baseLgd(i) + addOn),
    );
    const pd = Math.max(cap.pd_floor[assetClass], pds[i] ?? 1);
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
  return results.withColumns(
    pl.Series("rwa", rwa, pl.Float64),
    pl.Series("capital_k", kCol, pl.Float64),
    pl.Series("regulatory_el", el, pl.Float64),
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
 * The capital summary of a run's loan results (`rwa`, `capital_k`,
 * `regulatory_el`, `fx_rate`, `ecl_rc`, `ead_rc`), amounts in the reporting
 * currency (each facility's figure times its `fx_rate`), every sum exact to
 * the cent (lib/precise_sum.ts).
 */
export async function capitalSummary(
  results: LazyFrame,
  rules: Rules,
): Promise<CapitalSummary> {
  const cap = rules.capital;
  if (cap === undefined) throw new Error("capitalSummary: no capital rules");
  const classes = [
    ...Object.entries(cap.asset_classes.segments).map(([seg, c]) =>
      [pl.col("segment").eq(pl.lit(seg)), c] as const
    ),
    ...Object.entries(cap.asset_classes.products).map(([p, c]) =>
      [pl.col("product").eq(pl.lit(p)), c] as const
    ),
  ];
  let cls = pl.lit(null).cast(pl.Utf8) as ReturnType<typeof pl.lit>;
  for (const [cond, c] of [...classes].reverse()) {
    cls = pl.when(cond).then(pl.lit(c)).otherwise(cls) as typeof cls;
  }
  const fx = pl.col("fx_rate");
  // The same test as isDefaulted(): stage 3, or a floored PD of 1; a
  // non-defaulted facility's regulatory EL is PD × LGD × EAD, so its PD is
  // 1 exactly when its regulatory EL is LGD × EAD, which capital_k (K of a
  // defaulted facility is LGD − BEEL) cannot tell apart; the floored PD is
  // recomputed here from pd_12m and the class's floor instead.
  let pdFloor = pl.lit(null).cast(pl.Float64) as ReturnType<typeof pl.lit>;
  for (const [c, f] of Object.entries(cap.pd_floor)) {
    pdFloor = pl.when(cls.eq(pl.lit(c))).then(pl.lit(f)).otherwise(
      pdFloor,
    ) as typeof pdFloor;
  }
  const floored = pl.when(pl.col("pd_12m").isNull()).then(pl.lit(1))
    .when(pl.col("pd_12m").gt(pdFloor)).then(pl.col("pd_12m"))
    .otherwise(pdFloor);
  const lf = results.filter(pl.col("rwa").isNotNull()).select(
    cls.alias("asset_class"),
    pl.col("stage"),
    pl.col("stage").eq(3).or(floored.gtEq(1)).alias("defaulted"),
    pl.col("ead_rc").alias("ead"),
    pl.col("rwa").mul(fx).alias("rwa"),
    pl.col("capital_k").mul(pl.col("ead")).mul(fx).alias("capital"),
    pl.col("regulatory_el").mul(fx).alias("regulatory_el"),
    pl.col("ecl_rc").alias("allowance"),
  );
  const sums = AMOUNTS.flatMap((a) => preciseSum(pl.col(a), a));
  const groups = (await withPreciseSums(
    lf.groupBy(["asset_class", "stage"]).agg(
      pl.len().alias("count"),
      ...sums,
    ),
    AMOUNTS,
  ).sort(["asset_class", "stage"]).collect())
    .toRecords() as unknown as CapitalGroup[];
  const pool = async (filter: ReturnType<typeof pl.col>) =>
    (await withPreciseSums(
      lf.filter(filter).select(pl.len().alias("count"), ...sums),
      AMOUNTS,
    ).collect()).toRecords()[0] as Record<string, number>;
  const all = await pool(pl.lit(true) as unknown as ReturnType<typeof pl.col>);
  const nd = await pool(pl.col("defaulted").not());
  const d = await pool(pl.col("defaulted"));
  const count = (await results.select(pl.len().alias("n")).collect())
    .getColumn("n").get(0) as number;
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
