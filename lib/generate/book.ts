/**
 * The book simulator: one batch of facilities held as typed arrays (one
 * array per attribute), seeded at the first reporting date and rolled
 * forward quarter by quarter.
 *
 * Each facility carries a latent credit state (1 performing, 2 significant
 * increase in credit risk, 3 credit-impaired; IFRS 9 §5.5.3, Appendix A)
 * that moves by a quarterly Markov chain whose probabilities rise with the
 * origination PD. The observable columns of methodology §1 (current PD, days
 * past due, watchlist, forbearance, default flag) are drawn from the state
 * so that the reference staging rules of methodology §3 recover it: a
 * state-2 facility shows at least one stage-2 trigger and no stage-3 one, a
 * state-1 facility none. `previous_stage` is the state at the previous date.
 *
 * A batch evolves independently of every other batch and draws from its own
 * random stream, so the book is the same whatever the batch schedule. The
 * borrower characteristics (`lib/generate/characteristics.ts`) come from a
 * second stream of the batch, drawn at origination after the facility's
 * terms, so the columns drawn from the first stream are the same with or
 * without them.
 *
 * @module
 */
import { addMonths, dayOf, monthsBetween, ymd } from "./calendar.ts";
import {
  BAND_PD,
  COUNTRIES,
  CURRENCIES,
  DYNAMICS,
  ORIGINATION_PD,
  PRODUCTS,
  REFERENCE_FX,
  SICR_TRIGGER,
  SICR_TRIGGER_WEIGHTS,
  USD_BASE_RATE,
  WHOLE_UNIT_CURRENCIES,
} from "./catalogue.ts";
import { cumulative, type Rng } from "./random.ts";
import {
  drawCharacteristics,
  monthsOnBook,
  ratingIndex,
} from "./characteristics.ts";
import type { Snapshot } from "./snapshot.ts";

const PRODUCT_CUM = cumulative(PRODUCTS.map((p) => p.weight));
const COUNTRY_CUM = cumulative(COUNTRIES.map((c) => c.weight));
const REGION_CUM = COUNTRIES.map((c) => cumulative(c.regions.map((r) => r[1])));
const REGION_OFFSET = COUNTRIES.map((_, k) =>
  COUNTRIES.slice(0, k).reduce((a, c) => a + c.regions.length, 0)
);
const BAND_CUM = PRODUCTS.map((p) => cumulative(p.bandWeights));
const TRIGGER_CUM = cumulative(SICR_TRIGGER_WEIGHTS);
const CURRENCY_INDEX = new Map<string, number>(
  CURRENCIES.map((c, k) => [c, k]),
);
const FX = CURRENCIES.map((c) => REFERENCE_FX[c]);
const WHOLE = CURRENCIES.map((c) => WHOLE_UNIT_CURRENCIES.has(c));
const LN_SICR_MIN = Math.log(2.3);
const LN_PERFORMING_MAX = Math.log(1.9);

/** Loan ids are `L` + 12 digits: 2 for the origination period, 10 for a sequence. */
export const ID_PERIOD_FACTOR = 1e10;

const round = (x: number, dp: number) => {
  const f = 10 ** dp;
  return Math.round(x * f) / f;
};
const clamp = (x: number, lo: number, hi: number) =>
  x < lo ? lo : x > hi ? hi : x;

/**
 * Balance left after `k` monthly instalments of a loan with `n` months to
 * go: the annuity run-off of methodology §5 (`EAD[k+1]`), linear for
 * `linear`, unchanged for `bullet`.
 */
export function amortise(
  balance: number,
  annualRate: number,
  n: number,
  k: number,
  repayment: string,
): number {
  if (k <= 0 || n <= 0) return balance;
  if (k >= n) return 0;
  const r = annualRate / 12;
  if (repayment === "annuity" && r > 0) {
    const gn = Math.pow(1 + r, n);
    return balance * (gn - Math.pow(1 + r, k)) / (gn - 1);
  }
  if (repayment === "annuity" || repayment === "linear") {
    return balance * (n - k) / n;
  }
  return balance;
}

/** Attribute arrays of one batch; row `i` is one facility. */
export class BatchBook {
  n = 0;
  readonly id: Float64Array;
  readonly cust: Float64Array;
  readonly product: Uint8Array;
  readonly country: Uint8Array;
  readonly region: Uint8Array;
  readonly currency: Uint8Array;
  readonly orig: Int32Array;
  /** Maturity day; -1 for revolving facilities (no maturity). */
  readonly mat: Int32Array;
  readonly balance: Float64Array;
  /** Credit limit; NaN where the product has none. */
  readonly limit: Float64Array;
  readonly rate: Float64Array;
  readonly pd0: Float64Array;
  readonly pd1: Float64Array;
  /** log(pd_12m_current / pd_12m_origination), persistent between quarters. */
  readonly lnRatio: Float64Array;
  readonly util: Float64Array;
  /** Collateral value; NaN where unsecured. */
  readonly coll: Float64Array;
  readonly writeOff: Float64Array;
  readonly state: Uint8Array;
  /** State at the previous date; 0 when the facility did not exist then. */
  readonly prev: Uint8Array;
  readonly trigger: Uint8Array;
  readonly qDefault: Uint8Array;
  readonly defFlag: Uint8Array;
  readonly dpdTrig: Uint8Array;
  readonly dpd: Int32Array;
  readonly watch: Uint8Array;
  readonly forb: Uint8Array;
  /** Characteristics drawn at origination (docs/generator.md). */
  readonly score: Int32Array;
  readonly dti: Float64Array;
  readonly emp: Uint8Array;
  /** Loan-to-value at origination, 4 decimals; NaN where unsecured. */
  readonly ltv0: Float64Array;
  readonly #arrays: (Float64Array | Int32Array | Uint8Array)[];

  /**
   * @param rng the batch's own random stream
   * @param capacity most facilities the batch will ever hold at once
   * @param seqBase first sequence number of this batch (batch index times batch size)
   * @param crng the batch's stream for borrower characteristics
   */
  constructor(
    readonly rng: Rng,
    capacity: number,
    readonly seqBase: number,
    readonly crng: Rng,
  ) {
    const f = () => new Float64Array(capacity);
    const i32 = () => new Int32Array(capacity);
    const u8 = () => new Uint8Array(capacity);
    this.id = f();
    this.cust = f();
    this.product = u8();
    this.country = u8();
    this.region = u8();
    this.currency = u8();
    this.orig = i32();
    this.mat = i32();
    this.balance = f();
    this.limit = f();
    this.rate = f();
    this.pd0 = f();
    this.pd1 = f();
    this.lnRatio = f();
    this.util = f();
    this.coll = f();
    this.writeOff = f();
    this.state = u8();
    this.prev = u8();
    this.trigger = u8();
    this.qDefault = u8();
    this.defFlag = u8();
    this.dpdTrig = u8();
    this.dpd = i32();
    this.watch = u8();
    this.forb = u8();
    this.score = i32();
    this.dti = f();
    this.emp = u8();
    this.ltv0 = f();
    this.#arrays = [
      this.id,
      this.cust,
      this.product,
      this.country,
      this.region,
      this.currency,
      this.orig,
      this.mat,
      this.balance,
      this.limit,
      this.rate,
      this.pd0,
      this.pd1,
      this.lnRatio,
      this.util,
      this.coll,
      this.writeOff,
      this.state,
      this.prev,
      this.trigger,
      this.qDefault,
      this.defFlag,
      this.dpdTrig,
      this.dpd,
      this.watch,
      this.forb,
      this.score,
      this.dti,
      this.emp,
      this.ltv0,
    ];
  }

  /**
   * Draws the static terms of a new facility at row `i`, originated on
   * `origDay`: product, country, region, currency, score band and
   * origination PD, rate, original amount, term, collateral; the balance is
   * run off to `asOf` (new business is 0-2 months old at its first date).
   */
  #originate(
    i: number,
    seq: number,
    period: number,
    asOf: number,
    origDay: number,
  ): void {
    const rng = this.rng;
    const pk = rng.pick(PRODUCT_CUM);
    const p = PRODUCTS[pk];
    const ck = rng.pick(COUNTRY_CUM);
    const c = COUNTRIES[ck];
    const usd = c.usdShare > 0 && rng.chance(c.usdShare);
    const cur = CURRENCY_INDEX.get(usd ? "USD" : c.currency)!;
    this.id[i] = period * ID_PERIOD_FACTOR + seq;
    // Cross-selling: some facilities belong to the customer of the previous row.
    this.cust[i] = i > 0 && rng.chance(0.15) ? this.cust[i - 1] : this.id[i];
    this.product[i] = pk;
    this.country[i] = ck;
    this.region[i] = REGION_OFFSET[ck] + rng.pick(REGION_CUM[ck]);
    this.currency[i] = cur;

    const band = rng.pick(BAND_CUM[pk]);
    const jitter = rng.normal();
    const pd0 = clamp(
      BAND_PD[band] * c.pdFactor * Math.exp(ORIGINATION_PD.jitter * jitter),
      ORIGINATION_PD.min,
      ORIGINATION_PD.max,
    );
    this.pd0[i] = round(pd0, 6);
    const base = usd ? USD_BASE_RATE : c.baseRate;
    // Risk-based pricing: about 1.5 times the 12-month PD on top of the spread.
    this.rate[i] = round(
      clamp(
        base + p.rateSpread + 1.5 * pd0 + 0.005 * rng.normal(),
        0.001,
        0.85,
      ),
      4,
    );
    const median = p.medianAmount * c.sizeFactor;
    const eur = clamp(
      rng.lognormal(median, p.sigmaAmount),
      median / 8,
      median * 8,
    );
    const local = round(eur / FX[cur], WHOLE[cur] ? 0 : 2);
    this.orig[i] = origDay;
    const age = Math.max(0, monthsBetween(origDay, asOf));
    if (p.repayment === "revolving") {
      this.mat[i] = -1;
      this.limit[i] = local;
      this.util[i] = rng.beta(1.6, 2.2);
      this.balance[i] = round(local * this.util[i], WHOLE[cur] ? 0 : 2);
    } else {
      const step = p.name === "mortgage" ? 12 : 6;
      const term = step *
        rng.int(Math.ceil(p.termMonths[0] / step), p.termMonths[1] / step);
      this.mat[i] = addMonths(origDay, term);
      this.limit[i] = NaN;
      this.util[i] = 0;
      // Seasoned loans have paid `age` instalments; a few paid some extra.
      const left = amortise(local, this.rate[i], term, age, p.repayment) *
        (age > 0 && p.repayment !== "bullet" ? rng.between(0.9, 1) : 1);
      this.balance[i] = round(left, WHOLE[cur] ? 0 : 2);
    }
    if (p.ltv && rng.chance(p.securedShare)) {
      const { a, b, lo, hi } = p.ltv;
      const ltv0 = lo + (hi - lo) * rng.beta(a, b);
      const value0 = local / ltv0;
      this.coll[i] = round(
        value0 * Math.pow(1 + p.collateralDrift, age / 12),
        WHOLE[cur] ? 0 : 2,
      );
      this.ltv0[i] = round(ltv0, 4);
    } else {
      this.coll[i] = NaN;
      this.ltv0[i] = NaN;
    }
    this.writeOff[i] = 0;
    this.lnRatio[i] = 0.2 * rng.normal();
    this.qDefault[i] = 0;
    this.trigger[i] = 0;
    // Characteristics last, from their own stream: the main stream's draws
    // above are those of a book without them.
    const x = drawCharacteristics(
      this.crng,
      Math.log(BAND_PD[band] * c.pdFactor),
      jitter,
      p.name === "sme",
      this.ltv0[i],
    );
    this.score[i] = x.creditScore;
    this.dti[i] = x.debtToIncome;
    this.emp[i] = x.employment;
  }

  /** Enters state 3: whether the default flag is set, whether DPD >= 90 shows. */
  #enterDefault(i: number) {
    this.qDefault[i] = 0;
    this.defFlag[i] = this.rng.chance(0.85) ? 1 : 0;
    // Without the flag the 90-days-past-due backstop must show (§3 rule 2).
    this.dpdTrig[i] = this.defFlag[i] === 0 || this.rng.chance(0.75) ? 1 : 0;
  }

  /** Enters state 2 with a trigger; a cure out of default is a forbearance. */
  #enterSicr(i: number, fromDefault: boolean) {
    this.trigger[i] = fromDefault
      ? SICR_TRIGGER.forborne
      : 1 + this.rng.pick(TRIGGER_CUM);
  }

  /**
   * Seeds `count` facilities as at `day`: a seasoned book (ages up to the
   * contractual term; revolving accounts up to ten years) with states drawn
   * so that roughly 10% are in state 2 and 3% in state 3, riskier bands
   * more often, young facilities less often (seasoning).
   */
  seed(count: number, day: number) {
    const rng = this.rng;
    const prevDate = addMonths(day, -3, true);
    const [ry, rm, rd] = ymd(day);
    for (let k = 0; k < count; k++) {
      const i = this.n++;
      const dom = rng.int(1, 28);
      // Originated on day `dom` of the month `age` months before `day` (in
      // `day`'s own month, not after it).
      const origDayFor = (age: number) => {
        const idx = ry * 12 + (rm - 1) - age;
        const y = Math.floor(idx / 12);
        return dayOf(y, idx - y * 12 + 1, age === 0 ? Math.min(dom, rd) : dom);
      };
      this.#originate(i, this.seqBase + k, 0, day, origDayFor(0));
      // Age in months, below the contractual term so the maturity is after
      // `day`; skewed towards young facilities, as prepayment and maturity
      // thin old vintages. Revolving accounts are up to ten years old.
      const p = PRODUCTS[this.product[i]];
      const term = p.repayment === "revolving"
        ? 121
        : monthsBetween(this.orig[i], this.mat[i]);
      const age = Math.floor(Math.pow(rng.uniform(), 1.4) * term);
      if (age > 0) {
        const origDay = origDayFor(age);
        this.orig[i] = origDay;
        if (this.mat[i] >= 0) this.mat[i] = addMonths(origDay, term);
        this.#season(i, age);
      }
      // Initial credit state, seasoned: young facilities rarely impaired yet.
      const pd0 = this.pd0[i];
      const season = Math.min(1, age / 12);
      const d = DYNAMICS;
      const p3 = Math.min(
        d.initialImpaired.max,
        d.initialImpaired.base + d.initialImpaired.slope * pd0,
      ) * season;
      const p2 = Math.min(
        d.initialSicr.max,
        d.initialSicr.base + d.initialSicr.slope * pd0,
      ) * Math.min(1, (age + 3) / 12);
      const u = rng.uniform();
      const state = u < p3 ? 3 : u < p3 + p2 ? 2 : 1;
      this.state[i] = state;
      // previous_stage: the state a quarter ago, drawn from the reverse of
      // the quarterly chain; none when originated after that date.
      if (this.orig[i] > prevDate) this.prev[i] = 0;
      else {
        const v = rng.uniform();
        this.prev[i] = state === 1
          ? (v < 0.97 ? 1 : 2)
          : state === 2
          ? (v < 0.65 ? 2 : v < 0.97 ? 1 : 3)
          : (v < 0.75 ? 3 : v < 0.92 ? 2 : 1);
      }
      if (state === 3) {
        this.#enterDefault(i);
        this.qDefault[i] = this.prev[i] === 3 ? rng.int(1, 8) : 0;
      } else if (state === 2) {
        this.#enterSicr(i, this.prev[i] === 3);
      }
      this.#observe(i);
    }
  }

  /** Ages a just-originated facility by `age` months: run-off and collateral drift. */
  #season(i: number, age: number) {
    const p = PRODUCTS[this.product[i]];
    const whole = WHOLE[this.currency[i]];
    if (p.repayment !== "revolving") {
      const term = monthsBetween(this.orig[i], this.mat[i]);
      const left =
        amortise(this.balance[i], this.rate[i], term, age, p.repayment) *
        (p.repayment !== "bullet" ? this.rng.between(0.9, 1) : 1);
      this.balance[i] = round(left, whole ? 0 : 2);
    }
    if (!Number.isNaN(this.coll[i])) {
      this.coll[i] = round(
        this.coll[i] * Math.pow(1 + p.collateralDrift, age / 12),
        whole ? 0 : 2,
      );
    }
  }

  /**
   * Draws the observable risk columns from the latent state (methodology §3
   * triggers): current PD, days past due, watchlist, forbearance, default
   * flag.
   */
  #observe(i: number) {
    const rng = this.rng;
    const pd0 = this.pd0[i];
    const state = this.state[i];
    let ln = this.lnRatio[i];
    if (state === 1) {
      // Performing: PD drifts but stays below 1.9 times origination, so the
      // relative PD test (>= 2) cannot fire; DPD at most 30.
      ln = clamp(0.7 * ln + 0.2 * rng.normal(), -1.2, LN_PERFORMING_MAX);
      this.dpd[i] = rng.chance(0.07) ? rng.int(1, 30) : 0;
      this.watch[i] = 0;
      this.forb[i] = 0;
      this.defFlag[i] = 0;
      this.pd1[i] = round(pd0 * Math.exp(ln), 6);
    } else if (state === 2) {
      const t = this.trigger[i];
      if (t === SICR_TRIGGER.pd) {
        ln = ln < LN_SICR_MIN
          ? Math.log(rng.between(2.3, 6))
          : clamp(ln + 0.1 * rng.normal(), LN_SICR_MIN, Math.log(12));
      } else {
        ln = clamp(0.7 * ln + 0.25 * rng.normal() + 0.15, -0.7, Math.log(3));
      }
      let pd1 = pd0 * Math.exp(ln);
      // The PD test of §3 needs p1 > 0.003 and p1 - p0 >= 0.005 as well.
      if (t === SICR_TRIGGER.pd) pd1 = Math.max(pd1, pd0 + 0.006, 0.0035);
      this.pd1[i] = round(Math.min(pd1, 0.95), 6);
      this.dpd[i] = t === SICR_TRIGGER.dpd
        ? rng.int(31, 89)
        : rng.chance(0.25)
        ? rng.int(1, 30)
        : 0;
      this.watch[i] = t === SICR_TRIGGER.watchlist || rng.chance(0.15) ? 1 : 0;
      this.forb[i] = t === SICR_TRIGGER.forborne ? 1 : 0;
      this.defFlag[i] = 0;
    } else {
      // Credit-impaired: PD is 1; the default flag and/or 90+ DPD show.
      this.pd1[i] = 1;
      this.dpd[i] = this.dpdTrig[i]
        ? Math.min(90 + 91 * this.qDefault[i] + rng.int(0, 60), 1500)
        : rng.int(0, 89);
      this.watch[i] = rng.chance(0.5) ? 1 : 0;
      this.forb[i] = rng.chance(0.2) ? 1 : 0;
    }
    this.lnRatio[i] = ln;
  }

  /** Keeps the rows whose `keep` flag is 1, in order. */
  #compact(keep: Uint8Array) {
    let w = 0;
    for (let r = 0; r < this.n; r++) {
      if (!keep[r]) continue;
      if (w !== r) { for (const a of this.#arrays) a[w] = a[r]; }
      w++;
    }
    this.n = w;
  }

  /**
   * Rolls the batch forward from `from` to `to` (one quarter): facilities
   * written off at `from` leave; performing and SICR facilities mature or
   * prepay; states migrate; defaulted facilities may cure or be written
   * off; balances run off; then `newCount` facilities are originated in
   * `(from, to]`, numbered from `seqBase` with origination period `period`.
   */
  roll(from: number, to: number, period: number, newCount: number) {
    const rng = this.rng;
    const d = DYNAMICS;
    const keep = new Uint8Array(this.n);
    const months = monthsBetween(from, to);
    for (let i = 0; i < this.n; i++) {
      if (this.writeOff[i] > 0) continue; // derecognised at `from`
      const p = PRODUCTS[this.product[i]];
      const old = this.state[i];
      const revolving = this.mat[i] < 0;
      if (old !== 3) {
        if (!revolving && this.mat[i] <= to) continue; // repaid at maturity
        if (rng.chance(1 - Math.pow(1 - p.cpr, months / 12))) continue; // prepaid
      }
      keep[i] = 1;
      const pd0 = this.pd0[i];
      const u = rng.uniform();
      let state = old;
      if (old === 1) {
        const pDef = d.toDefaultFromPerforming.base +
          d.toDefaultFromPerforming.slope * pd0;
        const pSicr = d.toSicr.base + d.toSicr.slope * pd0;
        state = u < pDef ? 3 : u < pDef + pSicr ? 2 : 1;
      } else if (old === 2) {
        const pDef = d.toDefaultFromSicr.base + d.toDefaultFromSicr.slope * pd0;
        state = u < pDef ? 3 : u < pDef + d.cureFromSicr ? 1 : 2;
      } else if (u < d.cureFromDefault) state = 2;
      this.prev[i] = old;
      this.state[i] = state;
      if (state === 3 && old !== 3) this.#enterDefault(i);
      else if (state === 3) {
        this.qDefault[i] = Math.min(255, this.qDefault[i] + 1);
      }
      if (state === 2 && old !== 2) this.#enterSicr(i, old === 3);
      if (state === 1) this.lnRatio[i] = Math.min(this.lnRatio[i], 0);

      const whole = WHOLE[this.currency[i]];
      if (state === 3) {
        // A defaulted facility whose contractual maturity passes stays on the
        // book under a workout extension, so its maturity stays after the date.
        if (!revolving && this.mat[i] <= to) {
          this.mat[i] = addMonths(to, d.workoutExtensionMonths);
        }
        if (
          old === 3 && this.qDefault[i] >= d.minQuartersBeforeWriteOff &&
          (rng.chance(p.writeOffRate) ||
            this.qDefault[i] >= d.maxQuartersInDefault)
        ) {
          // Written off in this period (IFRS 9 §5.4.4): what was not
          // recovered is written off, the balance goes to 0.
          const recovered = rng.between(...d.recoveryAtWriteOff);
          this.writeOff[i] =
            round(this.balance[i] * (1 - recovered), whole ? 0 : 2) ||
            (whole ? 1 : 0.01);
          this.balance[i] = 0;
        }
      } else if (revolving) {
        const drift = state === 1 ? 0.06 * rng.normal() : rng.between(0, 0.1);
        this.util[i] = clamp(this.util[i] + drift, 0.02, 1);
        this.balance[i] = round(this.limit[i] * this.util[i], whole ? 0 : 2);
      } else if (!(state === 2 && this.trigger[i] === SICR_TRIGGER.dpd)) {
        // Instalments paid (a facility in arrears has not paid them).
        const n = monthsBetween(from, this.mat[i]);
        this.balance[i] = round(
          amortise(this.balance[i], this.rate[i], n, months, p.repayment),
          whole ? 0 : 2,
        );
      }
      if (!Number.isNaN(this.coll[i])) {
        this.coll[i] = round(
          this.coll[i] * Math.pow(1 + p.collateralDrift, months / 12),
          whole ? 0 : 2,
        );
      }
      this.#observe(i);
    }
    this.#compact(keep);
    for (let k = 0; k < newCount; k++) {
      const i = this.n++;
      const origDay = from + rng.int(1, to - from);
      this.#originate(i, this.seqBase + k, period, to, origDay);
      this.state[i] = 1;
      this.prev[i] = 0;
      this.dpd[i] = 0;
      this.#observe(i);
    }
  }

  /** The facilities at `day` as snapshot columns (copies; free to modify). */
  snapshot(day: number): Snapshot {
    const n = this.n;
    const nulls: Snapshot["nulls"] = {
      maturity_date: new Uint8Array(n),
      credit_limit: new Uint8Array(n),
      collateral_value: new Uint8Array(n),
      previous_stage: new Uint8Array(n),
    };
    const mat = this.mat.slice(0, n);
    const limit = this.limit.slice(0, n);
    const coll = this.coll.slice(0, n);
    const ltv = this.ltv0.slice(0, n);
    const mob = new Int32Array(n);
    const rating = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      mob[i] = monthsOnBook(this.orig[i], day);
      rating[i] = ratingIndex(this.pd1[i]);
    }
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (mat[i] < 0) nulls.maturity_date![i] = 1;
      if (Number.isNaN(limit[i])) nulls.credit_limit![i] = 1, limit[i] = 0;
      if (Number.isNaN(coll[i])) nulls.collateral_value![i] = 1, coll[i] = 0;
      if (this.prev[i] === 0) nulls.previous_stage![i] = 1;
      prev[i] = this.prev[i];
    }
    return {
      reportingDay: day,
      n,
      id: this.id.slice(0, n),
      cust: this.cust.slice(0, n),
      reporting: new Int32Array(n).fill(day),
      orig: this.orig.slice(0, n),
      mat,
      product: this.product.slice(0, n),
      country: this.country.slice(0, n),
      region: this.region.slice(0, n),
      currency: this.currency.slice(0, n),
      balance: this.balance.slice(0, n),
      limit,
      rate: this.rate.slice(0, n),
      dpd: this.dpd.slice(0, n),
      pd0: this.pd0.slice(0, n),
      pd1: this.pd1.slice(0, n),
      coll,
      score: this.score.slice(0, n),
      dti: this.dti.slice(0, n),
      emp: this.emp.slice(0, n),
      ltv,
      mob,
      rating,
      watch: this.watch.slice(0, n),
      forb: this.forb.slice(0, n),
      dflag: Uint8Array.from(
        { length: n },
        (_, i) =>
          this.state[i] === 3 && (this.defFlag[i] || this.writeOff[i] > 0)
            ? 1
            : 0,
      ),
      prev,
      writeOff: this.writeOff.slice(0, n),
      state: this.state.slice(0, n),
      nulls,
      text: {},
    };
  }
}
