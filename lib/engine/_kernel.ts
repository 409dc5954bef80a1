/**
 * The projection kernel (methodology §4-§8): a columnar loop over typed
 * arrays, one loan at a time, that never materialises loan x month x
 * scenario rows. `computeEcl` runs it over batches of loans;
 * `projectFacility` runs it over one loan with a trace, so the monthly
 * detail a notebook shows is the very arithmetic the run uses.
 *
 * Per loan it fills scratch vectors of length `m`: `EAD[t]` (§5) and
 * `DF[t]` (§7) by running products (one `Math.pow` per loan, none in the
 * month loop), then `LGD[s,t] * EAD[t] * DF[t]` (§6), once for all scenarios
 * when there is no collateral. For each scenario it then walks the months
 * year by year: the monthly hazard and survival factor of §4 are computed
 * once per distinct forecast year the term reaches (vectors repeat their
 * last value, so only the first `max(len(g), len(k[s]))` years differ), and
 * the survival is carried as a running product. The ECL of a month is
 * `mpd * loss[t]` (§8). Each running product stays within a few ulp per
 * month of its closed form: about 1e-13 relative over 360 months, against
 * the 1e-9 agreement the methodology asks of two implementations.
 *
 * @module
 */
import { normCdf, normInv } from "./normal.ts";

/**
 * The growth factor `(1+r)^n` from which the annuity EAD of §5 is computed
 * in its discounted form, `B * (1 - v^(n-t+1)) / (1 - v^n)` with
 * `v = 1/(1+r)`, instead of the growth form the methodology writes. The
 * two are the same formula divided through by `(1+r)^n`; the growth form
 * overflows to Infinity (and the EAD to NaN) once `(1+r)^n` passes 1.8e308:
 * a 20% annuity maturing 9999-12-31, or a rate of 1000% a year (possible
 * from code; validation stops at 100%) over the 100 years validation
 * allows. From 2^53 on, `v^n` is below the Float64 epsilon and the two
 * forms agree to rounding; below it (every ordinary loan: 25% a year over
 * 40 years is 2e4) the growth form runs unchanged, so results are the same
 * to the bit.
 */
export const ANNUITY_GROWTH_LIMIT: number = 2 ** 53;

/** Repayment types as small integers for the month loop (§5). */
export const REPAY = {
  annuity: 0,
  linear: 1,
  bullet: 2,
  revolving: 3,
} as const;

/** Parameters of one segment (rules `segments`, merged over `default`). */
export interface SegmentParams {
  lgdUnsecured: number;
  lgdFloor: number;
  /** `sqrt(rho)` and `sqrt(1 - rho)` for `z_shift` (§4). */
  sqrtRho: number;
  sqrtOneMinusRho: number;
  /** The PD shape `g` (§4); `[1]` for a flat curve. */
  shape: Float64Array;
  /** `recovery_lag_months` (§6): months before collateral is realised. */
  recoveryLag: number;
}

/** Parameters of one product (rules `products`). */
export interface ProductParams {
  repayment: number;
  ccf: number;
  simplified: boolean;
}

/** Everything the kernel needs from the rules file, as lookup tables. */
export interface KernelConfig {
  scenarioNames: string[];
  weights: Float64Array;
  haircuts: Float64Array;
  /** 0: `multiplier`, 1: `z_shift` (§4). */
  adjustment: 0 | 1;
  /** Per scenario: `k[s]` (multiplier) or `z[s]` (z_shift). */
  vectors: Float64Array[];
  segments: SegmentParams[];
  products: ProductParams[];
  /**
   * Absolute base curves `q[y]` (one per grade of each segment with
   * `pd_curve: transition_matrix`, methodology §13), indexed by
   * {@link LoanColumns.curve}; absent when no segment has one.
   */
  curves?: Float64Array[];
}

/** Input columns of a batch, aligned by loan. */
export interface LoanColumns {
  product: Int32Array;
  segment: Int32Array;
  balance: Float64Array;
  /** `credit_limit`, with null already replaced by `balance` (§5). */
  creditLimit: Float64Array;
  interestRate: Float64Array;
  pd12m: Float64Array;
  /** `collateral_value`, null already replaced by 0 (§1). */
  collateral: Float64Array;
  term: Int32Array;
  stage: Int32Array;
  /** Provision-matrix loss rate (simplified approach), 0 elsewhere. */
  lossRate: Float64Array;
  /**
   * Index into {@link KernelConfig.curves} of the loan's base curve, -1
   * for the segment's `p1 * g[y]` (§4); absent when no segment has one.
   */
  curve?: Int32Array;
}

/** Output columns, written at `offset + i` for loan `i` of the batch. */
export interface KernelOutput {
  ead: Float64Array;
  pdLifetime: Float64Array;
  lgd: Float64Array;
  ecl12m: Float64Array;
  eclLifetime: Float64Array;
  eclModel: Float64Array;
  /** One array per scenario: the stage-driven `ECL[s]` (§8). */
  scenarioEcl: Float64Array[];
}

/** Monthly detail of one loan (index t - 1 holds month t). */
export interface Trace {
  ead: Float64Array;
  df: Float64Array;
  survival: Float64Array[];
  marginalPd: Float64Array[];
  lgd: Float64Array[];
}

/**
 * Allocates a {@link KernelOutput} for `n` loans and `scenarios` scenarios;
 * `shared`, on `SharedArrayBuffer`s, so that workers write their batches
 * straight into it (nothing copied back, no buffer per batch).
 */
export function allocateOutput(
  n: number,
  scenarios: number,
  shared = false,
): KernelOutput {
  const array = () =>
    shared
      ? new Float64Array(new SharedArrayBuffer(8 * n))
      : new Float64Array(n);
  return {
    ead: array(),
    pdLifetime: array(),
    lgd: array(),
    ecl12m: array(),
    eclLifetime: array(),
    eclModel: array(),
    scenarioEcl: Array.from({ length: scenarios }, array),
  };
}

/**
 * Projects `n` loans (§4-§8) and writes their results into `out` from
 * `offset`. With `trace`, also records the months of loan 0 (for
 * `projectFacility`; call it with `n = 1`).
 */
export function projectBatch(
  cfg: KernelConfig,
  cols: LoanColumns,
  n: number,
  out: KernelOutput,
  offset: number,
  trace?: Trace,
): void {
  const S = cfg.scenarioNames.length;
  let maxTerm = 1;
  for (let i = 0; i < n; i++) {
    if (cols.term[i] > maxTerm) maxTerm = cols.term[i];
  }
  let maxYears = 1;
  for (const v of cfg.vectors) maxYears = Math.max(maxYears, v.length);
  for (const g of cfg.segments) maxYears = Math.max(maxYears, g.shape.length);
  const curves = cfg.curves ?? [];
  for (const c of curves) maxYears = Math.max(maxYears, c.length);
  const cCurve = cols.curve;
  const curveHazards: (
    { hz: Float64Array; sf: Float64Array; years: Int32Array } | undefined
  )[] = new Array(curves.length);
  const ead = new Float64Array(maxTerm);
  const df = new Float64Array(maxTerm);
  const loss = new Float64Array(maxTerm);
  // Per scenario and distinct year: monthly hazard h and survival factor 1-h.
  const hz = new Float64Array(S * maxYears);
  const sf = new Float64Array(S * maxYears);
  const years = new Int32Array(S);
  const z = cfg.adjustment === 1;
  const probit = new Float64Array(maxYears);
  const sums = new Float64Array(3);
  // Product and segment parameters as typed arrays: the loop reads numbers
  // by index, so V8 never sees a config object's field change
  // representation (an integer ccf of 0 beside 0.75), which deoptimised the
  // loop halfway through a cold run.
  const prodRepay = Int32Array.from(cfg.products, (p) => p.repayment);
  const prodCcf = Float64Array.from(cfg.products, (p) => p.ccf);
  const prodSimplified = Uint8Array.from(
    cfg.products,
    (p) => p.simplified ? 1 : 0,
  );
  const segLgdU = Float64Array.from(cfg.segments, (g) => g.lgdUnsecured);
  const segFloor = Float64Array.from(cfg.segments, (g) => g.lgdFloor);
  const segSqrtRho = Float64Array.from(cfg.segments, (g) => g.sqrtRho);
  const segSqrtOneMinusRho = Float64Array.from(
    cfg.segments,
    (g) => g.sqrtOneMinusRho,
  );
  const segShape = cfg.segments.map((g) => g.shape);
  const segLag = Float64Array.from(cfg.segments, (g) => g.recoveryLag);
  // Every column and parameter in a local: the month loop touches no
  // object fields, so its optimised code does not depend on their types.
  const cProduct = cols.product;
  const cSegment = cols.segment;
  const cBalance = cols.balance;
  const cTerm = cols.term;
  const cRate = cols.interestRate;
  const cLimit = cols.creditLimit;
  const cLossRate = cols.lossRate;
  const cPd = cols.pd12m;
  const cCollateral = cols.collateral;
  const cStage = cols.stage;
  const oEad = out.ead;
  const oPdLifetime = out.pdLifetime;
  const oLgd = out.lgd;
  const oEcl12m = out.ecl12m;
  const oEclLifetime = out.eclLifetime;
  const oEclModel = out.eclModel;
  const oScenario = out.scenarioEcl;
  const vectors = cfg.vectors;
  const haircuts = cfg.haircuts;
  const weights = cfg.weights;

  for (let i = 0; i < n; i++) {
    const o = offset + i;
    const pi = cProduct[i];
    const si = cSegment[i];
    const B = cBalance[i];
    const m = cTerm[i];
    const r = cRate[i] / 12;
    const rep = prodRepay[pi];

    // §5 EAD[1]: the drawn balance, plus the CCF share of the undrawn limit
    // for revolving facilities (annuity and linear start at B). A bank
    // cancels the undrawn limit at default, so a stage 3 revolving facility
    // is exposed to its drawn balance only.
    const stage = cStage[i];
    const undrawn = cLimit[i] - B;
    const ead1 = rep === 3 && stage !== 3
      ? B + prodCcf[pi] * (undrawn > 0 ? undrawn : 0)
      : B;
    oEad[o] = ead1;

    if (prodSimplified[pi] === 1) {
      // Simplified approach (docs/simplified_approach.md): lifetime loss
      // rate of the provision matrix times EAD[1], for every scenario.
      const ecl = cLossRate[i] * ead1;
      oPdLifetime[o] = NaN;
      oLgd[o] = NaN;
      oEcl12m[o] = ecl;
      oEclLifetime[o] = ecl;
      oEclModel[o] = ecl;
      for (let s = 0; s < S; s++) oScenario[s][o] = ecl;
      continue;
    }

    fillExposure(rep, B, ead1, r, m, ead, df);

    // §4 conditional annual PD per scenario and distinct year, then the
    // monthly hazard and survival factor.
    const ci = cCurve === undefined ? -1 : cCurve[i];
    if (ci < 0) {
      fillHazards(
        cPd[i],
        segShape[si],
        segSqrtRho[si],
        segSqrtOneMinusRho[si],
        m,
        vectors,
        z,
        maxYears,
        probit,
        hz,
        sf,
        years,
      );
    } else {
      // A grade's curve of a transition matrix (§13) is an absolute base
      // curve (p1 = 1 times it, exactly) shared by the grade's loans: its
      // hazards over every year are computed once per batch and copied.
      let c = curveHazards[ci];
      if (c === undefined) {
        c = {
          hz: new Float64Array(S * maxYears),
          sf: new Float64Array(S * maxYears),
          years: new Int32Array(S),
        };
        fillHazards(
          1,
          curves[ci],
          segSqrtRho[si],
          segSqrtOneMinusRho[si],
          12 * maxYears,
          vectors,
          z,
          maxYears,
          probit,
          c.hz,
          c.sf,
          c.years,
        );
        curveHazards[ci] = c;
      }
      hz.set(c.hz);
      sf.set(c.sf);
      years.set(c.years);
    }

    // §6 and §8: per scenario, sum mpd * LGD * EAD * DF month by month.
    // LGD[s,t] * EAD[t] = max(floor * EAD, (EAD - recovery) * lgd_unsecured),
    // which is 0 at EAD = 0 as §6 requires, without a division. The product
    // with DF[t] is filled into `loss` first; without collateral it is the
    // same for every scenario and filled once.
    const lgdU = segLgdU[si];
    const floor = segFloor[si];
    const C = cCollateral[i];
    // §6: the recovery is realised `lag` months after default, so it is
    // discounted at the effective interest rate over that time.
    const lag = segLag[si];
    const recoveryDf = lag > 0 ? Math.pow(1 + r, -lag) : 1;
    let pdLt = 0;
    let lgd1 = 0;
    let w12 = 0;
    let wLt = 0;
    let wModel = 0;
    let lossFilledFor = -1; // recovery cap the `loss` vector was filled with
    for (let s = 0; s < S; s++) {
      const cs = C * (1 - haircuts[s]);
      if (cs !== lossFilledFor) {
        fillLoss(m, ead, df, cs, recoveryDf, lgdU, floor, loss);
        lossFilledFor = cs;
      }
      sumMonths(m, hz, sf, s * maxYears, years[s], loss, sums);
      const cum = sums[0];
      const e12 = sums[1];
      const elt = sums[2];
      if (trace !== undefined) {
        traceMonths(
          m,
          hz,
          sf,
          s * maxYears,
          years[s],
          ead,
          cs,
          recoveryDf,
          lgdU,
          floor,
          {
            survival: trace.survival[s],
            marginalPd: trace.marginalPd[s],
            lgd: trace.lgd[s],
          },
        );
      }
      // LGD[s,1] (§6), reported weighted and used for stage 3 (§8).
      const rec1 = (ead1 < cs ? ead1 : cs) * recoveryDf;
      const l1u = ead1 > 0 ? (ead1 - rec1) * lgdU / ead1 : 0;
      const l1 = ead1 > 0 ? (l1u > floor ? l1u : floor) : 0;
      const eclS = stage === 3 ? l1 * ead1 : stage === 2 ? elt : e12;
      oScenario[s][o] = eclS;
      const w = weights[s];
      // 1 - S[s,m] as the sum of the marginal PDs: no cancellation.
      pdLt += w * cum;
      lgd1 += w * l1;
      // §8: default has happened, so a stage 3 facility's 12-month and
      // lifetime ECL are its stage 3 ECL, not a projection with PDs below 1.
      w12 += w * (stage === 3 ? eclS : e12);
      wLt += w * (stage === 3 ? eclS : elt);
      wModel += w * eclS;
    }
    oPdLifetime[o] = pdLt;
    oLgd[o] = lgd1;
    oEcl12m[o] = w12;
    oEclLifetime[o] = wLt;
    oEclModel[o] = wModel;
    if (trace !== undefined) {
      trace.ead.set(ead.subarray(0, m));
      trace.df.set(df.subarray(0, m));
    }
  }
}

/**
 * The month loop of one loan and scenario (§4, §8): survival as a running
 * product, `mpd[t] = S[t-1] * h`, and the sums of `mpd` (`1 - S[m]`), of
 * `mpd * loss[t]` over the first 12 months (ECL12) and over all `m` months
 * (ECLLT), written to `sums[0..2]`. `loss[t]` is `LGD * EAD * DF` of month
 * `t + 1`. A function of its own so the hottest loop stays small, and V8
 * keeps it optimised whatever the rest of the kernel does.
 */
function sumMonths(
  m: number,
  hz: Float64Array,
  sf: Float64Array,
  base: number,
  years: number,
  loss: Float64Array,
  sums: Float64Array,
): void {
  let surv = 1;
  let cum = 0;
  let e12 = 0;
  let elt = 0;
  for (let y = 0, t0 = 0; t0 < m; y++, t0 += 12) {
    const yi = y < years ? y : years - 1;
    const h = hz[base + yi];
    const f = sf[base + yi];
    const t1 = t0 + 12 < m ? t0 + 12 : m;
    for (let t = t0; t < t1; t++) {
      const mpd = surv * h;
      surv *= f;
      cum += mpd;
      elt += mpd * loss[t];
    }
    if (y === 0) e12 = elt;
  }
  sums[0] = cum;
  sums[1] = e12;
  sums[2] = elt;
}

/**
 * The same months as {@link sumMonths}, recording survival, marginal PD
 * and LGD per month for `projectFacility` (one loan, so speed is moot).
 */
function traceMonths(
  m: number,
  hz: Float64Array,
  sf: Float64Array,
  base: number,
  years: number,
  ead: Float64Array,
  recoveryCap: number,
  recoveryDf: number,
  lgdUnsecured: number,
  floor: number,
  into: { survival: Float64Array; marginalPd: Float64Array; lgd: Float64Array },
): void {
  let surv = 1;
  for (let t = 0; t < m; t++) {
    const y = Math.floor(t / 12);
    const yi = y < years ? y : years - 1;
    const mpd = surv * hz[base + yi];
    surv *= sf[base + yi];
    into.survival[t] = surv;
    into.marginalPd[t] = mpd;
    const e = ead[t];
    const lgd = e > 0
      ? (e - (e < recoveryCap ? e : recoveryCap) * recoveryDf) *
        lgdUnsecured / e
      : 0;
    into.lgd[t] = e > 0 ? (lgd > floor ? lgd : floor) : 0;
  }
}

/**
 * §5 `EAD[t]` by repayment type and §7 `DF[t] = (1+r)^-t` into `ead` and
 * `df` (index `t - 1`), by running products: one `Math.pow` per annuity.
 */
function fillExposure(
  repayment: number,
  B: number,
  ead1: number,
  r: number,
  m: number,
  ead: Float64Array,
  df: Float64Array,
): void {
  const g = 1 + r;
  const v = 1 / g;
  let d = 1;
  if (repayment === REPAY.annuity && g > 1) {
    const an = Math.pow(g, m);
    if (an < ANNUITY_GROWTH_LIMIT) {
      // EAD[t] = B * ((1+r)^n - (1+r)^(t-1)) / ((1+r)^n - 1).
      const scale = B / (an - 1);
      let a = 1;
      for (let t = 0; t < m; t++) {
        ead[t] = scale * (an - a);
        a *= g;
        d *= v;
        df[t] = d;
      }
    } else {
      // The same formula divided through by (1+r)^n, which would overflow
      // (a 20% annuity over 95,000 months, 1000% over 1,200): EAD[t] =
      // B * (1 - v^(n-t+1)) / (1 - v^n) with v = 1/(1+r) <= 1, so every
      // power only shrinks (to 0 at worst, never to Infinity or NaN).
      const scale = B / (1 - Math.pow(v, m));
      let w = v;
      for (let t = m - 1; t >= 0; t--) {
        ead[t] = scale * (1 - w);
        w *= v;
      }
      for (let t = 0; t < m; t++) {
        d *= v;
        df[t] = d;
      }
    }
  } else if (repayment <= REPAY.linear) {
    // Linear, and annuity at r = 0 (the limit of the annuity formula):
    // EAD[t] = B * (n - t + 1) / n.
    for (let t = 0; t < m; t++) {
      ead[t] = B * (m - t) / m;
      d *= v;
      df[t] = d;
    }
  } else {
    // Bullet (B) and revolving (B + CCF * undrawn): constant.
    for (let t = 0; t < m; t++) {
      ead[t] = ead1;
      d *= v;
      df[t] = d;
    }
  }
}

/**
 * `loss[t] = LGD[s,t] * EAD[t] * DF[t]` (§6, §7) for a recovery cap
 * `C * (1 - haircut)` realised with the discount factor `recoveryDf` of
 * the time to recovery: `LGD * EAD = max(floor * EAD, (EAD - min(EAD, cap)
 * * recoveryDf) * lgd_unsecured)`, which is 0 at `EAD = 0` as §6
 * requires, without a division.
 */
function fillLoss(
  m: number,
  ead: Float64Array,
  df: Float64Array,
  recoveryCap: number,
  recoveryDf: number,
  lgdUnsecured: number,
  floor: number,
  loss: Float64Array,
): void {
  for (let t = 0; t < m; t++) {
    const e = ead[t];
    const unsecured = (e - (e < recoveryCap ? e : recoveryCap) * recoveryDf) *
      lgdUnsecured;
    const floored = floor * e;
    loss[t] = (unsecured > floored ? unsecured : floored) * df[t];
  }
}

/**
 * §4 for one loan: the conditional annual PD `q[s,y]` of each scenario and
 * distinct forecast year the term reaches (vectors repeat their last value,
 * so only the first `max(len(g), len(k[s]))` years differ), then the
 * monthly hazard `h = 1 - (1-q)^(1/12)` into `hz[s * maxYears + y]`, the
 * survival factor `1 - h` into `sf`, and the number of distinct years into
 * `years[s]`.
 */
function fillHazards(
  p1: number,
  shape: Float64Array,
  sqrtRho: number,
  sqrtOneMinusRho: number,
  m: number,
  vectors: Float64Array[],
  zShift: boolean,
  maxYears: number,
  probit: Float64Array,
  hz: Float64Array,
  sf: Float64Array,
  years: Int32Array,
): void {
  const G = shape.length;
  const reach = Math.ceil(m / 12);
  if (zShift) {
    for (let y = 0; y < G && y < reach; y++) {
      const base = p1 * shape[y];
      probit[y] = normInv(base < 1 ? base : 1);
    }
  }
  for (let s = 0; s < vectors.length; s++) {
    const vec = vectors[s];
    const K = vec.length;
    const distinct = K > G ? K : G;
    const Y = distinct < reach ? distinct : reach;
    years[s] = Y;
    for (let y = 0; y < Y; y++) {
      let q: number;
      if (zShift) {
        const zz = vec[y < K ? y : K - 1];
        q = normCdf(
          (probit[y < G ? y : G - 1] - sqrtRho * zz) / sqrtOneMinusRho,
        );
      } else {
        let base = p1 * shape[y < G ? y : G - 1];
        if (base > 1) base = 1;
        q = base * vec[y < K ? y : K - 1];
        if (q > 1) q = 1;
      }
      // f = (1-q)^(1/12); h = 1 - f written as q / (1 + f + … + f^11)
      // (since 1 - f^12 = q), which has no cancellation for small q and
      // costs one Math.pow.
      const f = Math.pow(1 - q, 1 / 12);
      let fk = 1;
      let geo = 1;
      for (let k = 1; k < 12; k++) {
        fk *= f;
        geo += fk;
      }
      hz[s * maxYears + y] = q / geo;
      sf[s * maxYears + y] = f;
    }
  }
}
