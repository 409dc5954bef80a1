/**
 * A deliberately naive implementation of the methodology (version 2) for
 * one loan, §2 and §4-§8, written straight from the contract's formulas
 * with `Math.pow` everywhere and no shared code with the engine, so tests
 * compare two independent routes. Overlays are not part of it.
 *
 * @module
 */

export type Repayment = "annuity" | "linear" | "bullet" | "revolving";

export interface RefLoan {
  balance: number;
  interestRate: number;
  /** Remaining term m (§2), given directly. */
  m: number;
  repayment: Repayment;
  ccf?: number;
  creditLimit?: number | null;
  collateral?: number;
  /** The segment's `recovery_lag_months` (§6); 0 when absent. */
  recoveryLagMonths?: number;
  stage: 1 | 2 | 3;
  lgdUnsecured: number;
  lgdFloor: number;
}

export interface RefScenario {
  weight: number;
  /** Conditional annual PD of forecast year y = 1, 2, … (§4). */
  q: (y: number) => number;
  haircut?: number;
}

export interface RefResult {
  ead: number;
  pdLifetime: number;
  lgd: number;
  ecl12m: number;
  eclLifetime: number;
  eclModel: number;
  scenario: number[];
}

/** The value of a vector at year y (1-based), its last value repeating (§4). */
export function at(v: readonly number[], y: number): number {
  return v[Math.min(y, v.length) - 1];
}

/**
 * A scenario vector's value at year y (§4). Past its end (length L) the
 * last value repeats when `reversionYears` is undefined; with N reversion
 * years, year L + j is `last + (neutral - last) * j / (N + 1)` for
 * j = 1..N and `neutral` afterwards (1 for a multiplier, 0 for z).
 */
export function scenarioAt(
  v: readonly number[],
  y: number,
  neutral: number,
  reversionYears?: number,
): number {
  if (y <= v.length || reversionYears === undefined) return at(v, y);
  const last = v[v.length - 1];
  const j = y - v.length;
  return j <= reversionYears
    ? last + (neutral - last) * j / (reversionYears + 1)
    : neutral;
}

/**
 * §4 `multiplier`: q[s,y] = min(1, min(1, p1 * g[y]) * k[s,y]), the
 * multipliers reverting to 1 after their last year when `reversionYears`
 * is given (`scenario_reversion_years`).
 */
export function multiplierQ(
  p1: number,
  k: readonly number[],
  g: readonly number[] = [1],
  reversionYears?: number,
): (y: number) => number {
  return (y) =>
    Math.min(
      1,
      Math.min(1, p1 * at(g, y)) * scenarioAt(k, y, 1, reversionYears),
    );
}

/** Days in month `month` (1-12) of `year`, by the Gregorian rule. */
function daysIn(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * §2 `addMonths(D, k)`, dates as `YYYY-MM-DD`: k calendar months after D,
 * same day of the month clipped to the target month's last day, and the
 * last day of the target month when D is the last day of its month.
 */
export function addMonths(d: string, k: number): string {
  const [y, m, day] = d.split("-").map(Number);
  const index = (m - 1) + k;
  const ty = y + Math.floor(index / 12);
  const tm = index - 12 * Math.floor(index / 12) + 1;
  const td = day === daysIn(y, m)
    ? daysIn(ty, tm)
    : Math.min(day, daysIn(ty, tm));
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${ty}-${pad(tm)}-${pad(td)}`;
}

/**
 * §2 remaining term by its definition: the smallest whole k >= 1 with
 * addMonths(R, k) >= M (ISO dates compare as strings).
 */
export function remainingTerm(reporting: string, maturity: string): number {
  let k = 1;
  while (addMonths(reporting, k) < maturity) k++;
  return k;
}

/** §5 EAD at the start of month t. */
export function refEad(loan: RefLoan, t: number): number {
  const B = loan.balance;
  const r = loan.interestRate / 12;
  const n = loan.m;
  switch (loan.repayment) {
    case "annuity":
      return r === 0
        ? B * (n - t + 1) / n
        : B * (Math.pow(1 + r, n) - Math.pow(1 + r, t - 1)) /
          (Math.pow(1 + r, n) - 1);
    case "linear":
      return B * (n - t + 1) / n;
    case "bullet":
      return B;
    case "revolving": {
      // A defaulted facility's undrawn limit is cancelled (§5, v2).
      if (loan.stage === 3) return B;
      const L = loan.creditLimit ?? B;
      return B + (loan.ccf ?? 0) * Math.max(0, L - B);
    }
  }
}

/**
 * §6 LGD of scenario s in month t; the recovery, realised
 * `recoveryLagMonths` after default, discounted by (1 + r)^-lag.
 */
export function refLgd(loan: RefLoan, sc: RefScenario, t: number): number {
  const e = refEad(loan, t);
  if (e === 0) return 0;
  const lagFactor = Math.pow(
    1 + loan.interestRate / 12,
    -(loan.recoveryLagMonths ?? 0),
  );
  const rec = Math.min(e, (loan.collateral ?? 0) * (1 - (sc.haircut ?? 0))) *
    lagFactor;
  return Math.max(loan.lgdFloor, (e - rec) * loan.lgdUnsecured / e);
}

/** Survival S[s,t] (§4), as a product of monthly factors with Math.pow. */
export function refSurvival(sc: RefScenario, t: number): number {
  let s = 1;
  for (let u = 1; u <= t; u++) {
    s *= Math.pow(1 - sc.q(Math.ceil(u / 12)), 1 / 12);
  }
  return s;
}

/** §4-§8 for one loan, every figure of §9 that the engine computes. */
export function reference(loan: RefLoan, scenarios: RefScenario[]): RefResult {
  const r = loan.interestRate / 12;
  const out: RefResult = {
    ead: refEad(loan, 1),
    pdLifetime: 0,
    lgd: 0,
    ecl12m: 0,
    eclLifetime: 0,
    eclModel: 0,
    scenario: [],
  };
  for (const sc of scenarios) {
    let e12 = 0;
    let elt = 0;
    let survPrev = 1; // S[s,t-1], carried forward (refSurvival is O(t))
    for (let t = 1; t <= loan.m; t++) {
      const surv = survPrev * Math.pow(1 - sc.q(Math.ceil(t / 12)), 1 / 12);
      const mpd = survPrev - surv;
      const term = mpd * refLgd(loan, sc, t) * refEad(loan, t) *
        Math.pow(1 + r, -t);
      elt += term;
      if (t <= 12) e12 += term;
      survPrev = surv;
    }
    const lgd1 = refLgd(loan, sc, 1);
    if (loan.stage === 3) {
      // §8: default has happened (PD = 1, no discounting), and a stage 3
      // facility reports that ECL as its 12-month and lifetime ECL too.
      e12 = elt = lgd1 * refEad(loan, 1);
    }
    const ecl = loan.stage === 1 ? e12 : elt;
    out.scenario.push(ecl);
    out.pdLifetime += sc.weight * (1 - survPrev);
    out.lgd += sc.weight * lgd1;
    out.ecl12m += sc.weight * e12;
    out.eclLifetime += sc.weight * elt;
    out.eclModel += sc.weight * ecl;
  }
  return out;
}
