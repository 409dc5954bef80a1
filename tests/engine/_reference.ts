/**
 * A deliberately naive implementation of methodology §4-§8 for one loan,
 * written straight from the formulas with `Math.pow` everywhere and no
 * shared code with the engine, so tests compare two independent routes.
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

/** §4 `multiplier`: q[s,y] = min(1, min(1, p1 * g[y]) * k[s,y]). */
export function multiplierQ(
  p1: number,
  k: readonly number[],
  g: readonly number[] = [1],
): (y: number) => number {
  return (y) => Math.min(1, Math.min(1, p1 * at(g, y)) * at(k, y));
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
      const L = loan.creditLimit ?? B;
      return B + (loan.ccf ?? 0) * Math.max(0, L - B);
    }
  }
}

/** §6 LGD of scenario s in month t. */
export function refLgd(loan: RefLoan, sc: RefScenario, t: number): number {
  const e = refEad(loan, t);
  if (e === 0) return 0;
  const rec = Math.min(e, (loan.collateral ?? 0) * (1 - (sc.haircut ?? 0)));
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
    const ecl = loan.stage === 1
      ? e12
      : loan.stage === 2
      ? elt
      : lgd1 * refEad(loan, 1);
    out.scenario.push(ecl);
    out.pdLifetime += sc.weight * (1 - survPrev);
    out.lgd += sc.weight * lgd1;
    out.ecl12m += sc.weight * e12;
    out.eclLifetime += sc.weight * elt;
    out.eclModel += sc.weight * ecl;
  }
  return out;
}
