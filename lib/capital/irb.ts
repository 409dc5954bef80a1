/**
 * The Basel IRB risk-weight functions for exposures not in default
 * (BCBS, Basel Framework chapter CRE31, "IRB approach: risk weight
 * functions", Basel III final, December 2017). The correlation and
 * maturity-adjustment formulas are those of Basel II (June 2006,
 * §272-§273, §328-§330; BCBS "An Explanatory Note on the Basel II IRB Risk
 * Weight Functions", July 2005), but Basel III final drops the 1.06 scaling
 * factor Basel II (§44) applied to IRB RWA, and none is applied here. With `N` the standard normal distribution
 * function and `G` its inverse (lib/engine/normal.ts):
 *
 * - capital requirement (all classes):
 *   `K = [LGD * N((1 - R)^-0.5 * G(PD) + (R / (1 - R))^0.5 * G(0.999)) - PD * LGD] * MA`;
 * - corporate (CRE31, corporate, sovereign and bank exposures; Basel II
 *   §272): `R = 0.12 * f + 0.24 * (1 - f)`, `f = (1 - e^(-50 PD)) / (1 - e^(-50))`;
 *   maturity adjustment `MA = (1 + (M - 2.5) * b) / (1 - 1.5 * b)`,
 *   `b = (0.11852 - 0.05478 * ln(PD))^2`;
 * - SME firm-size adjustment (CRE31, firm-size adjustment for SMEs; Basel
 *   II §273): `R` less `0.04 * (1 - (S - 5) / 45)`, `S` the annual turnover
 *   in million EUR bounded to 5-50;
 * - residential mortgage (CRE31, retail; Basel II §328): `R = 0.15`, `MA = 1`;
 * - qualifying revolving retail (Basel II §329): `R = 0.04`, `MA = 1`;
 * - other retail (Basel II §330): `R = 0.03 * g + 0.16 * (1 - g)`,
 *   `g = (1 - e^(-35 PD)) / (1 - e^(-35))`, `MA = 1`;
 * - risk weight `RW = 12.5 * K` (so `RWA = RW * EAD`).
 *
 * No floors apply here: the PD and LGD floors by asset class (Basel III
 * final, CRE32; lib/capital_rules.ts) and the defaulted
 * exposures (`K = max(0, LGD - best-estimate EL)`, CRE31 / Basel II §272)
 * are the caller's (lib/capital/run.ts).
 *
 * @module
 */
import { normCdf, normInv } from "../engine/normal.ts";
import { ASSET_CLASSES, type AssetClass } from "../capital_rules.ts";

export { ASSET_CLASSES, type AssetClass };

/** The inputs of {@link irbRiskWeight}. */
export interface IrbInput {
  /** The Basel asset class whose risk-weight function applies. */
  assetClass: AssetClass;
  /** Probability of default over one year, in (0, 1). */
  pd: number;
  /** Loss given default, in [0, 1]. */
  lgd: number;
  /** Effective maturity in years (corporate only). @default 2.5 */
  maturityYears?: number;
  /**
   * Annual turnover in million EUR (corporate only): when given, the SME
   * firm-size adjustment applies, the turnover bounded to 5-50.
   */
  turnoverMEur?: number;
}

/** The capital requirement of one exposure. */
export interface IrbResult {
  /** Capital requirement K as a fraction of EAD. */
  k: number;
  /** Risk weight 12.5 × K as a fraction (0.9232 for 92.32%). */
  riskWeight: number;
}

/** G(0.999), the 99.9% confidence level of the Basel formulas. */
const G999 = normInv(0.999);

/** The asset correlation R of a class at a PD (CRE31). */
export function assetCorrelation(
  assetClass: AssetClass,
  pd: number,
  turnoverMEur?: number,
): number {
  switch (assetClass) {
    case "corporate": {
      const f = (1 - Math.exp(-50 * pd)) / (1 - Math.exp(-50));
      const r = 0.12 * f + 0.24 * (1 - f);
      if (turnoverMEur === undefined) return r;
      const s = Math.min(50, Math.max(5, turnoverMEur));
      return r - 0.04 * (1 - (s - 5) / 45);
    }
    case "residential_mortgage":
      return 0.15;
    case "qualifying_revolving_retail":
      return 0.04;
    case "other_retail": {
      const g = (1 - Math.exp(-35 * pd)) / (1 - Math.exp(-35));
      return 0.03 * g + 0.16 * (1 - g);
    }
  }
}

/**
 * The capital requirement K and risk weight of an exposure not in default
 * by the Basel IRB formulas (module doc): no PD or LGD floor is applied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { irbRiskWeight } from "./irb.ts";
 * // BCBS illustrative IRB risk weights: corporate, PD 1%, LGD 45%, M 2.5.
 * const { riskWeight } = irbRiskWeight({
 *   assetClass: "corporate",
 *   pd: 0.01,
 *   lgd: 0.45,
 * });
 * assert.equal(Math.round(riskWeight * 1e4) / 1e4, 0.9232);
 * ```
 */
export function irbRiskWeight(input: IrbInput): IrbResult {
  const { assetClass, pd, lgd } = input;
  if (!ASSET_CLASSES.includes(assetClass)) {
    throw new RangeError(
      `irbRiskWeight: unknown asset class ${JSON.stringify(assetClass)}; ` +
        `expected one of ${ASSET_CLASSES.join(", ")}`,
    );
  }
  if (!(pd > 0 && pd < 1)) {
    throw new RangeError(
      `irbRiskWeight: pd must be in (0, 1), got ${pd}; ` +
        "a defaulted exposure has K = max(0, LGD - best-estimate EL)",
    );
  }
  if (!(lgd >= 0 && lgd <= 1)) {
    throw new RangeError(`irbRiskWeight: lgd must be in [0, 1], got ${lgd}`);
  }
  const m = input.maturityYears ?? 2.5;
  if (!(m > 0 && m <= 100)) {
    throw new RangeError(
      `irbRiskWeight: maturityYears must be in (0, 100], got ${m}`,
    );
  }
  const t = input.turnoverMEur;
  if (t !== undefined && !(t >= 0 && Number.isFinite(t))) {
    throw new RangeError(
      `irbRiskWeight: turnoverMEur must be a finite amount >= 0, got ${t}`,
    );
  }
  const r = assetCorrelation(assetClass, pd, t);
  const conditional = normCdf(
    (normInv(pd) + Math.sqrt(r) * G999) / Math.sqrt(1 - r),
  );
  let k = lgd * conditional - pd * lgd;
  if (assetClass === "corporate") {
    const b = (0.11852 - 0.05478 * Math.log(pd)) ** 2;
    k *= (1 + (m - 2.5) * b) / (1 - 1.5 * b);
  }
  return { k, riskWeight: 12.5 * k };
}
